// Package dryrun runs a runbook without changing anything: calls that only
// read (Describe, Get, List, as the model names them) are made for real;
// any other call is not made but recorded with its full request, and the
// step that would have made it ends there as succeeded, with the response
// given in a responses file or with its outputs left unresolved. It works by
// wrapping the AWS invoker and the actions, not inside the engine.
package dryrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mock"
)

// Call is one AWS call a dry run met.
type Call struct {
	Step      string         `json:"Step"`
	Service   string         `json:"Service"`
	Operation string         `json:"Operation"`
	Request   map[string]any `json:"Request,omitempty"`
	// Made: the call was sent (it only reads); otherwise it was not.
	Made bool `json:"Made"`
	// Answered: a call not made was answered from the responses file.
	Answered bool   `json:"Answered,omitempty"`
	Error    string `json:"Error,omitempty"`
}

// Run collects what one dry run did and did not do.
type Run struct {
	responses *mock.Set

	mu       sync.Mutex
	calls    []Call
	notRun   []string // steps not run at all (scripts)
	resolved map[string]bool
}

// New returns a dry run answering calls not made from responses (nil for
// none).
func New(responses []*mock.Mock) *Run {
	return &Run{responses: mock.NewSet(responses), resolved: map[string]bool{}}
}

// skipped ends the step that made a mutating call: nothing after it in the
// step can be right without the change having happened.
type skipped struct {
	call     Call
	response map[string]any
}

func (s *skipped) Error() string {
	return fmt.Sprintf("dry run: %s %s not made", s.call.Service, s.call.Operation)
}

// Invoker wraps the AWS invoker of an execution.
func (r *Run) Invoker(inner action.Invoker) action.Invoker {
	return invoker{run: r, inner: inner}
}

type invoker struct {
	run   *Run
	inner action.Invoker
}

func (x invoker) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	op := awsservice.OperationName(operation)
	c := Call{Step: engine.StepFromContext(ctx), Service: service, Operation: op, Request: input}
	if action.ReadOnlyOperation(op) {
		out, err := x.inner.Invoke(ctx, service, operation, input)
		c.Made = true
		c.Request = nil
		if err != nil {
			c.Error = err.Error()
		}
		x.run.add(c)
		return out, err
	}
	sk := &skipped{call: c}
	if svc, ok := awsservice.Lookup(service); ok {
		if m, ok := x.run.responses.Take(svc.Name, op, input); ok && m.Error == nil {
			sk.call.Answered = true
			sk.response = m.Response
		}
	}
	x.run.add(sk.call)
	return nil, sk
}

func (r *Run) add(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// Actions returns a copy of reg whose actions end a step as succeeded at its
// first call not made, and that does not run scripts (their calls cannot be
// seen before they are made).
func (r *Run) Actions(reg *action.Registry) *action.Registry {
	out := reg.Clone()
	for _, name := range out.Names() {
		e, _ := out.Lookup(name)
		if e.Impl == nil {
			continue
		}
		if e.Spec.RunsCode {
			out.SetImpl(name, notRun{run: r})
			continue
		}
		out.SetImpl(name, stopAtChange{run: r, inner: e.Impl})
	}
	return out
}

type stopAtChange struct {
	run   *Run
	inner action.Action
}

func (a stopAtChange) Run(ctx context.Context, req *action.Request) (*action.Result, error) {
	res, err := a.inner.Run(ctx, req)
	var sk *skipped
	if !errors.As(err, &sk) {
		return res, err
	}
	a.run.mu.Lock()
	a.run.resolved[req.Step] = sk.call.Answered
	a.run.mu.Unlock()
	if sk.response == nil {
		return &action.Result{}, nil
	}
	return &action.Result{Response: sk.response, Outputs: nil}, nil
}

type notRun struct{ run *Run }

func (a notRun) Run(_ context.Context, req *action.Request) (*action.Result, error) {
	a.run.mu.Lock()
	a.run.notRun = append(a.run.notRun, req.Step)
	a.run.resolved[req.Step] = false
	a.run.mu.Unlock()
	return &action.Result{}, nil
}

// Report is what a dry run did and did not do.
type Report struct {
	Made    []Call   `json:"CallsMade"`
	NotMade []Call   `json:"CallsNotMade"`
	Scripts []string `json:"ScriptsNotRun,omitempty"`
	// Unresolved are the steps whose outputs are left unresolved: no
	// response was given for the call that ended them.
	Unresolved []string `json:"OutputsUnresolved,omitempty"`
}

// Report returns the report so far.
func (r *Run) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Made: []Call{}, NotMade: []Call{}, Scripts: append([]string(nil), r.notRun...)}
	for _, c := range r.calls {
		if c.Made {
			rep.Made = append(rep.Made, c)
		} else {
			rep.NotMade = append(rep.NotMade, c)
		}
	}
	seen := map[string]bool{}
	for _, c := range r.calls {
		if !c.Made && !r.resolved[c.Step] && !seen[c.Step] {
			seen[c.Step] = true
			rep.Unresolved = append(rep.Unresolved, c.Step)
		}
	}
	for _, s := range r.notRun {
		if !seen[s] {
			seen[s] = true
			rep.Unresolved = append(rep.Unresolved, s)
		}
	}
	return rep
}

// WriteText writes the report for people.
func (rep Report) WriteText(w io.Writer) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("dry run: calls made %d, not made %d\n", len(rep.Made), len(rep.NotMade))
	for _, c := range rep.Made {
		p("  made      %s: %s %s", c.Step, c.Service, c.Operation)
		if c.Error != "" {
			p(" (failed: %s)", c.Error)
		}
		p("\n")
	}
	for _, c := range rep.NotMade {
		b, jerr := json.Marshal(c.Request)
		if jerr != nil {
			b = []byte(fmt.Sprint(c.Request))
		}
		how := "outputs left unresolved"
		if c.Answered {
			how = "answered from the responses file"
		}
		p("  not made  %s: %s %s %s (%s)\n", c.Step, c.Service, c.Operation, b, how)
	}
	for _, s := range rep.Scripts {
		p("  not run   %s: aws:executeScript (a script's calls cannot be previewed); outputs left unresolved\n", s)
	}
	return err
}
