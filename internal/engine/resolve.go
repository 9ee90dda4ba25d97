package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/template"
)

// resolver answers {{ }} references for one step of one execution.
type resolver struct {
	r   *run
	ctx context.Context
	// depth guards parameter defaults that refer to other parameters.
	depth int
	// forRole: resolving the runbook's assumeRole, which SSM does not let
	// read Parameter Store (and which the AWS caller itself depends on).
	forRole bool
}

func (r *run) resolveInputs(ctx context.Context, inputs map[string]any) (map[string]any, error) {
	if inputs == nil {
		return nil, nil
	}
	v, err := template.Substitute(inputs, &resolver{r: r, ctx: ctx})
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

func (z *resolver) Resolve(ref template.Ref) (any, error) {
	r := z.r
	switch ref.Namespace {
	case template.NSNone:
		step, out, isOutput := strings.Cut(ref.Name, ".")
		if !isOutput {
			v, ok := r.params[ref.Name]
			if !ok {
				return nil, fmt.Errorf("parameter %s is not declared", ref.Name)
			}
			return z.param(ref.Name, v)
		}
		for i := len(r.loops) - 1; i >= 0; i-- {
			if f := r.loops[i]; f.name == step {
				switch out {
				case "CurrentIteration":
					return int64(f.iteration), nil
				case "CurrentIteratorValue":
					if f.hasValue {
						return f.value, nil
					}
				}
			}
		}
		if v, ok := r.outputs[step][out]; ok {
			return v, nil
		}
		return nil, r.unproduced(step, out)
	case template.NSVariable:
		r.mu.Lock()
		v, ok := r.state.Variables[ref.Name]
		r.mu.Unlock()
		if !ok {
			for _, d := range r.doc.Variables {
				if d.Name == ref.Name && d.HasDefault {
					return d.Default, nil
				}
			}
			return nil, fmt.Errorf("variable %s is not declared", ref.Name)
		}
		return v, nil
	case template.NSGlobal, template.NSAutomation:
		if v, ok := r.system().Lookup(ref.Namespace, ref.Name); ok {
			return v, nil
		}
		if ref.Namespace == template.NSGlobal && ref.Name == "ACCOUNT_ID" {
			return r.callerAccount(z.ctx)
		}
		return nil, fmt.Errorf("unknown system variable %s:%s", ref.Namespace, ref.Name)
	case template.NSSSM:
		if z.forRole {
			return nil, fmt.Errorf("assumeRole cannot read Parameter Store (%s); SSM rejects it too: pass the role as a parameter", ref)
		}
		out, err := r.invoker.Invoke(z.ctx, "ssm", "GetParameter", map[string]any{"Name": ref.Name})
		if err != nil {
			return nil, fmt.Errorf("reading Parameter Store %s: %w", ref.Name, err)
		}
		p, _ := out["Parameter"].(map[string]any)
		if p["Type"] == "SecureString" {
			return nil, fmt.Errorf("parameter store %s is a SecureString, which SSM Automation does not substitute; use {{ key:PATH }}", ref.Name)
		}
		return p["Value"], nil
	case template.NSKey:
		v, err := r.secret(z.ctx, ref.Name)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("unsupported reference %s", ref)
}

// unproduced explains a step output with no value. An output the step
// declares but did not produce (its selector matched nothing, or the step
// has not succeeded) is template.ErrUnresolved: SSM leaves the reference as
// its literal text. An output the step does not declare, or a step the
// runbook does not have, fails the referring step, as on SSM
// (docs/references.md).
func (r *run) unproduced(step, out string) error {
	s := r.doc.Step(step)
	if s == nil {
		return errors.New(r.doc.NoStep(step))
	}
	if !document.DeclaresOutput(s, out, r.e.opts.Actions) {
		return fmt.Errorf("step %s declares no output %s", step, out)
	}
	return fmt.Errorf("step %s produced no output %s: %w", step, out, template.ErrUnresolved)
}

// callerAccount asks STS for the account of the execution's credentials when
// the engine was not told one: with an assumeRole that is the role's account,
// which is what SSM means by global:ACCOUNT_ID. The answer is kept for the
// run, so a runbook that refers to it many times makes one call; a failure
// is not kept.
func (r *run) callerAccount(ctx context.Context) (string, error) {
	r.accountMu.Lock()
	defer r.accountMu.Unlock()
	if r.account != "" {
		return r.account, nil
	}
	out, err := r.invoker.Invoke(ctx, "sts", "GetCallerIdentity", map[string]any{})
	if err != nil {
		return "", fmt.Errorf("global:ACCOUNT_ID: asking STS for the account: %w", err)
	}
	acct, _ := out["Account"].(string)
	if acct == "" {
		return "", fmt.Errorf("global:ACCOUNT_ID: STS GetCallerIdentity returned no account")
	}
	r.account = acct
	return acct, nil
}

// param substitutes a parameter value that is itself a template (a default
// such as "{{ global:ACCOUNT_ID }}" or one naming another parameter).
func (z *resolver) param(name string, v any) (any, error) {
	s, ok := v.(string)
	if !ok || !strings.Contains(s, "{{") || !z.r.documentDefault(name, s) {
		return v, nil
	}
	if z.depth > 8 {
		return nil, fmt.Errorf("parameter defaults refer to each other in a circle")
	}
	return template.Substitute(s, &resolver{r: z.r, ctx: z.ctx, depth: z.depth + 1, forRole: z.forRole})
}

func (r *run) system() template.System {
	return systemOf(r.id, &r.state.Started, r.e.opts.Clock.Now)
}

// systemOf is the one set of system variables of an execution, built from
// its start event: the role recorded at start and every step see the same
// region, account and partition.
func systemOf(id string, started *executionStarted, now func() time.Time) template.System {
	return template.System{
		AccountID:    started.AccountID,
		Region:       started.Region,
		Partition:    started.Partition,
		ExecutionID:  id,
		DocumentName: started.DocumentName,
		Now:          now,
	}
}

// assumeRole resolves the runbook's assumeRole: the value recorded at start,
// or, when it needed more than parameters (a Parameter Store reference),
// resolved now.
func (r *run) assumeRole() (string, error) {
	if r.state.Started.AssumeRole != "" || r.doc.AssumeRole == "" {
		return r.state.Started.AssumeRole, nil
	}
	v, err := template.Substitute(r.doc.AssumeRole, &resolver{r: r, ctx: r.hardCtx, forRole: true})
	if err != nil {
		return "", fmt.Errorf("assumeRole: %w", err)
	}
	s, _ := v.(string)
	return s, nil
}

// invokerFor attributes the calls of one step to it.
func (r *run) invokerFor(step string) action.Invoker {
	return stepInvoker{inner: r.invoker, step: step, run: r}
}

type stepInvoker struct {
	inner action.Invoker
	step  string
	run   *run
}

type stepKey struct{}

func (s stepInvoker) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	return s.inner.Invoke(context.WithValue(ctx, stepKey{}, s.step), service, operation, input)
}

// StepFromContext names the step an AWS call belongs to, for call records.
func StepFromContext(ctx context.Context) string {
	s, _ := ctx.Value(stepKey{}).(string)
	return s
}

// maxPendingCalls bounds the calls a step holds in memory before they get a
// commit of their own (a long aws:waitForAwsResourceProperty polls for hours).
const maxPendingCalls = 64

// recordCall keeps c for the execution's next append (see run.calls); only a
// step that has made maxPendingCalls calls stores them on their own.
func (r *run) recordCall(c store.Call) {
	r.callMu.Lock()
	defer r.callMu.Unlock() // held while storing, so calls keep their order
	r.calls = append(r.calls, c)
	if len(r.calls) >= maxPendingCalls {
		err := r.e.opts.Store.AppendCalls(context.WithoutCancel(r.hardCtx), r.id, r.calls)
		if err != nil {
			// Kept: the next append of the execution stores them.
			r.e.opts.Logger.Warn("recording AWS calls", "execution", r.id, "calls", len(r.calls), "error", err)
			return
		}
		r.calls = nil
	}
}

// masker masks key-storage secrets resolved during an execution wherever
// its record would otherwise hold them.
type masker struct {
	keys.Masker
	added atomic.Int32 // lets maskValue skip the walk when nothing is secret
	// derived holds the names of steps whose outputs derive from a secret
	// (see secrets.go); their records show every output masked.
	derived sync.Map
}

func (m *masker) add(s string) {
	m.Add(s)
	m.added.Add(1)
}

func (m *masker) mask(s string) string { return m.Mask(s) }

// inherit makes m hide everything parent hides.
func (m *masker) inherit(parent *masker) {
	m.AddFrom(&parent.Masker)
	m.added.Add(1)
}

// maskValue masks every string inside a decoded value.
func (m *masker) maskValue(v map[string]any) map[string]any {
	if v == nil || m.added.Load() == 0 {
		return v
	}
	out, _ := m.walk(v).(map[string]any)
	return out
}

func (m *masker) walk(v any) any {
	switch x := v.(type) {
	case string:
		return m.mask(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.walk(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = m.walk(e)
		}
		return out
	}
	return v
}

// StringList renders a typed value as SSM renders outputs and parameters: a
// list of strings (lists element by element, maps and nested values as JSON).
func StringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return []string{}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = scalarText(e)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	return []string{scalarText(v)}
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ParameterText renders coerced parameters as SSM's map of string lists.
func ParameterText(params map[string]any) map[string][]string {
	out := make(map[string][]string, len(params))
	for k, v := range params {
		out[k] = StringList(v)
	}
	return out
}

// startRole resolves the runbook's assumeRole from the parameters and system
// variables alone, so the execution record shows the role from its first
// event. It returns "" when the role needs more (it is resolved at run time).
func startRole(doc *document.Document, params map[string]any, sys template.System) string {
	if doc.AssumeRole == "" {
		return ""
	}
	var depth int
	var resolve template.ResolverFunc
	resolve = func(ref template.Ref) (any, error) {
		switch ref.Namespace {
		case template.NSNone:
			v, ok := params[ref.Name]
			if !ok {
				return nil, fmt.Errorf("parameter %s is not declared", ref.Name)
			}
			if s, isStr := v.(string); isStr && strings.Contains(s, "{{") && depth < 8 {
				depth++
				return template.Substitute(s, resolve)
			}
			return v, nil
		case template.NSGlobal, template.NSAutomation:
			if v, ok := sys.Lookup(ref.Namespace, ref.Name); ok {
				return v, nil
			}
		}
		return nil, fmt.Errorf("%s needs the run", ref)
	}
	v, err := template.Substitute(doc.AssumeRole, resolve)
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}
