package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunMasksKeyStorageSecrets(t *testing.T) {
	motoCLI(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	const secret = "s3cr3t-Tok3n-7f1c9a"
	if code, _, errOut := runKeys(t, secret+"\n", "keys", "put", "app/token", "--db", db); code != 0 {
		t.Fatalf("keys put: %d %s", code, errOut)
	}
	code, out, errOut := cli(t, "run", "testdata/run-secret.yaml", "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("run: exit %d %s %s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	_, got, getErr := cli(t, "executions", "get", e.AutomationExecutionId, "--db", db, "--output", "json", "--calls")
	_, text, _ := cli(t, "executions", "get", e.AutomationExecutionId, "--db", db)
	if !strings.Contains(got, "get.Token") {
		t.Fatalf("executions get: %s %s", got, getErr)
	}
	for name, b := range map[string]string{"run stdout": out, "run stderr": errOut, "get json": got + getErr, "get text": text, "db files": string(dirBytes(t, dir))} {
		if strings.Contains(b, secret) {
			t.Errorf("%s shows the secret", name)
		}
	}
	if len(e.Outputs["get.Token"]) != 1 || e.Outputs["get.Token"][0] == "" {
		t.Errorf("get.Token = %v; want a masked value", e.Outputs["get.Token"])
	}
}

// capstanBinary builds the CLI once per test binary so a test can kill it.
func capstanBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "capstan")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building capstan: %v\n%s", err, out)
	}
	return bin
}

func TestRunResumesAfterSIGKILLDuringSleep(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	cmd := exec.Command(bin, "run", "testdata/run-sleep.yaml", "--db", db, "--output", "json")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait (bounded) until the sleep's deadline is recorded.
	var id string
	var deadline time.Time
	for i := 0; i < 200 && id == ""; i++ {
		time.Sleep(50 * time.Millisecond)
		_, list, _ := cli(t, "executions", "list", "--db", db, "--output", "json")
		var l struct {
			AutomationExecutionMetadataList []struct{ AutomationExecutionId, CurrentStepName string }
		}
		_ = json.Unmarshal([]byte(list), &l)
		if len(l.AutomationExecutionMetadataList) == 1 && l.AutomationExecutionMetadataList[0].CurrentStepName == "nap" {
			id = l.AutomationExecutionMetadataList[0].AutomationExecutionId
		}
	}
	if id == "" {
		_ = cmd.Process.Kill()
		t.Fatalf("the sleep never started: %s", out.String())
	}
	started := time.Now()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline = started.Add(3 * time.Second) // at least: the nap is 4 s and had just begun

	code, res, errOut := cli(t, "run", "--resume", id, "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("resume: exit %d %s %s", code, res, errOut)
	}
	if time.Now().Before(deadline) {
		t.Errorf("the resumed sleep ended before its recorded deadline")
	}
	e := decodeExecution(t, res)
	var steps []string
	for _, s := range e.StepExecutions {
		steps = append(steps, s.StepName+"="+s.StepStatus)
	}
	if e.AutomationExecutionStatus != "Success" || strings.Join(steps, " ") != "create=Success nap=Success after=Success" {
		t.Errorf("after resume: %s %v", e.AutomationExecutionStatus, steps)
	}
	// CreateLogGroup fails if repeated: the first step ran exactly once.
	_, calls, _ := cli(t, "executions", "get", id, "--db", db, "--calls", "--output", "json")
	if n := strings.Count(calls, `"logs:CreateLogGroup"`); n != 1 {
		t.Errorf("CreateLogGroup called %d times", n)
	}
}
