package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// TestSignalSenderLearnsTheVerdict: `capstan executions get` shows who runs
// an unfinished execution, and `capstan executions approve` waits for
// the runner's verdict. The test plays the runner of an execution whose
// process died: it holds the execution's lease and settles the request as a
// runner does when the live state refuses what the stored state allowed
// (the race cannot be timed from outside, so the test settles it itself).
// A refusal reaches the sender with its reason and exit 1; a request no one
// settles within --wait, or for an execution no process runs, is said to be
// recorded, exit 0.
func TestSignalSenderLearnsTheVerdict(t *testing.T) {
	localUser(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	run, _, id := startApprovalRun(t, bin, db)
	_ = run.Process.Kill()
	_ = run.Wait()

	ctx := context.Background()
	s, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The dead run's lease ends within shortLease; then the test takes it.
	const runner = "test-runner"
	for i := 0; ; i++ {
		err := s.AcquireLease(ctx, id, runner, time.Now(), time.Now().Add(10*time.Minute))
		var leased *store.LeasedError
		if err == nil {
			break
		}
		if !errors.As(err, &leased) || i == 200 {
			t.Fatalf("taking the dead run's lease: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code, stdout, stderr := cli(t, "executions", "get", id, "--db", db); code != 0 || !strings.Contains(stdout, "run by "+runner+" (lease until ") {
		t.Fatalf("executions get of a leased execution: exit %d %s%s; want who runs it", code, stdout, stderr)
	}

	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := cli(t, "executions", "approve", id, "--db", db, "--wait", "1m")
		done <- result{code, stdout, stderr}
	}()
	var pending []store.SignalRequest
	for i := 0; len(pending) == 0; i++ {
		if i == 400 {
			t.Fatal("the approval never reached the store")
		}
		time.Sleep(50 * time.Millisecond)
		if pending, err = s.PendingSignals(ctx, []string{id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SettleSignal(ctx, pending[0].ID, "the execution is being cancelled"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 1 || !strings.Contains(r.stderr, "Approve to execution "+id+" refused: the execution is being cancelled") {
		t.Fatalf("approve refused by the runner: exit %d %s%s; want 1 and the runner's reason", r.code, r.stdout, r.stderr)
	}

	// The runner holds the lease but settles nothing: the sender says so.
	code, stdout, stderr := cli(t, "executions", "approve", id, "--db", db, "--wait", "300ms")
	if code != 0 || !strings.Contains(stdout, "Approve to execution "+id+" recorded; not applied yet after 300ms") {
		t.Fatalf("approve with a silent runner: exit %d %s%s", code, stdout, stderr)
	}

	// No process runs the execution: the request waits for its resume.
	if err := s.ReleaseLeases(ctx, runner, []string{id}); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := cli(t, "executions", "get", id, "--db", db); code != 0 || strings.Contains(stdout, "run by") ||
		!strings.Contains(stdout, "no process runs it now (it resumes when capstan serve or run --resume picks it up)") {
		t.Fatalf("executions get of an execution no one runs: exit %d %s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "executions", "stop", id, "--db", db)
	if code != 0 || !strings.Contains(stdout, "stop (Cancel) to execution "+id+" recorded; the execution is not running now: it applies when the execution resumes") {
		t.Fatalf("stop of an execution no one runs: exit %d %s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "executions", "stop", id, "--db", db, "--wait", "0")
	if code != 0 || !strings.Contains(stdout, "stop (Cancel) sent to execution "+id) {
		t.Fatalf("stop --wait 0: exit %d %s%s", code, stdout, stderr)
	}
	if code, _, stderr := cli(t, "executions", "stop", id, "--db", db, "--wait", "-1s"); code != 2 || !strings.Contains(stderr, "--wait -1s: expected a duration of 0 or more") {
		t.Fatalf("stop --wait -1s: exit %d %s", code, stderr)
	}
}
