package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/mototest"
)

// cli runs capstan in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// motoCLI points the CLI at a fresh moto and away from any user configuration.
func motoCLI(t *testing.T) *mototest.Server {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CAPSTAN_DB", "")
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	return s
}

// executionJSON is the part of SSM's AutomationExecution the tests read,
// decoded with SSM's field names so a renamed field fails them.
type executionJSON struct {
	AutomationExecutionId     string
	DocumentName              string
	AutomationExecutionStatus string
	ExecutionStartTime        string
	ExecutionEndTime          string
	FailureMessage            string
	Parameters                map[string][]string
	Outputs                   map[string][]string
	StepExecutions            []struct {
		StepName       string
		Action         string
		StepStatus     string
		Inputs         map[string]string
		Outputs        map[string][]string
		FailureMessage string
		FailureDetails *struct {
			FailureStage, FailureType string
			Details                   map[string][]string
		}
	}
}

// decodeExecution reads the output of run or executions get --output json:
// both are GetAutomationExecution's response.
func decodeExecution(t *testing.T, s string) executionJSON {
	t.Helper()
	var e struct{ AutomationExecution *executionJSON }
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in %q", s)
	}
	if e.AutomationExecution == nil {
		t.Fatalf("no AutomationExecution in %q", s)
	}
	return *e.AutomationExecution
}

