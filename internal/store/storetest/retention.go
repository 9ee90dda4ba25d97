package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

func testDeleteFinished(t *testing.T, open func(t *testing.T) ExecutionCallStore) {
	s, ctx := openStore(t, open), context.Background()
	// Five executions finished a day apart, oldest first, each with an
	// event and a call; one old execution still running.
	for i := range 5 {
		id := fmt.Sprintf("old-%d", i)
		e := execution(id, base.Add(time.Duration(i)*24*time.Hour))
		must(t, "create", s.CreateExecution(ctx, e, []store.Event{ev("ExecutionStarted", "{}")}))
		e.Seq, e.Status, e.Done, e.EndTime = 1, "Success", true, e.StartTime.Add(time.Minute)
		must(t, "finish", s.Append(ctx, e, []store.Event{ev("ExecutionFinished", "{}")}, store.Call{Step: "s", Service: "ec2", Operation: "DescribeInstances", Start: e.StartTime}))
	}
	must(t, "create running", s.CreateExecution(ctx, execution("running", base.Add(-48*time.Hour)), []store.Event{ev("ExecutionStarted", "{}")}))

	// Before day 3: old-0, old-1 and old-2 qualify; batches of two.
	cutoff := base.Add(3 * 24 * time.Hour)
	n, err := s.DeleteFinished(ctx, cutoff, 2)
	must(t, "delete", err)
	if n != 2 {
		t.Fatalf("first batch deleted %d, want 2", n)
	}
	for _, id := range []string{"old-0", "old-1"} {
		if _, err := s.Execution(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s (oldest) still there after the first batch: %v", id, err)
		}
	}
	n, err = s.DeleteFinished(ctx, cutoff, 2)
	must(t, "delete", err)
	if n != 1 {
		t.Fatalf("second batch deleted %d, want 1", n)
	}
	if n, err = s.DeleteFinished(ctx, cutoff, 2); err != nil || n != 0 {
		t.Fatalf("third batch: %d, %v; want nothing left", n, err)
	}
	for i := range 3 {
		id := fmt.Sprintf("old-%d", i)
		if _, err := s.Events(ctx, id, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("events of %s kept: %v", id, err)
		}
		if calls, _ := s.Calls(ctx, id); len(calls) != 0 {
			t.Errorf("calls of %s kept: %v", id, calls)
		}
	}
	// The newer ones and the running one are untouched.
	for _, id := range []string{"old-3", "old-4", "running"} {
		if _, err := s.Execution(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if evs, err := s.Events(ctx, id, 0); err != nil || len(evs) == 0 {
			t.Errorf("events of %s: %d, %v", id, len(evs), err)
		}
	}
	if calls, _ := s.Calls(ctx, "old-3"); len(calls) != 1 {
		t.Errorf("calls of old-3: %v", calls)
	}
	if _, err := s.DeleteFinished(ctx, cutoff, 0); err == nil {
		t.Errorf("limit 0 accepted")
	}
}
