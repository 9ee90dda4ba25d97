package document

import (
	"strings"

	"github.com/capstan-run/capstan/internal/value"
	"gopkg.in/yaml.v3"
)

var stepKeys = []string{"name", "action", "inputs", "outputs", "description", "maxAttempts", "timeoutSeconds",
	"onFailure", "onCancel", "isEnd", "isCritical", "nextStep"}

// loopAction carries its own step list in inputs.Steps.
const loopAction = "aws:loop"

// steps parses a step list; where names mainSteps or an aws:loop's Steps.
func (p *parser) steps(n *yaml.Node, where string) []*Step {
	if n.Kind != yaml.SequenceNode {
		p.errAt(pos(n), "", "%s: expected a list of steps, found %s", where, kindName(n))
		return nil
	}
	out := make([]*Step, 0, len(n.Content))
	for _, c := range n.Content {
		c = resolve(c)
		if c == nil || c.Kind != yaml.MappingNode {
			p.errAt(pos(n), "", "%s: expected a step (a mapping with name, action and inputs), found %s", where, kindName(c))
			continue
		}
		out = append(out, p.step(c))
	}
	return out
}

func (p *parser) step(n *yaml.Node) *Step {
	s := &Step{Pos: pos(n), MaxAttempts: 1}
	if kv, ok := find(n, "name"); ok {
		s.Name = p.text(kv, "")
	} else {
		p.errAt(pos(n), "", "step without a name: every step needs name, action and inputs")
	}
	name := s.Name
	// Read the action first so aws:loop's Steps are recognised wherever the
	// inputs key sits in the mapping.
	if kv, ok := find(n, "action"); ok {
		s.Action, s.actionPos = p.text(kv, name), pos(kv.v)
	}
	var onFailureSet bool
	for _, kv := range pairs(n) {
		switch kv.key {
		case "name", "action":
		case "description":
			s.Description = p.text(kv, name)
		case "inputs":
			p.inputs(s, kv)
		case "outputs":
			p.stepOutputs(s, kv)
		case "maxAttempts":
			if v, ok := p.number(kv, name, ""); ok {
				if v < 1 {
					p.errAt(pos(kv.v), name, "maxAttempts: expected at least 1, found %d", v)
				} else {
					s.MaxAttempts = int(min(v, 1<<31-1))
				}
			}
		case "timeoutSeconds":
			if v, ok := p.number(kv, name, ""); ok {
				if v < 0 {
					p.errAt(pos(kv.v), name, "timeoutSeconds: expected a positive number of seconds, found %d", v)
				} else {
					s.TimeoutSeconds = int(min(v, 1<<31-1))
				}
			}
		case "onFailure":
			s.OnFailure = p.transition(kv, name)
			onFailureSet = true
		case "onCancel":
			s.OnCancel = p.transition(kv, name)
			if s.OnCancel.Kind == Continue {
				p.errAt(pos(kv.v), name, `onCancel: expected "Abort" or "step:NAME", found "Continue"`)
			}
		case "isEnd":
			s.IsEnd, _ = p.boolean(kv, name)
		case "isCritical":
			s.IsCritical, s.IsCriticalSet = p.boolean(kv, name)
		case "nextStep":
			s.NextStep, s.nextPos = p.text(kv, name), pos(kv.v)
		default:
			p.errAt(pos(kv.k), name, "unknown step key %q: expected one of %s", kv.key, strings.Join(stepKeys, ", "))
		}
	}
	if !onFailureSet {
		s.OnFailure = Transition{Kind: Abort}
	}
	if !s.IsCriticalSet {
		// SSM: critical by default, except when failures are meant to continue.
		s.IsCritical = s.OnFailure.Kind != Continue
	}
	if s.Action == "" {
		if _, ok := find(n, "action"); !ok {
			p.errAt(pos(n), name, "missing action")
		}
	}
	return s
}

func (p *parser) transition(kv pair, step string) Transition {
	t := Transition{Pos: pos(kv.v)}
	v := p.text(kv, step)
	switch {
	case v == "Abort":
		t.Kind = Abort
	case v == "Continue":
		t.Kind = Continue
	case strings.HasPrefix(v, "step:"):
		t.Kind, t.Step = GoToStep, strings.TrimSpace(strings.TrimPrefix(v, "step:"))
		if t.Step == "" {
			p.errAt(t.Pos, step, "%s: %q names no step: expected step:NAME", kv.key, v)
		}
	default:
		p.errAt(t.Pos, step, `%s: %q: expected "Abort", "Continue" or "step:NAME"`, kv.key, v)
	}
	return t
}

func (p *parser) inputs(s *Step, kv pair) {
	switch {
	case kv.v.Kind == yaml.MappingNode:
	case kv.v.ShortTag() == "!!null":
		// "inputs:" with nothing under it, as aws:pause steps write it.
		return
	default:
		p.errAt(pos(kv.v), s.Name, "inputs: expected a mapping, found %s", kindName(kv.v))
		return
	}
	s.inputsNode = kv.v
	s.Inputs = map[string]any{}
	s.InputPos = map[string]Pos{}
	s.inputNodes = map[string]*yaml.Node{}
	for _, in := range pairs(kv.v) {
		if s.Action == loopAction && in.key == "Steps" {
			s.Steps = p.steps(in.v, "step "+s.Name+": inputs.Steps")
			s.InputPos[in.key] = pos(in.v)
			s.inputNodes[in.key] = in.v
			continue
		}
		s.Inputs[in.key] = p.decode(in.v)
		s.InputPos[in.key] = pos(in.v)
		s.inputNodes[in.key] = in.v
	}
}

var outputKeys = []string{"Name", "Selector", "Type"}

func (p *parser) stepOutputs(s *Step, kv pair) {
	if kv.v.Kind != yaml.SequenceNode {
		p.errAt(pos(kv.v), s.Name, "outputs: expected a list of {Name, Selector, Type}, found %s", kindName(kv.v))
		return
	}
	for _, c := range kv.v.Content {
		c = resolve(c)
		if c == nil || c.Kind != yaml.MappingNode {
			p.errAt(pos(kv.v), s.Name, "outputs: expected {Name, Selector, Type}, found %s", kindName(c))
			continue
		}
		o := StepOutput{Pos: pos(c), Type: value.String}
		for _, f := range pairs(c) {
			switch f.key {
			case "Name":
				o.Name = p.text(f, s.Name)
			case "Selector":
				o.Selector = p.text(f, s.Name)
			case "Type":
				o.Type = value.Type(p.text(f, s.Name))
				if !o.Type.Valid() {
					p.errAt(pos(f.v), s.Name, "output %s: unknown type %q: expected one of %s", o.Name, o.Type, typeNames())
				}
			default:
				p.errAt(pos(f.k), s.Name, "output: unknown key %q: expected one of %s", f.key, strings.Join(outputKeys, ", "))
			}
		}
		if o.Name == "" {
			p.errAt(o.Pos, s.Name, "output without a Name")
		}
		if o.Selector == "" {
			p.errAt(o.Pos, s.Name, "output %s: missing Selector", o.Name)
		}
		s.Outputs = append(s.Outputs, o)
	}
}
