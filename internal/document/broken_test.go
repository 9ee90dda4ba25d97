package document

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrokenCorpusVariants breaks a real runbook in one place at a time and
// checks the diagnostic lands on the broken line and column.
func TestBrokenCorpusVariants(t *testing.T) {
	base := filepath.Join(corpusDir(t), "community", "nragusa__ssm-runbook-example", "start-stop-resize.ssm.yaml")
	orig, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	src := string(orig)
	if _, diags := Load("r.yaml", orig, corpusRegistry(t)); HasErrors(diags) {
		t.Fatalf("unbroken runbook has errors: %v", diags)
	}
	tests := []struct {
		name, old, new string
		line, col      int
		msg            string
	}{
		{name: "misspelt nextStep", old: "      description: Resizes the EC2 instance\n",
			new:  "      description: Resizes the EC2 instance\n      nextStep: restartService\n",
			line: 47, col: 17, msg: `nextStep: no step named "restartService"`},
		{name: "removed required input", old: "        DocumentName: AWS-ResizeInstance\n", new: "",
			line: 48, col: 9, msg: "missing required input DocumentName"},
		{name: "undeclared parameter", old: "InstanceType: '{{NewInstanceType}}'", new: "InstanceType: '{{NewInstanceTyp}}'",
			line: 51, col: 26, msg: `no parameter named "NewInstanceTyp"`},
		{name: "duplicate step name", old: "- name: restartServices", new: "- name: shutdownServices",
			line: 52, col: 7, msg: `duplicate step name "shutdownServices"`},
		{name: "bad input type", old: "        DocumentName: AWS-ResizeInstance\n", new: "        DocumentName: [AWS-ResizeInstance]\n",
			line: 48, col: 23, msg: "input DocumentName: expected String"},
		{name: "bad parameter type", old: "  NewInstanceType:\n    type: String", new: "  NewInstanceType:\n    type: Strin",
			line: 31, col: 11, msg: `unknown type "Strin"`},
		{name: "syntax error", old: "    - name: resizeInstance", new: "    - name: [resizeInstance",
			line: 44, col: 1, msg: "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(src, tt.old) {
				t.Fatalf("corpus file changed: %q not found", tt.old)
			}
			broken := strings.Replace(src, tt.old, tt.new, 1)
			_, diags := Load("r.yaml", []byte(broken), corpusRegistry(t))
			for _, d := range diags {
				if d.Severity == Error && strings.Contains(d.Message, tt.msg) {
					if d.Line != tt.line || d.Column != tt.col {
						t.Errorf("%q at %d:%d, want %d:%d", d.Message, d.Line, d.Column, tt.line, tt.col)
					}
					return
				}
			}
			t.Errorf("no error containing %q; got %v", tt.msg, diags)
		})
	}
}
