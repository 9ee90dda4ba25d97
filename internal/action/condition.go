package action

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/value"
)

// ConditionError reports a branch or loop condition that cannot be
// evaluated: an unknown operator, a missing Variable, a value of the wrong
// kind. Path locates it inside nested And/Or/Not ("And[1].Not").
type ConditionError struct {
	Path     string
	Operator string
	Reason   string
}

func (e *ConditionError) Error() string {
	var b strings.Builder
	b.WriteString("condition")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Operator != "" {
		b.WriteString(": " + e.Operator)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// Operators lists the comparison operators of aws:branch choices and
// aws:loop conditions, in SSM's documentation order.
var Operators = []string{
	"StringEquals", "EqualsIgnoreCase", "StartsWith", "EndsWith", "Contains",
	"NumericEquals", "NumericGreater", "NumericLesser", "NumericGreaterOrEquals", "NumericLesserOrEquals",
	"BooleanEquals",
}

// EvalCondition evaluates one branch choice or loop condition whose Variable
// values are already substituted: Variable with exactly one operator, or And
// / Or (a list of conditions) or Not (one condition). Keys other than these
// (NextStep) are ignored.
func EvalCondition(choice map[string]any) (bool, error) {
	return evalCondition(choice, "")
}

func evalCondition(c map[string]any, path string) (bool, error) {
	if sub, ok := c["And"]; ok {
		return evalJunction(sub, join(path, "And"), true)
	}
	if sub, ok := c["Or"]; ok {
		return evalJunction(sub, join(path, "Or"), false)
	}
	if sub, ok := c["Not"]; ok {
		p := join(path, "Not")
		m, ok := sub.(map[string]any)
		if !ok {
			return false, &ConditionError{Path: p, Reason: "expected one condition (a map)"}
		}
		v, err := evalCondition(m, p)
		return !v, err
	}
	var ops []string
	for k := range c {
		if k != "Variable" && k != "NextStep" {
			ops = append(ops, k)
		}
	}
	sort.Strings(ops)
	switch len(ops) {
	case 0:
		return false, &ConditionError{Path: path, Reason: "no operator: expected one of " + strings.Join(Operators, ", ") + ", And, Or or Not"}
	case 1:
	default:
		return false, &ConditionError{Path: path, Reason: "more than one operator: " + strings.Join(ops, ", ")}
	}
	op := ops[0]
	variable, ok := c["Variable"]
	if !ok {
		return false, &ConditionError{Path: path, Operator: op, Reason: "missing Variable"}
	}
	ok, err := compare(op, variable, c[op])
	if err != nil {
		return false, &ConditionError{Path: path, Operator: op, Reason: err.Error()}
	}
	return ok, nil
}

func evalJunction(sub any, path string, and bool) (bool, error) {
	list, ok := sub.([]any)
	if !ok || len(list) == 0 {
		return false, &ConditionError{Path: path, Reason: "expected a non-empty list of conditions"}
	}
	// Every member is evaluated, even after the outcome is known, so a
	// malformed condition fails on every run rather than only on some.
	result := and
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, ok := e.(map[string]any)
		if !ok {
			return false, &ConditionError{Path: p, Reason: "expected a condition (a map)"}
		}
		v, err := evalCondition(m, p)
		if err != nil {
			return false, err
		}
		if and {
			result = result && v
		} else {
			result = result || v
		}
	}
	return result, nil
}

func join(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

func compare(op string, variable, operand any) (bool, error) {
	switch op {
	case "StringEquals", "EqualsIgnoreCase", "StartsWith", "EndsWith":
		v, w := ssmString(variable), ssmString(operand)
		switch op {
		case "StringEquals":
			return v == w, nil
		case "EqualsIgnoreCase":
			return strings.EqualFold(v, w), nil
		case "StartsWith":
			return strings.HasPrefix(v, w), nil
		default:
			return strings.HasSuffix(v, w), nil
		}
	case "Contains":
		w := ssmString(operand)
		// A list variable (a StringList output) contains an element equal
		// to the operand, as Python's `in` does; a string contains a substring.
		if list, ok := variable.([]any); ok {
			for _, e := range list {
				if ssmString(e) == w {
					return true, nil
				}
			}
			return false, nil
		}
		if list, ok := variable.([]string); ok {
			for _, e := range list {
				if e == w {
					return true, nil
				}
			}
			return false, nil
		}
		return strings.Contains(ssmString(variable), w), nil
	case "NumericEquals", "NumericGreater", "NumericLesser", "NumericGreaterOrEquals", "NumericLesserOrEquals":
		v, err := number(variable)
		if err != nil {
			return false, fmt.Errorf("variable: %w", err)
		}
		w, err := number(operand)
		if err != nil {
			return false, fmt.Errorf("operand: %w", err)
		}
		switch op {
		case "NumericEquals":
			return v == w, nil
		case "NumericGreater":
			return v > w, nil
		case "NumericLesser":
			return v < w, nil
		case "NumericGreaterOrEquals":
			return v >= w, nil
		default:
			return v <= w, nil
		}
	case "BooleanEquals":
		v, err := boolean(variable)
		if err != nil {
			return false, fmt.Errorf("variable: %w", err)
		}
		w, err := boolean(operand)
		if err != nil {
			return false, fmt.Errorf("operand: %w", err)
		}
		return v == w, nil
	}
	return false, fmt.Errorf("unsupported operator (expected one of %s)", strings.Join(Operators, ", "))
}

// number accepts JSON numbers and numeric strings: outputs selected as
// String often carry numbers.
func number(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, nil
		}
		return 0, fmt.Errorf("%q is not a number", x)
	}
	return 0, fmt.Errorf("%s is not a number", value.Describe(v))
}

// boolean accepts JSON booleans and the strings true/false in any case.
func boolean(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("%q is not a boolean", x)
	}
	return false, fmt.Errorf("%s is not a boolean", value.Describe(v))
}
