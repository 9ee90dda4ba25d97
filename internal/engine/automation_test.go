package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// runbookShelf prepares child runbooks from memory: name → version →
// source. The engine only needs the Children interface; package service's
// tests cover the real start path behind it.
type runbookShelf map[string]map[string]string

type shelfChildren struct {
	shelf runbookShelf
	reg   *action.Registry
}

func (c shelfChildren) PrepareChild(ctx context.Context, executedBy, _ string, inputs map[string]any) (StartRequest, error) {
	name, _ := inputs["DocumentName"].(string)
	version, _ := inputs["DocumentVersion"].(string)
	versions, ok := c.shelf[name]
	if !ok {
		return StartRequest{}, fmt.Errorf("child runbook %s not found", name)
	}
	if version == "" {
		version = "1"
	}
	src, ok := versions[version]
	if !ok {
		return StartRequest{}, fmt.Errorf("child runbook %s version %s not found", name, version)
	}
	doc, diags := document.Load(name, []byte(src), c.reg)
	if document.HasErrors(diags) {
		return StartRequest{}, fmt.Errorf("child runbook %s is not valid: %v", name, diags)
	}
	fleet, err := FleetInputs(inputs)
	if err != nil {
		return StartRequest{}, err
	}
	params, _ := inputs["RuntimeParameters"].(map[string]any)
	var coerced map[string]any
	if fleet != nil {
		if err := ValidateFleet(doc, fleet); err != nil {
			return StartRequest{}, err
		}
		coerced, err = FleetParameters(doc, document.Inputs{Typed: params}, fleet)
	} else {
		coerced, err = doc.Coerce(document.Inputs{Typed: params})
	}
	if err != nil {
		return StartRequest{}, fmt.Errorf("child runbook %s: %w", name, err)
	}
	return StartRequest{Document: doc, Source: []byte(src), DocumentName: name, DocumentVersion: version, Parameters: coerced, ExecutedBy: executedBy, Fleet: fleet}, nil
}

func newChildHarness(t *testing.T, shelf runbookShelf) *harness {
	h := newHarness(t)
	h.eng = New(Options{Store: h.db, Actions: h.reg, RetryDelay: time.Millisecond, Region: "eu-west-1", AccountID: "123456789012", Children: shelfChildren{shelf, h.reg}})
	t.Cleanup(h.eng.Shutdown)
	return h
}

const greetV1 = `schemaVersion: '0.3'
parameters:
  Who: {type: String}
mainSteps:
  - name: greet
    action: test:echo
    inputs: {Value: 'v1 hello {{ Who }}'}
    outputs: [{Name: Text, Selector: $.Value, Type: String}]
outputs: [greet.Text]
`

const greetV2 = `schemaVersion: '0.3'
parameters:
  Who: {type: String}
mainSteps:
  - name: greet
    action: test:echo
    inputs: {Value: 'v2 hello {{ Who }}'}
    outputs: [{Name: Text, Selector: $.Value, Type: String}]
outputs: [greet.Text]
`

func TestExecuteAutomationRunsTheChildAndWaits(t *testing.T) {
	h := newChildHarness(t, runbookShelf{"Greet": {"1": greetV1, "2": greetV2}})
	id := h.start(`schemaVersion: '0.3'
mainSteps:
  - name: child
    action: aws:executeAutomation
    inputs:
      DocumentName: Greet
      DocumentVersion: '2'
      RuntimeParameters:
        Who: [capstan]
  - name: after
    action: test:echo
    inputs: {Value: '{{ child.Status }} {{ child.ExecutionId }}'}
`, nil)
	st := h.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("parent ended %s: %s (%s)", st.Status, st.FailureMessage, statuses(st))
	}
	out := st.Steps[0].Outputs
	childID, _ := out["ExecutionId"].(string)
	if out["Status"] != StatusSuccess || childID == "" {
		t.Fatalf("child step outputs = %v", out)
	}
	if got := fmt.Sprint(out["Output"]); !strings.Contains(got, "v2 hello capstan") {
		t.Errorf("child Output = %s, want version 2's greeting with the runtime parameter", got)
	}
	if got := fmt.Sprint(st.Steps[1].Inputs["Value"]); got != StatusSuccess+" "+childID {
		t.Errorf("the next step saw %q: the parent did not wait for the child's end", got)
	}
	row, err := h.db.Execution(context.Background(), childID)
	if err != nil {
		t.Fatal(err)
	}
	if row.ParentID != id || row.DocumentName != "Greet" || row.DocumentVersion != "2" || row.Status != StatusSuccess {
		t.Errorf("child row: parent %q doc %s v%s %s; want parent %s, Greet v2 Success", row.ParentID, row.DocumentName, row.DocumentVersion, row.Status, id)
	}
}

