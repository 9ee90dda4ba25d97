package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// Signals and stops travel through the store (store.SignalStore), so any
// process on the database can deliver them, not only the one running the
// execution:
//
//  1. The delivering call checks the request against the execution's stored
//     state (checkSignal, checkStop: the one copy of the rules) and records
//     it as pending.
//  2. The process running the execution applies it: checks it again against
//     its live state, records it in the execution's events (SignalReceived,
//     CancelRequested, carrying the request's ID) and settles it in the
//     store. A request found pending after a crash whose ID the events
//     already hold is only settled, so each applies exactly once.
//
// A delivery in the process that runs the execution applies the request at
// once and returns the runner's verdict. Requests from other processes are
// found by a poll (Options.SignalPoll). A request for an execution nobody
// runs waits until the execution resumes.

// SignalType is one of SSM's SendAutomationSignal types.
type SignalType = action.SignalType

// The signal types of SendAutomationSignal.
const (
	SignalApprove   = action.SignalApprove
	SignalReject    = action.SignalReject
	SignalResume    = action.SignalResume
	SignalStartStep = action.SignalStartStep
	SignalStopStep  = action.SignalStopStep
	SignalRevoke    = action.SignalRevoke
)

// StopType is how StopAutomationExecution (or capstan) ends an execution.
type StopType string

// The stop types.
const (
	// StopCancel cancels the step in progress, runs its onCancel path (two
	// minutes at most), then ends the execution Cancelled.
	StopCancel StopType = "Cancel"
	// StopComplete is capstan's meaning of SSM's Complete, which SSM does
	// not document: the step in progress runs to its own end (a waiting
	// step still needs its signal), no further step starts, and the
	// execution ends Success unless a critical step has already failed.
	StopComplete StopType = "Complete"
	// StopAbort is a second cancel (Ctrl-C twice): the onCancel path is
	// skipped and the execution ends at once.
	StopAbort StopType = "Abort"
)

// defaultSignalPoll is how often a process running executions looks for
// requests other processes recorded. A delivery in this process never waits
// for it; the poll is one indexed read of the pending requests, made only
// while executions run here, and half a second is well below the time a
// person takes to notice that an approval went through.
const defaultSignalPoll = 500 * time.Millisecond

// SignalError: the signal does not fit the execution's state (SSM's
// InvalidAutomationSignalException).
type SignalError struct {
	Execution, Reason string
	Type              SignalType
}

func (e *SignalError) Error() string {
	return fmt.Sprintf("execution %s cannot take signal %s: %s", e.Execution, e.Type, e.Reason)
}

// StopError: the execution cannot be stopped that way in its state (SSM's
// InvalidAutomationStatusUpdateException).
type StopError struct {
	Execution, Reason string
	Type              StopType
}

func (e *StopError) Error() string {
	return fmt.Sprintf("execution %s cannot be stopped (%s): %s", e.Execution, e.Type, e.Reason)
}

// Signal delivers a signal (Approve, Reject, Resume, StartStep, StopStep)
// to an execution from user. It returns a *SignalError when the execution's
// state does not take it, and nil once the request is durable: applied, when
// this process runs the execution; pending for the process that runs it, or
// for the execution's resume, otherwise.
func (e *Engine) Signal(ctx context.Context, id string, typ SignalType, payload map[string][]string, user string) error {
	_, err := e.Request(ctx, store.SignalRequest{ExecutionID: id, Type: string(typ), Payload: payload, User: user})
	return err
}

// Stop ends an execution as typ says (StopCancel, StopComplete, StopAbort),
// on behalf of user. Like Signal, it works from any process on the store; a
// *StopError says why the execution's state refuses it.
func (e *Engine) Stop(ctx context.Context, id string, typ StopType, user string) error {
	_, err := e.Request(ctx, store.SignalRequest{ExecutionID: id, Type: string(typ), User: user})
	return err
}

