package runbooktest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/clock"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mock"
	"github.com/capstan-run/capstan/internal/policy"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
)

// Library finds runbooks by name (capstan's built-in library).
type Library interface {
	Lookup(name string) ([]byte, bool)
}

// Runner runs test files.
type Runner struct {
	// Actions are the action declarations and implementations.
	Actions *action.Registry
	// Store records the test executions; a temporary SQLite database
	// serves.
	Store   store.Store
	Library Library
	// Timeout bounds one test in real time; 0 for a minute.
	Timeout time.Duration
}

// Result is the outcome of one test file.
type Result struct {
	File     string
	Runbook  string
	Passed   bool
	Problems []string
	Duration time.Duration
	// Skipped is the virtual time the test jumped over (sleeps, timeouts,
	// polls) without waiting for it.
	Skipped time.Duration
}

func (r *Result) String() string {
	if r.Passed {
		skipped := ""
		if r.Skipped >= time.Second {
			skipped = fmt.Sprintf(", %s of waiting skipped", r.Skipped.Round(time.Second))
		}
		return fmt.Sprintf("PASS %s (%s, %s%s)", r.File, r.Runbook, r.Duration.Round(time.Microsecond), skipped)
	}
	return fmt.Sprintf("FAIL %s: %s", r.File, strings.Join(r.Problems, "; "))
}

// Run runs one test file. Problems with the file itself (unreadable,
// malformed, naming steps the runbook lacks) fail the test like a wrong
// result does.
func (r *Runner) Run(ctx context.Context, path string) *Result {
	start := time.Now()
	res := &Result{File: path}
	fail := func(err error) *Result {
		res.Problems = append(res.Problems, err.Error())
		res.Duration = time.Since(start)
		return res
	}
	f, err := Parse(path)
	if err != nil {
		return fail(err)
	}
	res.Runbook = f.Runbook
	doc, src, err := r.load(f)
	if err != nil {
		return fail(err)
	}
	if err := f.checkNames(doc); err != nil {
		return fail(err)
	}
	params, err := doc.Coerce(document.Inputs{Typed: f.Parameters})
	if err != nil {
		return fail(&Error{File: path, Line: f.lines["parameters"], Err: err})
	}
	st, err := r.execute(ctx, f, doc, src, params, res)
	if err != nil {
		return fail(err)
	}
	res.Problems = append(compare(f, st), res.Problems...)
	res.Passed = len(res.Problems) == 0
	res.Duration = time.Since(start)
	return res
}

// load reads the runbook a test names: a file relative to the test file,
// else a library runbook.
func (r *Runner) load(f *File) (*document.Document, []byte, error) {
	file := f.Runbook
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(f.Path), file)
	}
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) && r.Library != nil {
		if b, ok := r.Library.Lookup(f.Runbook); ok {
			src, file, err = b, f.Runbook, nil
		}
	}
	if err != nil {
		return nil, nil, &Error{File: f.Path, Line: f.lines["runbook"], Err: fmt.Errorf("runbook %s: not a file (%v) nor a library runbook", f.Runbook, err)}
	}
	doc, diags := document.Load(file, src, r.Actions)
	if document.HasErrors(diags) {
		var msgs []string
		for _, d := range diags {
			if d.Severity == document.Error {
				msgs = append(msgs, d.String())
			}
		}
		return nil, nil, fmt.Errorf("runbook %s is not valid: %s", f.Runbook, strings.Join(msgs, "; "))
	}
	return doc, src, nil
}

// documents is where child runbooks come from: the library, then files
// beside the test.
type documents struct {
	dir string
	lib Library
}

// Names lists no runbook: the test's runbooks are looked up by name only.
func (d documents) Names() []string { return nil }

func (d documents) Lookup(name string) ([]byte, bool) {
	if d.lib != nil {
		if src, ok := d.lib.Lookup(name); ok {
			return src, true
		}
	}
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		if src, err := os.ReadFile(filepath.Join(d.dir, name+ext)); err == nil {
			return src, true
		}
	}
	return nil, false
}

