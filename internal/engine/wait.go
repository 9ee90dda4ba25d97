package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
)

// sleep waits d or until ctx ends; it reports whether the full time passed.
func (r *run) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// waitUntil waits for a recorded deadline; a resumed run keeps the original one.
func (r *run) waitUntil(ctx context.Context, until time.Time) bool {
	return r.sleep(ctx, until.Sub(r.e.opts.Now()))
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

// awaitSignal parks a step until the signals it needs arrive: Resume for
// aws:pause; approvals (or one rejection) for aws:approve.
func (r *run) awaitSignal(ctx context.Context, st *document.Step, entry *action.Entry, idx int, inputs map[string]any, since time.Time) outcome {
	timeout := time.Duration(st.TimeoutSeconds) * time.Second
	if timeout == 0 {
		timeout = entry.Spec.DefaultTimeout
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Until(since.Add(timeout)))
		defer t.Stop()
		deadline = t.C
	}
	for {
		r.mu.Lock()
		sigs := r.state.signalsFor(idx)
		r.mu.Unlock()
		if out, done := r.decideSignals(st, idx, inputs, sigs); done {
			return out
		}
		select {
		case <-r.signals:
		case <-deadline:
			msg := fmt.Sprintf("no decision within %s", timeout)
			return r.recordFailure(st, idx, 1, true, StatusTimedOut, msg, FailureDetails{FailureStage: "Invocation", FailureType: "Verification"})
		case <-ctx.Done():
			if r.interrupted.Load() {
				return outcome{status: StatusCancelled}
			}
			return r.recordFailure(st, idx, 1, true, StatusCancelled, cancelMessage(ctx, "step cancelled while waiting for a signal"), FailureDetails{})
		}
	}
}

func (r *run) decideSignals(st *document.Step, idx int, inputs map[string]any, sigs []signalReceived) (outcome, bool) {
	if st.Action == "aws:pause" {
		for _, s := range sigs {
			if s.Type == SignalResume {
				return r.recordSuccess(st, idx, nil, "", nil), true
			}
		}
		return outcome{}, false
	}
	need := 1
	if n, ok := toInt(inputs["MinRequiredApprovals"]); ok && n > 0 {
		need = n
	}
	var decisions []any
	// Each named approver counts once; anonymous approvals (a local run
	// without users) count each.
	named, anonymous := map[string]bool{}, 0
	for _, s := range sigs {
		d := map[string]any{"Approver": s.User, "Decision": s.Type}
		if c := s.Payload["Comment"]; len(c) > 0 {
			d["Comment"] = c[0]
		}
		decisions = append(decisions, d)
		switch s.Type {
		case SignalReject:
			out := map[string]any{"ApprovalStatus": "Rejected", "ApproverDecisions": decisions}
			return r.recordRejection(st, idx, out, s.User), true
		case SignalApprove:
			if s.User == "" {
				anonymous++
			} else {
				named[s.User] = true
			}
		}
	}
	if len(named)+anonymous >= need {
		out := map[string]any{"ApprovalStatus": "Approved", "ApproverDecisions": decisions}
		return r.recordSuccess(st, idx, out, "", nil), true
	}
	return outcome{}, false
}

func (r *run) recordRejection(st *document.Step, idx int, outputs map[string]any, user string) outcome {
	msg := "the approval request was rejected"
	if user != "" {
		msg += " by " + user
	}
	ev := stepFailed{Index: idx, Attempt: 1, Status: StatusFailed, Message: msg, Final: true, Outputs: outputs,
		Details: FailureDetails{FailureStage: "Invocation", FailureType: "Verification"}}
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

// approverList reads aws:approve's Approvers input: a list, or one string.
func approverList(v any) []string {
	switch x := v.(type) {
	case string:
		if x != "" {
			return []string{x}
		}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// isApprover reports whether user may decide an approval. Approvers name
// IAM users, roles or their ARNs; a capstan user (user is its ARN,
// arn:aws:iam::ACCOUNT:user/NAME) matches an entry equal to that ARN or to
// NAME. An ARN of another account does not match.
func isApprover(approvers []string, user string) bool {
	if user == "" {
		return false
	}
	name := principalName(user)
	for _, a := range approvers {
		if a == user || a == name {
			return true
		}
	}
	return false
}

// principalName is the last path segment of an IAM user or role ARN, or s
// itself when it is not an ARN.
func principalName(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func orAnonymous(user string) string {
	if user == "" {
		return "an anonymous caller"
	}
	return user
}
