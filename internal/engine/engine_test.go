package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// actFunc adapts a function to action.Action for test actions.
type actFunc func(ctx context.Context, req *action.Request) (*action.Result, error)

func (f actFunc) Run(ctx context.Context, req *action.Request) (*action.Result, error) {
	return f(ctx, req)
}

// harness is an engine on a fresh SQLite store with the built-in actions and
// a few test actions whose runs it counts.
type harness struct {
	t     *testing.T
	db    *sqlite.DB
	reg   *action.Registry
	eng   *Engine
	mu    sync.Mutex
	runs  map[string]int // step name → runs
	fails map[string]int // step name → failures still to produce
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newHarnessOn(t, db)
}

// newHarnessOn is a harness on db; opts change the engine's options.
func newHarnessOn(t *testing.T, db *sqlite.DB, opts ...func(*Options)) *harness {
	h := &harness{t: t, db: db, runs: map[string]int{}, fails: map[string]int{}}
	h.reg = action.Builtin().Clone()
	h.reg.Register(action.Spec{Name: "test:echo", Inputs: []action.Input{{Name: "Value", Type: action.Any}}, UserOutputs: true, RetrySafe: true,
		Outputs: []action.Output{{Name: "Value", Type: action.Any}}}, actFunc(h.echo))
	h.reg.Register(action.Spec{Name: "test:flaky", OpenInputs: true}, actFunc(h.flaky))
	h.reg.Register(action.Spec{Name: "test:block", OpenInputs: true}, actFunc(h.block))
	h.reg.Register(action.Spec{Name: "test:unsafe", OpenInputs: true, RetrySafe: false}, actFunc(h.block))
	o := Options{Store: db, Actions: h.reg, RetryDelay: time.Millisecond, Region: "eu-west-1", AccountID: "123456789012"}
	for _, f := range opts {
		f(&o)
	}
	h.eng = New(o)
	t.Cleanup(h.eng.Shutdown)
	return h
}

func (h *harness) count(req *action.Request) {
	h.mu.Lock()
	h.runs[req.Step]++
	h.mu.Unlock()
}

func (h *harness) ran(step string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs[step]
}

func (h *harness) echo(ctx context.Context, req *action.Request) (*action.Result, error) {
	h.count(req)
	return &action.Result{Outputs: map[string]any{"Value": req.Inputs["Value"]}, Response: map[string]any{"Value": req.Inputs["Value"]}}, nil
}

func (h *harness) flaky(ctx context.Context, req *action.Request) (*action.Result, error) {
	h.count(req)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fails[req.Step] > 0 {
		h.fails[req.Step]--
		return nil, fmt.Errorf("flaky failure of %s", req.Step)
	}
	return &action.Result{}, nil
}

// block runs until its context ends.
func (h *harness) block(ctx context.Context, req *action.Request) (*action.Result, error) {
	h.count(req)
	<-ctx.Done()
	return nil, ctx.Err()
}

func (h *harness) start(src string, params map[string]any) string {
	h.t.Helper()
	doc, diags := document.Parse("test.yaml", []byte(src))
	for _, d := range diags {
		if d.Severity == document.Error {
			h.t.Fatalf("test document: %s", d)
		}
	}
	coerced, err := doc.Coerce(document.Inputs{Typed: params})
	if err != nil {
		h.t.Fatalf("parameters: %v", err)
	}
	id, err := h.eng.Start(context.Background(), StartRequest{Document: doc, Source: []byte(src), DocumentName: "test", Parameters: coerced})
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) wait(id string) *State {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := h.eng.Wait(ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) run(src string, params map[string]any) *State {
	h.t.Helper()
	return h.wait(h.start(src, params))
}

// statuses lists "step=Status" in execution order.
func statuses(st *State) string {
	var parts []string
	for _, s := range st.Steps {
		parts = append(parts, s.Name+"="+s.Status)
	}
	return strings.Join(parts, " ")
}

func TestStepFlow(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		fails    map[string]int
		status   string
		steps    string
		failText string
	}{
		{
			name: "steps run in order and outputs flow",
			doc: `
schemaVersion: "0.3"
parameters:
  Greeting: {type: String, default: hello}
mainSteps:
  - name: a
    action: test:echo
    inputs: {Value: "{{ Greeting }}"}
  - name: b
    action: test:echo
    inputs: {Value: "{{ a.Value }} world"}
outputs: [b.Value]
`,
			status: StatusSuccess, steps: "a=Success b=Success",
		},
		{
			name: "nextStep skips and isEnd stops",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:echo, inputs: {Value: 1}, nextStep: c}
  - {name: b, action: test:echo, inputs: {Value: 2}}
  - {name: c, action: test:echo, inputs: {Value: 3}, isEnd: true}
  - {name: d, action: test:echo, inputs: {Value: 4}}
`,
			status: StatusSuccess, steps: "a=Success c=Success",
		},
		{
			name: "a branch's choice wins over its isEnd; without a match isEnd ends the run",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - name: pick
    action: aws:branch
    isEnd: true
    inputs:
      Choices:
        - {NextStep: chosen, Variable: "yes", StringEquals: "yes"}
  - {name: skipped, action: test:echo, inputs: {Value: 1}}
  - name: chosen
    action: aws:branch
    isEnd: true
    inputs:
      Choices:
        - {NextStep: skipped, Variable: "no", StringEquals: "yes"}
  - {name: after, action: test:echo, inputs: {Value: 2}}
`,
			status: StatusSuccess, steps: "pick=Success chosen=Success",
		},
		{
			name: "Abort on a critical failure fails the execution",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:flaky}
  - {name: b, action: test:echo, inputs: {Value: 1}}
`,
			fails:  map[string]int{"a": 1},
			status: StatusFailed, steps: "a=Failed", failText: "flaky failure of a",
		},
		{
			name: "Continue goes on and a non-critical failure leaves Success",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:flaky, onFailure: Continue}
  - {name: b, action: test:echo, inputs: {Value: 1}}
`,
			fails:  map[string]int{"a": 1},
			status: StatusSuccess, steps: "a=Failed b=Success",
		},
		{
			name: "onFailure step:X runs the clean-up chain; the critical failure still fails the run",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:flaky, onFailure: "step:cleanup"}
  - {name: b, action: test:echo, inputs: {Value: 1}, isEnd: true}
  - {name: cleanup, action: test:echo, inputs: {Value: 2}}
