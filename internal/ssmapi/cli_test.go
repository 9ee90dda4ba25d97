package ssmapi

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// awsCLI runs the installed aws CLI against the capstan server, signed as
// the given access key, and decodes its JSON output into out (if not nil).
// It returns stderr and whether the command succeeded.
func (e *testEnv) awsCLI(akid, secret string, out any, args ...string) (string, bool) {
	e.t.Helper()
	args = append(append([]string{}, args...), "--endpoint-url", e.srv.URL, "--output", "json")
	cmd := exec.Command("aws", args...)
	env := []string{"HOME=" + e.t.TempDir(), "AWS_ACCESS_KEY_ID=" + akid, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
	for _, kv := range os.Environ() {
		// The engine's endpoint (moto) must not leak into the CLI's.
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return stderr.String(), false
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	return stderr.String(), true
}

func (e *testEnv) asAlice(out any, args ...string) {
	e.t.Helper()
	if stderr, ok := e.awsCLI(e.alice.AccessKeyID, e.aliceSecret, out, args...); !ok {
		e.t.Fatalf("aws %s failed: %s", strings.Join(args, " "), stderr)
	}
}

type cliExecution struct {
	AutomationExecution struct {
		AutomationExecutionStatus string
		ExecutedBy                string
		CurrentStepName           string
		Outputs                   map[string][]string
		ExecutionStartTime        any
	}
}

// cliWait waits with the SDK (each aws CLI start costs about a second of
// CPU), then reads the execution once with get-automation-execution.
func (e *testEnv) cliWait(id string, want ...string) cliExecution {
	e.t.Helper()
	e.waitStatus(e.aliceClient(), id, want...)
	var got cliExecution
	e.asAlice(&got, "ssm", "get-automation-execution", "--automation-execution-id", id)
	return got
}

// TestAWSCLISeedCommands drives the server with the commands of the SSM user
// guide (seed 001): start-automation-execution with --parameters,
// describe-automation-executions with an ExecutionId filter, then the
// signal and stop commands.
func TestAWSCLISeedCommands(t *testing.T) {
	e := newTestEnv(t)
	e.asAlice(nil, "ssm", "create-document", "--name", "Write-Param", "--document-type", "Automation", "--document-format", "YAML", "--content", paramRunbook)

	var start struct{ AutomationExecutionId string }
	e.asAlice(&start, "ssm", "start-automation-execution", "--document-name", "Write-Param", "--parameters", "Name=/cli/param,Value=from-cli")
	if len(start.AutomationExecutionId) != 36 {
		t.Fatalf("start-automation-execution returned %+v", start)
	}
	got := e.cliWait(start.AutomationExecutionId, "Success", "Failed")
	if got.AutomationExecution.AutomationExecutionStatus != "Success" || got.AutomationExecution.ExecutedBy != e.alice.ARN {
		t.Fatalf("get-automation-execution = %+v", got.AutomationExecution)
	}
	if v := got.AutomationExecution.Outputs["get.Value"]; len(v) != 1 || v[0] != "from-cli" {
		t.Fatalf("Outputs = %v", got.AutomationExecution.Outputs)
	}
	if v := e.motoParameter("/cli/param"); v != "from-cli" {
		t.Fatalf("moto holds %q", v)
	}

	var list struct {
		AutomationExecutionMetadataList []struct {
			AutomationExecutionId     string
			AutomationExecutionStatus string
		}
	}
	// The guide's spelling (--filter) and the reference's (--filters).
	for _, flag := range []string{"--filter", "--filters"} {
		e.asAlice(&list, "ssm", "describe-automation-executions", flag, "Key=ExecutionId,Values="+start.AutomationExecutionId)
		if len(list.AutomationExecutionMetadataList) != 1 || list.AutomationExecutionMetadataList[0].AutomationExecutionId != start.AutomationExecutionId {
			t.Fatalf("describe-automation-executions %s = %+v", flag, list)
		}
	}

	e.asAlice(nil, "ssm", "create-document", "--name", "Approve-Write", "--document-type", "Automation", "--document-format", "YAML", "--content", approveRunbook)
	e.asAlice(&start, "ssm", "start-automation-execution", "--document-name", "Approve-Write", "--parameters", "Name=/cli/approved")
	if w := e.cliWait(start.AutomationExecutionId, "Waiting"); w.AutomationExecution.CurrentStepName != "approve" {
		t.Fatalf("waiting at %q", w.AutomationExecution.CurrentStepName)
	}
	e.asAlice(nil, "ssm", "send-automation-signal", "--automation-execution-id", start.AutomationExecutionId, "--signal-type", "Approve", "--payload", "Comment=looks good")
	e.cliWait(start.AutomationExecutionId, "Success")

	e.asAlice(&start, "ssm", "start-automation-execution", "--document-name", "Approve-Write", "--parameters", "Name=/cli/stopped")
	e.cliWait(start.AutomationExecutionId, "Waiting")
	e.asAlice(nil, "ssm", "stop-automation-execution", "--automation-execution-id", start.AutomationExecutionId, "--type", "Cancel")
	e.cliWait(start.AutomationExecutionId, "Cancelled")

	// Errors reach the CLI under SSM's names.
	stderr, ok := e.awsCLI(e.alice.AccessKeyID, e.aliceSecret, nil, "ssm", "start-automation-execution", "--document-name", "No-Such-Doc")
	if ok || !strings.Contains(stderr, "AutomationDefinitionNotFoundException") {
		t.Fatalf("unknown document: ok=%v %s", ok, stderr)
	}
	stderr, ok = e.awsCLI(e.alice.AccessKeyID, "not-the-secret", nil, "ssm", "get-automation-execution", "--automation-execution-id", start.AutomationExecutionId)
	if ok || !strings.Contains(stderr, "InvalidSignatureException") {
		t.Fatalf("wrong secret: ok=%v %s", ok, stderr)
	}
}
