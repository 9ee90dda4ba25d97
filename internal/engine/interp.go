package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/keys"
)

// ending says why a step list stopped.
type ending int

const (
	endCompleted ending = iota // ran off the end, or a step with isEnd
	endAborted                 // onFailure: Abort
	endCancelled               // the execution was cancelled
)

// outcome is the result of one step execution.
type outcome struct {
	status   string // Success, Failed, TimedOut, Cancelled
	message  string
	nextStep string // chosen by aws:branch
	// abort forces the enclosing lists to stop (an Abort inside a loop).
	abort bool
}

// execute interprets the document to its end and records the final status.
func (r *run) execute() {
	if r.state.Started.Fleet != nil {
		r.executeFleet()
		return
	}
	// The AWS caller is made on the first call, so a runbook without AWS
	// steps needs no credentials or region.
	r.invoker = &lazyInvoker{make: r.makeInvoker}

	if err := r.readKeyParameters(); err != nil {
		r.finish(StatusFailed, err.Error())
		return
	}
	end, last := r.runSteps(r.ctx, r.doc.MainSteps)
	if r.interrupted.Load() {
		return
	}
	if end == endCancelled {
		r.runCancelPath(last)
		if r.interrupted.Load() {
			return
		}
		msg := "execution cancelled"
		if r.hardCtx.Err() != nil {
			msg = "execution cancelled and aborted at once: onCancel steps were not run to completion"
		}
		r.finish(StatusCancelled, msg)
		return
	}
	if r.critical.status != "" {
		r.finish(r.critical.status, r.critical.message)
		return
	}
	r.finish(StatusSuccess, "")
}

func (r *run) makeInvoker() (action.Invoker, error) {
	if r.e.opts.NewInvoker == nil {
		return noAWS{}, nil
	}
	role, err := r.assumeRole()
	if err != nil {
		return nil, err
	}
	return r.e.opts.NewInvoker(r.hardCtx, InvokerRequest{ExecutionID: r.id, AssumeRole: role, SourceRole: r.state.Started.SourceRole, Region: r.state.Started.Region, Project: r.state.Started.Project, Record: r.recordCall})
}

// runSteps runs a step list from its first step. It returns why it stopped
// and the last step it ran.
func (r *run) runSteps(ctx context.Context, steps []*document.Step) (ending, *document.Step) {
	i := 0
	var last *document.Step
	for i < len(steps) {
		if ctx.Err() != nil {
			return endCancelled, last
		}
		if r.complete.Load() {
			return endCompleted, last
		}
		st := steps[i]
		if r.state.Started.Mode == ModeInteractive {
			name, ok := r.awaitStart(ctx, st)
			if !ok {
				return endCancelled, last
			}
			if j := indexOf(steps, name); j >= 0 {
				i, st = j, steps[j]
			}
		}
		last = st
		stepCtx, stepDone := ctx, func() bool { return false }
		if r.state.Started.Mode == ModeInteractive {
			stepCtx, stepDone = r.stoppable(ctx)
		}
		out := r.runStep(stepCtx, st)
		stopped := stepDone()
		if r.interrupted.Load() {
			return endCancelled, st
		}
		if stopped {
			// The user stopped this step; the next StartStep decides what runs.
			i++
			continue
		}
		if out.status == StatusCancelled {
			return endCancelled, st
		}
		next := ""
		if out.status == StatusSuccess {
			// A branch's chosen step wins over its isEnd, which only ends the
			// run when no choice matched.
			if st.IsEnd && out.nextStep == "" {
				return endCompleted, st
			}
			next = out.nextStep
			if next == "" {
				next = st.NextStep
			}
		} else {
			if st.IsCritical || out.abort {
				r.markCritical(out.status, fmt.Sprintf("step %s %s: %s", st.Name, strings.ToLower(out.status), out.message))
			}
			if out.abort {
				return endAborted, st
			}
			switch st.OnFailure.Kind {
			case document.Continue:
				if st.IsEnd {
					return endCompleted, st
				}
				next = st.NextStep
			case document.GoToStep:
				next = st.OnFailure.Step
			default:
				return endAborted, st
			}
		}
		if r.complete.Load() {
			// Complete: the step in progress has ended; nothing follows it.
			return endCompleted, st
		}
		if next == "" {
			i++
			continue
		}
		j := indexOf(steps, next)
		if j < 0 {
			r.markCritical(StatusFailed, fmt.Sprintf("step %s: next step %q does not exist", st.Name, next))
			return endAborted, st
		}
		i = j
	}
	return endCompleted, last
}

func indexOf(steps []*document.Step, name string) int {
	for i, s := range steps {
		if s.Name == name {
			return i
		}
	}
	return -1
}

func (r *run) markCritical(status, message string) {
	if r.critical.status == "" {
		r.critical.status, r.critical.message = status, message
	}
}

// runCancelPath runs the onCancel steps of the step that was running when the
// execution was cancelled, for two minutes at most.
func (r *run) runCancelPath(last *document.Step) {
	if last == nil || last.OnCancel.Kind != document.GoToStep {
		return
	}
	ctx, cancel := r.e.opts.Clock.WithTimeout(r.hardCtx, 2*time.Minute)
	defer cancel()
	steps := r.doc.MainSteps
	j := indexOf(steps, last.OnCancel.Step)
	if j < 0 {
		return
	}
	r.runSteps(ctx, steps[j:])
}

func (r *run) finish(status, message string) {
	out := executionFinished{Status: status, FailureMessage: r.masker.mask(message), Outputs: r.documentOutputs()}
	for _, o := range r.doc.Outputs {
		out.OutputOrder = append(out.OutputOrder, o.Step+"."+o.Output)
	}
	if err := r.append(newEvent(evExecutionFinished, r.now(), out)); err != nil && !errors.Is(err, errInterrupted) {
		// The execution stays unfinished in the store and resumes at the
		// next start; say why it did not end now.
		r.e.opts.Logger.Error("recording the end of an execution", "execution", r.id, "status", status, "error", err)
	}
}

// documentOutputs renders the document's declared outputs as SSM does: a map
// of "step.output" to lists of strings.
func (r *run) documentOutputs() map[string][]string {
	if len(r.doc.Outputs) == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, o := range r.doc.Outputs {
		key := o.Step + "." + o.Output
		v, ok := r.outputs[o.Step][o.Output]
		if !ok {
			out[key] = []string{"No output available yet because the step is not successfully executed"}
			continue
		}
		if r.masker.isDerived(o.Step) {
			out[key] = []string{keys.Masked}
			continue
		}
		out[key] = r.maskList(StringList(v))
	}
	return out
}

func (r *run) maskList(l []string) []string {
	for i := range l {
		l[i] = r.masker.mask(l[i])
	}
	return l
}

// noAWS is the invoker of an engine configured without AWS access.
type noAWS struct{}

func (noAWS) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	return nil, errNoAWS
}

// lazyInvoker makes the execution's AWS caller on first use and keeps it (or
// the error that prevented it).
type lazyInvoker struct {
	once  sync.Once
	make  func() (action.Invoker, error)
	inner action.Invoker
	err   error
}

func (l *lazyInvoker) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	l.once.Do(func() { l.inner, l.err = l.make() })
	if l.err != nil {
		return nil, l.err
	}
	return l.inner.Invoke(ctx, service, operation, input)
}