`,
			fails:  map[string]int{"a": 1},
			status: StatusFailed, steps: "a=Failed cleanup=Success",
		},
		{
			name: "the assert-then-change idiom ends Success",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: check, action: test:flaky, onFailure: "step:change", isCritical: false, isEnd: true}
  - {name: change, action: test:echo, inputs: {Value: 1}}
`,
			fails:  map[string]int{"check": 1},
			status: StatusSuccess, steps: "check=Failed change=Success",
		},
		{
			name: "maxAttempts retries until success",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:flaky, maxAttempts: 3}
`,
			fails:  map[string]int{"a": 2},
			status: StatusSuccess, steps: "a=Success",
		},
		{
			name: "maxAttempts exhausted fails",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:flaky, maxAttempts: 2}
`,
			fails:  map[string]int{"a": 5},
			status: StatusFailed, steps: "a=Failed",
		},
		{
			name: "timeoutSeconds times the step and the execution out",
			doc: `
schemaVersion: "0.3"
mainSteps:
  - {name: a, action: test:block, timeoutSeconds: 1}
`,
			status: StatusTimedOut, steps: "a=TimedOut", failText: "timed out",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for k, v := range tc.fails {
				h.fails[k] = v
			}
			st := h.run(tc.doc, nil)
			if st.Status != tc.status {
				t.Errorf("status %s, want %s (failure: %s)", st.Status, tc.status, st.FailureMessage)
			}
			if got := statuses(st); got != tc.steps {
				t.Errorf("steps %q, want %q", got, tc.steps)
			}
			if !strings.Contains(st.FailureMessage, tc.failText) {
				t.Errorf("failure message %q does not contain %q", st.FailureMessage, tc.failText)
			}
		})
	}
}

func TestOutputsAndTypedSubstitution(t *testing.T) {
	h := newHarness(t)
	st := h.run(`
schemaVersion: "0.3"
parameters:
  Ids: {type: StringList, default: [i-1, i-2]}
mainSteps:
  - name: list
    action: test:echo
    inputs: {Value: "{{ Ids }}"}
    outputs:
      - {Name: First, Selector: "$.Value[0]", Type: String}
      - {Name: All, Selector: "$.Value", Type: StringList}
  - name: text
    action: test:echo
    inputs: {Value: "first={{ list.First }} region={{ global:REGION }}"}
outputs: [list.All, text.Value]
`, nil)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := strings.Join(st.Outputs["list.All"], ","); got != "i-1,i-2" {
		t.Errorf("list.All = %q", got)
	}
	if got := st.Outputs["text.Value"]; len(got) != 1 || got[0] != "first=i-1 region=eu-west-1" {
		t.Errorf("text.Value = %q", got)
	}
}