// Request delivers a signal or a stop (q.Type is a SignalType or a
// StopType), as Signal and Stop do. pending is the ID of the request left
// in the store for another process (or the execution's resume) to apply,
// whose verdict the caller can wait for (store.SignalStore's
// SignalSettlement); 0 when nothing is left to apply: this process applied
// it (err is the verdict), or a stop is under way already.
func (e *Engine) Request(ctx context.Context, q store.SignalRequest) (pending int64, err error) {
	st, err := e.Get(ctx, q.ExecutionID)
	if err != nil {
		return 0, fmt.Errorf("execution %s: %w", q.ExecutionID, err)
	}
	if typ, ok := stopType(q.Type); ok {
		noop, err := checkStop(st, typ)
		if err != nil || noop {
			return 0, err
		}
	} else if _, err := checkSignal(st, nil, e.opts.Actions, SignalType(q.Type), q.Payload, q.User); err != nil {
		return 0, err
	}
	e.mu.Lock()
	r := e.running[q.ExecutionID]
	e.mu.Unlock()
	if r != nil {
		// Held until the request is applied, so the poll cannot apply it
		// first and take the verdict this caller waits for.
		r.inboxMu.Lock()
		defer r.inboxMu.Unlock()
	}
	n, err := e.opts.Store.RequestSignal(ctx, q)
	if err != nil {
		return 0, err
	}
	if r == nil {
		return n, nil
	}
	verdicts, err := r.applyPendingLocked(ctx)
	if err != nil {
		// The request is durable: the poll, or the resume after a
		// shutdown, applies it.
		if !errors.Is(err, errInterrupted) {
			e.opts.Logger.Error("applying a signal request", "execution", r.id, "request", n, "error", err)
		}
		return n, nil
	}
	return 0, verdicts[n]
}

func stopType(s string) (StopType, bool) {
	switch t := StopType(s); t {
	case StopCancel, StopComplete, StopAbort:
		return t, true
	}
	return "", false
}

// checkStop decides whether st can be stopped as typ; noop when the stop is
// already under way.
func checkStop(st *State, typ StopType) (noop bool, err error) {
	if Terminal(st.Status) {
		return false, &StopError{Execution: st.ID, Type: typ, Reason: "it has already ended " + st.Status}
	}
	switch typ {
	case StopComplete:
		if st.Cancel != nil {
			return false, &StopError{Execution: st.ID, Type: typ, Reason: "it is being cancelled"}
		}
		return st.CompleteRequested, nil
	case StopAbort:
		return st.Cancel != nil && st.Cancel.Abort, nil
	}
	return st.Cancel != nil, nil
}

// checkSignal decides whether st takes a signal of type typ from user, and
// returns the step execution it goes to. doc is the execution's runbook; nil
// parses the one the log holds when needed.
func checkSignal(st *State, doc *document.Document, actions *action.Registry, typ SignalType, payload map[string][]string, user string) (int, error) {
	refuse := func(format string, args ...any) (int, error) {
		return -1, &SignalError{Execution: st.ID, Type: typ, Reason: fmt.Sprintf(format, args...)}
	}
	if !typ.Valid() {
		return refuse("not a signal type")
	}
	if Terminal(st.Status) {
		return refuse("it has already ended %s", st.Status)
	}
	if typ == SignalStopStep {
		if st.Started.Mode != ModeInteractive {
			return refuse("StopStep applies to executions started in Interactive mode")
		}
		cur := st.currentStep()
		if cur == nil {
			return refuse("no step is in progress")
		}
		if ids := payload["StepExecutionId"]; len(ids) > 0 && ids[0] != cur.StepExecutionID {
			return refuse("the step in progress is %s (step execution %s), not %s", cur.Name, cur.StepExecutionID, ids[0])
		}
		return cur.Index, nil
	}
	var waiting *StepState
	for i := len(st.Steps) - 1; i >= 0; i-- {
		if s := st.Steps[i]; s.WaitSignal && !s.final {
			waiting = s
			break
		}
	}
	if waiting == nil && st.AwaitingStart != nil {
		if typ != SignalStartStep && typ != SignalResume {
			return refuse("the execution waits for StartStep before step %s", st.AwaitingStart.Step)
		}
		if n := payload["StepName"]; len(n) > 0 {
			if doc == nil {
				parsed, diags := document.Parse(st.Started.File, []byte(st.Started.Content))
				if parsed == nil || hasError(diags) {
					return refuse("its recorded runbook no longer parses")
				}
				doc = parsed
			}
			if doc.Step(n[0]) == nil {
				return refuse("%s", doc.NoStep(n[0]))
			}
		}
		return st.AwaitingStart.Index, nil
	}
	if waiting == nil {
		return refuse("no step is waiting for a signal")
	}
	reason := fmt.Sprintf("the waiting step is %s", waiting.Action)
	if entry, ok := actions.Lookup(waiting.Action); ok {
		if w, ok := entry.Impl.(action.SignalWaiter); ok {
			err := w.AcceptSignal(waiting.Inputs, typ, user)
			if err == nil {
				return waiting.Index, nil
			}
			reason = err.Error()
		}
	}
	return refuse("%s", reason)
}

// currentStep is the latest step execution without an outcome; nil when none.
func (s *State) currentStep() *StepState {
	for i := len(s.Steps) - 1; i >= 0; i-- {
		if st := s.Steps[i]; !st.final {
			return st
		}
	}
	return nil
}

// applyPending applies the execution's pending requests.
func (r *run) applyPending(ctx context.Context) error {
	r.inboxMu.Lock()
	defer r.inboxMu.Unlock()
	_, err := r.applyPendingLocked(ctx)
	return err
}

