package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
)

// updateGolden rewrites golden files under testdata instead of comparing.
// Other tests in this package that keep golden files should use it too.
var updateGolden = flag.Bool("update", false, "rewrite golden files under testdata")

// TestActionsDocsMatchGolden regenerates the whole `capstan actions` text —
// the list and every declaration — and compares it with the committed
// golden file, so the docs cannot drift from the declarations unnoticed.
func TestActionsDocsMatchGolden(t *testing.T) {
	var all bytes.Buffer
	runs := [][]string{{"actions"}}
	for _, n := range action.Builtin().Names() {
		runs = append(runs, []string{"actions", n})
	}
	for _, args := range runs {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitOK {
			t.Fatalf("capstan %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		all.WriteString("$ capstan " + strings.Join(args, " ") + "\n")
		all.Write(out.Bytes())
		all.WriteString("\n")
	}
	golden := filepath.Join("testdata", "actions.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, all.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/capstan -run TestActionsDocsMatchGolden -update)", err)
	}
	if !bytes.Equal(all.Bytes(), want) {
		t.Errorf("capstan actions output differs from %s; if the declarations changed on purpose, rerun with -update.\n%s",
			golden, firstDiff(all.String(), string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got:  " + gl + "\n want: " + wl
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestActionsCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"list", []string{"actions"}, exitOK, []string{"aws:executeAwsApi", "executes", "aws:runCommand", "declared", "aws:shareSQLMedia", "internal"}, nil},
		{"declaration", []string{"actions", "aws:approve"}, exitOK, []string{"Approvers", "StringList", "required", "ApprovalStatus", "Default timeout: 604800 s", "onCancel:   not allowed", "sns:Publish"}, nil},
		{"case and prefix forgiven", []string{"actions", "SLEEP"}, exitOK, []string{"aws:sleep", "Duration"}, nil},
		{"did you mean", []string{"actions", "aws:brnch"}, exitFailure, nil, []string{`unknown action "aws:brnch"`, "did you mean aws:branch?"}},
		{"unknown far from any", []string{"actions", "aws:frobnicateEverything"}, exitFailure, nil, []string{"unknown action", "capstan actions"}},
		{"services", []string{"actions", "aws:executeAwsApi", "--services"}, exitOK, []string{"elbv2", "elasticloadbalancing", "stepfunctions", "states"}, nil},
		{"services on a non-API action", []string{"actions", "aws:sleep", "--services"}, exitUsage, nil, []string{"--services applies to the API actions"}},
		{"services without a name", []string{"actions", "--services"}, exitUsage, nil, []string{"--services needs"}},
		{"bad output", []string{"actions", "--output", "yaml"}, exitUsage, nil, []string{"--output must be text or json"}},
		{"too many args", []string{"actions", "a", "b"}, exitUsage, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			for _, f := range tt.wantOut {
				if !strings.Contains(out.String(), f) {
					t.Errorf("stdout does not contain %q:\n%s", f, out.String())
				}
			}
			for _, f := range tt.wantErr {
				if !strings.Contains(errOut.String(), f) {
					t.Errorf("stderr does not contain %q: %s", f, errOut.String())
				}
			}
		})
	}
}

func TestActionsJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"actions", "aws:changeInstanceState", "--output", "json"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var d struct {
		Name   string `json:"name"`
		Inputs []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Required bool   `json:"required"`
		} `json:"inputs"`
		DefaultTimeoutSeconds int64    `json:"defaultTimeoutSeconds"`
		RetrySafe             bool     `json:"retrySafe"`
		IAM                   []string `json:"iamActions"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if d.Name != "aws:changeInstanceState" || d.DefaultTimeoutSeconds != 3600 || !d.RetrySafe {
		t.Errorf("declaration = %+v", d)
	}
	if len(d.Inputs) < 2 || d.Inputs[0].Name != "InstanceIds" || d.Inputs[0].Type != "StringList" || !d.Inputs[0].Required {
		t.Errorf("inputs = %+v", d.Inputs)
	}
	var list []map[string]string
	out.Reset()
	if code := run([]string{"actions", "--output", "json"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list) != len(action.Builtin().Names()) {
		t.Errorf("list: %v, %d entries", err, len(list))
	}
}

// TestActionsServicesJSON checks that every service of the model set is
// listed, those the old typed table lacked included.
func TestActionsServicesJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"actions", "aws:executeAwsApi", "--services", "--output", "json"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var list []struct {
		Name      string `json:"name"`
		IAMPrefix string `json:"iamPrefix"`
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if len(list) < 400 {
		t.Fatalf("%d services listed, want every service of the model set (about 420)", len(list))
	}
	byName := map[string]string{}
	for _, s := range list {
		byName[s.Name] = s.IAMPrefix
	}
	for name, prefix := range map[string]string{"glue": "glue", "s3control": "s3", "sso-admin": "sso", "mwaa": "airflow", "stepfunctions": "states"} {
		if byName[name] != prefix {
			t.Errorf("%s: IAM prefix %q, want %q", name, byName[name], prefix)
		}
	}
}