func TestBranchAndVariables(t *testing.T) {
	h := newHarness(t)
	st := h.run(`
schemaVersion: "0.3"
parameters:
  Env: {type: String, default: prod}
variables:
  Count: {type: Integer, default: 0}
mainSteps:
  - name: choose
    action: aws:branch
    inputs:
      Choices:
        - {NextStep: dev, Variable: "{{ Env }}", StringEquals: dev}
        - {NextStep: prod, Or: [{Variable: "{{ Env }}", StringEquals: production}, {Variable: "{{ Env }}", StartsWith: pro}]}
      Default: dev
  - {name: dev, action: test:echo, inputs: {Value: dev}, isEnd: true}
  - name: prod
    action: aws:updateVariable
    inputs: {Name: "variable:Count", Value: 5}
  - {name: after, action: test:echo, inputs: {Value: "{{ variable:Count }}"}}
`, nil)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := statuses(st); got != "choose=Success prod=Success after=Success" {
		t.Errorf("steps %q", got)
	}
	if v := st.Steps[2].Outputs["Value"]; fmt.Sprint(v) != "5" {
		t.Errorf("variable read back as %v", v)
	}
}

func TestLoopForEachAndDoWhile(t *testing.T) {
	h := newHarness(t)
	st := h.run(`
schemaVersion: "0.3"
parameters:
  Ids: {type: StringList, default: [a, b, c]}
variables:
  N: {type: Integer, default: 0}
mainSteps:
  - name: each
    action: aws:loop
    inputs:
      Iterators: "{{ Ids }}"
      Steps:
        - {name: visit, action: test:echo, inputs: {Value: "{{ each.CurrentIteratorValue }}-{{ each.CurrentIteration }}"}}
  - name: repeat
    action: aws:loop
    inputs:
      MaxIterations: 10
      LoopCondition: {Variable: "{{ variable:N }}", NumericLesser: 3}
      Steps:
        - {name: bump, action: aws:updateVariable, inputs: {Name: "variable:N", Value: "{{ repeat.CurrentIteration }}"}}
`, nil)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	var visits []string
	for _, s := range st.Steps {
		if s.Name == "visit" {
			visits = append(visits, fmt.Sprint(s.Outputs["Value"]))
		}
	}
	if got := strings.Join(visits, " "); got != "a-1 b-2 c-3" {
		t.Errorf("visits %q", got)
	}
	if h.ran("visit") != 3 {
		t.Errorf("visit ran %d times", h.ran("visit"))
	}
	var repeat *StepState
	for _, s := range st.Steps {
		if s.Name == "repeat" {
			repeat = s
		}
	}
	if repeat == nil || fmt.Sprint(repeat.Outputs["CurrentIteration"]) != "3" {
		t.Errorf("do-while ran %v iterations, want 3", repeat)
	}
}

func TestPauseResumeAndApprove(t *testing.T) {
	h := newHarness(t)
	id := h.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: hold, action: aws:pause, inputs: {}}
  - name: ask
    action: aws:approve
    inputs: {Approvers: [alice, bob], MinRequiredApprovals: 2, Message: "go?"}
  - {name: done, action: test:echo, inputs: {Value: "{{ ask.ApprovalStatus }}"}}
`, nil)
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting })
	if err := h.eng.Signal(context.Background(), id, "Approve", nil, "alice"); err == nil {
		t.Error("Approve was accepted by a paused step")
	}
	if err := h.eng.Signal(context.Background(), id, "Resume", nil, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting && len(st.Steps) == 2 })
	for _, u := range []string{"alice", "alice", "bob"} {
		if err := h.eng.Signal(context.Background(), id, "Approve", map[string][]string{"Comment": {"ok"}}, u); err != nil {
			t.Fatal(err)
		}
	}
	st := h.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := fmt.Sprint(st.Steps[2].Outputs["Value"]); got != "Approved" {
		t.Errorf("approval status %q", got)
	}
}

func TestRejectFailsTheApproval(t *testing.T) {
	h := newHarness(t)
	id := h.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: ask, action: aws:approve, inputs: {Approvers: [alice]}}
  - {name: done, action: test:echo, inputs: {Value: 1}}
`, nil)
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting })
	if err := h.eng.Signal(context.Background(), id, "Reject", map[string][]string{"Comment": {"not today"}}, "alice"); err != nil {
		t.Fatal(err)
	}
	st := h.wait(id)
	if st.Status != StatusFailed || !strings.Contains(st.FailureMessage, "rejected by alice") {
		t.Fatalf("status %s: %q", st.Status, st.FailureMessage)
	}
	if h.ran("done") != 0 {
		t.Error("the step after a rejection ran")
	}
}

func TestCancelRunsOnCancelPath(t *testing.T) {
	h := newHarness(t)
	id := h.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: work, action: test:block, onCancel: "step:cleanup"}
  - {name: next, action: test:echo, inputs: {Value: 1}, isEnd: true}
  - {name: cleanup, action: test:echo, inputs: {Value: 2}}