func TestExecuteAutomationUnknownChildFailsTheStep(t *testing.T) {
	h := newChildHarness(t, runbookShelf{"Greet": {"1": greetV1}})
	for _, tc := range []struct{ inputs, want string }{
		{"{DocumentName: No-Such-Runbook}", "child runbook No-Such-Runbook"},
		{"{DocumentName: Greet, DocumentVersion: '9'}", "Greet version 9"},
		{"{DocumentName: Greet, RuntimeParameters: {Whom: [x]}}", "Whom"},
	} {
		st := h.run("schemaVersion: '0.3'\nmainSteps:\n  - name: child\n    action: aws:executeAutomation\n    inputs: "+tc.inputs+"\n", nil)
		if st.Status != StatusFailed || !strings.Contains(st.FailureMessage, tc.want) {
			t.Errorf("%s: ended %s %q, want Failed naming %q", tc.inputs, st.Status, st.FailureMessage, tc.want)
		}
	}
	list, _, err := h.db.ListExecutions(context.Background(), store.ExecutionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Errorf("%d executions stored, want the 3 parents and no child", len(list))
	}
}

func TestExecuteAutomationChildFailureFailsTheParent(t *testing.T) {
	h := newChildHarness(t, runbookShelf{"Broken": {"1": `schemaVersion: '0.3'
mainSteps:
  - name: boom
    action: test:flaky
`}})
	h.fails["boom"] = 1
	st := h.run("schemaVersion: '0.3'\nmainSteps:\n  - name: child\n    action: aws:executeAutomation\n    inputs: {DocumentName: Broken}\n", nil)
	if st.Status != StatusFailed || !strings.Contains(st.FailureMessage, "of Broken ended Failed") || !strings.Contains(st.FailureMessage, "flaky failure of boom") {
		t.Fatalf("parent ended %s %q", st.Status, st.FailureMessage)
	}
	if st.Steps[0].Outputs["Status"] != StatusFailed {
		t.Errorf("child step Status output = %v", st.Steps[0].Outputs["Status"])
	}
}

func TestCancellingTheParentCancelsTheChild(t *testing.T) {
	h := newChildHarness(t, runbookShelf{"Hang": {"1": `schemaVersion: '0.3'
mainSteps:
  - name: hang
    action: test:block
`}})
	id := h.start("schemaVersion: '0.3'\nmainSteps:\n  - name: child\n    action: aws:executeAutomation\n    inputs: {DocumentName: Hang}\n", nil)
	for i := 0; i < 500 && h.ran("hang") == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if h.ran("hang") == 0 {
		t.Fatal("the child never started its step")
	}
	if err := h.eng.Stop(context.Background(), id, StopCancel, ""); err != nil {
		t.Fatal(err)
	}
	st := h.wait(id)
	if st.Status != StatusCancelled {
		t.Fatalf("parent ended %s", st.Status)
	}
	childID, _ := st.Steps[0].Outputs["ExecutionId"].(string)
	row, err := h.db.Execution(context.Background(), childID)
	if err != nil {
		t.Fatalf("child %q: %v", childID, err)
	}
	if row.Status != StatusCancelled || row.ParentID != id {
		t.Errorf("child row: %s, parent %q", row.Status, row.ParentID)
	}
	left, err := h.db.Unfinished(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d executions left unfinished, want none", len(left))
	}
}
