package engine

import (
	"context"
	"fmt"
	"strconv"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
)

// maxLoopIterations is SSM's hard ceiling for aws:loop.
const maxLoopIterations = 100

// runLoop interprets aws:loop: a for-each over Iterators, or a do-while on
// LoopCondition evaluated after each pass. Its nested steps are step
// executions of their own, numbered like any other, so a resumed loop picks
// up inside the iteration where it stopped.
func (r *run) runLoop(ctx context.Context, st *document.Step, idx int, rec *StepState) outcome {
	stepID := NewID()
	if rec != nil {
		stepID = rec.StepExecutionID
	}
	static := map[string]any{}
	for k, v := range st.Inputs {
		if k != "Steps" && k != "LoopCondition" {
			static[k] = v
		}
	}
	inputs, err := r.resolveInputs(ctx, static)
	if rec == nil {
		started := stepStarted{Index: idx, StepExecutionID: stepID, Step: st.Name, Action: st.Action, Attempt: 1, Inputs: r.masker.maskValue(inputs), Loop: r.loopRef(), Props: propsOf(st)}
		if e := r.append(newEvent(evStepStarted, r.now(), started)); e != nil {
			return outcome{status: StatusFailed, abort: true, message: e.Error()}
		}
	}
	if err != nil {
		return r.recordFailure(st, idx, 1, true, StatusFailed, err.Error(), FailureDetails{FailureStage: StageInputValidation, FailureType: FailureVerification})
	}
	limit := maxLoopIterations
	if n, ok := toInt(inputs["MaxIterations"]); ok && n > 0 && n < limit {
		limit = n
	}
	iterators, forEach := inputs["Iterators"].([]any)
	dataType, _ := inputs["IteratorDataType"].(string)

	frame := &loopFrame{name: st.Name, stepExec: stepID}
	r.loops = append(r.loops, frame)
	defer func() { r.loops = r.loops[:len(r.loops)-1] }()

	for iteration := 1; iteration <= limit; iteration++ {
		if forEach {
			if iteration > len(iterators) {
				break
			}
			v, err := iteratorValue(iterators[iteration-1], dataType)
			if err != nil {
				return r.recordFailure(st, idx, 1, true, StatusFailed, fmt.Sprintf("Iterators[%d]: %v", iteration-1, err), FailureDetails{FailureStage: StageInputValidation, FailureType: FailureVerification})
			}
			frame.value, frame.hasValue = v, true
		}
		frame.iteration = iteration
		end, _ := r.runSteps(ctx, st.Steps)
		switch end {
		case endCancelled:
			if r.interrupted.Load() {
				return outcome{status: StatusCancelled}
			}
			return r.recordFailure(st, idx, 1, true, StatusCancelled, fmt.Sprintf("cancelled in iteration %d", iteration), FailureDetails{})
		case endAborted:
			out := r.recordFailure(st, idx, 1, true, StatusFailed, fmt.Sprintf("a step in iteration %d failed and aborted the loop", iteration), FailureDetails{FailureStage: StageInvocation, FailureType: FailureAction})
			out.abort = true
			return out
		}
		if !forEach {
			cond, err := r.resolveInputs(ctx, map[string]any{"LoopCondition": st.Inputs["LoopCondition"]})
			if err != nil {
				return r.recordFailure(st, idx, 1, true, StatusFailed, err.Error(), FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification})
			}
			c, _ := cond["LoopCondition"].(map[string]any)
			if c == nil {
				break
			}
			more, err := action.EvalCondition(c)
			if err != nil {
				return r.recordFailure(st, idx, 1, true, StatusFailed, "LoopCondition: "+err.Error(), FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification})
			}
			if !more {
				break
			}
		}
	}
	outputs := map[string]any{"CurrentIteration": int64(frame.iteration)}
	if frame.hasValue {
		outputs["CurrentIteratorValue"] = frame.value
	}
	return r.recordSuccess(st, idx, outputs, "", nil)
}

// iteratorValue converts one Iterators element to IteratorDataType.
func iteratorValue(v any, dataType string) (any, error) {
	switch dataType {
	case "", "String":
		return v, nil
	case "Integer":
		if n, ok := toInt(v); ok {
			return int64(n), nil
		}
	case "Boolean":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if p, err := strconv.ParseBool(b); err == nil {
				return p, nil
			}
		}
	case "StringMap":
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	default:
		return nil, fmt.Errorf("unknown IteratorDataType %q (String, Integer, Boolean or StringMap)", dataType)
	}
	return nil, fmt.Errorf("%v is not a %s", v, dataType)
}
