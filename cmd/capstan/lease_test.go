package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeLeavesARunsExecution: `capstan serve` started on the database of
// a live `capstan run` does not resume the execution the run drives, nor
// does `run --resume` from a third process; an approval from another
// process still finishes it in the run.
func TestServeLeavesARunsExecution(t *testing.T) {
	localUser(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	run, out, id := startApprovalRun(t, bin, db)

	_, resumed, srv, srvOut := startServe(t, bin, "--db", db, "--insecure-no-auth")
	if resumed != "0" {
		t.Fatalf("capstan serve resumed %s executions, want 0 (the run drives the only one): %s", resumed, srvOut.String())
	}
	code, _, errOut := cli(t, "run", "--resume", id, "--db", db)
	if code != 1 || !strings.Contains(errOut, "execution "+id+" is being run by another process (lease until ") {
		t.Fatalf("run --resume of the live run's execution: exit %d: %s", code, errOut)
	}

	if code, msg := capstan(t, bin, "executions", "approve", id, "--db", db, "--comment", "ship it"); code != 0 {
		t.Fatalf("executions approve: exit %d: %s", code, msg)
	}
	if code := exitWithin(t, run); code != 0 {
		t.Fatalf("capstan run exited %d, want 0: %s", code, out)
	}
	var e struct{ AutomationExecution executionJSON }
	if err := json.Unmarshal(out.Bytes(), &e); err != nil {
		t.Fatalf("run --output json: %v: %s", err, out)
	}
	if got := e.AutomationExecution; got.AutomationExecutionStatus != "Success" || stepStatuses(got) != "ask=Success after=Success" {
		t.Fatalf("run ended %s (%s), steps %q; want Success", got.AutomationExecutionStatus, got.FailureMessage, stepStatuses(got))
	}
	stopServe(t, srv, srvOut)
}

func TestLeaseFlagRefusesANegativeLength(t *testing.T) {
	code, _, errOut := cli(t, "run", "testdata/run-approve.yaml", "--db", filepath.Join(t.TempDir(), "capstan.db"), "--lease", "-1s")
	if code != 2 || !strings.Contains(errOut, "--lease -1s: expected a positive duration") {
		t.Fatalf("run --lease -1s: exit %d: %s", code, errOut)
	}
}
