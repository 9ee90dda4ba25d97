package mock

import (
	"fmt"
	"sort"
	"strings"

	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/awsmodel"
	"github.com/capstan-run/capstan/internal/suggest"
)

// CheckInput checks a request (or a request match) against the operation's
// input shape.
func CheckInput(service, op string, input map[string]any) error {
	return awsapi.Check(service, op, input)
}

// ShapeError says where a mocked response does not fit the model.
type ShapeError struct {
	Path    string // e.g. "Reservations[0].Instances[0].Statee"
	Problem string
}

func (e *ShapeError) Error() string {
	if e.Path == "" {
		return e.Problem
	}
	return e.Path + ": " + e.Problem
}

// CheckOutput checks a mocked response against the operation's output
// shape: every member must be one the model defines, with a value of its
// type. Members may be left out, as responses leave them out.
func CheckOutput(service, op string, response map[string]any) error {
	m, err := awsmodel.Load(service)
	if err != nil {
		return err
	}
	o := m.Operation(op)
	if o == nil {
		return fmt.Errorf("%s has no operation %s", service, op)
	}
	if o.Output == nil {
		if len(response) > 0 {
			return &ShapeError{Problem: op + " returns no members"}
		}
		return nil
	}
	c := checker{m: m}
	return c.value("", o.Output.Shape, response, 0)
}

type checker struct{ m *awsmodel.Model }

// maxDepth bounds recursive shapes.
const maxDepth = 64

func (c checker) value(path, shape string, v any, depth int) error {
	if depth > maxDepth {
		return nil
	}
	sh := c.m.Shape(shape)
	if sh == nil || v == nil {
		return nil
	}
	fail := func(format string, args ...any) error {
		return &ShapeError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	switch sh.Type {
	case "structure":
		if sh.Document {
			return nil
		}
		mv, ok := v.(map[string]any)
		if !ok {
			return fail("expected a structure (%s), found %s", shape, kind(v))
		}
		for _, k := range sortedKeys(mv) {
			ref := sh.Members[k]
			if ref == nil {
				return fail("unknown member %q of %s%s", k, shape, hint(k, sh.Members))
			}
			if err := c.value(join(path, k), ref.Shape, mv[k], depth+1); err != nil {
				return err
			}
		}
	case "list":
		l, ok := v.([]any)
		if !ok {
			return fail("expected a list (%s), found %s", shape, kind(v))
		}
		for i, e := range l {
			if err := c.value(fmt.Sprintf("%s[%d]", path, i), sh.Member.Shape, e, depth+1); err != nil {
				return err
			}
		}
	case "map":
		mv, ok := v.(map[string]any)
		if !ok {
			return fail("expected a map (%s), found %s", shape, kind(v))
		}
		for _, k := range sortedKeys(mv) {
			if err := c.value(join(path, k), sh.Value.Shape, mv[k], depth+1); err != nil {
				return err
			}
		}
	case "string", "blob", "timestamp":
		switch v.(type) {
		case string:
		default:
			if sh.Type == "timestamp" && isNumber(v) {
				return nil
			}
			return fail("expected a %s, found %s", sh.Type, kind(v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fail("expected a boolean, found %s", kind(v))
		}
	case "integer", "long", "float", "double":
		if !isNumber(v) {
			return fail("expected a number (%s), found %s", sh.Type, kind(v))
		}
	}
	return nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, float64, int32, float32, uint64:
		return true
	}
	return false
}

func kind(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a structure"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	}
	return fmt.Sprintf("%v", v)
}

func hint(name string, members map[string]*awsmodel.Ref) string {
	names := make([]string, 0, len(members))
	for k := range members {
		names = append(names, k)
	}
	if s, ok := suggest.Closest(name, names); ok {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	sort.Strings(names)
	if len(names) > 12 {
		names = append(names[:12], "…")
	}
	return " (members: " + strings.Join(names, ", ") + ")"
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