`, nil)
	waitFor(t, h, id, func(st *State) bool { return len(st.Steps) == 1 })
	if err := h.eng.Stop(context.Background(), id, StopCancel, ""); err != nil {
		t.Fatal(err)
	}
	st := h.wait(id)
	if st.Status != StatusCancelled {
		t.Fatalf("status %s", st.Status)
	}
	if got := statuses(st); got != "work=Cancelled cleanup=Success" {
		t.Errorf("steps %q", got)
	}
}

// TestResumeKeepsCompletedStepsAndSleepDeadline interrupts an engine during
// a sleep and resumes on a second engine over the same store.
func TestResumeKeepsCompletedStepsAndSleepDeadline(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first := newHarnessOn(t, db)
	id := first.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: before, action: test:echo, inputs: {Value: 1}}
  - {name: nap, action: aws:sleep, inputs: {Duration: PT1S}}
  - {name: after, action: test:echo, inputs: {Value: 2}}
`, nil)
	var until time.Time
	waitFor(t, first, id, func(st *State) bool {
		if len(st.Steps) == 2 && !st.Steps[1].WaitUntil.IsZero() {
			until = st.Steps[1].WaitUntil
			return true
		}
		return false
	})
	first.eng.Shutdown()

	second := newHarnessOn(t, db)
	if err := second.eng.Resume(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	st := second.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if second.ran("before") != 0 || second.ran("after") != 1 {
		t.Errorf("after resume: before ran %d times, after %d", second.ran("before"), second.ran("after"))
	}
	if end := st.Steps[1].EndTime; end.Before(until) {
		t.Errorf("the sleep ended at %v, before its recorded deadline %v", end, until)
	}
}

func TestResumeInFlightStepNotSafeToRetry(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first := newHarnessOn(t, db)
	id := first.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: mutate, action: test:unsafe, onFailure: "step:report"}
  - {name: report, action: test:echo, inputs: {Value: 1}}
`, nil)
	waitFor(t, first, id, func(st *State) bool { return len(st.Steps) == 1 })
	first.eng.Shutdown()

	second := newHarnessOn(t, db)
	if err := second.eng.Resume(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	st := second.wait(id)
	if second.ran("mutate") != 0 {
		t.Error("a step that is not safe to retry ran again after the crash")
	}
	if got := statuses(st); got != "mutate=Failed report=Success" {
		t.Errorf("steps %q", got)
	}
	if !strings.Contains(st.Steps[0].FailureMessage, "interrupted") {
		t.Errorf("failure %q does not say the step was interrupted", st.Steps[0].FailureMessage)
	}
}

func TestResumeOfFinishedExecution(t *testing.T) {
	h := newHarness(t)
	st := h.run("schemaVersion: \"0.3\"\nmainSteps:\n  - {name: a, action: test:echo, inputs: {Value: 1}}\n", nil)
	if err := h.eng.Resume(context.Background(), st.ID); !errors.Is(err, ErrAlreadyDone) {
		t.Errorf("resume of a finished execution: %v", err)
	}
	if _, err := h.db.Execution(context.Background(), st.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.Resume(context.Background(), "no-such-id"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resume of an unknown id: %v", err)
	}
}

func waitFor(t *testing.T, h *harness, id string, cond func(*State) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st, err := h.eng.Get(context.Background(), id)
		if err == nil && cond(st) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	st, _ := h.eng.Get(context.Background(), id)
	t.Fatalf("condition not reached; state %s steps %s", st.Status, statuses(st))
}

// TestAssumeRoleRecordedAndPassed checks that the runbook's assumeRole is
// rendered from its parameter, shown on the execution, and handed to the
// AWS caller of that execution.
func TestAssumeRoleRecordedAndPassed(t *testing.T) {
	h := newHarness(t)
	var got []string
	var mu sync.Mutex
	h.eng.opts.NewInvoker = func(ctx context.Context, req InvokerRequest) (action.Invoker, error) {
		mu.Lock()
		got = append(got, req.AssumeRole)
		mu.Unlock()
		return noAWS{}, nil
	}
	st := h.run(`
schemaVersion: "0.3"
assumeRole: "{{ AutomationAssumeRole }}"
parameters:
  AutomationAssumeRole: {type: String, default: "arn:aws:iam::{{ global:ACCOUNT_ID }}:role/runner"}
mainSteps:
  - {name: a, action: aws:executeAwsApi, inputs: {Service: sts, Api: GetCallerIdentity}, onFailure: Continue}
  - {name: b, action: aws:executeAwsApi, inputs: {Service: sts, Api: GetCallerIdentity}, onFailure: Continue}
`, nil)
	const want = "arn:aws:iam::123456789012:role/runner"
	if st.Started.AssumeRole != want {
		t.Errorf("recorded role %q, want %q", st.Started.AssumeRole, want)
	}
	mu.Lock()
	defer mu.Unlock()
	// One AWS caller per execution, made for its role on the first call.
	if len(got) != 1 || got[0] != want {
		t.Errorf("invoker made for roles %q, want [%s]", got, want)
	}
}
