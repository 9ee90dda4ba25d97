package retention

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "36h": 36 * time.Hour, " 90m ": 90 * time.Minute} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "-3d", "30", "thirty days", "1.5d", "-1h"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
}

// TestSweepKeepsRecentAndRunning sweeps a store holding old and recent
// finished executions and an old running one, in batches smaller than the
// work, while the running execution keeps appending events.
func TestSweepKeepsRecentAndRunning(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	finish := func(id string, end time.Time) {
		e := store.Execution{ID: id, DocumentName: "D", DocumentVersion: "1", Status: "InProgress", Mode: "Auto", StartTime: end.Add(-time.Minute)}
		if err := db.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted", Data: []byte("{}")}}); err != nil {
			t.Fatal(err)
		}
		e.Seq, e.Status, e.Done, e.EndTime = 1, "Success", true, end
		if err := db.Append(ctx, e, []store.Event{{Type: "ExecutionFinished", Data: []byte("{}")}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 23 {
		finish(fmt.Sprintf("old-%02d", i), now.Add(-31*24*time.Hour-time.Duration(i)*time.Hour))
	}
	for i := range 4 {
		finish(fmt.Sprintf("new-%d", i), now.Add(-29*24*time.Hour))
	}
	running := store.Execution{ID: "running", DocumentName: "D", DocumentVersion: "1", Status: "InProgress", Mode: "Auto", StartTime: now.Add(-90 * 24 * time.Hour)}
	if err := db.CreateExecution(ctx, running, []store.Event{{Type: "ExecutionStarted", Data: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}

	// The running execution writes throughout the sweep.
	stop := make(chan struct{})
	appended := make(chan error, 1)
	go func() {
		e := running
		e.Seq = 1 // the ExecutionStarted event
		for {
			select {
			case <-stop:
				appended <- nil
				return
			default:
			}
			if err := db.Append(ctx, e, []store.Event{{Type: "StepStarted", Data: []byte("{}")}}); err != nil {
				appended <- err
				return
			}
			e.Seq++
		}
	}()
	s := &Sweeper{Store: db, Keep: 30 * 24 * time.Hour, Batch: 5, Pause: time.Millisecond, Now: func() time.Time { return now }}
	n, err := s.Sweep(ctx)
	close(stop)
	if err != nil || n != 23 {
		t.Fatalf("Sweep = %d, %v; want the 23 executions over 30 days old", n, err)
	}
	if err := <-appended; err != nil {
		t.Fatalf("the running execution's appends failed during the sweep: %v", err)
	}
	left, _, err := db.ListExecutions(ctx, store.ExecutionFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range left {
		ids = append(ids, e.ID)
	}
	if len(left) != 5 {
		t.Errorf("left %v, want the 4 recent ones and the running one", ids)
	}
	if n, err := s.Sweep(ctx); n != 0 || err != nil {
		t.Errorf("second sweep: %d, %v", n, err)
	}
}