// applyPendingLocked applies the execution's pending requests in the order
// they were made and returns each one's verdict: nil when applied, why
// when refused. A request that could not be recorded stays pending for the
// next try. r.inboxMu is held.
func (r *run) applyPendingLocked(ctx context.Context) (map[int64]error, error) {
	reqs, err := r.e.opts.Store.PendingSignals(ctx, []string{r.id})
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", r.id, err)
	}
	verdicts := make(map[int64]error, len(reqs))
	for _, q := range reqs {
		verdict := r.apply(q)
		var se *SignalError
		var stop *StopError
		refusal := ""
		switch {
		case errors.As(verdict, &se):
			refusal = se.Reason
		case errors.As(verdict, &stop):
			refusal = stop.Reason
		case verdict != nil:
			// Not recorded (a store failure, a shutdown): still pending.
			return verdicts, verdict
		}
		if refusal != "" {
			r.e.opts.Logger.Warn("signal refused", "execution", r.id, "request", q.ID, "type", q.Type, "user", q.User, "reason", refusal)
		}
		if err := r.e.opts.Store.SettleSignal(ctx, q.ID, refusal); err != nil && !errors.Is(err, store.ErrNotFound) {
			// The events hold the request's ID: settling again later
			// applies nothing twice.
			return verdicts, fmt.Errorf("execution %s: %w", r.id, err)
		}
		verdicts[q.ID] = verdict
	}
	return verdicts, nil
}

// apply checks one request against the live state and records it.
func (r *run) apply(q store.SignalRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state.requests[q.ID] {
		return nil // recorded before a crash, not settled
	}
	if typ, ok := stopType(q.Type); ok {
		noop, err := checkStop(r.state, typ)
		if err != nil || noop {
			return err
		}
		ev := cancelRequested{Type: StopCancel, Abort: typ == StopAbort, User: q.User, Request: q.ID}
		if typ == StopComplete {
			ev = cancelRequested{Type: StopComplete, User: q.User, Request: q.ID}
		}
		if err := r.appendLocked(newEvent(evCancelRequested, r.now(), ev)); err != nil {
			return err
		}
		switch typ {
		case StopComplete:
			r.complete.Store(true)
		case StopAbort:
			r.cancel()
			r.hardCancel()
		default:
			r.cancel()
		}
		return nil
	}
	typ := SignalType(q.Type)
	idx, err := checkSignal(r.state, r.doc, r.e.opts.Actions, typ, q.Payload, q.User)
	if err != nil {
		return err
	}
	if typ == SignalStopStep && r.stopStep == nil {
		return &SignalError{Execution: r.id, Type: typ, Reason: "no step is in progress"}
	}
	sig := signalReceived{Index: idx, Type: typ, Payload: q.Payload, User: q.User, Request: q.ID}
	if err := r.appendLocked(newEvent(evSignalReceived, r.now(), sig)); err != nil {
		return err
	}
	if typ == SignalStopStep {
		r.stopStep(errStepStopped)
		return nil
	}
	select {
	case r.signals <- sig:
	default:
		// The waiting step reads the log too; a full channel loses nothing.
	}
	return nil
}

// pollSignals applies, while the engine runs, the requests other processes
// record for the executions running here, and renews their leases.
func (e *Engine) pollSignals() {
	defer e.wg.Done()
	t := time.NewTicker(e.opts.SignalPoll)
	defer t.Stop()
	// One ticker renews the leases of all this engine's executions, in one
	// store write, however many there are.
	renew := time.NewTicker(e.opts.LeaseDuration / 3)
	defer renew.Stop()
	ctx := context.Background()
	for {
		select {
		case <-e.quit:
			return
		case <-renew.C:
			e.renewLeases(ctx)
			continue
		case <-t.C:
		}
		e.mu.Lock()
		ids := make([]string, 0, len(e.running))
		for id := range e.running {
			ids = append(ids, id)
		}
		e.mu.Unlock()
		reqs, err := e.opts.Store.PendingSignals(ctx, ids)
		if err != nil {
			e.opts.Logger.Error("looking for signal requests", "error", err)
			continue
		}
		seen := map[string]bool{}
		for _, q := range reqs {
			if seen[q.ExecutionID] {
				continue
			}
			seen[q.ExecutionID] = true
			e.mu.Lock()
			r := e.running[q.ExecutionID]
			e.mu.Unlock()
			if r == nil {
				continue
			}
			// Read again under the run's lock: a delivery in this process
			// may have settled some meanwhile.
			if err := r.applyPending(ctx); err != nil && !errors.Is(err, errInterrupted) {
				e.opts.Logger.Error("applying signal requests", "execution", r.id, "error", err)
			}
		}
	}
}
