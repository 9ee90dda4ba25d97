// Package value holds the SSM Automation value types (String, StringList,
// Integer, Boolean, StringMap, MapList) and the check of a decoded value
// against one. Runbook parameters, action inputs and outputs, step output
// declarations and variables all speak this vocabulary.
//
// Decoded values are what the document parser and JSON decoding produce:
// string, int64, float64, bool, nil, []any and map[string]any.
package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Type names a value type in the SSM vocabulary.
type Type string

// The value types of SSM Automation. Any is capstan's own: an action input
// that accepts several shapes and checks them itself.
const (
	String     Type = "String"
	StringList Type = "StringList"
	Integer    Type = "Integer"
	Boolean    Type = "Boolean"
	StringMap  Type = "StringMap"
	MapList    Type = "MapList"
	Any        Type = "Any"
)

// Types lists the SSM value types in documentation order.
var Types = []Type{String, StringList, Integer, Boolean, StringMap, MapList}

// Valid reports whether t is one of the SSM value types.
func (t Type) Valid() bool {
	for _, v := range Types {
		if v == t {
			return true
		}
	}
	return false
}

// FromText converts the text form of an Integer ("180") or a Boolean
// ("true", "False") to its typed value. SSM converts such quoted values where
// a runbook gives one for an Integer or Boolean parameter default or action
// input, and AWS-owned runbooks rely on it; ok is false for other types and
// for text that is not a whole number or a boolean.
func FromText(s string, t Type) (v any, ok bool) {
	switch t {
	case Integer:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	case Boolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, true
		case strings.EqualFold(s, "false"):
			return false, true
		}
	}
	return nil, false
}

// Check reports whether v has type t, with a message saying what was
// expected when it does not.
func Check(v any, t Type) error {
	switch t {
	case Any:
		return nil
	case String:
		if _, ok := v.(string); ok {
			return nil
		}
	case Integer:
		switch n := v.(type) {
		case int64, int:
			return nil
		case float64:
			if n == math.Trunc(n) {
				return nil
			}
		}
	case Boolean:
		if _, ok := v.(bool); ok {
			return nil
		}
	case StringList:
		if l, ok := v.([]any); ok {
			for i, e := range l {
				if _, ok := e.(string); !ok {
					return fmt.Errorf("expected StringList, element %d is %s", i, Describe(e))
				}
			}
			return nil
		}
		if _, ok := v.([]string); ok {
			return nil
		}
	case StringMap:
		if _, ok := v.(map[string]any); ok {
			return nil
		}
	case MapList:
		if l, ok := v.([]any); ok {
			for i, e := range l {
				if _, ok := e.(map[string]any); !ok {
					return fmt.Errorf("expected MapList, element %d is %s", i, Describe(e))
				}
			}
			return nil
		}
	default:
		return fmt.Errorf("unknown type %q", t)
	}
	return fmt.Errorf("expected %s, got %s", t, Describe(v))
}

// Describe names the shape of a decoded value for messages.
func Describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case int64, int:
		return fmt.Sprintf("integer %v", x)
	case float64:
		if x == math.Trunc(x) {
			return fmt.Sprintf("integer %v", int64(x))
		}
		return fmt.Sprintf("number %v", x)
	case []any, []string:
		return "list"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

// FromYAML turns yaml.v3's int into int64 throughout v (maps and lists
// included, in place), so values read from YAML files (parameter files,
// mock files, test expectations) have the numbers decoded values have.
func FromYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = FromYAML(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = FromYAML(e)
		}
		return x
	case int:
		return int64(x)
	}
	return v
}
