package engine

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/clock"
	"github.com/capstan-run/capstan/internal/document"
)

// sleep waits d on the engine's clock or until ctx ends; it reports
// whether the full time passed.
func (r *run) sleep(ctx context.Context, d time.Duration) bool {
	return clock.Sleep(ctx, r.e.opts.Clock, d)
}

// waitUntil waits for a recorded deadline; a resumed run keeps the original one.
func (r *run) waitUntil(ctx context.Context, until time.Time) bool {
	return r.sleep(ctx, until.Sub(r.e.opts.Clock.Now()))
}

func (r *run) finishWait(ctx context.Context, st *document.Step, idx int, completed bool) outcome {
	if !completed {
		if r.interrupted.Load() {
			return outcome{status: StatusCancelled}
		}
		return r.recordFailure(st, idx, 1, true, StatusCancelled, cancelMessage(ctx, "step cancelled while waiting"), FailureDetails{})
	}
	return r.recordSuccess(st, idx, nil, "", nil)
}

// awaitSignal parks a step until the signals it needs arrive; the step's
// action (an action.SignalWaiter) decides which those are.
func (r *run) awaitSignal(ctx context.Context, st *document.Step, entry *action.Entry, idx int, inputs map[string]any, since time.Time) outcome {
	timeout := time.Duration(st.TimeoutSeconds) * time.Second
	if timeout == 0 {
		timeout = entry.Spec.DefaultTimeout
	}
	for {
		r.mu.Lock()
		sigs := r.state.signalsFor(idx)
		r.mu.Unlock()
		if out, done := r.decideSignals(st, entry, idx, inputs, sigs); done {
			return out
		}
		// The wait is on the engine's clock, which must know the execution
		// is idle until a signal or the deadline comes (a virtual clock
		// jumps to the deadline). Anything polled meanwhile must not be a
		// deadline of this clock.
		left := time.Duration(-1)
		if timeout > 0 {
			left = max(since.Add(timeout).Sub(r.e.opts.Clock.Now()), 0)
		}
		deadline, busy := r.e.opts.Clock.Wait(ctx, left)
		select {
		case <-r.signals:
			busy()
		case <-deadline:
			busy()
			msg := fmt.Sprintf("no decision within %s", timeout)
			return r.recordFailure(st, idx, 1, true, StatusTimedOut, msg, FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification})
		case <-ctx.Done():
			busy()
			if r.interrupted.Load() {
				return outcome{status: StatusCancelled}
			}
			return r.recordFailure(st, idx, 1, true, StatusCancelled, cancelMessage(ctx, "step cancelled while waiting for a signal"), FailureDetails{})
		}
	}
}

// decideSignals asks the step's action what the signals so far do to it.
func (r *run) decideSignals(st *document.Step, entry *action.Entry, idx int, inputs map[string]any, sigs []signalReceived) (outcome, bool) {
	w, ok := entry.Impl.(action.SignalWaiter)
	if !ok {
		return outcome{}, false
	}
	in := make([]action.Signal, 0, len(sigs))
	for _, s := range sigs {
		sig := action.Signal{Type: s.Type, User: s.User}
		if c := s.Payload["Comment"]; len(c) > 0 {
			sig.Comment = c[0]
		}
		in = append(in, sig)
	}
	v := w.DecideSignals(inputs, in)
	switch {
	case !v.Done:
		return outcome{}, false
	case v.Failed:
		return r.recordRejection(st, idx, v.Outputs, v.Message), true
	}
	return r.recordSuccess(st, idx, v.Outputs, "", nil), true
}

// recordRejection fails a waiting step its action decided against.
func (r *run) recordRejection(st *document.Step, idx int, outputs map[string]any, msg string) outcome {
	ev := stepFailed{Index: idx, Attempt: 1, Status: StatusFailed, Message: msg, Final: true, Outputs: outputs,
		Details: FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification}}
	if err := r.append(newEvent(evStepFailed, r.now(), ev)); err != nil {
		return outcome{status: StatusFailed, abort: true, message: err.Error()}
	}
	r.outputs[st.Name] = outputs
	return outcome{status: StatusFailed, message: msg}
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int:
		return n, true
	case float64:
		return int(n), true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}