// execute runs the test's execution. It notes on res the virtual time it
// jumped over and the problems of scripts' calls (a call no mock answers
// fails the test even when the script caught the error).
func (r *Runner) execute(ctx context.Context, f *File, doc *document.Document, src []byte, params map[string]any, res *Result) (*engine.State, error) {
	inv := &mock.Invoker{Set: mock.NewSet(f.Mocks)}
	if usesScripts(doc.MainSteps, r.Actions) {
		// Scripts run for real; their AWS calls come here.
		ep, err := mock.Serve(inv)
		if err != nil {
			return nil, err
		}
		defer func() {
			ep.Close()
			res.Problems = append(res.Problems, ep.Problems()...)
		}()
		inv.Endpoint = ep
	}
	var (
		eng     *engine.Engine
		id      = engine.NewID()
		waiting atomic.Value // the step that waited for a signal, a string
		stopErr = make(chan error, 1)
	)
	// Time is virtual: it jumps to the next deadline (a sleep's end, a
	// timeout, a poll, a retry) whenever every execution of the test waits.
	// When they all wait with no deadline, only a signal could move them,
	// which no one can send in a test: the execution is cancelled.
	clk := clock.NewVirtual(func() {
		go func() {
			ctx := context.WithoutCancel(ctx)
			waiting.Store(waitingStep(ctx, eng, id))
			if err := eng.Stop(ctx, id, engine.StopCancel, ""); err != nil {
				select {
				case stopErr <- err:
				default:
				}
			}
		}()
	})
	defer func() {
		clk.Close()
		res.Skipped = clk.Advanced()
	}()
	// Child runbooks start through the service, as in every front end.
	svc := service.New(service.Options{Store: r.Store, Library: documents{dir: filepath.Dir(f.Path), lib: r.Library}, Engine: engine.Options{
		Actions: r.Actions,
		NewInvoker: func(context.Context, engine.InvokerRequest) (action.Invoker, error) {
			// A denied mock reads as a denial does: with the permission.
			return policy.Explain(inv, policy.Scope{}), nil
		},
		Region:    "us-east-1",
		AccountID: "123456789012",
		Clock:     clk,
	}})
	eng = svc.Engine()
	defer eng.Shutdown()
	timeout := r.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := eng.Start(ctx, engine.StartRequest{ID: id, Document: doc, Source: src, DocumentName: f.Runbook, Parameters: params}); err != nil {
		return nil, fmt.Errorf("starting %s: %w", f.Runbook, err)
	}
	st, err := eng.Wait(ctx, id)
	if err != nil {
		select {
		case e := <-stopErr:
			// The cancel of a waiting execution failed: say why it never ended.
			err = errors.Join(err, e)
		default:
		}
		return nil, fmt.Errorf("running %s: %w", f.Runbook, err)
	}
	if name, _ := waiting.Load().(string); name != "" && st.FailureMessage == "" {
		st.FailureMessage = fmt.Sprintf("%s waited for a signal with no deadline (a resume or a step start) that a test cannot send; the execution was cancelled", name)
	}
	return st, nil
}

// waitingStep names the step of an execution that is waiting, or the
// execution when none of its own steps is (a child's is).
func waitingStep(ctx context.Context, eng *engine.Engine, id string) string {
	st, err := eng.Get(ctx, id)
	if err != nil {
		return "execution " + id
	}
	for _, s := range st.Steps {
		if s.EndTime.IsZero() && !s.StartTime.IsZero() {
			return "step " + s.Name
		}
	}
	return "execution " + id
}

// compare lists every way the execution differs from the expectation.
func compare(f *File, st *engine.State) []string {
	var out []string
	why := func() string {
		var msgs []string
		for _, s := range st.Steps {
			if s.FailureMessage != "" {
				msgs = append(msgs, fmt.Sprintf("step %s: %s", s.Name, s.FailureMessage))
			}
		}
		if len(msgs) == 0 && st.FailureMessage != "" {
			msgs = append(msgs, st.FailureMessage)
		}
		if len(msgs) == 0 {
			return ""
		}
		return " (" + strings.Join(msgs, "; ") + ")"
	}
	if want := f.Expect.Status; want != "" && st.Status != want {
		out = append(out, fmt.Sprintf("status %s, want %s%s", st.Status, want, why()))
	}
	for _, k := range sortedKeys(f.Expect.Outputs) {
		want := asList(f.Expect.Outputs[k])
		got, ok := st.Outputs[k]
		if !ok {
			out = append(out, fmt.Sprintf("output %s not set, want %q", k, want))
		} else if !slices.Equal(got, want) {
			out = append(out, fmt.Sprintf("output %s = %q, want %q", k, got, want))
		}
	}
	for _, name := range sortedKeys(f.Expect.Steps) {
		want := f.Expect.Steps[name]
		got := engine.StatusPending
		for _, s := range st.Steps {
			if s.Name == name {
				got = s.Status
			}
		}
		if got != want {
			out = append(out, fmt.Sprintf("step %s %s, want %s%s", name, got, want, why()))
		}
	}
	return out
}

// asList gives an expected output as the list of strings the execution
// reports, rendered as the engine renders outputs (a YAML true is "true",
// as a Boolean output reads).
func asList(v any) []string {
	return engine.StringList(v)
}

// usesScripts reports whether a step runs the runbook's own code, whose
// AWS calls must reach the mocks over the network.
func usesScripts(steps []*document.Step, reg *action.Registry) bool {
	for _, s := range steps {
		if e, ok := reg.Lookup(s.Action); ok && e.Spec.RunsCode || usesScripts(s.Steps, reg) {
			return true
		}
	}
	return false
}
