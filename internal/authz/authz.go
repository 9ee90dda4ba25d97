// Package authz holds capstan's IAM-style policy language and the one
// authorizer every front end (the SSM API, the UI, webhooks) asks before it
// acts: statements of Effect, Action and Resource with wildcards, Condition
// over capstan's keys, explicit deny winning and deny by default.
package authz

import (
	"fmt"
	"strings"
)

// Request is one decision to make: may the caller perform Action on
// Resource? The other fields fill the condition keys; "" is absent.
type Request struct {
	Action   string // e.g. ssm:StopAutomationExecution
	Resource string // an ARN (see Scope)
	// Username is the caller's user name (aws:username).
	Username string
	// ExecutedBy is the user name that started the execution acted on.
	ExecutedBy string
	// Project is the project the resource belongs to.
	Project string
	// Owner is the user name that created the document acted on.
	Owner string
}

func (r *Request) value(key string) (string, bool) {
	var v string
	switch key {
	case "aws:username":
		v = r.Username
	case "capstan:executedby":
		v = r.ExecutedBy
	case "capstan:project":
		v = r.Project
	case "capstan:owner":
		v = r.Owner
	}
	return v, v != ""
}

// Decision is the outcome of evaluating policies for a request.
type Decision int

// The three outcomes, as IAM names them.
const (
	ImplicitDeny Decision = iota // no statement allows it
	Allowed
	ExplicitDeny // a Deny statement applies; nothing overrides it
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitly denied"
	}
	return "implicitly denied"
}

// Decide evaluates the policies for r: any applicable Deny statement wins,
// otherwise any applicable Allow allows, otherwise it is denied.
func Decide(policies []*Policy, r *Request) Decision {
	d := ImplicitDeny
	for _, p := range policies {
		for i := range p.Statements {
			st := &p.Statements[i]
			if !st.applies(r) {
				continue
			}
			if st.Effect == Deny {
				return ExplicitDeny
			}
			d = Allowed
		}
	}
	return d
}

func (st *Statement) applies(r *Request) bool {
	if st.Actions != nil && !anyGlob(st.Actions, r.Action, true) {
		return false
	}
	if st.NotActions != nil && anyGlob(st.NotActions, r.Action, true) {
		return false
	}
	if st.Resources != nil && !anyResource(st.Resources, r) {
		return false
	}
	if st.NotResources != nil && anyResource(st.NotResources, r) {
		return false
	}
	for i := range st.Conditions {
		if !st.Conditions[i].holds(r) {
			return false
		}
	}
	return true
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, r *Request) bool {
	for _, p := range patterns {
		p, ok := expand(p, r, false)
		if ok && glob(p, r.Resource, false) {
			return true
		}
	}
	return false
}

// Principal is a caller with the policies it acts under: a user, a UI
// session or a webhook.
type Principal struct {
	Name     string // the user name, aws:username
	ARN      string // for messages
	Policies []*Policy
}

// Authorize is the authorizer: nil when p may perform r.Action on
// r.Resource, a *DeniedError otherwise. r.Username is filled from p.
func (p *Principal) Authorize(r Request) error {
	r.Username = p.Name
	d := Decide(p.Policies, &r)
	if d == Allowed {
		return nil
	}
	return &DeniedError{Principal: p.ARN, Action: r.Action, Resource: r.Resource, Explicit: d == ExplicitDeny}
}

// Allows reports whether p may perform r; for filtering listings, where a
// refusal is not an error.
func (p *Principal) Allows(r Request) bool {
	r.Username = p.Name
	return Decide(p.Policies, &r) == Allowed
}

// DeniedError is a refused request. Its message is IAM's, so the API edge
// passes it on as SSM's AccessDeniedException.
type DeniedError struct {
	Principal string
	Action    string
	Resource  string
	Explicit  bool
}

func (e *DeniedError) Error() string {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", e.Principal, e.Action, e.Resource)
	if e.Explicit {
		return msg + " with an explicit deny in an identity-based policy"
	}
	return msg + " because no identity-based policy allows the " + e.Action + " action"
}

// AdministratorAccessName is the built-in policy allowing everything.
const AdministratorAccessName = "AdministratorAccess"

// AdministratorAccessDocument is the built-in policy's text.
const AdministratorAccessDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// Builtin returns the built-in policy of that name.
func Builtin(name string) (*Policy, bool) {
	if name != AdministratorAccessName {
		return nil, false
	}
	return &Policy{Version: "2012-10-17", Statements: []Statement{{Effect: Allow, Actions: []string{"*"}, Resources: []string{"*"}}}}, true
}

// ParsePolicyArg reads the --policy argument of the CLI and the API: the
// name of a built-in policy, or a JSON document (source names it in errors).
func ParsePolicyArg(source string, doc []byte) (*Policy, error) {
	s := strings.TrimSpace(string(doc))
	if p, ok := Builtin(s); ok {
		return p, nil
	}
	return Parse(source, doc)
}
