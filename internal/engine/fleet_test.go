package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/targets"
)

// fleetHarness counts the targets a test:target step runs on and how many
// run at once. A step waits for a release when gated, and fails for the
// targets in fail.
type fleetHarness struct {
	*harness
	mu      sync.Mutex
	runs    map[string]int
	now     int
	peak    int
	fail    map[string]bool
	gated   bool
	release chan struct{}
}

const fleetDoc = `schemaVersion: '0.3'
parameters:
  InstanceId: {type: String}
  Note: {type: String, default: none}
mainSteps:
  - name: work
    action: test:target
    inputs: {Target: '{{ InstanceId }}', Note: '{{ Note }}'}
`

func newFleetHarness(t *testing.T, db *sqlite.DB) *fleetHarness {
	f := &fleetHarness{harness: newHarnessOn(t, db), runs: map[string]int{}, fail: map[string]bool{}, release: make(chan struct{}, 1000)}
	f.reg.Register(action.Spec{Name: "test:target", OpenInputs: true, RetrySafe: true}, actFunc(f.target))
	return f
}

func (f *fleetHarness) target(ctx context.Context, req *action.Request) (*action.Result, error) {
	target, _ := req.Inputs["Target"].(string)
	f.mu.Lock()
	f.runs[target]++
	f.now++
	f.peak = max(f.peak, f.now)
	gated := f.gated
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}()
	if gated {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail[target] {
		return nil, fmt.Errorf("target %s is broken", target)
	}
	return &action.Result{}, nil
}

