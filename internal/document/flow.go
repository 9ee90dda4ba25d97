package document

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// templates checks every {{ }} reference in the string scalars under n.
// inDefault allows what only parameter defaults may hold: {{ssm:...}}.
func (v *validator) templates(n *yaml.Node, step, where string, inDefault bool) {
	v.walkTemplates(n, step, where, inDefault, 0)
}

func (v *validator) walkTemplates(n *yaml.Node, step, where string, inDefault bool, depth int) {
	n = resolve(n)
	if n == nil || depth > maxDepth {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode, yaml.MappingNode:
		for _, c := range n.Content {
			v.walkTemplates(c, step, where, inDefault, depth+1)
		}
		return
	case yaml.ScalarNode:
	default:
		return
	}
	s := n.Value
	if n.ShortTag() != "!!str" || !strings.Contains(s, "{{") {
		return
	}
	refs, err := templateRefs(s)
	if err != nil {
		// SSM leaves text it cannot read as a reference alone, and AWS-owned
		// scripts hold such text ("{{" in Python and shell): a warning.
		v.add(Warning, pos(n), step, "%s: %v; the text is left as is", where, err)
	}
	for _, r := range refs {
		at := v.d.srcPos(n, s, r.Start, r.End)
		v.ref(r, at, step, where, inDefault)
	}
}

func (v *validator) ref(r tref, at Pos, step, where string, inDefault bool) {
	switch r.Namespace {
	case "":
		stepName, out, dotted := strings.Cut(r.Name, ".")
		if !dotted {
			if _, ok := v.params[r.Name]; !ok {
				if inDefault && isPseudoParameter(r.Name) {
					return
				}
				v.errAt(at, step, "%s: {{%s}}: no parameter named %q%s", where, r.Name, r.Name, suggestParam(r.Name, v.params))
			}
			return
		}
		v.outputRef(stepName, out, at, step, where)
	case "global", "automation":
		if !knownSystemVariable(r.Namespace, r.Name) {
			v.errAt(at, step, "%s: {{%s:%s}}: unknown system variable: expected global:ACCOUNT_ID, global:DATE, global:DATE_TIME, global:AWS_PARTITION, global:REGION or automation:EXECUTION_ID", where, r.Namespace, r.Name)
		}
	case "variable":
		if _, ok := v.vars[r.Name]; !ok {
			v.errAt(at, step, "%s: {{variable:%s}}: no variable named %q in the document's variables", where, r.Name, r.Name)
		}
	case "key":
		// capstan's key storage: resolved when the step runs, valid anywhere.
	case "ssm", "ssm-secure":
		if !inDefault {
			v.errAt(at, step, "%s: {{%s:%s}}: Parameter Store references are allowed only in parameter defaults", where, r.Namespace, r.Name)
		}
	default:
		v.errAt(at, step, "%s: {{%s:%s}}: unknown namespace %q", where, r.Namespace, r.Name, r.Namespace)
	}
}

// isPseudoParameter names the maintenance-window pseudo-parameters that SSM
// fills in when a runbook runs as a maintenance window task.
func isPseudoParameter(name string) bool {
	switch name {
	case "TARGET_ID", "TARGET_TYPE", "RESOURCE_ID", "RESOURCE_TYPE", "WINDOW_ID", "WINDOW_TASK_ID",
		"WINDOW_TARGET_ID", "WINDOW_EXECUTION_ID", "TASK_EXECUTION_ID", "INVOCATION_ID", "LOGGING_S3_BUCKET_NAME",
		"LOGGING_S3_KEY_PREFIX", "LOGGING_S3_REGION":
		return true
	}
	return false
}

func suggestParam(name string, params map[string]*Parameter) string {
	return didYouMean(name, slices.Collect(maps.Keys(params)))
}

// outputRef checks a step.output reference: the step exists and declares or
// always produces the output.
func (v *validator) outputRef(stepName, out string, at Pos, step, where string) {
	s, ok := v.steps[stepName]
	if !ok {
		v.errAt(at, step, "%s: %s.%s: no step named %q%s", where, stepName, out, stepName, suggest(stepName, v.steps))
		return
	}
	if DeclaresOutput(s, out, v.reg) {
		return
	}
	v.diags = append(v.diags, Diagnostic{File: v.d.File, Line: at.Line, Column: at.Column, Severity: Warning, Step: step,
		Kind: UndeclaredOutput, Message: fmt.Sprintf("%s: %s.%s: step %s declares no output %q%s; the referring step will fail when it runs",
			where, stepName, out, stepName, out, v.outputList(s))})
}

func (v *validator) outputList(s *Step) string {
	var names []string
	for _, o := range s.Outputs {
		names = append(names, o.Name)
	}
	if e, ok := v.reg.Lookup(s.Action); ok {
		for _, o := range e.Spec.Outputs {
			names = append(names, o.Name)
		}
	}
	if len(names) == 0 {
		return " (it has no outputs)"
	}
	return " (it has " + strings.Join(names, ", ") + ")"
}

