package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// binDir holds the CLI built for the tests that run it as a process of its
// own; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildOnce builds the CLI on first use; later tests reuse the binary.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "capstan-test-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "capstan")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building capstan: %v\n%s", err, out)
	}
	return bin, nil
})

// capstanBinary is the CLI as a program, for tests that run it as a process
// of its own (to kill it, or to run two at once).
func capstanBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestRunResumesAfterSIGKILLDuringSleep(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	cmd := exec.Command(bin, "run", "testdata/run-sleep.yaml", "--db", db, "--output", "json", "--lease", shortLease)
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

	code, res, errOut := resumeAfterLease(t, db, id)
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

// shortLease is the lease of the processes tests kill, so the resume that
// follows waits for it to end a second at most.
const shortLease = "1s"

// resumeAfterLease is `capstan run --resume id`, tried again (bounded) while
// the killed runner's lease lasts.
func resumeAfterLease(t *testing.T, db, id string) (code int, out, errOut string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		code, out, errOut = cli(t, "run", "--resume", id, "--db", db, "--output", "json")
		if code != 1 || !strings.Contains(errOut, "is being run by another process") {
			return code, out, errOut
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the killed runner's lease of %s never ended: %s", id, errOut)
	return
}

// startBinary starts the built CLI on a runbook and returns the process and
// its combined output.
func startBinary(t *testing.T, bin, db, runbook string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, "run", runbook, "--db", db, "--output", "json", "--lease", shortLease)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, out
}

// waitForStep polls the store (bounded) until the only execution's current
// step is step, and returns the execution id.
func waitForStep(t *testing.T, db, step string, out *bytes.Buffer) string {
	t.Helper()
	for i := 0; i < 400; i++ {
		_, list, _ := cli(t, "executions", "list", "--db", db, "--output", "json")
		var l struct {
			AutomationExecutionMetadataList []struct{ AutomationExecutionId, CurrentStepName string }
		}
		_ = json.Unmarshal([]byte(list), &l)
		if len(l.AutomationExecutionMetadataList) == 1 && l.AutomationExecutionMetadataList[0].CurrentStepName == step {
			return l.AutomationExecutionMetadataList[0].AutomationExecutionId
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("step %s never started: %s", step, out.String())
	return ""
}

// exitCode waits for the process and returns its exit status.
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode()
}

func getExecution(t *testing.T, db, id string) executionJSON {
	t.Helper()
	code, out, errOut := cli(t, "executions", "get", id, "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("executions get: exit %d %s", code, errOut)
	}
	var got struct{ AutomationExecution executionJSON }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	return got.AutomationExecution
}

func stepStatuses(e executionJSON) string {
	var steps []string
	for _, s := range e.StepExecutions {
		steps = append(steps, s.StepName+"="+s.StepStatus)
	}
	return strings.Join(steps, " ")
}

// callsPerStep counts the AWS calls the execution recorded, by step and action.
func callsPerStep(t *testing.T, db, id string) map[string]int {
	t.Helper()
	_, out, _ := cli(t, "executions", "get", id, "--db", db, "--calls", "--output", "json")
	var got struct {
		Calls []struct{ Step, IAMAction string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	n := map[string]int{}
	for _, c := range got.Calls {
		n[c.Step+" "+c.IAMAction]++
	}
	return n
}

func TestCtrlCCancelsAndRunsOnCancelPath(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	cmd, out := startBinary(t, bin, db, "testdata/run-cancel.yaml")
	id := waitForStep(t, db, "long", out)

	_ = cmd.Process.Signal(os.Interrupt)
	if code := exitCode(t, cmd); code != 1 {
		t.Fatalf("exit %d after Ctrl-C; want 1: %s", code, out)
	}
	e := getExecution(t, db, id)
	if e.AutomationExecutionStatus != "Cancelled" || stepStatuses(e) != "long=Cancelled cleanup=Success" {
		t.Errorf("after Ctrl-C: %s %s %q", e.AutomationExecutionStatus, stepStatuses(e), e.FailureMessage)
	}
	if n := callsPerStep(t, db, id)["cleanup logs:CreateLogGroup"]; n != 1 {
		t.Errorf("cleanup called CreateLogGroup %d times; want 1", n)
	}
	if !strings.Contains(out.String(), "cancelling") {
		t.Errorf("no word of the cancel on the terminal: %s", out)
	}
}

func TestCtrlCTwiceAbortsTheOnCancelPath(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	cmd, out := startBinary(t, bin, db, "testdata/run-cancel-long.yaml")
	id := waitForStep(t, db, "long", out)

	_ = cmd.Process.Signal(os.Interrupt)
	// The hour-long cleanup is running; the second Ctrl-C must cut it short.
	waitForStep(t, db, "cleanup", out)
	_ = cmd.Process.Signal(os.Interrupt)
	if code := exitCode(t, cmd); code != 1 {
		t.Fatalf("exit %d after Ctrl-C twice; want 1: %s", code, out)
	}
	e := getExecution(t, db, id)
	if e.AutomationExecutionStatus != "Cancelled" || !strings.Contains(e.FailureMessage, "aborted") {
		t.Errorf("after Ctrl-C twice: %s %q", e.AutomationExecutionStatus, e.FailureMessage)
	}
	if got := stepStatuses(e); got != "long=Cancelled cleanup=Cancelled" {
		t.Errorf("steps: %s", got)
	}
}

func TestRunResumesAfterSIGKILLBetweenSteps(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	cmd, out := startBinary(t, bin, db, "testdata/run-gap.yaml")
	// create is recorded done; wait polls a parameter that stays "waiting".
	id := waitForStep(t, db, "wait", out)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	// Let the wait end, then resume.
	if code, res, errOut := cli(t, "run", "testdata/run-gap-release.yaml", "--db", filepath.Join(t.TempDir(), "other.db")); code != 0 {
		t.Fatalf("release: exit %d %s %s", code, res, errOut)
	}
	code, res, errOut := resumeAfterLease(t, db, id)
	if code != 0 {
		t.Fatalf("resume: exit %d %s %s", code, res, errOut)
	}
	e := decodeExecution(t, res)
	if e.AutomationExecutionStatus != "Success" || stepStatuses(e) != "create=Success wait=Success after=Success" {
		t.Errorf("after resume: %s %s %q", e.AutomationExecutionStatus, stepStatuses(e), e.FailureMessage)
	}
	calls := callsPerStep(t, db, id)
	// PutParameter without Overwrite fails if repeated: it ran once.
	if calls["create ssm:PutParameter"] != 1 || calls["after logs:CreateLogGroup"] != 1 {
		t.Errorf("calls per step: %v", calls)
	}
	if calls["wait ssm:GetParameter"] < 1 {
		t.Errorf("the wait did not poll after the resume: %v", calls)
	}
}
