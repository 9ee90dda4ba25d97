package document

import (
	"fmt"

	"github.com/capstan-run/capstan/internal/action"
)

// loopOutputs are the outputs an aws:loop step provides to its inner steps
// and after it ends.
var loopOutputs = map[string]bool{"CurrentIteration": true, "CurrentIteratorValue": true}

// Step finds a step by name, nested loop steps included; nil when there is
// none.
func (d *Document) Step(name string) *Step {
	return findStep(d.MainSteps, name)
}

// StepNames lists every step's name, nested steps included, in runbook
// order.
func (d *Document) StepNames() []string {
	var names []string
	var walk func([]*Step)
	walk = func(steps []*Step) {
		for _, s := range steps {
			names = append(names, s.Name)
			walk(s.Steps)
		}
	}
	walk(d.MainSteps)
	return names
}

// NoStep says that the runbook has no step of that name, suggesting the
// closest one when the name looks misspelt; every place that takes a step
// name from a user words it so.
func (d *Document) NoStep(name string) string {
	return fmt.Sprintf("the runbook has no step %q%s", name, didYouMean(name, d.StepNames()))
}

func findStep(steps []*Step, name string) *Step {
	for _, s := range steps {
		if s.Name == name {
			return s
		}
		if n := findStep(s.Steps, name); n != nil {
			return n
		}
	}
	return nil
}

// DeclaresOutput reports whether step s declares out or its action always
// produces it. A reference to any other output of s is a mistake SSM accepts
// at CreateDocument and fails on when the referring step runs
// (docs/references.md); the validator warns of it and the engine fails the
// step.
func DeclaresOutput(s *Step, out string, reg *action.Registry) bool {
	for _, o := range s.Outputs {
		if o.Name == out {
			return true
		}
	}
	e, ok := reg.Lookup(s.Action)
	if !ok || e.Spec.Support == action.Internal {
		// Unknown and internal actions are reported once, on the step
		// itself; their outputs are unknown.
		return true
	}
	for _, o := range e.Spec.Outputs {
		if o.Name == out {
			return true
		}
	}
	if out == "OutputPayload" {
		// SSM exposes the whole payload of a Payload-producing step as
		// OutputPayload (AWS-owned runbooks read step.OutputPayload).
		for _, o := range e.Spec.Outputs {
			if o.Name == "Payload" {
				return true
			}
		}
	}
	return e.Spec.NestedSteps && loopOutputs[out]
}