// operators are aws:branch's comparison operators.
var operators = map[string]bool{
	"StringEquals": true, "EqualsIgnoreCase": true, "StartsWith": true, "EndsWith": true, "Contains": true,
	"NumericEquals": true, "NumericGreater": true, "NumericLesser": true, "NumericGreaterOrEquals": true,
	"NumericLesserOrEquals": true, "BooleanEquals": true,
}

func (v *validator) branch(s *Step, scope map[string]bool) {
	if d := s.inputNodes["Default"]; d != nil {
		if d.Kind != yaml.ScalarNode || d.ShortTag() != "!!str" {
			v.errAt(pos(d), s.Name, "Default: expected a step name, found %s", kindName(d))
		} else {
			v.target(s, "Default", d.Value, pos(d), scope)
		}
	}
	choices := s.inputNodes["Choices"]
	if choices == nil {
		return
	}
	if choices.Kind != yaml.SequenceNode || len(choices.Content) == 0 {
		v.errAt(pos(choices), s.Name, "Choices: expected a non-empty list of choices")
		return
	}
	for i, c := range choices.Content {
		c = resolve(c)
		where := fmt.Sprintf("Choices[%d]", i)
		if c == nil || c.Kind != yaml.MappingNode {
			v.errAt(pos(choices), s.Name, "%s: expected a mapping with NextStep and a condition", where)
			continue
		}
		next, ok := find(c, "NextStep")
		if !ok {
			v.errAt(pos(c), s.Name, "%s: missing NextStep", where)
		} else if next.v.Kind != yaml.ScalarNode {
			v.errAt(pos(next.v), s.Name, "%s: NextStep: expected a step name, found %s", where, kindName(next.v))
		} else {
			v.target(s, where+".NextStep", next.v.Value, pos(next.v), scope)
		}
		v.conditionNode(s, c, where, true, 0)
	}
}

// condition checks a condition without NextStep (aws:loop's LoopCondition).
func (v *validator) condition(s *Step, n *yaml.Node, where string) {
	v.conditionNode(s, resolve(n), where, false, 0)
}

// conditionNode checks one condition: Variable with exactly one operator, or
// exactly one of And, Or (lists of conditions) and Not (one condition).
func (v *validator) conditionNode(s *Step, c *yaml.Node, where string, choice bool, depth int) {
	if c == nil || c.Kind != yaml.MappingNode {
		at := s.Pos
		if c != nil {
			at = pos(c)
		}
		v.errAt(at, s.Name, "%s: expected a condition (Variable with an operator, And, Or or Not)", where)
		return
	}
	if depth > maxDepth {
		return
	}
	var variable *pair
	var ops, logic []pair
	for _, kv := range pairs(c) {
		kv := kv
		switch {
		case kv.key == "NextStep" && choice:
		case kv.key == "Variable":
			variable = &kv
		case operators[kv.key]:
			ops = append(ops, kv)
		case kv.key == "And" || kv.key == "Or" || kv.key == "Not":
			logic = append(logic, kv)
		default:
			v.errAt(pos(kv.k), s.Name, "%s: unknown key %q: expected Variable with one of %s, or And, Or, Not%s", where, kv.key, operatorList(), map[bool]string{true: ", and NextStep", false: ""}[choice])
		}
	}
	switch {
	case variable != nil && len(logic) > 0:
		v.errAt(pos(c), s.Name, "%s: Variable cannot be combined with %s", where, logic[0].key)
	case variable != nil:
		if len(ops) != 1 {
			v.errAt(pos(variable.k), s.Name, "%s: Variable needs exactly one operator (%s), found %d", where, operatorList(), len(ops))
		}
	case len(ops) > 0:
		v.errAt(pos(ops[0].k), s.Name, "%s: operator %s without a Variable", where, ops[0].key)
	case len(logic) != 1:
		if len(logic) == 0 {
			v.errAt(pos(c), s.Name, "%s: missing condition: expected Variable with an operator, And, Or or Not", where)
		} else {
			v.errAt(pos(logic[1].k), s.Name, "%s: expected exactly one of And, Or, Not, found %s and %s", where, logic[0].key, logic[1].key)
		}
	default:
		l := logic[0]
		if l.key == "Not" {
			v.conditionNode(s, l.v, where+".Not", false, depth+1)
			return
		}
		if l.v.Kind != yaml.SequenceNode || len(l.v.Content) == 0 {
			v.errAt(pos(l.v), s.Name, "%s.%s: expected a non-empty list of conditions", where, l.key)
			return
		}
		for i, sub := range l.v.Content {
			v.conditionNode(s, resolve(sub), fmt.Sprintf("%s.%s[%d]", where, l.key, i), false, depth+1)
		}
	}
}

func operatorList() string {
	return "StringEquals, EqualsIgnoreCase, StartsWith, EndsWith, Contains, NumericEquals, NumericGreater, NumericLesser, NumericGreaterOrEquals, NumericLesserOrEquals, BooleanEquals"
}