func (f *fleetHarness) startFleet(fl *Fleet, params map[string]any) string {
	f.t.Helper()
	doc, diags := document.Parse("fleet.yaml", []byte(fleetDoc))
	if document.HasErrors(diags) {
		f.t.Fatal(diags)
	}
	if err := ValidateFleet(doc, fl); err != nil {
		f.t.Fatal(err)
	}
	p, err := FleetParameters(doc, document.Inputs{Typed: params}, fl)
	if err != nil {
		f.t.Fatal(err)
	}
	id, err := f.eng.Start(context.Background(), StartRequest{Document: doc, Source: []byte(fleetDoc), DocumentName: "Fleet", Parameters: p, Fleet: fl})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fleetHarness) children(parent string) []store.Execution {
	f.t.Helper()
	list, _, err := f.db.ListExecutions(context.Background(), store.ExecutionFilter{ParentIDs: []string{parent}, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

func openDB(t *testing.T) *sqlite.DB {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestFleetOneChildPerTargetWithinMaxConcurrency(t *testing.T) {
	f := newFleetHarness(t, openDB(t))
	f.gated = true
	ids := values("i-", 12)
	id := f.startFleet(&Fleet{TargetParameterName: "InstanceId", Targets: []targets.Target{{Key: "ParameterValues", Values: ids}}, MaxConcurrency: "25%"}, map[string]any{"Note": "hello"})
	// Let children through one at a time while checking the limit holds.
	for released := range len(ids) {
		// As many as the limit allows are running before one is let go.
		want := min(3, len(ids)-released)
		waitFor(t, f.harness, id, func(*State) bool { f.mu.Lock(); defer f.mu.Unlock(); return f.now == want })
		f.mu.Lock()
		if f.now > 3 {
			t.Errorf("%d children ran at once; 25%% of 12 allows 3", f.now)
		}
		f.mu.Unlock()
		f.release <- struct{}{}
	}
	st := f.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("parent ended %s: %s (%s)", st.Status, st.FailureMessage, statuses(st))
	}
	if f.peak != 3 {
		t.Errorf("at most %d children ran at once, want MaxConcurrency 25%% of 12 = 3 reached", f.peak)
	}
	kids := f.children(id)
	if len(kids) != len(ids) {
		t.Fatalf("%d children listed under the parent, want %d", len(kids), len(ids))
	}
	seen := map[string]bool{}
	for _, k := range kids {
		c, err := f.eng.Get(context.Background(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != StatusSuccess || c.Started.ParentID != id || c.Started.Target == "" {
			t.Errorf("child %s: status %s parent %s target %q", k.ID, c.Status, c.Started.ParentID, c.Started.Target)
		}
		if got := c.Started.ParameterText["InstanceId"]; !slices.Equal(got, []string{c.Started.Target}) || c.Started.ParameterText["Note"][0] != "hello" {
			t.Errorf("child for %s has parameters %v, want its target and the parent's Note", c.Started.Target, c.Started.ParameterText)
		}
		seen[c.Started.Target] = true
	}
	for _, v := range ids {
		if f.runs[v] != 1 || !seen[v] {
			t.Errorf("target %s ran %d times", v, f.runs[v])
		}
	}
	if len(st.Steps) != len(ids) || st.Steps[0].Action != "aws:executeAutomation" || st.Steps[0].Outputs["ExecutionId"] == "" {
		t.Errorf("parent steps: %s", statuses(st))
	}
}

func TestFleetMaxErrorsStopsNewChildren(t *testing.T) {
	tests := []struct {
		maxErrors string
		fail      []string
		wantRun   int
	}{
		{"1", []string{"t-02", "t-03", "t-04"}, 4}, // stops at the second error
		{"0", []string{"t-01", "t-05"}, 2},         // stops at the first
		{"20%", []string{"t-00", "t-01", "t-02"}, 3},
		{"100%", []string{"t-00", "t-01", "t-02"}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.maxErrors, func(t *testing.T) {
			f := newFleetHarness(t, openDB(t))
			for _, v := range tt.fail {
				f.fail[v] = true
			}
			id := f.startFleet(&Fleet{TargetParameterName: "InstanceId", Targets: []targets.Target{{Key: "ParameterValues", Values: values("t-", 10)}}, MaxConcurrency: "1", MaxErrors: tt.maxErrors}, nil)
			st := f.wait(id)
			if got := len(f.children(id)); got != tt.wantRun {
				t.Errorf("MaxErrors %s: %d children ran, want %d (%s)", tt.maxErrors, got, tt.wantRun, statuses(st))
			}
			if st.Status != StatusFailed {
				t.Errorf("parent ended %s, want Failed", st.Status)
			}
			if tt.wantRun < 10 && !strings.Contains(st.FailureMessage, "not started because the errors exceeded MaxErrors") {
				t.Errorf("failure message %q does not say why targets were left", st.FailureMessage)
			}
		})
	}
}

func TestFleetTargetMaps(t *testing.T) {
	f := newFleetHarness(t, openDB(t))
	id := f.startFleet(&Fleet{TargetMaps: []map[string][]string{{"InstanceId": {"i-a"}, "Note": {"first"}}, {"InstanceId": {"i-b"}}}}, nil)
	st := f.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("parent ended %s: %s", st.Status, st.FailureMessage)
	}
	notes := map[string]string{}
	for _, k := range f.children(id) {
		c, _ := f.eng.Get(context.Background(), k.ID)
		notes[c.Started.ParameterText["InstanceId"][0]] = c.Started.ParameterText["Note"][0]
	}
	if notes["i-a"] != "first" || notes["i-b"] != "none" {
		t.Errorf("children's parameters: %v, want i-a with Note first, i-b with the default", notes)
	}
}

func TestFleetResumesAfterCrashWithoutRunningATargetTwice(t *testing.T) {
	db := openDB(t)
	first := newFleetHarness(t, db)
	first.gated = true
	ids := values("i-", 8)
	id := first.startFleet(&Fleet{TargetParameterName: "InstanceId", Targets: []targets.Target{{Key: "ParameterValues", Values: ids}}, MaxConcurrency: "3"}, nil)
	// Two children finish, three are in flight when the process dies.
	first.release <- struct{}{}
	first.release <- struct{}{}
	waitFor(t, first.harness, id, func(st *State) bool {
		done := 0
		for _, s := range st.Steps {
			if s.Status == StatusSuccess {
				done++
			}
		}
		first.mu.Lock()
		defer first.mu.Unlock()
		return done == 2 && first.now == 3
	})
	first.eng.Shutdown()
	before := first.runs

	second := newFleetHarness(t, db)
	second.gated = true
	for range 6 {
		second.release <- struct{}{}
	}
	if _, err := second.eng.ResumeAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := second.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("resumed parent ended %s: %s (%s)", st.Status, st.FailureMessage, statuses(st))
	}
	if second.peak > 3 {
		t.Errorf("%d children ran at once after the restart; MaxConcurrency is 3", second.peak)
	}
	kids := f2targets(t, second, id)
	for _, v := range ids {
		if kids[v] != 1 {
			t.Errorf("target %s has %d child executions, want 1", v, kids[v])
		}
		// A child whose step was in flight runs that step again (it is safe
		// to retry); a finished one does not.
		if n := before[v] + second.runs[v]; n < 1 || (before[v] == 1 && second.runs[v] > 0 && n > 2) {
			t.Errorf("target %s: step ran %d times before the crash and %d after", v, before[v], second.runs[v])
		}
	}
}

// f2targets counts the child executions per target.
func f2targets(t *testing.T, f *fleetHarness, parent string) map[string]int {
	out := map[string]int{}
	for _, k := range f.children(parent) {
		c, err := f.eng.Get(context.Background(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Started.Target]++
	}
	return out
}

func TestFleetParametersLeaveTheTargetParameterToEachChild(t *testing.T) {
	doc, _ := document.Parse("fleet.yaml", []byte(fleetDoc))
	if _, err := doc.Coerce(document.Inputs{}); err == nil {
		t.Fatal("InstanceId should be required by the runbook")
	}
	p, err := FleetParameters(doc, document.Inputs{}, &Fleet{TargetParameterName: "InstanceId"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p["InstanceId"]; ok || p["Note"] != "none" {
		t.Errorf("parent parameters %v, want Note's default and no InstanceId", p)
	}
	if err := ValidateFleet(doc, &Fleet{TargetParameterName: "Missing", Targets: []targets.Target{{Key: "ParameterValues", Values: []string{"a"}}}}); err == nil || !strings.Contains(err.Error(), "TargetParameterName Missing is not a parameter of the runbook") {
		t.Errorf("an undeclared TargetParameterName: %v", err)
	}
}

func TestExecuteAutomationWithTargets(t *testing.T) {
	h := newChildHarness(t, runbookShelf{"Fleet": {"1": fleetDoc}})
	f := &fleetHarness{harness: h, runs: map[string]int{}, fail: map[string]bool{"b": true}, release: make(chan struct{})}
	h.reg.Register(action.Spec{Name: "test:target", OpenInputs: true, RetrySafe: true}, actFunc(f.target))
	st := h.run(`schemaVersion: '0.3'
mainSteps:
  - name: fleet
    action: aws:executeAutomation
    onFailure: Continue
    inputs:
      DocumentName: Fleet
      TargetParameterName: InstanceId
      Targets: [{Key: ParameterValues, Values: [a, b, c]}]
      MaxConcurrency: 1
      MaxErrors: 1
      RuntimeParameters: {Note: [via-step]}
`, nil)
	step := st.Steps[0]
	if step.Status != StatusFailed || !strings.Contains(step.FailureMessage, "1 of 3 children did not succeed") {
		t.Fatalf("fleet step ended %s: %s", step.Status, step.FailureMessage)
	}
	fleetID, _ := step.Outputs["ExecutionId"].(string)
	kids := f2targets(t, f, fleetID)
	if len(kids) != 3 || kids["a"] != 1 || kids["b"] != 1 || kids["c"] != 1 {
		t.Errorf("children of the step's fleet by target: %v, want a, b and c once each", kids)
	}
	fl, err := h.eng.Get(context.Background(), fleetID)
	if err != nil {
		t.Fatal(err)
	}
	if fl.Started.ParentID != st.ID || fl.Started.Fleet == nil || fl.Started.Fleet.MaxConcurrency != "1" {
		t.Errorf("the step's fleet: parent %s, fleet %+v", fl.Started.ParentID, fl.Started.Fleet)
	}
}
