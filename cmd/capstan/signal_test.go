package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// localUser makes the CLI's user (and its children's) ops, whom
// testdata/run-approve.yaml names as an approver.
func localUser(t *testing.T) {
	t.Setenv("USER", "ops")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CAPSTAN_DB", "")
}

// startApprovalRun starts `capstan run testdata/run-approve.yaml` on db as
// its own process and returns once the execution waits at its approval
// step, with the process, its output and the execution id.
func startApprovalRun(t *testing.T, bin, db string) (*exec.Cmd, *bytes.Buffer, string) {
	t.Helper()
	run, out := startBinary(t, bin, db, "testdata/run-approve.yaml")
	id := waitForStep(t, db, "ask", out)
	waitStatus(t, db, id, "Waiting")
	return run, out, id
}

// waitStatus polls the store (bounded) until the execution's status is one
// of want, and returns the execution.
func waitStatus(t *testing.T, db, id string, want ...string) executionJSON {
	t.Helper()
	var e executionJSON
	for i := 0; i < 400; i++ {
		code, out, _ := cli(t, "executions", "get", id, "--db", db, "--output", "json")
		var got struct{ AutomationExecution executionJSON }
		if code == 0 && json.Unmarshal([]byte(out), &got) == nil {
			e = got.AutomationExecution
			for _, w := range want {
				if e.AutomationExecutionStatus == w {
					return e
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("execution %s is %s, never %v", id, e.AutomationExecutionStatus, want)
	return e
}

// capstan runs the CLI as a process of its own and returns its exit status
// and output.
func capstan(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return exitWithin(t, cmd), out.String()
}

// exitWithin waits (bounded) for a process and returns its exit status; one
// still running after a minute is killed and fails the test.
func exitWithin(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(time.Minute, func() {
		_ = cmd.Process.Kill()
		close(done)
	})
	code := exitCode(t, cmd)
	if !timer.Stop() {
		<-done
		t.Fatalf("%s did not end within a minute", strings.Join(cmd.Args, " "))
	}
	return code
}

// TestDecisionFromAnotherProcess: `capstan run` waiting at aws:approve in
// one process ends when `capstan executions approve|reject|stop` runs in
// another, and its exit status says how it ended.
func TestDecisionFromAnotherProcess(t *testing.T) {
	localUser(t)
	bin := capstanBinary(t)
	for _, tc := range []struct {
		args     []string
		status   string
		exit     int
		steps    string
		decision string
	}{
		{[]string{"approve", "--comment", "ship it"}, "Success", 0, "ask=Success after=Success", "Approved"},
		{[]string{"reject", "--comment", "not today"}, "Failed", 1, "ask=Failed", "Rejected"},
		{[]string{"stop"}, "Cancelled", 1, "ask=Cancelled", ""},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "capstan.db")
			run, out, id := startApprovalRun(t, bin, db)

			// A unique prefix of the id will do, as for executions get.
			// The command waits for the run's verdict.
			args := append([]string{"executions", tc.args[0], id[:8], "--db", db, "--wait", "1m"}, tc.args[1:]...)
			if code, msg := capstan(t, bin, args...); code != 0 || !strings.Contains(msg, "to execution "+id+" applied") {
				t.Fatalf("executions %s: exit %d: %s", tc.args[0], code, msg)
			}
			if code := exitWithin(t, run); code != tc.exit {
				t.Fatalf("capstan run exited %d, want %d: %s", code, tc.exit, out)
			}
			var e struct{ AutomationExecution executionJSON }
			if err := json.Unmarshal(out.Bytes(), &e); err != nil {
				t.Fatalf("run --output json: %v: %s", err, out)
			}
			got := e.AutomationExecution
			if got.AutomationExecutionStatus != tc.status || stepStatuses(got) != tc.steps {
				t.Fatalf("run ended %s (%s), steps %q; want %s, %q", got.AutomationExecutionStatus, got.FailureMessage, stepStatuses(got), tc.status, tc.steps)
			}
			if tc.decision != "" {
				outs := got.StepExecutions[0].Outputs
				if s := outs["ApprovalStatus"]; len(s) != 1 || s[0] != tc.decision {
					t.Errorf("ApprovalStatus %v, want %s", s, tc.decision)
				}
				if d := strings.Join(outs["ApproverDecisions"], " "); !strings.Contains(d, `"Approver":"ops"`) || !strings.Contains(d, tc.args[2]) {
					t.Errorf("ApproverDecisions %s: want ops's decision with its comment", d)
				}
			}

			// No runner is shown for an ended execution.
			if code, stdout, _ := cli(t, "executions", "get", id, "--db", db); code != 0 || strings.Contains(stdout, "run by") || strings.Contains(stdout, "no process runs it") {
				t.Errorf("executions get of an ended execution: exit %d %s; want no runner line", code, stdout)
			}

			// The execution has ended: a second request is refused (1).
			code, msg := capstan(t, bin, append([]string{"executions", tc.args[0], id, "--db", db}, tc.args[1:]...)...)
			if code != 1 || !strings.Contains(msg, "already ended "+tc.status) {
				t.Errorf("executions %s of an ended execution: exit %d: %s", tc.args[0], code, msg)
			}
		})
	}
}

// TestSignalCommandRefusals: bad usage exits 2; a request the execution's
// state refuses exits 1 and says why, and nothing reaches the execution.
func TestSignalCommandRefusals(t *testing.T) {
	localUser(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	run, out, id := startApprovalRun(t, bin, db)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"signal", id}, 2, "--type is required"},
		{[]string{"signal", id, "--type", "Nudge"}, 2, "Value 'Nudge' at 'signalType'"},
		{[]string{"signal", id, "--type", "StartStep", "--payload", "StepName"}, 2, `--payload "StepName": expected Key=Value`},
		{[]string{"stop", id, "--type", "Pause"}, 2, "Value 'Pause' at 'type'"},
		{[]string{"approve", "0000"}, 1, "Automation Execution 0000 was not found"},
		{[]string{"signal", id, "--type", "Resume"}, 1, "the waiting step is aws:approve"},
		{[]string{"signal", id, "--type", "StopStep"}, 1, "StopStep applies to executions started in Interactive mode"},
	} {
		code, stdout, stderr := cli(t, append(append([]string{"executions"}, tc.args...), "--db", db)...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("executions %s: exit %d %s%s; want %d and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.msg)
		}
	}
	t.Setenv("USER", "mallory")
	if code, _, stderr := cli(t, "executions", "approve", id, "--db", db); code != 1 || !strings.Contains(stderr, "mallory is not one of the step's approvers (ops, anonymous)") {
		t.Errorf("mallory's approval: exit %d %s", code, stderr)
	}
	if e := getExecution(t, db, id); e.AutomationExecutionStatus != "Waiting" {
		t.Fatalf("after refused requests the execution is %s", e.AutomationExecutionStatus)
	}
	t.Setenv("USER", "ops")
	if code, _, stderr := cli(t, "executions", "stop", id, "--db", db); code != 0 {
		t.Fatalf("stop: exit %d %s", code, stderr)
	}
	if code := exitWithin(t, run); code != 1 {
		t.Fatalf("capstan run exited %d after the stop: %s", code, out)
	}
}

