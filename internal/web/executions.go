package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

type execView struct {
	ID, Runbook, Version, Status, Mode, ExecutedBy string
	Project                                        string
	Start, End, Duration                           string
	Failure                                        string
	Parameters, Outputs                            []kv
	Steps                                          []stepView
	Calls                                          []callView
	Approval                                       *approvalView
	AwaitingStep                                   string
	Done                                           bool
	Seq                                            int64
	// Printed counts the bytes running steps have printed so far, so the
	// live page also changes when only that grew.
	Printed int
}

type kv struct{ Key, Value string }

type stepView struct {
	Name, Action, Status, Start, Duration, Failure string
	Inputs, Outputs                                []kv
	// Log is what the step printed (a script's output), shown in its own
	// section rather than among the outputs; Printing says the step still
	// runs and Log is what it printed so far.
	Log      string
	Printing bool
}

type callView struct {
	Step, Operation, IAMAction, Duration, Error string
}

type approvalView struct {
	Step      string
	Message   string
	Approvers string
	MayDecide bool
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func duration(start, end *time.Time, now time.Time) string {
	if start == nil || start.IsZero() {
		return ""
	}
	e := now
	if end != nil && !end.IsZero() {
		e = *end
	}
	return e.Sub(*start).Round(time.Millisecond).String()
}

// timeOf is a shape's timestamp as when and duration take it.
func timeOf(t *ssmshape.Time) *time.Time {
	if t == nil {
		return nil
	}
	return &t.Time
}

func sortedKV[V any](m map[string]V, show func(V) string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, show(v)})
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func showList(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (u *UI) view(st *engine.State, calls []store.Call, user string) execView {
	v := ssmshape.Execution(st, ssmshape.RFC3339)
	now := u.opts.Now()
	ev := execView{ID: v.AutomationExecutionId, Runbook: v.DocumentName, Version: v.DocumentVersion,
		Status: v.AutomationExecutionStatus, Mode: v.Mode, ExecutedBy: v.ExecutedBy,
		Start: when(timeOf(v.ExecutionStartTime)), End: when(timeOf(v.ExecutionEndTime)),
		Duration: duration(timeOf(v.ExecutionStartTime), timeOf(v.ExecutionEndTime), now),
		Failure:  v.FailureMessage, Done: engine.Terminal(st.Status), Seq: st.Seq,
		Parameters:   sortedKV(v.Parameters, showList),
		Outputs:      sortedKV(v.Outputs, showList),
		AwaitingStep: st.AwaitingStep(),
		Project:      store.ProjectOf(st.Started.Project),
	}
	for i, p := range ev.Parameters {
		if path, ok := st.Started.KeyParameters[p.Key]; ok {
			ev.Parameters[i].Value = p.Value + " (from key storage: " + path + ")"
		}
	}
	for _, s := range v.StepExecutions {
		outputs := s.Outputs
		var log string
		if name := u.logOutput(s.Action); name != "" {
			if printed, ok := outputs[name]; ok {
				log = strings.Join(printed, "\n")
				outputs = maps.Clone(outputs)
				delete(outputs, name)
			}
		}
		ev.Steps = append(ev.Steps, stepView{Name: s.StepName, Action: s.Action, Status: s.StepStatus,
			Start: when(timeOf(s.ExecutionStartTime)), Duration: duration(timeOf(s.ExecutionStartTime), timeOf(s.ExecutionEndTime), now),
			Failure: s.FailureMessage,
			Inputs:  sortedKV(s.Inputs, func(s string) string { return s }),
			Outputs: sortedKV(outputs, showList), Log: log})
	}
	for _, c := range calls {
		ev.Calls = append(ev.Calls, callView{Step: c.Step, Operation: c.Service + " " + c.Operation, IAMAction: c.IAMAction,
			Duration: c.Duration.Round(time.Millisecond).String(), Error: c.ErrorCode})
	}
	if !ev.Done {
		for _, s := range st.Steps {
			if s.Status != engine.StatusWaiting {
				continue
			}
			a, ok := u.approver(s.Action)
			if !ok {
				continue
			}
			list := a.Approvers(s.Inputs)
			msg, _ := s.Inputs["Message"].(string)
			ev.Approval = &approvalView{Step: s.Name, Message: msg, Approvers: strings.Join(list, ", "),
				MayDecide: action.IsApprover(list, u.opts.Service.UserARN(user))}
		}
	}
	return ev
}

// logOutput is the output in which the named action keeps what its step
// printed, as its declaration says; "" for none.
func (u *UI) logOutput(name string) string {
	if u.opts.Actions == nil {
		return ""
	}
	e, ok := u.opts.Actions.Lookup(name)
	if !ok {
		return ""
	}
	return e.Spec.LogOutput
}

// approver is the named action's Approver side, if it is decided by
// approvers (aws:approve).
func (u *UI) approver(name string) (action.Approver, bool) {
	if u.opts.Actions == nil {
		return nil, false
	}
	e, ok := u.opts.Actions.Lookup(name)
	if !ok {
		return nil, false
	}
	a, ok := e.Impl.(action.Approver)
	return a, ok
}

func (u *UI) load(r *http.Request, s *session) (execView, error) {
	id := r.PathValue("id")
	st, err := u.opts.Service.Execution(r.Context(), s.user, id)
	if err != nil {
		return execView{}, err
	}
	calls, err := u.opts.Service.Calls(r.Context(), s.user, id)
	if err != nil {
		return execView{}, err
	}
	printing, err := u.opts.Service.Printing(r.Context(), s.user, id)
	if err != nil {
		return execView{}, err
	}
	ev := u.view(st, calls, s.user)
	for i, step := range ev.Steps {
		if text := printing[step.Name]; text != "" && step.Status == "InProgress" {
			ev.Steps[i].Log, ev.Steps[i].Printing = text, true
			ev.Printed += len(text)
		}
	}
	return ev, nil
}

func (u *UI) executionPage(w http.ResponseWriter, r *http.Request, s *session) {
	ev, err := u.load(r, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusOK, "execution", page{User: s.user, CSRF: s.csrf, Title: "Execution " + ev.ID, Nav: "executions", Data: ev})
}

// executionLive streams the execution's live part as server-sent events:
// one event with the rendered HTML whenever the execution changes, until
// it ends or the client goes away.
func (u *UI) executionLive(w http.ResponseWriter, r *http.Request, s *session) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	// The server's write timeout would cut the stream: end it before, and
	// let EventSource reconnect.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Minute))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	var last int64 = -1
	lastPrinted := 0
	tick := time.NewTicker(u.opts.Poll)
	defer tick.Stop()
	// Bounded: one stream lasts at most this long, then the browser reconnects.
	deadline := time.After(9 * time.Minute)
	for {
		ev, err := u.load(r, s)
		if err != nil {
			fmt.Fprintf(w, "event: failed\ndata: %s\n\n", strings.ReplaceAll(err.Error(), "\n", " "))
			flusher.Flush()
			return
		}
		if ev.Seq != last || ev.Printed != lastPrinted {
			var b strings.Builder
			if err := u.pages["execution"].ExecuteTemplate(&b, "live", page{User: s.user, CSRF: s.csrf, Data: ev}); err != nil {
				u.opts.Logger.Error("rendering the live execution", "err", err)
				return
			}
			event := "update"
			if ev.Done {
				event = "done"
			}
			fmt.Fprintf(w, "event: %s\n", event)
			for _, line := range strings.Split(b.String(), "\n") {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
			flusher.Flush()
			last, lastPrinted = ev.Seq, ev.Printed
		}
		if ev.Done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-tick.C:
		}
	}
}

