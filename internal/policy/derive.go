package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/template"
)

// Options configure Derive.
type Options struct {
	// Actions holds the action declarations; required.
	Actions *action.Registry
	// Scope places resource ARNs; empty fields become "*".
	Scope Scope
	// Runbooks finds the child runbooks aws:executeAutomation names. Nil
	// means every child is a gap.
	Runbooks func(ctx context.Context, name string) (*document.Document, error)
	// Caller is the identity that runs capstan, as an ARN, for the trust
	// policies; "" when not known.
	Caller string
	// Chain are the roles capstan assumes, in order, before the runbook's
	// own assumeRole (capstan run --assume-role, --external-id).
	Chain []Hop
}

// Hop is one role of an assume-role chain.
type Hop struct {
	ARN        string
	ExternalID string
}

// DefaultExecutionRole is the role SSM assumes in each account of
// TargetLocations when the location names none.
const DefaultExecutionRole = "AWS-SystemsManager-AutomationExecutionRole"

// Role is one identity that needs permissions, with what it needs and who
// assumes it.
type Role struct {
	// ARN is the role; "" for the identity that runs capstan.
	ARN string
	// Why says what the role is for: "runs the runbook", "assume-role hop
	// 1", "TargetLocations execution role of step copy".
	Why    string
	Grants Grants
	// TrustedBy are the principals that assume this role; "" stands for the
	// identity that runs capstan when Options.Caller is empty.
	TrustedBy []string
	// ExternalID is the sts:ExternalId the role's trust policy requires.
	ExternalID string
}

// Trust returns the role's trust policy, nil for the caller's identity. An
// unknown caller is written as the account's root, which lets any identity
// of the account that may call sts:AssumeRole on the role assume it.
func (r *Role) Trust(sc Scope) *Document {
	if r.ARN == "" {
		return nil
	}
	principals := make([]string, len(r.TrustedBy))
	for i, p := range r.TrustedBy {
		if p == "" {
			p = "arn:" + sc.partition() + ":iam::" + sc.account() + ":root"
		}
		principals[i] = p
	}
	st := Statement{Effect: "Allow", Principal: map[string][]string{"AWS": principals}, Action: []string{"sts:AssumeRole"}}
	if r.ExternalID != "" {
		st.Condition = map[string]any{"StringEquals": map[string]any{"sts:ExternalId": r.ExternalID}}
	}
	return &Document{Version: Version, Statement: []Statement{st}}
}

// Gap is a place where the policy cannot be complete.
type Gap struct {
	Runbook string // the runbook's file or name
	Step    string
	Action  string
	Reason  string
}

func (g Gap) String() string {
	return fmt.Sprintf("%s: step %s (%s): %s", g.Runbook, g.Step, g.Action, g.Reason)
}

// Result is the derived policy.
type Result struct {
	// Roles[0] runs the runbook's steps; the others are assume-role hops
	// before it and roles in other accounts (TargetLocations).
	Roles []*Role
	Gaps  []Gap
}

// Complete reports whether every step's needs are known.
func (r *Result) Complete() bool { return len(r.Gaps) == 0 }

// maxDepth bounds child runbooks within child runbooks.
const maxDepth = 10

// Derive computes what running doc with params needs. params are the
// coerced parameters (document.Coerce), defaults applied.
func Derive(ctx context.Context, doc *document.Document, params map[string]any, opts Options) (*Result, error) {
	if opts.Actions == nil {
		return nil, fmt.Errorf("policy: no action registry")
	}
	d := &deriver{opts: opts, res: &Result{}, roles: map[string]*Role{}}
	runner := &Role{Why: "runs the runbook", Grants: Grants{}}
	d.res.Roles = append(d.res.Roles, runner)
	// The chain the caller configures leads to the runbook's assumeRole.
	prev := opts.Caller
	var hops []*Role
	for i, h := range opts.Chain {
		r := &Role{ARN: h.ARN, Why: fmt.Sprintf("assume-role hop %d of %d", i+1, len(opts.Chain)), Grants: Grants{}, TrustedBy: []string{prev}, ExternalID: h.ExternalID}
		if i > 0 {
			hops[i-1].Grants.Add("sts:AssumeRole", h.ARN)
		}
		hops = append(hops, r)
		prev = h.ARN
	}
	if role, ok := literal(d.substitute(doc.AssumeRole, params)); ok && role != "" {
		runner.ARN = role
		runner.TrustedBy = []string{prev}
		if len(hops) > 0 {
			hops[len(hops)-1].Grants.Add("sts:AssumeRole", role)
		}
	} else if len(hops) > 0 {
		// Without an assumeRole the last hop runs the steps.
		last := hops[len(hops)-1]
		runner.ARN, runner.TrustedBy, runner.ExternalID = last.ARN, last.TrustedBy, last.ExternalID
		runner.Why = "runs the runbook (" + last.Why + ")"
		hops = hops[:len(hops)-1]
	}
	d.res.Roles = append(d.res.Roles, hops...)
	if err := d.runbook(ctx, doc, params, runner, []string{doc.File}); err != nil {
		return nil, err
	}
	return d.res, nil
}

