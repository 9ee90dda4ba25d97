package authz

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Policy is a parsed IAM-style policy document: a list of statements, each
// allowing or denying actions on resources under conditions.
type Policy struct {
	Version    string
	Statements []Statement
}

// Effect is what a statement does when it applies.
type Effect bool

// The two effects.
const (
	Allow Effect = true
	Deny  Effect = false
)

// Statement is one statement of a policy. Exactly one of Actions and
// NotActions is set, and at most one of Resources and NotResources (none
// means every resource).
type Statement struct {
	Sid          string
	Effect       Effect
	Actions      []string // lowercase patterns
	NotActions   []string
	Resources    []string // patterns that may hold ${...} policy variables
	NotResources []string
	Conditions   []Condition
}

// PolicyError is a policy document that cannot be used: Path names the
// element in JSON terms (Statement[1].Effect), Line and Column where it is.
type PolicyError struct {
	Source string // the file or name of the policy, if known
	Line   int
	Column int
	Path   string
	Msg    string
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// The policy language versions IAM accepts.
var versions = []string{"2012-10-17", "2008-10-17"}

// Parse reads a policy document. source names it in errors (a file name or
// a user's name); every error is a *PolicyError with its line and column.
func Parse(source string, src []byte) (*Policy, error) {
	p := &parser{source: source, src: src}
	root, err := parseTree(src)
	if err != nil {
		se := err.(*SyntaxError)
		line, col := lineCol(src, se.Offset)
		return nil, &PolicyError{Source: source, Line: line, Column: col, Msg: "not a JSON policy document: " + se.Msg}
	}
	return p.policy(root)
}

type parser struct {
	source string
	src    []byte
}

func (p *parser) errorf(n *node, path, format string, args ...any) error {
	line, col := lineCol(p.src, n.off)
	return &PolicyError{Source: p.source, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) keyErrorf(obj *node, key, path, format string, args ...any) error {
	line, col := lineCol(p.src, obj.keyOff[key])
	return &PolicyError{Source: p.source, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) policy(root *node) (*Policy, error) {
	if root.kind != '{' {
		return nil, p.errorf(root, "", "expected a policy object with Version and Statement, got %s", kindName(root))
	}
	pol := &Policy{}
	for _, k := range root.keys {
		v := root.fields[k]
		switch k {
		case "Version":
			if v.kind != 's' || !slices.Contains(versions, v.str) {
				return nil, p.errorf(v, "Version", "expected %q, got %s", versions[0], describe(v))
			}
			pol.Version = v.str
		case "Id":
			if v.kind != 's' {
				return nil, p.errorf(v, "Id", "expected a string, got %s", kindName(v))
			}
		case "Statement":
			stmts := []*node{v}
			if v.kind == '[' {
				stmts = v.items
			}
			for i, sn := range stmts {
				path := "Statement"
				if v.kind == '[' {
					path = fmt.Sprintf("Statement[%d]", i)
				}
				st, err := p.statement(sn, path)
				if err != nil {
					return nil, err
				}
				pol.Statements = append(pol.Statements, st)
			}
		default:
			return nil, p.keyErrorf(root, k, "", "unknown element %q (expected Version, Id or Statement)", k)
		}
	}
	if _, ok := root.fields["Statement"]; !ok {
		return nil, p.errorf(root, "", "missing Statement")
	}
	return pol, nil
}

func (p *parser) statement(n *node, path string) (Statement, error) {
	var st Statement
	if n.kind != '{' {
		return st, p.errorf(n, path, "expected a statement object, got %s", kindName(n))
	}
	seen := map[string]bool{}
	for _, k := range n.keys {
		v := n.fields[k]
		kp := path + "." + k
		var err error
		switch k {
		case "Sid":
			if v.kind != 's' {
				return st, p.errorf(v, kp, "expected a string, got %s", kindName(v))
			}
			st.Sid = v.str
		case "Effect":
			switch {
			case v.kind == 's' && v.str == "Allow":
				st.Effect = Allow
			case v.kind == 's' && v.str == "Deny":
				st.Effect = Deny
			default:
				return st, p.errorf(v, kp, `expected "Allow" or "Deny", got %s`, describe(v))
			}
		case "Action", "NotAction":
			var list []string
			if list, err = p.strings(v, kp); err != nil {
				return st, err
			}
			for i, a := range list {
				if a != "*" && !strings.Contains(a, ":") {
					return st, p.errorf(v, kp, "action %q: expected service:Action (e.g. ssm:GetAutomationExecution) or *", a)
				}
				list[i] = strings.ToLower(a)
			}
			if k == "Action" {
				st.Actions = list
			} else {
				st.NotActions = list
			}
		case "Resource", "NotResource":
			var list []string
			if list, err = p.strings(v, kp); err != nil {
				return st, err
			}
			for _, r := range list {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					return st, p.errorf(v, kp, "resource %q: expected an ARN (arn:...) or *", r)
				}
				if err := checkVariables(r); err != nil {
					return st, p.errorf(v, kp, "resource %q: %v", r, err)
				}
			}
			if k == "Resource" {
				st.Resources = list
			} else {
				st.NotResources = list
			}
		case "Condition":
			if st.Conditions, err = p.conditions(v, kp); err != nil {
				return st, err
			}
		case "Principal", "NotPrincipal":
			return st, p.keyErrorf(n, k, kp, "a user's policy applies to that user; %s belongs in resource policies, which capstan does not have", k)
		default:
			return st, p.keyErrorf(n, k, kp, "unknown element %q (expected Sid, Effect, Action, NotAction, Resource, NotResource or Condition)", k)
		}
		seen[k] = true
	}
	switch {
	case !seen["Effect"]:
		return st, p.errorf(n, path, "missing Effect")
	case seen["Action"] == seen["NotAction"]:
		return st, p.errorf(n, path, "expected exactly one of Action and NotAction")
	case seen["Resource"] && seen["NotResource"]:
		return st, p.errorf(n, path, "expected at most one of Resource and NotResource")
	}
	return st, nil
}

// strings reads a string or a non-empty list of strings, as IAM writes
// single values without brackets.
func (p *parser) strings(n *node, path string) ([]string, error) {
	if n.kind == 's' {
		return []string{n.str}, nil
	}
	if n.kind != '[' || len(n.items) == 0 {
		return nil, p.errorf(n, path, "expected a string or a non-empty list of strings, got %s", describe(n))
	}
	out := make([]string, len(n.items))
	for i, it := range n.items {
		if it.kind != 's' {
			return nil, p.errorf(it, fmt.Sprintf("%s[%d]", path, i), "expected a string, got %s", kindName(it))
		}
		out[i] = it.str
	}
	return out, nil
}

func (p *parser) conditions(n *node, path string) ([]Condition, error) {
	if n.kind != '{' {
		return nil, p.errorf(n, path, "expected an object of operators, got %s", kindName(n))
	}
	var out []Condition
	for _, opName := range n.keys {
		opNode := n.fields[opName]
		op, ifExists, ok := lookupOperator(opName)
		if !ok {
			return nil, p.keyErrorf(n, opName, path+"."+opName, "unknown condition operator %q (expected one of %s, optionally with IfExists)", opName, strings.Join(operatorNames(), ", "))
		}
		if opNode.kind != '{' {
			return nil, p.errorf(opNode, path+"."+opName, "expected an object of condition keys, got %s", kindName(opNode))
		}
		for _, key := range opNode.keys {
			kp := path + "." + opName + "." + key
			if !knownKey(key) {
				return nil, p.keyErrorf(opNode, key, kp, "unknown condition key %q (capstan knows %s)", key, strings.Join(Keys, ", "))
			}
			v := opNode.fields[key]
			var vals []string
			if v.kind == 'o' {
				if b, ok := v.scalar.(bool); ok {
					vals = []string{fmt.Sprint(b)}
				}
			}
			if vals == nil {
				var err error
				if vals, err = p.strings(v, kp); err != nil {
					return nil, err
				}
			}
			for _, s := range vals {
				if err := checkVariables(s); err != nil {
					return nil, p.errorf(v, kp, "value %q: %v", s, err)
				}
			}
			out = append(out, Condition{Operator: opName, op: op, ifExists: ifExists, Key: strings.ToLower(key), Values: vals})
		}
	}
	return out, nil
}

func describe(n *node) string {
	if n.kind == 's' {
		b, _ := json.Marshal(n.str)
		return string(b)
	}
	return kindName(n)
}
