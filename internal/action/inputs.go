package action

import (
	"fmt"
	"sort"
	"strings"
)

// req and opt keep the declarations short enough to read as a table.
func req(name string, t Type, doc string) Input {
	return Input{Name: name, Type: t, Required: true, Doc: doc}
}

func opt(name string, t Type, doc string) Input {
	return Input{Name: name, Type: t, Doc: doc}
}

func optDefault(name string, t Type, def any, doc string) Input {
	return Input{Name: name, Type: t, Default: def, Doc: doc}
}

// noIAM is the IAM func of actions that call no AWS API themselves.
func noIAM(map[string]any) ([]string, string) { return nil, "" }

// fixedIAM is the IAM func of actions whose calls do not depend on inputs.
func fixedIAM(actions ...string) func(map[string]any) ([]string, string) {
	sorted := sortedUnique(actions)
	return func(map[string]any) ([]string, string) {
		return append([]string(nil), sorted...), ""
	}
}

// sortedUnique returns the actions sorted with duplicates removed.
func sortedUnique(actions []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(actions))
	for _, a := range actions {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// isTemplated reports whether v is a string still holding a {{ }} reference,
// i.e. a value the IAM derivation cannot see through.
func isTemplated(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "{{")
}

// literalString returns inputs[name] when it is a string without templates.
func literalString(inputs map[string]any, name string) (string, bool) {
	s, ok := inputs[name].(string)
	if !ok || isTemplated(s) {
		return "", false
	}
	return s, true
}

// present reports whether an input is set to something other than "" or nil.
func present(inputs map[string]any, name string) bool {
	v, ok := inputs[name]
	if !ok || v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return s != ""
	}
	return true
}

// InputError reports an input that is missing or has the wrong shape at run
// time. Validation catches most of these earlier; this is the last line.
type InputError struct {
	Action string
	Input  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s: input %s: %s", e.Action, e.Input, e.Reason)
}

// stringInput reads a required string input.
func stringInput(action string, inputs map[string]any, name string) (string, error) {
	v, ok := inputs[name]
	if !ok || v == nil {
		return "", &InputError{Action: action, Input: name, Reason: "missing"}
	}
	s, ok := v.(string)
	if !ok {
		return "", &InputError{Action: action, Input: name, Reason: fmt.Sprintf("expected String, got %T", v)}
	}
	return s, nil
}
