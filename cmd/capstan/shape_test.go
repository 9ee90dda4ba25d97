package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRunAndGetPrintOneShape: `run --output json` and `executions get
// --output json` print the same GetAutomationExecution response, with each
// step's IsEnd and IsCritical as the runbook declares them (SSM's default
// for IsCritical is true).
func TestRunAndGetPrintOneShape(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	rb := filepath.Join(dir, "flags.yaml")
	src := `schemaVersion: '0.3'
mainSteps:
  - name: optional
    action: aws:sleep
    isCritical: false
    inputs: {Duration: PT0S}
  - name: plain
    action: aws:sleep
    inputs: {Duration: PT0S}
  - name: last
    action: aws:sleep
    isEnd: true
    inputs: {Duration: PT0S}
`
	if err := os.WriteFile(rb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, runOut, errOut := cli(t, "run", rb, "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("run: exit %d %s", code, errOut)
	}
	type step struct {
		StepName          string
		IsEnd, IsCritical bool
		MaxAttempts       int
	}
	type shape struct {
		AutomationExecution struct {
			AutomationExecutionId string
			StepExecutions        []step
		}
	}
	var ran shape
	if err := json.Unmarshal([]byte(runOut), &ran); err != nil || ran.AutomationExecution.AutomationExecutionId == "" {
		t.Fatalf("run output is not GetAutomationExecution's shape (%v):\n%s", err, runOut)
	}
	code, getOut, errOut := cli(t, "executions", "get", ran.AutomationExecution.AutomationExecutionId, "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("executions get: exit %d %s", code, errOut)
	}
	var runAny, getAny map[string]any
	_ = json.Unmarshal([]byte(runOut), &runAny)
	_ = json.Unmarshal([]byte(getOut), &getAny)
	if !reflect.DeepEqual(runAny, getAny) {
		t.Errorf("run and executions get differ:\nrun: %s\nget: %s", runOut, getOut)
	}
	want := []step{{StepName: "optional", IsCritical: false, MaxAttempts: 1}, {StepName: "plain", IsCritical: true, MaxAttempts: 1}, {StepName: "last", IsEnd: true, IsCritical: true, MaxAttempts: 1}}
	got := ran.AutomationExecution.StepExecutions
	if len(got) != len(want) {
		t.Fatalf("steps %+v", got)
	}
	for i := range want {
		if got[i].StepName != want[i].StepName || got[i].IsEnd != want[i].IsEnd || got[i].IsCritical != want[i].IsCritical || got[i].MaxAttempts != want[i].MaxAttempts {
			t.Errorf("step %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestScriptPrintedOutputKeptOnSuccess: what an aws:executeScript step
// printed stays with the step after it succeeds, as SSM's ExecutionLog
// output beside the returned payload.
func TestScriptPrintedOutputKeptOnSuccess(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	rb := filepath.Join(dir, "script.yaml")
	src := `schemaVersion: '0.3'
mainSteps:
  - name: greet
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: handler
      Script: |
        def handler(events, context):
            print("checked 3 volumes")
            return {"ok": True}
`
	if err := os.WriteFile(rb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, runOut, errOut := cli(t, "run", rb, "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("run: exit %d %s\n%s", code, errOut, runOut)
	}
	var ran struct {
		AutomationExecution struct {
			AutomationExecutionId string
			StepExecutions        []struct {
				StepStatus string
				Outputs    map[string][]string
			}
		}
	}
	if err := json.Unmarshal([]byte(runOut), &ran); err != nil {
		t.Fatalf("%v:\n%s", err, runOut)
	}
	code, getOut, errOut := cli(t, "executions", "get", ran.AutomationExecution.AutomationExecutionId, "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("executions get: exit %d %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(getOut), &ran); err != nil {
		t.Fatalf("%v:\n%s", err, getOut)
	}
	steps := ran.AutomationExecution.StepExecutions
	if len(steps) != 1 || steps[0].StepStatus != "Success" {
		t.Fatalf("steps %+v", steps)
	}
	if got := steps[0].Outputs["ExecutionLog"]; len(got) != 1 || got[0] != "checked 3 volumes\n" {
		t.Errorf("ExecutionLog = %q, want what the script printed", got)
	}
	if got := steps[0].Outputs["Payload"]; len(got) != 1 || got[0] != `{"ok":true}` {
		t.Errorf("Payload = %q, want the returned value", got)
	}
}