// afterAction shows the execution again: by redirect when the action was
// taken, else with the refusal's message on the page.
func (u *UI) afterAction(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if err == nil {
		http.Redirect(w, r, Prefix+"executions/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
		return
	}
	var denied *authz.DeniedError
	if errors.As(err, &denied) || !isRefusal(err) {
		u.fail(w, r, s, err)
		return
	}
	ev, lerr := u.load(r, s)
	if lerr != nil {
		u.fail(w, r, s, lerr)
		return
	}
	u.render(w, r, http.StatusConflict, "execution", page{User: s.user, CSRF: s.csrf, Title: "Execution " + ev.ID, Nav: "executions", Error: err.Error(), Data: ev})
}

// isRefusal reports whether err is the service refusing the request (a
// state that does not allow it, bad input) rather than a failure.
func isRefusal(err error) bool {
	var c interface{ Usage() bool }
	return errors.As(err, &c)
}

func (u *UI) stopExecution(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	err := u.opts.Service.Stop(r.Context(), s.user, id)
	u.afterAction(w, r, s, err)
}

// signals are the signals the execution page offers.
var signals = map[engine.SignalType]bool{engine.SignalApprove: true, engine.SignalReject: true, engine.SignalStartStep: true, engine.SignalResume: true}

func (u *UI) signalExecution(w http.ResponseWriter, r *http.Request, s *session) {
	typ := r.PostFormValue("signal")
	if !signals[engine.SignalType(typ)] {
		http.Error(w, fmt.Sprintf("unknown signal %q: expected Approve, Reject, StartStep or Resume", typ), http.StatusBadRequest)
		return
	}
	payload := map[string][]string{}
	if c := strings.TrimSpace(r.PostFormValue("comment")); c != "" {
		payload["Comment"] = []string{c}
	}
	if step := r.PostFormValue("step"); step != "" && typ == string(engine.SignalStartStep) {
		payload["StepName"] = []string{step}
	}
	id := r.PathValue("id")
	err := u.opts.Service.Signal(r.Context(), s.user, id, typ, payload)
	u.afterAction(w, r, s, err)
}
