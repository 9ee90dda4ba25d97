package document

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// exit stands for "the step list ends here" in the step graph.
const exit = -1

// flowEdges are the ways control can leave a step of a list, as indexes into
// the list or exit.
type flowEdges struct {
	normal []int // success (and Continue): nextStep, branch choices, fall-through
	jumps  []int // onFailure: step:X
	cancel []int // onCancel: step:X, taken only when someone cancels
}

// graph warns about steps no execution reaches and reports loops no
// execution can leave. SSM rejects the latter at CreateDocument.
//
// A loop is inescapable when, from its steps, no path of successful steps
// reaches the end of the list. Branches count every choice and the default
// (or fall-through) as possible; an onFailure: step:X is a way out too, since
// a failing step is what it is for. onFailure: Abort is not a way out: a loop
// that only stops when a step fails still never finishes when they succeed.
func (v *validator) graph(steps []*Step, where string) {
	if len(steps) == 0 {
		return
	}
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		if _, dup := index[s.Name]; !dup {
			index[s.Name] = i
		}
	}
	edges := make([]flowEdges, len(steps))
	for i, s := range steps {
		edges[i] = v.edges(steps, i, s, index)
		// A loop's inner steps may jump out to a step of this list.
		for _, name := range nestedTargets(s.Steps, nil) {
			if j, ok := index[name]; ok {
				edges[i].jumps = append(edges[i].jumps, j)
			}
		}
	}

	// Reachable from the first step by any edge.
	reached := make([]bool, len(steps))
	stack := []int{0}
	reached[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, list := range [][]int{edges[i].normal, edges[i].jumps, edges[i].cancel} {
			for _, j := range list {
				if j != exit && !reached[j] {
					reached[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
	for i, s := range steps {
		if !reached[i] {
			v.add(Warning, s.Pos, s.Name, "unreachable: no nextStep, branch, onFailure or onCancel leads here and the step before does not continue here")
		}
	}

	// Steps from which the end can be reached.
	escapes := make([]bool, len(steps))
	for changed := true; changed; {
		changed = false
		for i := range steps {
			if escapes[i] {
				continue
			}
			for _, list := range [][]int{edges[i].normal, edges[i].jumps} {
				for _, j := range list {
					if j == exit || escapes[j] {
						escapes[i], changed = true, true
					}
				}
			}
		}
	}
	reported := make([]bool, len(steps))
	for i := range steps {
		if !reached[i] || escapes[i] || reported[i] {
			continue
		}
		// Walk until a step repeats: that is the cycle.
		seen := map[int]int{}
		var path []int
		j := i
		for {
			if _, ok := seen[j]; ok || reported[j] {
				break
			}
			seen[j] = len(path)
			path = append(path, j)
			j = trappedNext(edges[j], escapes)
		}
		if reported[j] {
			for _, k := range path {
				reported[k] = true
			}
			continue
		}
		cycle := path[seen[j]:]
		names := make([]string, 0, len(cycle)+1)
		for _, k := range cycle {
			names = append(names, steps[k].Name)
			reported[k] = true
		}
		for _, k := range path {
			reported[k] = true
		}
		names = append(names, steps[cycle[0]].Name)
		first := steps[cycle[0]]
		v.errAt(first.Pos, first.Name, "infinite loop in %s: %s, and no step in it can end the run or leave the loop (add isEnd, a branch or an onFailure that leads out)", where, strings.Join(names, " → "))
	}
}

// trappedNext picks a successor of a trapped step; every successor of a
// trapped step is trapped too.
func trappedNext(e flowEdges, escapes []bool) int {
	for _, list := range [][]int{e.normal, e.jumps} {
		for _, j := range list {
			if j != exit && !escapes[j] {
				return j
			}
		}
	}
	return exit
}

func (v *validator) edges(steps []*Step, i int, s *Step, index map[string]int) flowEdges {
	var e flowEdges
	next := exit
	if i+1 < len(steps) {
		next = i + 1
	}
	to := func(name string) int {
		if j, ok := index[name]; ok {
			return j
		}
		// A dangling name is reported elsewhere; treat it as an exit so it
		// does not also show up as a loop.
		return exit
	}
	switch {
	case s.Action == "aws:branch":
		// On a branch, isEnd only ends the run when no choice matches.
		if choices := s.inputNodes["Choices"]; choices != nil && choices.Kind == yaml.SequenceNode {
			for _, c := range choices.Content {
				if kv, ok := find(c, "NextStep"); ok && kv.v.Kind == yaml.ScalarNode {
					e.normal = append(e.normal, to(kv.v.Value))
				}
			}
		}
		switch d := s.inputNodes["Default"]; {
		case d != nil && d.Kind == yaml.ScalarNode:
			e.normal = append(e.normal, to(d.Value))
		case s.IsEnd:
			e.normal = append(e.normal, exit)
		default:
			e.normal = append(e.normal, next)
		}
	case s.IsEnd:
		e.normal = []int{exit}
	case s.NextStep != "":
		e.normal = []int{to(s.NextStep)}
	default:
		e.normal = []int{next}
	}
	if s.OnFailure.Kind == GoToStep {
		e.jumps = append(e.jumps, to(s.OnFailure.Step))
	}
	if s.OnCancel.Kind == GoToStep {
		e.cancel = append(e.cancel, to(s.OnCancel.Step))
	}
	return e
}

// nestedTargets lists every step name the steps (and their own nested steps)
// transition to.
func nestedTargets(steps []*Step, out []string) []string {
	for _, s := range steps {
		out = append(out, s.NextStep, s.OnFailure.Step, s.OnCancel.Step)
		if s.Action == "aws:branch" {
			if choices := s.inputNodes["Choices"]; choices != nil {
				for _, c := range choices.Content {
					if kv, ok := find(c, "NextStep"); ok {
						out = append(out, kv.v.Value)
					}
				}
			}
			if d := s.inputNodes["Default"]; d != nil {
				out = append(out, d.Value)
			}
		}
		out = nestedTargets(s.Steps, out)
	}
	return out
}
