package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// StopExecution stops an execution. The stop goes through the store, so it
// reaches the execution wherever it runs: at once when it runs in this
// process, at the next poll of the process running it, or when it resumes.
// pending is the ID of the request left for another process to apply (see
// SignalOutcome); 0 when nothing is left: applied here, or already under way.
func (s *Service) StopExecution(ctx context.Context, p Principal, id string, typ StopType) (pending int64, err error) {
	defer func() { s.record(ctx, p, authz.StopAutomationExecution, s.scope().Execution(id), string(typ), err) }()
	if typ == "" {
		typ = StopCancel
	}
	if typ != StopCancel && typ != StopComplete {
		return 0, newError(CodeValidation, "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [Complete, Cancel]", typ)
	}
	if err := s.authorize(ctx, p, authz.StopAutomationExecution, id); err != nil {
		return 0, err
	}
	st, err := s.GetExecution(ctx, p, id)
	if err != nil {
		return 0, err
	}
	if engine.Terminal(st.Status) {
		return 0, newError(CodeStatusUpdate, "The execution %s has already ended %s", st.ID, st.Status)
	}
	pending, err = s.engine.Request(ctx, store.SignalRequest{ExecutionID: st.ID, Type: string(typ), User: p.ExecutedBy()})
	var se *engine.StopError
	if errors.As(err, &se) {
		return 0, wrapError(CodeStatusUpdate, err)
	}
	return pending, err
}

// SignalExecution delivers a signal to an execution as p. Like a stop, it
// goes through the store; it is refused, from the execution's recorded
// state, when no step waits for it or p may not give it. pending is as
// StopExecution's.
func (s *Service) SignalExecution(ctx context.Context, p Principal, id string, typ engine.SignalType, payload map[string][]string) (pending int64, err error) {
	defer func() { s.record(ctx, p, authz.SendAutomationSignal, s.scope().Execution(id), string(typ), err) }()
	if !typ.Valid() {
		return 0, newError(CodeValidation, "1 validation error detected: Value '%s' at 'signalType' failed to satisfy constraint: Member must satisfy enum value set: [Approve, Reject, StartStep, StopStep, Resume, Revoke]", typ)
	}
	if err := s.authorize(ctx, p, authz.SendAutomationSignal, id); err != nil {
		return 0, err
	}
	st, err := s.GetExecution(ctx, p, id)
	if err != nil {
		return 0, err
	}
	if engine.Terminal(st.Status) {
		return 0, newError(CodeInvalidSignal, "The execution %s has already ended %s", st.ID, st.Status)
	}
	pending, err = s.engine.Request(ctx, store.SignalRequest{ExecutionID: st.ID, Type: string(typ), Payload: payload, User: p.ExecutedBy()})
	var se *engine.SignalError
	if errors.As(err, &se) {
		return 0, wrapError(CodeInvalidSignal, err)
	}
	return pending, err
}

// SignalOutcome is what became of a signal or stop request.
type SignalOutcome struct {
	// Settled: the runner has applied the request (Refusal "") or refused
	// it, for Refusal's reason, because the execution's live state no
	// longer took it.
	Settled bool
	Refusal string
	// Running, for a request not settled: a process runs the execution
	// (holds its lease) but has not settled the request within the wait.
	// Not Running: no process runs the execution now; the request applies
	// when it resumes.
	Running bool
}

// signalOutcomePoll is how often SignalOutcome reads the request's
// settlement: the runner looks for requests twice a second.
const signalOutcomePoll = 100 * time.Millisecond

// SignalOutcome waits, up to wait, for the runner of execution id to settle
// request pending (from SignalExecution or StopExecution), and says what
// became of it. pending 0 is settled and applied. It returns at once when no
// process runs the execution.
func (s *Service) SignalOutcome(ctx context.Context, p Principal, id string, pending int64, wait time.Duration) (SignalOutcome, error) {
	if err := s.authorize(ctx, p, authz.GetAutomationExecution, id); err != nil {
		return SignalOutcome{}, err
	}
	if pending == 0 {
		return SignalOutcome{Settled: true}, nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	tick := time.NewTicker(signalOutcomePoll)
	defer tick.Stop()
	for {
		set, err := s.store.SignalSettlement(ctx, pending)
		if err != nil {
			return SignalOutcome{}, fmt.Errorf("execution %s: %w", id, err)
		}
		if set.Settled {
			return SignalOutcome{Settled: true, Refusal: set.Refusal}, nil
		}
		// Authorized above: each poll reads the lease only.
		runner, err := s.runner(ctx, id)
		if err != nil {
			return SignalOutcome{}, err
		}
		if runner.Owner == "" {
			return SignalOutcome{}, nil
		}
		select {
		case <-ctx.Done():
			return SignalOutcome{}, ctx.Err()
		case <-timer.C:
			return SignalOutcome{Running: true}, nil
		case <-tick.C:
		}
	}
}