type deriver struct {
	opts  Options
	res   *Result
	roles map[string]*Role // by ARN, the roles of other accounts
}

func (d *deriver) gap(doc *document.Document, st *document.Step, format string, args ...any) {
	d.res.Gaps = append(d.res.Gaps, Gap{Runbook: doc.File, Step: st.Name, Action: st.Action, Reason: fmt.Sprintf(format, args...)})
}

func (d *deriver) runbook(ctx context.Context, doc *document.Document, params map[string]any, role *Role, stack []string) error {
	return d.steps(ctx, doc, doc.MainSteps, params, role, stack)
}

func (d *deriver) steps(ctx context.Context, doc *document.Document, steps []*document.Step, params map[string]any, role *Role, stack []string) error {
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.steps(ctx, doc, st.Steps, params, role, stack); err != nil {
			return err
		}
		entry, ok := d.opts.Actions.Lookup(st.Action)
		if !ok {
			d.gap(doc, st, "unknown action")
			continue
		}
		v, _ := d.substitute(st.Inputs, params).(map[string]any)
		acts, gap := entry.Spec.IAM(v)
		// An API call's request names the resources of its main action;
		// the others (s3 CopyObject's read of its source) act elsewhere.
		main := ""
		if svc, ok := literal(v["Service"]); ok {
			if api, ok := literal(v["Api"]); ok {
				main, _ = awsservice.IAMAction(svc, api)
			}
		}
		for _, a := range acts {
			if main != "" && a != main {
				role.Grants.Add(a, "*")
				continue
			}
			role.Grants.Add(a, resources(d.opts.Scope, a, v)...)
		}
		if entry.Spec.ChildExecution {
			if err := d.child(ctx, doc, st, v, role, stack); err != nil {
				return err
			}
			continue
		}
		if gap != "" {
			d.gap(doc, st, "%s", gap)
		}
	}
	return nil
}

// child adds what an aws:executeAutomation step's child runbook needs: to
// the same role, to the child's own assumeRole, or to the execution roles of
// its TargetLocations.
func (d *deriver) child(ctx context.Context, doc *document.Document, st *document.Step, inputs map[string]any, role *Role, stack []string) error {
	name, ok := literal(inputs["DocumentName"])
	if !ok || name == "" {
		d.gap(doc, st, "DocumentName %v is templated: the child runbook is known only when the step runs", inputs["DocumentName"])
		return nil
	}
	if slices.Contains(stack, name) || len(stack) > maxDepth {
		d.gap(doc, st, "child runbook %s calls itself (via %s)", name, strings.Join(stack, " → "))
		return nil
	}
	if d.opts.Runbooks == nil {
		d.gap(doc, st, "child runbook %s: no runbook source to read it from", name)
		return nil
	}
	child, err := d.opts.Runbooks(ctx, name)
	if err != nil {
		d.gap(doc, st, "child runbook %s: %v", name, err)
		return nil
	}
	params := childParams(child, inputs["RuntimeParameters"])
	runner := role
	if r, ok := literal(d.substitute(child.AssumeRole, params)); ok && r != "" && r != role.ARN {
		runner = d.role(r, "assumeRole of child runbook "+name, d.opts.Caller)
	}
	if locs, present := inputs["TargetLocations"]; present && locs != nil {
		arns, ok := d.targetRoles(locs)
		if !ok {
			d.gap(doc, st, "TargetLocations is templated: the accounts and roles are known only when the step runs")
			return nil
		}
		for _, arn := range arns {
			role.Grants.Add("sts:AssumeRole", arn)
			r := d.role(arn, "TargetLocations execution role of step "+st.Name, trustee(role.ARN, d.opts.Caller))
			if err := d.runbook(ctx, child, params, r, append(stack, name)); err != nil {
				return err
			}
		}
		return nil
	}
	return d.runbook(ctx, child, params, runner, append(stack, name))
}