func TestRunSuccessJSONAndExecutions(t *testing.T) {
	motoCLI(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	code, out, errOut := cli(t, "run", "testdata/run-ec2.yaml", "--db", db, "-p", "InstanceType=t3.small", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	if e.AutomationExecutionStatus != "Success" || e.DocumentName != "run-ec2" || len(e.AutomationExecutionId) != 36 {
		t.Errorf("execution %+v", e)
	}
	if e.ExecutionStartTime == "" || e.ExecutionEndTime == "" {
		t.Errorf("start %q end %q", e.ExecutionStartTime, e.ExecutionEndTime)
	}
	if got := e.Parameters["InstanceType"]; len(got) != 1 || got[0] != "t3.small" {
		t.Errorf("Parameters = %v", e.Parameters)
	}
	if got := e.Outputs["launch.InstanceId"]; len(got) != 1 || !strings.HasPrefix(got[0], "i-") {
		t.Errorf("Outputs = %v", e.Outputs)
	}
	if len(e.StepExecutions) != 2 || e.StepExecutions[0].StepName != "launch" || e.StepExecutions[0].Action != "aws:executeAwsApi" ||
		e.StepExecutions[0].StepStatus != "Success" || e.StepExecutions[1].StepStatus != "Success" {
		t.Fatalf("StepExecutions = %+v", e.StepExecutions)
	}
	in := e.StepExecutions[0].Inputs
	// SSM shows each input JSON-encoded; the account came from the credentials.
	if in["InstanceType"] != `"t3.small"` || in["MinCount"] != "1" || !strings.Contains(in["TagSpecifications"], `"123456789012"`) {
		t.Errorf("launch Inputs = %v", in)
	}
	if got := e.StepExecutions[0].Outputs["InstanceId"]; len(got) != 1 || got[0] != e.Outputs["launch.InstanceId"][0] {
		t.Errorf("launch Outputs = %v", e.StepExecutions[0].Outputs)
	}

	// The calls are on the record.
	code, out, errOut = cli(t, "executions", "get", e.AutomationExecutionId, "--db", db, "--calls", "--output", "json")
	if code != 0 {
		t.Fatalf("get: exit %d %s", code, errOut)
	}
	var got struct {
		AutomationExecution executionJSON
		Calls               []struct{ Step, Service, Operation, IAMAction, ErrorCode string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, c := range got.Calls {
		calls = append(calls, c.Step+" "+c.IAMAction+" "+c.ErrorCode)
	}
	want := []string{"launch sts:GetCallerIdentity ", "launch ec2:RunInstances ", "assertType ec2:DescribeInstances "}
	if strings.Join(calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", calls, want)
	}
	if got.AutomationExecution.AutomationExecutionStatus != "Success" {
		t.Errorf("get: %+v", got.AutomationExecution)
	}
	code, out, _ = cli(t, "executions", "get", e.AutomationExecutionId, "--db", db, "--calls")
	if code != 0 || !strings.Contains(out, "ec2:RunInstances") || !strings.Contains(out, "3 AWS calls") {
		t.Errorf("get --calls text: exit %d\n%s", code, out)
	}
}

func TestRunFailedExitsOneAndIsListed(t *testing.T) {
	motoCLI(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	code, out, errOut := cli(t, "run", "testdata/run-fail.yaml", "--db", db, "-p", "RoleName=no-such-role", "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %s; stderr %s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	if e.AutomationExecutionStatus != "Failed" || !strings.Contains(e.FailureMessage, "getRole") {
		t.Errorf("status %s, failure %q", e.AutomationExecutionStatus, e.FailureMessage)
	}
	s := e.StepExecutions[0]
	for _, w := range []string{"iam", "GetRole", "NoSuchEntity", "request id"} {
		if !strings.Contains(s.FailureMessage, w) {
			t.Errorf("step failure %q does not name %s", s.FailureMessage, w)
		}
	}
	if s.FailureDetails == nil || s.FailureDetails.FailureType != "Action" {
		t.Errorf("FailureDetails %+v", s.FailureDetails)
	}

	// A successful run beside it must not be listed as Failed.
	if code, _, errOut := cli(t, "run", "testdata/run-ec2.yaml", "--db", db); code != 0 {
		t.Fatalf("second run: exit %d %s", code, errOut)
	}
	code, out, _ = cli(t, "executions", "list", "--status", "Failed", "--db", db, "--output", "json")
	var list struct {
		AutomationExecutionMetadataList []struct {
			AutomationExecutionId, AutomationExecutionStatus, DocumentName string
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("list: exit %d %v %s", code, err, out)
	}
	if len(list.AutomationExecutionMetadataList) != 1 || list.AutomationExecutionMetadataList[0].AutomationExecutionId != e.AutomationExecutionId ||
		list.AutomationExecutionMetadataList[0].AutomationExecutionStatus != "Failed" {
		t.Errorf("list --status Failed = %+v", list.AutomationExecutionMetadataList)
	}
}

func TestRunUsageAndValidationErrors(t *testing.T) {
	motoCLI(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   []string
		notStder string
	}{
		{"unknown flag", []string{"run", "testdata/run-ec2.yaml", "--nope"}, 2, []string{"--nope"}, ""},
		{"two files", []string{"run", "testdata/run-ec2.yaml", "testdata/run-fail.yaml"}, 2, []string{"one runbook"}, ""},
		{"bad -p value names the parameter", []string{"run", "testdata/run-ec2.yaml", "-p", "Count=many"}, 2, []string{"Count"}, ""},
		{"value outside allowedValues", []string{"run", "testdata/run-ec2.yaml", "-p", "InstanceType=m5.24xlarge"}, 2, []string{"InstanceType"}, ""},
		{"missing required parameter", []string{"run", "testdata/run-fail.yaml"}, 2, []string{"RoleName"}, ""},
		{"invalid runbook: file:line diagnostics", []string{"run", "testdata/run-invalid.yaml"}, 1,
			[]string{"testdata/run-invalid.yaml:6:", "duplicate step name", "testdata/run-invalid.yaml:7:", "aws:noSuchAction"}, ""},
		{"unknown service in a literal step", []string{"run", "testdata/run-unknown-service.yaml"}, 1,
			[]string{"testdata/run-unknown-service.yaml:5:", "nosuchservice"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, append(tt.args, "--db", db)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errOut)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "goroutine ") {
				t.Errorf("stack trace on stderr: %s", errOut)
			}
		})
	}
	// Nothing was started by any of them.
	_, out, _ := cli(t, "executions", "list", "--db", db, "--output", "json")
	if strings.Contains(out, "AutomationExecutionId") {
		t.Errorf("a refused run was recorded: %s", out)
	}
}

func TestRunTemplatedUnknownServiceFailsTheStep(t *testing.T) {
	motoCLI(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	code, out, errOut := cli(t, "run", "testdata/run-templated-service.yaml", "--db", db, "-p", "Service=nosuchservice", "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d; %s %s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	if len(e.StepExecutions) != 1 || e.StepExecutions[0].StepStatus != "Failed" ||
		!strings.Contains(e.StepExecutions[0].FailureMessage, "nosuchservice") || !strings.Contains(e.StepExecutions[0].FailureMessage, "unknown service") {
		t.Errorf("steps %+v", e.StepExecutions)
	}
}

func TestRunWithoutRegionOrEndpointIsOneClearLine(t *testing.T) {
	motoCLI(t)
	db := filepath.Join(t.TempDir(), "capstan.db")

	t.Run("no region", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		t.Setenv("AWS_DEFAULT_REGION", "")
		code, out, errOut := cli(t, "run", "testdata/run-fail.yaml", "--db", db, "-p", "RoleName=x")
		if code != 1 || !strings.Contains(errOut, "AWS_REGION or AWS_DEFAULT_REGION") {
			t.Errorf("exit %d; stdout %q stderr %q", code, out, errOut)
		}
		// Caught before an execution exists.
		if _, list, _ := cli(t, "executions", "list", "--db", db, "--output", "json"); strings.Contains(list, "AutomationExecutionId") {
			t.Errorf("an execution was recorded: %s", list)
		}
		if strings.Contains(out+errOut, "goroutine ") {
			t.Errorf("stack trace: %s", errOut)
		}
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		// A port nothing listens on: the loopback discard port.
		code, out, errOut := cli(t, "run", "testdata/run-unreachable.yaml", "--db", db, "--endpoint-url", "http://127.0.0.1:9", "--output", "json")
		if code != 1 {
			t.Fatalf("exit %d; stdout %q stderr %q", code, out, errOut)
		}
		e := decodeExecution(t, out)
		msg := e.StepExecutions[0].FailureMessage
		// The refused connection fails the step at once (within the 2 s
		// timeout), on one line naming the endpoint and what to check.
		if !strings.Contains(msg, "endpoint unreachable http://127.0.0.1:9") || !strings.Contains(msg, "check --endpoint-url") ||
			strings.Contains(msg, "timed out") || strings.Contains(msg, "\n") || strings.Contains(out+errOut, "goroutine ") {
			t.Errorf("failure %q", msg)
		}
	})
}
