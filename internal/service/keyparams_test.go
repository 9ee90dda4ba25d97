package service_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

const keyParamRunbook = `schemaVersion: '0.3'
assumeRole: '{{ Role }}'
parameters:
  Password: {type: String}
  Count: {type: Integer, default: 1}
  Role: {type: String, default: ''}
mainSteps:
  - {name: pause, action: aws:sleep, inputs: {Duration: PT0S}}
`

// Each request for a parameter from key storage that cannot be honoured is
// refused before anything runs, naming the parameter and the path.
func TestKeyParametersRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kopts := keys.Options{MasterKeyFile: filepath.Join(dir, "master.key"), DBPath: db.Path(), Getenv: func(string) string { return "" }}
	svc := service.New(service.Options{Store: db, Engine: engine.Options{Actions: action.Builtin(), Secrets: keys.New(db, kopts)}, Keys: kopts})
	t.Cleanup(svc.Engine().Shutdown)
	local := service.Principal{Name: "me"}
	if err := svc.PutKey(ctx, local, "", "db/pw", []byte("pw-value")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		keys   map[string]string
		values map[string][]string
		want   string
	}{
		{"undeclared", map[string]string{"Pasword": "db/pw"}, nil, "parameter Pasword: key storage path db/pw: the runbook declares no parameter Pasword"},
		{"not a String", map[string]string{"Count": "db/pw"}, nil, "parameter Count: key storage path db/pw: only a String parameter can take its value from key storage; Count is Integer"},
		{"also a value", map[string]string{"Password": "db/pw"}, map[string][]string{"Password": {"typed"}}, "parameter Password: key storage path db/pw: a value was given as well"},
		{"the assumeRole", map[string]string{"Role": "db/pw"}, map[string][]string{"Password": {"x"}}, "parameter Role: key storage path db/pw: the runbook's assumeRole names Role"},
		{"capstan's own", map[string]string{"Password": "capstan/users/me"}, nil, "parameter Password: key storage path capstan/users/me: capstan's own secrets are never a parameter's value"},
		{"bad path", map[string]string{"Password": "../etc"}, nil, `parameter Password: key storage path ../etc: invalid key path "../etc"`},
		{"no value there", map[string]string{"Password": "db/none"}, nil, "parameter Password: key storage path db/none: holds no value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.StartExecution(ctx, local, service.StartInput{DocumentName: "K", Source: []byte(keyParamRunbook), File: "k.yaml",
				Parameters: document.Inputs{Values: tc.values}, KeyParameters: tc.keys})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "pw-value") {
				t.Errorf("the refusal shows the value: %v", err)
			}
		})
	}
	id, err := svc.StartExecution(ctx, local, service.StartInput{DocumentName: "K", Source: []byte(keyParamRunbook), File: "k.yaml",
		KeyParameters: map[string]string{"Password": "db/pw"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := svc.Engine().Wait(ctx, id)
	if err != nil || st.Status != engine.StatusSuccess || st.Started.ParameterText["Password"][0] != keys.Masked {
		t.Fatalf("a good request: %v %s %v", err, st.Status, st.Started.ParameterText)
	}
}
