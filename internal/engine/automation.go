package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/capstan-run/capstan/internal/document"
)

// Children prepares the start of a child execution from an
// aws:executeAutomation step's resolved inputs (DocumentName,
// DocumentVersion, RuntimeParameters, ...): it resolves the runbook and
// checks its parameters exactly as a front end's start does. executedBy is
// the parent's caller, as whom the child runs, and project the parent's
// project, in which it runs. The engine sets ParentID, the project and
// Region and the inherited role itself.
type Children interface {
	PrepareChild(ctx context.Context, executedBy, project string, inputs map[string]any) (StartRequest, error)
}

// runChild interprets aws:executeAutomation: it starts the child execution
// (recording its id before waiting, so a resumed parent re-attaches to the
// same child), waits for it, and cancels it when the parent is cancelled.
func (r *run) runChild(ctx context.Context, st *document.Step, idx int, rec *StepState) outcome {
	stepID := NewID()
	childID := ""
	if rec != nil {
		stepID, childID = rec.StepExecutionID, rec.Child
	}
	inputs, err := r.resolveInputs(ctx, st.Inputs)
	if rec == nil {
		started := stepStarted{Index: idx, StepExecutionID: stepID, Step: st.Name, Action: st.Action, Attempt: 1, Inputs: r.masker.maskValue(inputs), Loop: r.loopRef(), Props: propsOf(st)}
		if e := r.append(newEvent(evStepStarted, r.now(), started)); e != nil {
			return outcome{status: StatusFailed, abort: true, message: e.Error()}
		}
	}
	if err != nil {
		return r.recordFailure(st, idx, 1, true, StatusFailed, err.Error(), FailureDetails{FailureStage: StageInputValidation, FailureType: FailureVerification})
	}
	if childID == "" {
		childID, err = r.startChild(ctx, inputs)
		if err != nil {
			return r.recordFailure(st, idx, 1, true, StatusFailed, r.masker.mask(err.Error()), FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification})
		}
		if err := r.append(newEvent(evStepWaiting, r.now(), stepWaiting{Index: idx, Child: childID})); err != nil {
			return outcome{status: StatusFailed, abort: true, message: err.Error()}
		}
	} else if err := r.resumeChild(context.WithoutCancel(ctx), childID); err != nil && !errors.Is(err, ErrAlreadyDone) {
		return r.recordFailure(st, idx, 1, true, StatusFailed, fmt.Sprintf("resuming child execution %s: %v", childID, err), FailureDetails{FailureStage: StageInvocation, FailureType: FailureInternal})
	}

	child, err := r.waitChild(ctx, childID, true)
	if err != nil {
		if r.interrupted.Load() {
			return outcome{status: StatusCancelled}
		}
		return r.recordFailure(st, idx, 1, true, StatusFailed, err.Error(), FailureDetails{FailureStage: StageInvocation, FailureType: FailureInternal})
	}
	outputs := map[string]any{"ExecutionId": childID, "Status": child.Status, "Output": childOutputs(child)}
	switch child.Status {
	case StatusSuccess:
		return r.recordSuccess(st, idx, outputs, "", nil)
	case StatusCancelled:
		if ctx.Err() != nil {
			return r.recordFailureWithOutputs(st, idx, StatusCancelled, fmt.Sprintf("child execution %s cancelled with its parent", childID), outputs)
		}
	}
	msg := fmt.Sprintf("child execution %s of %s ended %s", childID, child.Started.DocumentName, child.Status)
	if child.FailureMessage != "" {
		msg += ": " + child.FailureMessage
	}
	status := StatusFailed
	if child.Status == StatusTimedOut {
		status = StatusTimedOut
	}
	return r.recordFailureWithOutputs(st, idx, status, r.masker.mask(msg), outputs)
}

func (r *run) startChild(ctx context.Context, inputs map[string]any) (string, error) {
	if r.e.opts.Children == nil {
		return "", errors.New("aws:executeAutomation: this engine has no runbook source configured")
	}
	req, err := r.e.opts.Children.PrepareChild(ctx, r.state.Started.ExecutedBy, r.state.Started.Project, inputs)
	if err != nil {
		return "", err
	}
	req.ParentID = r.id
	// The child runs in its parent's project and Region.
	req.Project, req.Region = r.state.Started.Project, r.state.Started.Region
	r.keepSecretsOutOfChild(&req)
	// The child runs as its parent unless it names its own role.
	parentRole, _ := r.assumeRole()
	return r.e.start(ctx, req, parentRole)
}

// waitChild waits for a child execution's end; idle says the caller counts
// on the clock (an execution's goroutine, a fleet's watcher) and is idle
// meanwhile.
func (r *run) waitChild(ctx context.Context, id string, idle bool) (*State, error) {
	st, err := r.e.wait(ctx, id, idle)
	if err == nil || ctx.Err() == nil || r.interrupted.Load() {
		return st, err
	}
	// The parent was cancelled: cancel the child and wait for its end, so no
	// child is left running.
	typ := StopCancel
	if r.hardCtx.Err() != nil {
		typ = StopAbort
	}
	var ended *StopError
	if err := r.e.Stop(context.WithoutCancel(ctx), id, typ, ""); err != nil && !errors.As(err, &ended) {
		r.e.opts.Logger.Error("cancelling a child execution with its parent", "execution", r.id, "child", id, "error", err)
	}
	return r.e.wait(context.WithoutCancel(r.hardCtx), id, idle)
}

func childOutputs(child *State) []any {
	out := []any{}
	for _, o := range child.outputKeys() {
		for _, v := range child.Outputs[o] {
			out = append(out, v)
		}
	}
	return out
}

func (r *run) recordFailureWithOutputs(st *document.Step, idx int, status, msg string, outputs map[string]any) outcome {
	ev := stepFailed{Index: idx, Attempt: 1, Status: status, Message: msg, Final: true, Outputs: outputs,
		Details: FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification}}
	if err := r.append(newEvent(evStepFailed, r.now(), ev)); err != nil {
		return outcome{status: StatusFailed, abort: true, message: err.Error()}
	}
	r.outputs[st.Name] = outputs
	return outcome{status: status, message: msg}
}
