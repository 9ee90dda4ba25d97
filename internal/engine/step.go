package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/template"
)

// runStep runs one step execution: every attempt, any wait, and its outputs.
// On a resumed run a step execution the log already finished is not run
// again: its recorded outcome is taken instead.
func (r *run) runStep(ctx context.Context, st *document.Step) outcome {
	idx := r.nextIndex
	r.nextIndex++
	if idx >= r.e.opts.MaxStepExecutions {
		return outcome{status: StatusFailed, abort: true, message: fmt.Sprintf("the execution ran %d step executions; a runbook that jumps in circles is stopped here", idx)}
	}
	var rec *StepState
	if r.replay != nil {
		rec = r.replay.byIndex[idx]
		if rec != nil && rec.Name != st.Name {
			return outcome{status: StatusFailed, abort: true, message: fmt.Sprintf("the log of this execution names step %s at position %d where the document has %s; it cannot be resumed", rec.Name, idx, st.Name)}
		}
	}
	if rec != nil && rec.final {
		return r.restore(st, rec)
	}
	entry, ok := r.e.opts.Actions.Lookup(st.Action)
	if !ok {
		return r.failBeforeStart(st, idx, fmt.Sprintf("unknown action %s", st.Action))
	}
	// Structural actions are interpreted here, by what their Spec declares.
	switch {
	case entry.Spec.NestedSteps:
		return r.runLoop(ctx, st, idx, rec)
	case entry.Spec.ChildExecution:
		return r.runChild(ctx, st, idx, rec)
	}
	stepID := NewID()
	attempt := 1
	if rec != nil {
		stepID, attempt = rec.StepExecutionID, rec.Attempts
		switch {
		case !rec.open && rec.Attempts > 0:
			// The last attempt failed and was not final: go on with the next.
			attempt++
		case !rec.WaitUntil.IsZero():
			return r.finishWait(ctx, st, idx, r.waitUntil(ctx, rec.WaitUntil))
		case rec.WaitSignal:
			return r.awaitSignal(ctx, st, entry, idx, rec.Inputs, rec.StartTime)
		case !entry.Spec.SafeToRetry(rec.Inputs):
			msg := fmt.Sprintf("interrupted: capstan stopped while %s was running, and %s is not safe to run again; check its effect by hand", st.Name, st.Action)
			return r.recordFailure(st, idx, attempt, true, StatusFailed, msg, FailureDetails{FailureStage: StageInvocation, FailureType: FailureInternal})
		}
	}
	if entry.Impl == nil {
		return r.failBeforeStart(st, idx, fmt.Sprintf("%s is %s", st.Action, entry.Spec.Support))
	}
	for ; ; attempt++ {
		out := r.attempt(ctx, st, entry, idx, stepID, attempt)
		if out.status == StatusSuccess || out.status == StatusCancelled || attempt >= st.MaxAttempts || out.abort {
			return out
		}
		if !r.sleep(ctx, r.retryDelay(attempt)) {
			return r.recordFailure(st, idx, attempt, true, StatusCancelled, cancelMessage(ctx, "cancelled between attempts"), FailureDetails{})
		}
	}
}

func (r *run) retryDelay(attempt int) time.Duration {
	d := r.e.opts.RetryDelay << (attempt - 1)
	if d > 30*time.Second || d <= 0 {
		d = 30 * time.Second
	}
	return d
}

// attempt runs one attempt and records its outcome. A failed attempt that is
// not the last is recorded as not final.
func (r *run) attempt(ctx context.Context, st *document.Step, entry *action.Entry, idx int, stepID string, attempt int) outcome {
	final := attempt >= st.MaxAttempts
	// Calls made while resolving ({{ ssm:... }}, global:ACCOUNT_ID) are the step's.
	inputs, err := r.resolveInputs(context.WithValue(ctx, stepKey{}, st.Name), st.Inputs)
	if err != nil {
		if e := r.append(newEvent(evStepStarted, r.now(), stepStarted{Index: idx, StepExecutionID: stepID, Step: st.Name, Action: st.Action, Attempt: attempt, Loop: r.loopRef(), Props: propsOf(st)})); e != nil {
			return outcome{status: StatusFailed, abort: true, message: e.Error()}
		}
		return r.recordFailure(st, idx, attempt, true, StatusFailed, err.Error(), FailureDetails{FailureStage: StageInputValidation, FailureType: FailureVerification})
	}
	started := stepStarted{Index: idx, StepExecutionID: stepID, Step: st.Name, Action: st.Action, Attempt: attempt, Inputs: r.masker.maskValue(inputs), Loop: r.loopRef(), Props: propsOf(st)}
	if err := r.append(newEvent(evStepStarted, r.now(), started)); err != nil {
		return outcome{status: StatusFailed, abort: true, message: err.Error()}
	}
	timeout := r.timeout(st, entry)
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		runCtx, cancel = r.e.opts.Clock.WithTimeout(ctx, timeout)
	}
	req := &action.Request{ExecutionID: r.id, Step: st.Name, Inputs: inputs, AWS: r.invokerFor(st.Name), Clock: r.e.opts.Clock, Env: r.awsEnv, Secret: r.secret}
	// What the step prints stays visible until its record holds it.
	live, forget := r.printer(st.Name, entry, inputs)
	defer forget()
	if live != nil {
		req.Print = live
	}
	res, err := entry.Impl.Run(runCtx, req)
	timedOut := runCtx.Err() == context.DeadlineExceeded && ctx.Err() == nil
	cancel()
	switch {
	case ctx.Err() != nil:
		return r.recordFailure(st, idx, attempt, true, StatusCancelled, cancelMessage(ctx, "step cancelled"), FailureDetails{})
	case timedOut:
		msg := fmt.Sprintf("step timed out after %s", timeout)
		if err != nil {
			// The last error says why (an endpoint that never answered, a
			// property that never reached its value).
			msg += ": " + r.masker.mask(err.Error())
		}
		return r.recordFailure(st, idx, attempt, final, StatusTimedOut, msg, FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification})
	case err != nil:
		return r.recordFailure(st, idx, attempt, final, StatusFailed, r.masker.mask(err.Error()), failureDetails(err))
	}
	if res == nil {
		res = &action.Result{}
	}
	switch {
	case !res.WaitUntil.IsZero():
		if err := r.append(newEvent(evStepWaiting, r.now(), stepWaiting{Index: idx, Until: res.WaitUntil.UTC()})); err != nil {
			return outcome{status: StatusFailed, abort: true, message: err.Error()}
		}
		return r.finishWait(ctx, st, idx, r.waitUntil(ctx, res.WaitUntil))
	case res.WaitSignal:
		if err := r.append(newEvent(evStepWaiting, r.now(), stepWaiting{Index: idx, Signal: true})); err != nil {
			return outcome{status: StatusFailed, abort: true, message: err.Error()}
		}
		return r.awaitSignal(ctx, st, entry, idx, inputs, r.now())
	}
	outputs, err := r.stepOutputs(st, res)
	if err != nil {
		return r.recordFailure(st, idx, attempt, final, StatusFailed, err.Error(), FailureDetails{FailureStage: StagePostVerification, FailureType: FailureVerification})
	}
	r.noteSecrets(st.Name, inputs, outputs, res.Secrets)
	return r.recordSuccess(st, idx, outputs, res.NextStep, res.Variables)
}

