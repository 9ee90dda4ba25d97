package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// lockedBuffer is a log destination two goroutines may write and read.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func approveBoth(t *testing.T, e *Engine, id string) {
	t.Helper()
	for _, u := range []string{"alice", "bob"} {
		if err := e.Signal(context.Background(), id, SignalApprove, nil, u); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResumeAllLeavesALiveRunnersExecution: a second engine on the same
// database does not resume what the first runs; its signals still reach
// the first, which finishes the execution.
func TestResumeAllLeavesALiveRunnersExecution(t *testing.T) {
	first := newHarness(t)
	id := first.start(approveDoc, nil)
	waitFor(t, first, id, func(st *State) bool { return st.Status == StatusWaiting })

	second := newHarnessOn(t, first.db)
	if n, err := second.eng.ResumeAll(context.Background()); err != nil || n != 0 {
		t.Fatalf("second ResumeAll = %d, %v; want nothing resumed", n, err)
	}
	var leased *store.LeasedError
	if err := second.eng.Resume(context.Background(), id); !errors.As(err, &leased) || leased.Lease.Owner != first.eng.owner {
		t.Fatalf("second Resume = %v; want refused, leased to the first engine (%s)", err, first.eng.owner)
	}
	approveBoth(t, second.eng, id)
	if st := first.wait(id); st.Status != StatusSuccess {
		t.Fatalf("the first engine ended the execution %s (%s), want Success", st.Status, st.FailureMessage)
	}
	if got := second.ran("done"); got != 0 {
		t.Fatalf("the second engine ran the step after the approval %d times, want 0", got)
	}
}

// TestExpiredLeaseIsTakenOver: when the runner dies without releasing its
// lease (its store handle is gone, as at a kill -9), another engine takes
// the execution over once the lease has ended, and finishes it.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	first := newHarness(t)
	path := first.db.Path()
	dying, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))
	doomed := newHarnessOn(t, dying, func(o *Options) { o.LeaseDuration = 300 * time.Millisecond; o.Logger = quiet })
	id := doomed.start(approveDoc, nil)
	waitFor(t, first, id, func(st *State) bool { return st.Status == StatusWaiting })
	if err := dying.Close(); err != nil { // dies: no renewal, no release
		t.Fatal(err)
	}

	resumed := false
	for i := 0; i < 400 && !resumed; i++ {
		err := first.eng.Resume(context.Background(), id)
		var leased *store.LeasedError
		switch {
		case err == nil:
			resumed = true
		case errors.As(err, &leased):
			time.Sleep(25 * time.Millisecond)
		default:
			t.Fatalf("resume: %v", err)
		}
	}
	if !resumed {
		t.Fatal("the dead runner's lease never ended")
	}
	approveBoth(t, first.eng, id)
	if st := first.wait(id); st.Status != StatusSuccess || first.ran("done") != 1 {
		t.Fatalf("after the takeover: %s (%s), done ran %d times; want Success, once", st.Status, st.FailureMessage, first.ran("done"))
	}
}

// TestLostLeaseStopsTheRunner: a runner whose renewal finds its lease taken
// over stops driving the execution, writes nothing more and says why.
func TestLostLeaseStopsTheRunner(t *testing.T) {
	var logs lockedBuffer
	h := newHarness(t)
	h = newHarnessOn(t, h.db, func(o *Options) {
		o.LeaseDuration = 300 * time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	id := h.start(approveDoc, nil)
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting })
	before, err := h.db.Events(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Another process takes it over, judging the lease ended.
	later := time.Now().Add(time.Hour)
	if err := h.db.AcquireLease(context.Background(), id, "intruder", later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := h.eng.Wait(ctx, id)
	if err != nil {
		t.Fatalf("the runner kept driving the execution after losing its lease: %v", err)
	}
	after, err := h.db.Events(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != StatusWaiting || len(after) != len(before) {
		t.Fatalf("after losing the lease: %s, %d events (was %d); want Waiting, nothing written", st.Status, len(after), len(before))
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), id) {
		t.Fatalf("no warning naming the execution: %s", logs.String())
	}
	// The intruder's lease stands: the stopped runner did not release it.
	err = h.db.AcquireLease(context.Background(), id, "third", time.Now(), time.Now().Add(time.Minute))
	var leased *store.LeasedError
	if !errors.As(err, &leased) || leased.Lease.Owner != "intruder" {
		t.Fatalf("after the runner stopped, acquire = %v; want still leased to the intruder", err)
	}
}

// TestAdoptTakesOverADeadRunnersExecution: a server's engine, already
// running, takes over an execution whose runner died once its lease ends,
// without a restart.
func TestAdoptTakesOverADeadRunnersExecution(t *testing.T) {
	server := newHarness(t)
	server = newHarnessOn(t, server.db, func(o *Options) { o.LeaseDuration = 300 * time.Millisecond })
	server.eng.Adopt()

	dying, err := sqlite.Open(context.Background(), server.db.Path(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))
	doomed := newHarnessOn(t, dying, func(o *Options) { o.LeaseDuration = 300 * time.Millisecond; o.Logger = quiet })
	id := doomed.start(approveDoc, nil)
	waitFor(t, server, id, func(st *State) bool { return st.Status == StatusWaiting })
	if err := dying.Close(); err != nil {
		t.Fatal(err)
	}

	adopted := false
	for i := 0; i < 400 && !adopted; i++ {
		time.Sleep(25 * time.Millisecond)
		server.eng.mu.Lock()
		_, adopted = server.eng.running[id]
		server.eng.mu.Unlock()
	}
	if !adopted {
		t.Fatal("the server never took over the dead runner's execution")
	}
	approveBoth(t, server.eng, id)
	if st := server.wait(id); st.Status != StatusSuccess || server.ran("done") != 1 {
		t.Fatalf("after the takeover: %s (%s), done ran %d times; want Success, once", st.Status, st.FailureMessage, server.ran("done"))
	}
}
