package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

const approveDoc = `
schemaVersion: "0.3"
mainSteps:
  - name: ask
    action: aws:approve
    inputs: {Approvers: [alice, bob], MinRequiredApprovals: 2}
  - {name: done, action: test:echo, inputs: {Value: 1}}
`

// signalEvents returns the SignalReceived events of an execution's log.
func signalEvents(t *testing.T, db store.Store, id string) []signalReceived {
	t.Helper()
	events, err := db.Events(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []signalReceived
	for _, ev := range events {
		if ev.Type == evSignalReceived {
			d, err := decode[signalReceived](ev)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

// TestSignalFromAnotherEngine: an engine that does not run an execution
// (another process on the same database) approves it; the engine that runs
// it finds the request by its poll and applies it. The delivering side
// refuses, from the stored state, what the runner would refuse.
func TestSignalFromAnotherEngine(t *testing.T) {
	h := newHarness(t)
	h.eng.opts.SignalPoll = 10 * time.Millisecond
	other := newHarnessOn(t, h.db)
	id := h.start(approveDoc, nil)
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting })
	ctx := context.Background()

	var se *SignalError
	if err := other.eng.Signal(ctx, id, SignalApprove, nil, "mallory"); !errors.As(err, &se) || !strings.Contains(se.Reason, "mallory is not one of the step's approvers") {
		t.Fatalf("mallory's approval from another engine: %v", err)
	}
	if err := other.eng.Signal(ctx, id, SignalResume, nil, "alice"); !errors.As(err, &se) {
		t.Fatalf("Resume to an approval from another engine: %v", err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := other.eng.Signal(ctx, id, SignalApprove, map[string][]string{"Comment": {"ok"}}, u); err != nil {
			t.Fatalf("%s's approval from another engine: %v", u, err)
		}
	}
	st := h.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	sigs := signalEvents(t, h.db, id)
	if len(sigs) != 2 || sigs[0].User != "alice" || sigs[1].User != "bob" || sigs[0].Request == 0 {
		t.Fatalf("recorded signals %+v; want alice's then bob's approval, each with its request", sigs)
	}
	if pending, err := h.db.PendingSignals(ctx, []string{id}); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the run: %+v %v", pending, err)
	}
	if err := other.eng.Signal(ctx, id, SignalApprove, nil, "alice"); !errors.As(err, &se) || !strings.Contains(se.Reason, "already ended Success") {
		t.Fatalf("approval of a finished execution: %v", err)
	}
}

// TestRunnerSettlesARefusal: a request the stored state allowed but the
// runner's live state refuses is settled refused, with the runner's reason,
// so its sender (which got the request's ID from Request) learns it. The
// request is recorded straight in the store, as a delivery that checked an
// older state would have left it.
func TestRunnerSettlesARefusal(t *testing.T) {
	h := newHarness(t)
	h.eng.opts.SignalPoll = 10 * time.Millisecond
	other := newHarnessOn(t, h.db)
	id := h.start(approveDoc, nil)
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting })
	ctx := context.Background()

	refused, err := h.db.RequestSignal(ctx, store.SignalRequest{ExecutionID: id, Type: string(SignalApprove), User: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := other.eng.Request(ctx, store.SignalRequest{ExecutionID: id, Type: string(SignalApprove), User: "alice"})
	if err != nil || applied == 0 {
		t.Fatalf("alice's approval from another engine = request %d, %v; want a pending request", applied, err)
	}
	var got store.SignalSettlement
	for i := 0; !got.Settled; i++ {
		if i == 400 {
			t.Fatal("the runner never settled mallory's request")
		}
		time.Sleep(10 * time.Millisecond)
		if got, err = h.db.SignalSettlement(ctx, refused); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(got.Refusal, "mallory is not one of the step's approvers") {
		t.Fatalf("mallory's request settled as %+v; want refused with the runner's reason", got)
	}
	for i := 0; ; i++ {
		if got, err = h.db.SignalSettlement(ctx, applied); err != nil {
			t.Fatal(err)
		}
		if got.Settled {
			break
		}
		if i == 400 {
			t.Fatal("the runner never settled alice's request")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.Refusal != "" {
		t.Fatalf("alice's approval settled as %+v; want applied", got)
	}
	// In the runner's own process the verdict comes back at once: nothing
	// is left pending.
	if n, err := h.eng.Request(ctx, store.SignalRequest{ExecutionID: id, Type: string(SignalApprove), User: "bob"}); err != nil || n != 0 {
		t.Fatalf("bob's approval in the runner's process = request %d, %v; want applied, none pending", n, err)
	}
	if st := h.wait(id); st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
}

// TestStopFromAnotherEngine: StopAutomationExecution from another process
// cancels the execution the way a local one does (onCancel path included).
func TestStopFromAnotherEngine(t *testing.T) {
	h := newHarness(t)
	h.eng.opts.SignalPoll = 10 * time.Millisecond
	other := newHarnessOn(t, h.db)
	id := h.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: work, action: test:block, onCancel: "step:cleanup"}
  - {name: next, action: test:echo, inputs: {Value: 1}, isEnd: true}
  - {name: cleanup, action: test:echo, inputs: {Value: 2}}
`, nil)
	waitFor(t, h, id, func(st *State) bool { return len(st.Steps) == 1 })
	if err := other.eng.Stop(context.Background(), id, StopCancel, "alice"); err != nil {
		t.Fatal(err)
	}
	st := h.wait(id)
	if st.Status != StatusCancelled || statuses(st) != "work=Cancelled cleanup=Success" {
		t.Fatalf("status %s, steps %q", st.Status, statuses(st))
	}
	if st.Cancel == nil || st.Cancel.User != "alice" {
		t.Errorf("the cancel request is recorded as %+v; want alice's", st.Cancel)
	}
	var stop *StopError
	if err := other.eng.Stop(context.Background(), id, StopCancel, "alice"); !errors.As(err, &stop) {
		t.Errorf("stopping a cancelled execution: %v", err)
	}
}

// TestSignalsWaitForTheResume: signals and stops for an execution nobody
// runs (its process stopped) stay pending and apply when it resumes.
func TestSignalsWaitForTheResume(t *testing.T) {
	for _, tc := range []struct {
		name   string
		send   func(e *Engine, id string) error
		status string
	}{
		{"approve", func(e *Engine, id string) error {
			for _, u := range []string{"alice", "bob"} {
				if err := e.Signal(context.Background(), id, SignalApprove, nil, u); err != nil {
					return err
				}
			}
			return nil
		}, StatusSuccess},
		{"reject", func(e *Engine, id string) error {
			return e.Signal(context.Background(), id, SignalReject, map[string][]string{"Comment": {"no"}}, "bob")
		}, StatusFailed},
		{"stop", func(e *Engine, id string) error {
			return e.Stop(context.Background(), id, StopCancel, "bob")
		}, StatusCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := newHarness(t)
			id := first.start(approveDoc, nil)
			waitFor(t, first, id, func(st *State) bool { return st.Status == StatusWaiting })
			first.eng.Shutdown()

			if err := tc.send(newHarnessOn(t, first.db).eng, id); err != nil {
				t.Fatal(err)
			}
			if st, _ := first.eng.Get(context.Background(), id); st.Status != StatusWaiting {
				t.Fatalf("a request applied with nobody running the execution: %s", st.Status)
			}
			next := newHarnessOn(t, first.db)
			if _, err := next.eng.ResumeAll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := next.wait(id); st.Status != tc.status {
				t.Fatalf("after the resume: %s (%s), want %s", st.Status, st.FailureMessage, tc.status)
			}
		})
	}
}

// TestSignalAppliedOnceAcrossACrash: a request whose SignalReceived event
// was recorded but which was not settled (a crash in between) is settled at
// the resume without being recorded again.
func TestSignalAppliedOnceAcrossACrash(t *testing.T) {
	first := newHarness(t)
	id := first.start(approveDoc, nil)
	waitFor(t, first, id, func(st *State) bool { return st.Status == StatusWaiting })
	first.eng.Shutdown()
	ctx := context.Background()

	n, err := first.db.RequestSignal(ctx, store.SignalRequest{ExecutionID: id, Type: string(SignalApprove), User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := first.eng.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvent(evSignalReceived, time.Now(), signalReceived{Index: st.Steps[0].Index, Type: SignalApprove, User: "alice", Request: n})
	if err := first.db.Append(ctx, st.Summary(), []store.Event{ev}); err != nil {
		t.Fatal(err)
	}

	next := newHarnessOn(t, first.db)
	if _, err := next.eng.ResumeAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := next.eng.Signal(ctx, id, SignalApprove, nil, "bob"); err != nil {
		t.Fatal(err)
	}
	if st := next.wait(id); st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if sigs := signalEvents(t, first.db, id); len(sigs) != 2 {
		t.Fatalf("recorded signals %+v; want alice's once and bob's", sigs)
	}
	if pending, err := first.db.PendingSignals(ctx, []string{id}); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the resume: %+v %v", pending, err)
	}
}

// TestInteractiveSignalsFromAnotherEngine: StartStep and StopStep reach an
// Interactive execution from another process; a StartStep naming no step
// is refused there, from the recorded runbook.
func TestInteractiveSignalsFromAnotherEngine(t *testing.T) {
	h := newHarness(t)
	h.eng.opts.SignalPoll = 10 * time.Millisecond
	other := newHarnessOn(t, h.db)
	const src = `
schemaVersion: "0.3"
mainSteps:
  - {name: first, action: test:echo, inputs: {Value: 1}}
  - {name: second, action: test:block}
  - {name: third, action: test:echo, inputs: {Value: 3}}
`
	doc, diags := document.Parse("test.yaml", []byte(src))
	if hasError(diags) {
		t.Fatal(diags)
	}
	ctx := context.Background()
	id, err := h.eng.Start(ctx, StartRequest{Document: doc, Source: []byte(src), DocumentName: "test", Parameters: map[string]any{}, Mode: ModeInteractive})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, id, func(st *State) bool { return st.AwaitingStep() == "first" })

	var se *SignalError
	if err := other.eng.Signal(ctx, id, SignalStartStep, map[string][]string{"StepName": {"secnd"}}, "alice"); !errors.As(err, &se) || !strings.Contains(se.Reason, `no step "secnd"`) {
		t.Fatalf("StartStep of a missing step: %v", err)
	}
	if err := other.eng.Signal(ctx, id, SignalStopStep, nil, "alice"); !errors.As(err, &se) || !strings.Contains(se.Reason, "no step is in progress") {
		t.Fatalf("StopStep with no step running: %v", err)
	}
	if err := other.eng.Signal(ctx, id, SignalStartStep, map[string][]string{"StepName": {"second"}}, "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, id, func(st *State) bool { return len(st.Steps) == 1 && st.Steps[0].Name == "second" })
	if err := other.eng.Signal(ctx, id, SignalStopStep, nil, "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, id, func(st *State) bool { return st.AwaitingStep() == "third" })
	if err := other.eng.Signal(ctx, id, SignalStartStep, nil, "alice"); err != nil {
		t.Fatal(err)
	}
	st := h.wait(id)
	if got := statuses(st); st.Status != StatusSuccess || got != "second=Cancelled third=Success" {
		t.Fatalf("status %s, steps %q", st.Status, got)
	}
	if h.ran("first") != 0 {
		t.Error("first ran although StartStep named second")
	}
}