func trustee(role, caller string) string {
	if role != "" {
		return role
	}
	return caller
}

// role returns the role of another identity, adding it the first time.
func (d *deriver) role(arn, why, trustedBy string) *Role {
	if r, ok := d.roles[arn]; ok {
		if !slices.Contains(r.TrustedBy, trustedBy) {
			r.TrustedBy = append(r.TrustedBy, trustedBy)
		}
		return r
	}
	r := &Role{ARN: arn, Why: why, Grants: Grants{}, TrustedBy: []string{trustedBy}}
	d.roles[arn] = r
	d.res.Roles = append(d.res.Roles, r)
	return r
}

// targetRoles lists the execution role ARNs of literal TargetLocations.
func (d *deriver) targetRoles(v any) ([]string, bool) {
	locs, ok := v.([]any)
	if !ok {
		return nil, false
	}
	var out []string
	for _, l := range locs {
		m, ok := l.(map[string]any)
		if !ok {
			return nil, false
		}
		accounts, ok := literals(m["Accounts"])
		if !ok {
			return nil, false
		}
		name := DefaultExecutionRole
		if n, present := m["ExecutionRoleName"]; present {
			if name, ok = literal(n); !ok {
				return nil, false
			}
		}
		for _, a := range accounts {
			arn := "arn:" + d.opts.Scope.partition() + ":iam::" + a + ":role/" + name
			if !slices.Contains(out, arn) {
				out = append(out, arn)
			}
		}
	}
	return out, true
}

// childParams gives the child's parameters: the runtime parameters coerced
// to the child's declaration, or, when some are still templated, given
// values over defaults as they are.
func childParams(child *document.Document, runtime any) map[string]any {
	m, _ := runtime.(map[string]any)
	if p, err := Parameters(child, document.Inputs{Typed: m}); err == nil {
		return p
	}
	out := map[string]any{}
	for _, p := range child.Parameters {
		if v, ok := m[p.Name]; ok {
			out[p.Name] = v
		} else if p.HasDefault {
			out[p.Name] = p.Default
		}
	}
	return out
}

// substitute resolves the references the policy can know before a run:
// parameters and the global variables of the scope. Step outputs,
// variables, automation:EXECUTION_ID and ssm: parameters stay as written,
// so the values that hold them count as templated.
func (d *deriver) substitute(v any, params map[string]any) any {
	sc := d.opts.Scope
	out, err := template.Substitute(v, template.ResolverFunc(func(ref template.Ref) (any, error) {
		switch ref.Namespace {
		case template.NSNone:
			if p, ok := params[ref.Name]; ok && !strings.Contains(ref.Name, ".") {
				return p, nil
			}
		case template.NSGlobal:
			switch {
			case ref.Name == "ACCOUNT_ID" && sc.Account != "":
				return sc.Account, nil
			case ref.Name == "REGION" && sc.Region != "":
				return sc.Region, nil
			case ref.Name == "AWS_PARTITION":
				return sc.partition(), nil
			}
		}
		return ref.String(), nil
	}))
	if err != nil {
		return v
	}
	return out
}

// literal returns v when it is a string holding no template.
func literal(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || strings.Contains(s, "{{") {
		return "", false
	}
	return s, true
}

// Parameters coerces the given parameters as a run would, except that a
// required parameter left out is not an error: it stays an unresolved
// reference, so what it would name counts as "*".
func Parameters(doc *document.Document, in document.Inputs) (map[string]any, error) {
	given := map[string]bool{}
	for k := range in.Typed {
		given[k] = true
	}
	for k := range in.Values {
		given[k] = true
	}
	for _, f := range in.Flags {
		name, _, _ := strings.Cut(f, "=")
		given[name] = true
	}
	open := *doc
	open.Parameters = make([]*document.Parameter, len(doc.Parameters))
	for i, p := range doc.Parameters {
		if !p.HasDefault && !given[p.Name] {
			cp := *p
			cp.HasDefault, cp.Default = true, "{{ "+p.Name+" }}"
			p = &cp
		}
		open.Parameters[i] = p
	}
	return open.Coerce(in)
}
