package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capstan-run/capstan/internal/store"
)

// A fleet records each child as one aws:executeAutomation step execution of
// the parent, numbered by the child's place in the resolved list. The step
// is recorded with the child's id before the child is created, so a resumed
// fleet re-attaches to it (or creates it, if the crash came between) and
// never runs a target twice.

type fleetResult struct {
	index  int
	failed bool
}

// executeFleet runs a fleet parent to its end.
func (r *run) executeFleet() {
	r.invoker = &lazyInvoker{make: r.makeInvoker}
	f := r.state.Started.Fleet
	res := r.state.Resolved
	if res == nil {
		got, err := r.resolveFleet(r.ctx, f)
		if r.interrupted.Load() {
			return
		}
		if err != nil {
			r.finishFleet(StatusFailed, r.masker.mask(fmt.Sprintf("resolving the targets: %v", err)))
			return
		}
		if len(got.Children) == 0 {
			r.finishFleet(StatusFailed, "no target matched: "+describeTargets(f))
			return
		}
		if err := r.append(newEvent(evTargetsResolved, r.now(), got)); err != nil {
			r.finishFleet(StatusFailed, err.Error())
			return
		}
		res = &got
	}

	n := len(res.Children)
	results := make(chan fleetResult, n)
	running := make([]int, len(res.Concurrency))
	failed := make([]int, len(res.Concurrency))
	started := make([]bool, n)
	inflight := 0
	// Children the log already holds: finished ones count, unfinished ones
	// are re-attached and count against the limit before anything new starts.
	for i, c := range res.Children {
		st := r.state.byIndex[i]
		if st == nil {
			continue
		}
		started[i] = true
		if st.final {
			if st.Status != StatusSuccess {
				failed[c.Group]++
			}
			continue
		}
		running[c.Group]++
		inflight++
		go r.watchFleetChild(i, c, st.Child, false, results, r.e.opts.Clock.Enter())
	}

	first := 0 // children before first have all started
	hard := r.hardCtx.Done()
	for {
		if r.ctx.Err() == nil && !r.complete.Load() {
			for i := first; i < n; i++ {
				if started[i] {
					if i == first {
						first++
					}
					continue
				}
				g := res.Children[i].Group
				if running[g] >= res.Concurrency[g] || failed[g] > res.Errors[g] {
					continue
				}
				started[i] = true
				if i == first {
					first++
				}
				childID, err := r.recordFleetChild(i, res.Children[i])
				if err != nil {
					if r.interrupted.Load() {
						return
					}
					r.finishFleet(StatusFailed, err.Error())
					return
				}
				running[g]++
				inflight++
				go r.watchFleetChild(i, res.Children[i], childID, true, results, r.e.opts.Clock.Enter())
			}
		}
		if inflight == 0 {
			break
		}
		// The children run; the parent only waits for them.
		_, busy := r.e.opts.Clock.Wait(r.ctx, -1)
		select {
		case out := <-results:
			busy()
			inflight--
			g := res.Children[out.index].Group
			running[g]--
			if out.failed {
				failed[g]++
			}
		case <-hard:
			busy()
			// Shut down or aborted: the children's watchers end with it.
			hard = nil
		}
		if r.interrupted.Load() {
			return
		}
	}

	total, ok, notStarted := n, 0, 0
	for i := range res.Children {
		st := r.state.byIndex[i]
		switch {
		case st == nil:
			notStarted++
		case st.Status == StatusSuccess:
			ok++
		}
	}
	switch {
	case ok == total:
		r.finishFleet(StatusSuccess, "")
	case r.ctx.Err() != nil:
		r.finishFleet(StatusCancelled, fmt.Sprintf("execution cancelled: %d of %d children succeeded, %d were not started", ok, total, notStarted))
	default:
		msg := fmt.Sprintf("%d of %d children did not succeed", total-ok-notStarted, total)
		if notStarted > 0 {
			msg += fmt.Sprintf("; %d were not started because the errors exceeded MaxErrors", notStarted)
		}
		r.finishFleet(StatusFailed, msg)
	}
}

// recordFleetChild makes child i durable as a step execution holding the
// child's id, before the child exists.
func (r *run) recordFleetChild(i int, c FleetChild) (string, error) {
	childID := NewID()
	inputs := map[string]any{"DocumentName": r.state.Started.DocumentName}
	if c.Target != "" {
		inputs["TargetParameterName"] = r.state.Started.Fleet.TargetParameterName
		inputs["Target"] = c.Target
	}
	if len(c.Parameters) > 0 {
		inputs["RuntimeParameters"] = c.Parameters
	}
	if c.Account != "" {
		inputs["TargetLocation"] = map[string]any{"Account": c.Account, "Region": c.Region, "ExecutionRole": c.Role}
	}
	started := stepStarted{Index: i, StepExecutionID: NewID(), Step: c.StepLabel, Action: fleetStepAction, Attempt: 1, Inputs: r.masker.maskValue(inputs)}
	err := r.append(newEvent(evStepStarted, r.now(), started), newEvent(evStepWaiting, r.now(), stepWaiting{Index: i, Child: childID}))
	return childID, err
}