func (r *run) timeout(st *document.Step, entry *action.Entry) time.Duration {
	t := time.Duration(st.TimeoutSeconds) * time.Second
	if t == 0 {
		t = entry.Spec.DefaultTimeout
	}
	if max := entry.Spec.MaxTimeout; max > 0 && (t == 0 || t > max) {
		t = max
	}
	return t
}

// stepOutputs gathers the action's own outputs and the step's declared
// outputs, selected from the response and converted to their types.
func (r *run) stepOutputs(st *document.Step, res *action.Result) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range res.Outputs {
		out[k] = v
	}
	for _, o := range st.Outputs {
		sel, err := template.ParseSelector(o.Selector)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", o.Name, err)
		}
		v, ok := sel.Select(res.Response)
		if !ok {
			// SSM leaves an output without a match unset; a later reference
			// to it reads as its own literal text (see run.unproduced).
			continue
		}
		cv, err := template.Convert(v, o.Type)
		if err != nil {
			return nil, fmt.Errorf("output %s (selector %s): %w", o.Name, o.Selector, err)
		}
		out[o.Name] = cv
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (r *run) recordSuccess(st *document.Step, idx int, outputs map[string]any, next string, vars map[string]any) outcome {
	ev := stepSucceeded{Index: idx, Outputs: r.recordedOutputs(st.Name, outputs), NextStep: next, Variables: vars}
	if err := r.append(newEvent(evStepSucceeded, r.now(), ev)); err != nil {
		return outcome{status: StatusFailed, abort: true, message: err.Error()}
	}
	r.outputs[st.Name] = outputs
	return outcome{status: StatusSuccess, nextStep: next}
}

func (r *run) recordFailure(st *document.Step, idx, attempt int, final bool, status, msg string, details FailureDetails) outcome {
	ev := stepFailed{Index: idx, Attempt: attempt, Status: status, Message: msg, Details: details, Final: final}
	if err := r.append(newEvent(evStepFailed, r.now(), ev)); err != nil {
		return outcome{status: StatusFailed, abort: true, message: err.Error()}
	}
	return outcome{status: status, message: msg}
}

// failBeforeStart fails a step that cannot start at all.
func (r *run) failBeforeStart(st *document.Step, idx int, msg string) outcome {
	if err := r.append(newEvent(evStepStarted, r.now(), stepStarted{Index: idx, StepExecutionID: NewID(), Step: st.Name, Action: st.Action, Attempt: 1, Loop: r.loopRef(), Props: propsOf(st)})); err != nil {
		return outcome{status: StatusFailed, abort: true, message: err.Error()}
	}
	return r.recordFailure(st, idx, 1, true, StatusFailed, msg, FailureDetails{FailureStage: StagePreVerification, FailureType: FailureVerification})
}

// restore takes a finished step execution from the log of a resumed run.
func (r *run) restore(st *document.Step, rec *StepState) outcome {
	if rec.Status == StatusSuccess {
		if rec.Outputs != nil {
			r.outputs[st.Name] = rec.Outputs
		}
		return outcome{status: StatusSuccess, nextStep: rec.NextStep}
	}
	return outcome{status: rec.Status, message: rec.FailureMessage}
}

// failureDetails classifies an action error as SSM's FailureDetails do.
func failureDetails(err error) FailureDetails {
	d := FailureDetails{FailureStage: StageInvocation, FailureType: FailureAction}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		code := coded.ErrorCode()
		d.Details = map[string][]string{"ErrorCode": {code}}
		switch code {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			d.FailureType = FailurePermission
		case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
			d.FailureType = FailureThrottling
		}
	}
	return d
}

func (r *run) loopRef() *loopRef {
	if len(r.loops) == 0 {
		return nil
	}
	f := r.loops[len(r.loops)-1]
	ref := &loopRef{ParentStepExecutionID: f.stepExec, Iteration: f.iteration}
	if f.hasValue {
		ref.IteratorValue = fmt.Sprint(f.value)
	}
	return ref
}