// TestServeAndCLISignalEachOther: a server and the CLI on one database
// decide each other's executions: the API approves what `capstan run` runs,
// and `capstan executions approve` what the server runs.
func TestServeAndCLISignalEachOther(t *testing.T) {
	localUser(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	url, _, serve, serveOut := startServe(t, bin, "--db", db, "--insecure-no-auth")
	c := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDANYONE", "anything", "")})
	ctx := context.Background()

	// The API approves the CLI's execution.
	run, out, cliID := startApprovalRun(t, bin, db)
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(cliID), SignalType: types.SignalTypeApprove,
		Payload: map[string][]string{"Comment": {"from the API"}}}); err != nil {
		t.Fatalf("the API's approval of the CLI's execution: %v", err)
	}
	if code := exitWithin(t, run); code != 0 {
		t.Fatalf("capstan run exited %d after the API's approval: %s", code, out)
	}
	if d := getExecution(t, db, cliID).StepExecutions[0].Outputs["ApproverDecisions"]; len(d) != 1 || !strings.Contains(d[0], "user/anonymous") {
		t.Errorf("decisions %v: want the API caller's", d)
	}

	// The CLI approves the server's execution.
	src, err := os.ReadFile("testdata/run-approve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Approve-Then-Sleep"), Content: aws.String(string(src)),
		DocumentType: types.DocumentTypeAutomation, DocumentFormat: types.DocumentFormatYaml}); err != nil {
		t.Fatal(err)
	}
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Approve-Then-Sleep")})
	if err != nil {
		t.Fatal(err)
	}
	apiID := aws.ToString(start.AutomationExecutionId)
	waitServeStatus(t, c, apiID, "Waiting")
	if code, stdout, stderr := cli(t, "executions", "approve", apiID, "--db", db); code != 0 {
		t.Fatalf("the CLI's approval of the server's execution: exit %d %s %s", code, stdout, stderr)
	}
	final := waitServeStatus(t, c, apiID, "Success", "Failed")
	if final.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("the server's execution ended %s: %s", final.AutomationExecutionStatus, aws.ToString(final.FailureMessage))
	}
	stopServe(t, serve, serveOut)
}

// TestStopCompleteFromAnotherProcess: `executions stop --type Complete`
// from another process lets the waiting step finish and starts no step after
// it.
func TestStopCompleteFromAnotherProcess(t *testing.T) {
	localUser(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	run, out, id := startApprovalRun(t, bin, db)
	for _, args := range [][]string{{"stop", id, "--type", "Complete"}, {"approve", id}} {
		if code, msg := capstan(t, bin, append(append([]string{"executions"}, args...), "--db", db)...); code != 0 {
			t.Fatalf("executions %s: exit %d: %s", strings.Join(args, " "), code, msg)
		}
	}
	if code := exitWithin(t, run); code != 0 {
		t.Fatalf("capstan run exited %d: %s", code, out)
	}
	if e := getExecution(t, db, id); e.AutomationExecutionStatus != "Success" || stepStatuses(e) != "ask=Success" {
		t.Fatalf("after Complete and the approval: %s, steps %q; want Success with no step after ask", e.AutomationExecutionStatus, stepStatuses(e))
	}
}