// watchFleetChild starts (or re-attaches to) child i, waits for its end and
// records it on the parent. It works for the parent, so it counts on the
// clock as an execution does until it has handed its result over (leave).
func (r *run) watchFleetChild(i int, c FleetChild, childID string, fresh bool, results chan<- fleetResult, leave func()) {
	failed := true
	defer func() {
		results <- fleetResult{index: i, failed: failed}
		leave()
	}()
	err := error(nil)
	if fresh {
		err = r.startFleetChild(childID, c)
	} else if err = r.resumeChild(context.WithoutCancel(r.ctx), childID); errors.Is(err, store.ErrNotFound) {
		// The crash came after the step was recorded and before the child
		// was created: this is its first start.
		err = r.startFleetChild(childID, c)
	} else if errors.Is(err, ErrAlreadyDone) {
		err = nil
	}
	if err != nil {
		if r.interrupted.Load() {
			return
		}
		r.recordChildEnd(i, StatusFailed, r.masker.mask(err.Error()), nil)
		return
	}
	child, err := r.waitChild(r.ctx, childID, true)
	if err != nil {
		if !r.interrupted.Load() {
			r.recordChildEnd(i, StatusFailed, fmt.Sprintf("waiting for child execution %s: %v", childID, err), nil)
		}
		return
	}
	outputs := map[string]any{"ExecutionId": childID, "Status": child.Status, "Output": childOutputs(child)}
	if child.Status == StatusSuccess {
		failed = false
		r.recordChildEnd(i, StatusSuccess, "", outputs)
		return
	}
	msg := fmt.Sprintf("child execution %s ended %s", childID, child.Status)
	if child.FailureMessage != "" {
		msg += ": " + child.FailureMessage
	}
	status := StatusFailed
	if child.Status == StatusCancelled || child.Status == StatusTimedOut {
		status = child.Status
	}
	r.recordChildEnd(i, status, r.masker.mask(msg), outputs)
}

func (r *run) startFleetChild(childID string, c FleetChild) error {
	params, err := r.childParameters(c)
	if err != nil {
		return fmt.Errorf("parameters of the child for %s: %w", c.StepLabel, err)
	}
	req := StartRequest{
		ID: childID, Document: r.doc, Source: []byte(r.state.Started.Content),
		DocumentName: r.state.Started.DocumentName, DocumentVersion: r.state.Started.DocumentVersion,
		Parameters: params, ParentID: r.id, ExecutedBy: r.state.Started.ExecutedBy,
		Target: c.Target, Fleet: c.SubFleet, Project: r.state.Started.Project, Region: r.state.Started.Region,
	}
	role, err := r.assumeRole()
	if err != nil {
		return err
	}
	switch own := r.state.Started; {
	case c.Account != "":
		req.Location = &ChildLocation{Account: c.Account, Region: c.Region, Role: c.Role, SourceRole: role}
		role = ""
	case own.CrossAccount:
		// A target of a location's fleet runs where the location runs.
		req.Location = &ChildLocation{Account: own.AccountID, Region: own.Region, Role: own.AssumeRole, SourceRole: own.SourceRole}
		role = ""
	}
	_, err = r.e.start(context.WithoutCancel(r.ctx), req, role)
	return err
}

func (r *run) recordChildEnd(i int, status, msg string, outputs map[string]any) {
	var ev = newEvent(evStepSucceeded, r.now(), stepSucceeded{Index: i, Outputs: outputs})
	if status != StatusSuccess {
		ev = newEvent(evStepFailed, r.now(), stepFailed{Index: i, Attempt: 1, Status: status, Message: msg, Final: true, Outputs: outputs,
			Details: FailureDetails{FailureStage: StageInvocation, FailureType: FailureVerification}})
	}
	if err := r.append(ev); err != nil && !r.interrupted.Load() {
		r.e.opts.Logger.Error("recording a fleet child's end", "execution", r.id, "child", i, "error", err)
	}
}

func (r *run) finishFleet(status, message string) {
	if err := r.append(newEvent(evExecutionFinished, r.now(), executionFinished{Status: status, FailureMessage: message})); err != nil && !r.interrupted.Load() {
		r.e.opts.Logger.Error("recording the end of a fleet", "execution", r.id, "error", err)
	}
}

func describeTargets(f *Fleet) string {
	var parts []string
	for _, t := range f.Targets {
		parts = append(parts, t.Key+"="+strings.Join(t.Values, ","))
	}
	return strings.Join(parts, "; ")
}
