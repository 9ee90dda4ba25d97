package engine

import (
	"strings"
	"testing"
)

// An output a step declares but did not produce reads as its own literal
// text in a branch Variable, in an input (whole or inside text) and in the
// runbook's outputs, as on SSM; an output the step does not declare fails
// the referring step.
func TestUnproducedOutputReadsAsItsText(t *testing.T) {
	h := newHarness(t)
	st := h.run(`
schemaVersion: "0.3"
mainSteps:
  - name: getProfile
    action: test:echo
    inputs: {Value: {Profiles: []}}
    outputs:
      - {Name: Arn, Selector: "$.Value.Profiles[0].Arn", Type: String}
  - name: hasProfile
    action: aws:branch
    inputs:
      Choices:
        - {NextStep: attach, Variable: "{{ getProfile.Arn }}", Contains: "arn:"}
        - {NextStep: create, Not: {Variable: "{{getProfile.Arn}}", Contains: "arn:"}}
  - {name: attach, action: test:echo, inputs: {Value: attached}, isEnd: true}
  - name: create
    action: test:echo
    inputs: {Value: {Whole: "{{ getProfile.Arn }}", Text: "was {{getProfile.Arn}}", List: ["{{ getProfile.Arn }}"]}}
outputs: [getProfile.Arn, create.Value]
`, nil)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := statuses(st); got != "getProfile=Success hasProfile=Success create=Success" {
		t.Fatalf("steps %q: want the Not Contains choice to match", got)
	}
	v, _ := st.Steps[2].Outputs["Value"].(map[string]any)
	if v["Whole"] != "{{ getProfile.Arn }}" || v["Text"] != "was {{getProfile.Arn}}" {
		t.Errorf("inputs got %#v, want the references as written", v)
	}
	if l, _ := v["List"].([]any); len(l) != 1 || l[0] != "{{ getProfile.Arn }}" {
		t.Errorf("list input got %#v", v["List"])
	}
	if got := st.Outputs["getProfile.Arn"]; len(got) != 1 || !strings.HasPrefix(got[0], "No output available yet") {
		t.Errorf("runbook output getProfile.Arn = %q", got)
	}
}

// A step skipped by a branch has produced none of its outputs: a later
// reference to one reads as its text too.
func TestOutputOfASkippedStepReadsAsItsText(t *testing.T) {
	h := newHarness(t)
	st := h.run(`
schemaVersion: "0.3"
mainSteps:
  - name: skip
    action: aws:branch
    inputs: {Choices: [{NextStep: use, Variable: "x", StringEquals: "x"}]}
  - name: make
    action: test:echo
    inputs: {Value: made}
  - name: use
    action: test:echo
    inputs: {Value: "{{ make.Value }}"}
`, nil)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := st.Steps[1].Outputs["Value"]; got != "{{ make.Value }}" {
		t.Errorf("use got %#v", got)
	}
}

func TestUndeclaredOutputFailsTheStep(t *testing.T) {
	h := newHarness(t)
	st := h.run(`
schemaVersion: "0.3"
mainSteps:
  - name: first
    action: aws:sleep
    inputs: {Duration: PT0S}
  - name: use
    action: test:echo
    inputs: {Value: "{{ first.Arn }}"}
`, nil)
	if st.Status != StatusFailed {
		t.Fatalf("status %s, want Failed", st.Status)
	}
	if !strings.Contains(st.FailureMessage, "step first declares no output Arn") {
		t.Errorf("failure %q does not name the undeclared output", st.FailureMessage)
	}
}
