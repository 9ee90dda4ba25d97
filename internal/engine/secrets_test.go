package engine

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// mapSecrets is key storage holding fixed values.
type mapSecrets map[string]string

func (m mapSecrets) Get(_ context.Context, path string) (string, error) {
	if v, ok := m[path]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%s: %w", path, store.ErrNotFound)
}

// everythingRecorded is the execution's whole record as text.
func everythingRecorded(t *testing.T, db interface {
	Events(context.Context, string, int64) ([]store.Event, error)
}, id string) string {
	t.Helper()
	evs, err := db.Events(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.Write(e.Data)
		b.WriteByte('\n')
	}
	return b.String()
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// A script handed a secret returns it reversed, hex-encoded and split into
// characters: none of it reaches the record, yet the next step still gets
// the real value.
func TestOutputsDerivedFromASecretAreMaskedWholesale(t *testing.T) {
	m := newMotoEngine(t)
	const secret = "hunter2-correct-horse"
	m.eng.opts.Secrets = mapSecrets{"app/token": secret}
	src := `schemaVersion: '0.3'
outputs: [encode.Hex, encode.Payload]
mainSteps:
  - name: encode
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: h
      Script: |
        def h(e, c):
            s = e["s"]
            return {"rev": s[::-1], "hex": s.encode().hex(), "chars": list(s), "n": len(s)}
      InputPayload:
        s: '{{ key:app/token }}'
    outputs:
      - Name: Hex
        Selector: $.Payload.hex
        Type: String
  - name: use
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: /capstan/derived
      Value: '{{ encode.Hex }}'
      Type: String
`
	st, _ := m.run(src)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	hexed := hex.EncodeToString([]byte(secret))
	got := m.call("ssm", "GetParameter", map[string]any{"Name": "/capstan/derived"})
	if v, _ := got["Parameter"].(map[string]any)["Value"].(string); v != hexed {
		t.Errorf("the next step got %q, want the derived value %q", v, hexed)
	}
	rec := everythingRecorded(t, m.db, st.ID)
	for _, form := range []string{secret, reverse(secret), hexed, `"h","u","n","t"`} {
		if strings.Contains(rec, form) {
			t.Errorf("the record holds %q:\n%s", form, rec)
		}
	}
	for k, v := range st.Outputs {
		if len(v) != 1 || v[0] != "****" {
			t.Errorf("execution output %s = %v, want it masked", k, v)
		}
	}
}

// A SecureString read with decryption is masked in the record.
func TestSecureStringReadIsMaskedInTheRecord(t *testing.T) {
	m := newMotoEngine(t)
	const secret = "db-password-9f8e7d"
	m.call("ssm", "PutParameter", map[string]any{"Name": "/app/db", "Value": secret, "Type": "SecureString"})
	st, _ := m.run(`schemaVersion: '0.3'
mainSteps:
  - name: read
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: GetParameter
      Name: /app/db
      WithDecryption: true
    outputs:
      - Name: Value
        Selector: $.Parameter.Value
        Type: String
      - Name: Version
        Selector: $.Parameter.Version
        Type: Integer
`)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if rec := everythingRecorded(t, m.db, st.ID); strings.Contains(rec, secret) {
		t.Errorf("the record holds the SecureString's value:\n%s", rec)
	}
	stored, err := m.eng.Get(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	outs := stored.Steps[0].Outputs
	if v := fmt.Sprint(StringList(outs["Value"])); v != "[****]" {
		t.Errorf("Value output = %s, want it masked", v)
	}
	if v := fmt.Sprint(StringList(outs["Version"])); v != "[1]" {
		t.Errorf("Version output = %s, want 1 (only the secret is masked)", v)
	}
}

// A caller's parameter value is taken literally: only the runbook's own
// default may name a secret.
func TestCallerParameterValueIsNeverAReference(t *testing.T) {
	m := newMotoEngine(t)
	m.eng.opts.Secrets = mapSecrets{"app/token": "s3cret-value", "prod/db": "prod-password"}
	src := `schemaVersion: '0.3'
parameters:
  Value:
    type: String
    default: '{{ key:app/token }}'
mainSteps:
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: /capstan/param
      Value: '{{ Value }}'
      Type: String
      Overwrite: true
`
	doc, diags := document.Load("test.yaml", []byte(src), action.Builtin())
	if document.HasErrors(diags) {
		t.Fatal(diags)
	}
	for _, tt := range []struct {
		given map[string][]string
		want  string
	}{
		{nil, "s3cret-value"}, // the runbook's default names the secret
		{map[string][]string{"Value": {"{{ key:prod/db }}"}}, "{{ key:prod/db }}"},
		{map[string][]string{"Value": {"{{key:prod/db}}"}}, "{{key:prod/db}}"},
	} {
		params, err := doc.Coerce(document.Inputs{Values: tt.given})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		id, err := m.eng.Start(ctx, StartRequest{Document: doc, Source: []byte(src), DocumentName: "test", Parameters: params})
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.eng.Wait(ctx, id)
		if err != nil || st.Status != StatusSuccess {
			t.Fatalf("%v: %v %v", tt.given, st.Status, err)
		}
		got := m.call("ssm", "GetParameter", map[string]any{"Name": "/capstan/param"})
		if v, _ := got["Parameter"].(map[string]any)["Value"].(string); v != tt.want {
			t.Errorf("given %v: the step wrote %q, want %q", tt.given, v, tt.want)
		}
	}
}

// A child execution handed a secret by its parent gets the real value, yet
// neither record holds it: a key passed whole is recorded by its path (the
// child reads it again), anything derived from it is recorded masked.
func TestSecretsPassedToAChildStayOutOfItsRecord(t *testing.T) {
	const secret = "hunter2-correct-horse"
	h := newChildHarness(t, runbookShelf{"Check": {"1": `schemaVersion: '0.3'
parameters:
  Who: {type: String}
mainSteps:
  - name: check
    action: aws:branch
    inputs:
      Choices:
        - {NextStep: real, Variable: '{{ Who }}', StartsWith: hunter2-}
      Default: masked
  - name: masked
    action: test:echo
    inputs: {Value: the child got a masked value}
    isEnd: true
  - name: real
    action: test:echo
    inputs: {Value: 'the child got {{ Who }}'}
    isEnd: true
`}})
	h.eng.opts.Secrets = mapSecrets{"app/token": secret}
	for _, tc := range []struct{ value, keyPath string }{
		{"'{{ key:app/token }}'", "app/token"},
		{"'{{ key:app/token }}-derived'", ""},
	} {
		st := h.run(`schemaVersion: '0.3'
mainSteps:
  - name: child
    action: aws:executeAutomation
    inputs:
      DocumentName: Check
      RuntimeParameters:
        Who: `+tc.value+"\n", nil)
		if st.Status != StatusSuccess {
			t.Fatalf("%s: parent ended %s: %s", tc.value, st.Status, st.FailureMessage)
		}
		childID, _ := st.Steps[0].Outputs["ExecutionId"].(string)
		child := h.wait(childID)
		if got := statuses(child); !strings.Contains(got, "real") || strings.Contains(got, "masked") {
			t.Errorf("%s: the child's steps %s: it did not get the real value", tc.value, got)
		}
		if got := child.Started.KeyParameters["Who"]; got != tc.keyPath {
			t.Errorf("%s: the child's key parameter Who = %q, want %q", tc.value, got, tc.keyPath)
		}
		for _, id := range []string{st.ID, childID} {
			if rec := everythingRecorded(t, h.db, id); strings.Contains(rec, secret) {
				t.Errorf("%s: the record of %s holds the secret:\n%s", tc.value, id, rec)
			}
		}
	}
}
