package engine

import (
	"context"
	"errors"

	"github.com/capstan-run/capstan/internal/document"
)

// awaitStart parks an Interactive execution before step st until a StartStep
// (or Resume) signal arrives, and returns the name of the step to run: the
// signal's StepName payload, or st's own. A resumed run does not wait again
// for a step the log shows was started or signalled. ok is false when the
// execution was cancelled or interrupted while waiting.
func (r *run) awaitStart(ctx context.Context, st *document.Step) (name string, ok bool) {
	idx := r.nextIndex
	if r.replay != nil && r.replay.byIndex[idx] != nil {
		return r.replay.byIndex[idx].Name, true
	}
	r.mu.Lock()
	if n, found := startSignal(r.state, idx); found {
		r.mu.Unlock()
		return firstName(n, st.Name), true
	}
	var err error
	if a := r.state.AwaitingStart; a == nil || a.Index != idx {
		err = r.appendLocked(newEvent(evAwaitingStart, r.now(), awaitingStart{Index: idx, Step: st.Name}))
	}
	r.mu.Unlock()
	if err != nil {
		return "", false
	}
	for {
		_, busy := r.e.opts.Clock.Wait(ctx, -1)
		select {
		case <-r.signals:
			busy()
		case <-ctx.Done():
			busy()
			return "", false
		}
		r.mu.Lock()
		n, found := startSignal(r.state, idx)
		r.mu.Unlock()
		if found {
			return firstName(n, st.Name), true
		}
	}
}

func firstName(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// startSignal finds the StartStep signal delivered for step execution idx.
func startSignal(s *State, idx int) (string, bool) {
	for _, sig := range s.signalsFor(idx) {
		if sig.Type == SignalStartStep || sig.Type == SignalResume {
			if n := sig.Payload["StepName"]; len(n) > 0 {
				return n[0], true
			}
			return "", true
		}
	}
	return "", false
}

// errStepStopped is the cause of a step context cancelled by StopStep.
var errStepStopped = errors.New("stopped by a StopStep signal")

// cancelMessage says why a step ended Cancelled: a StopStep signal, or the
// execution's cancellation (def).
func cancelMessage(ctx context.Context, def string) string {
	if errors.Is(context.Cause(ctx), errStepStopped) {
		return errStepStopped.Error()
	}
	return def
}

// stoppable gives an Interactive execution's step a context StopStep can
// cancel without cancelling the execution. done restores the previous one
// (an outer loop step's) and reports whether StopStep ended the step.
func (r *run) stoppable(ctx context.Context) (stepCtx context.Context, done func() (stopped bool)) {
	stepCtx, stop := context.WithCancelCause(ctx)
	r.mu.Lock()
	prev := r.stopStep
	r.stopStep = stop
	r.mu.Unlock()
	return stepCtx, func() bool {
		stopped := ctx.Err() == nil && errors.Is(context.Cause(stepCtx), errStepStopped)
		r.mu.Lock()
		r.stopStep = prev
		r.mu.Unlock()
		stop(nil)
		return stopped
	}
}

// AwaitingStep is the step an Interactive execution waits to be told to
// start; "" when it waits for none.
func (s *State) AwaitingStep() string {
	if s.AwaitingStart == nil {
		return ""
	}
	return s.AwaitingStart.Step
}
