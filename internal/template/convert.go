package template

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/value"
)

// ConvertError is a selected value that cannot become the declared output
// type.
type ConvertError struct {
	Value any        // the selected value
	Type  value.Type // the declared type
	Why   string
}

func (e *ConvertError) Error() string {
	text, err := Text(e.Value)
	if err != nil || e.Value == nil {
		text = value.Describe(e.Value)
	}
	if len(text) > 120 {
		text = text[:117] + "..."
	}
	return fmt.Sprintf("selected value %s cannot be %s: %s", text, e.Type, e.Why)
}

// Convert turns a selected value into an SSM output type:
//
//   - String: a string as is; numbers and booleans as text (see Text). A
//     one-element list of a scalar becomes that scalar: AWS-owned runbooks
//     (AWSSupport-TroubleshootMSKClusterConnection,
//     AWSSupport-TroubleshootEKSDNSFailure) type a filter selector, which
//     always yields a list, as String, and they work on SSM. Integer and
//     Boolean unwrap such a list the same way (inferred, not documented).
//   - Integer: int64 from an integral number or a decimal numeric string.
//   - Boolean: a bool, or the strings "true"/"false" in any case.
//   - StringList: a list of scalars, each rendered as a string; a scalar
//     becomes a one-element list.
//   - StringMap: an object; nested values are kept as they are (SSM's own
//     examples select nested objects as StringMap).
//   - MapList: a list of objects.
//
// value.Any returns v unchanged. Errors are *ConvertError.
func Convert(v any, t value.Type) (any, error) {
	fail := func(why string) (any, error) { return nil, &ConvertError{Value: v, Type: t, Why: why} }
	switch t {
	case value.Any:
		return v, nil
	case value.String, value.Integer, value.Boolean:
		s := v
		if l, ok := v.([]any); ok {
			if len(l) != 1 {
				return fail(fmt.Sprintf("a list of %d values is not a single value", len(l)))
			}
			s = l[0]
		}
		return convertScalar(s, t, fail)
	case value.StringList:
		switch x := v.(type) {
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				s, ok := scalarText(e)
				if !ok {
					return fail(fmt.Sprintf("element %d is %s, not a string", i, value.Describe(e)))
				}
				out[i] = s
			}
			return out, nil
		case []string:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = e
			}
			return out, nil
		}
		if s, ok := scalarText(v); ok {
			return []any{s}, nil
		}
		return fail("it is " + value.Describe(v))
	case value.StringMap:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		return fail("it is " + value.Describe(v) + ", not an object")
	case value.MapList:
		l, ok := v.([]any)
		if !ok {
			return fail("it is " + value.Describe(v) + ", not a list of objects")
		}
		for i, e := range l {
			if _, ok := e.(map[string]any); !ok {
				return fail(fmt.Sprintf("element %d is %s, not an object", i, value.Describe(e)))
			}
		}
		return l, nil
	}
	return fail("unknown output type")
}

func convertScalar(v any, t value.Type, fail func(string) (any, error)) (any, error) {
	switch t {
	case value.String:
		if s, ok := scalarText(v); ok {
			return s, nil
		}
		return fail("it is " + value.Describe(v))
	case value.Integer:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case float64:
			// 2^63 itself does not fit: the bound is exclusive.
			if x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
				return fail("not a whole number in the int64 range")
			}
			return int64(x), nil
		case string:
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return fail("not a decimal integer")
			}
			return n, nil
		}
		return fail("it is " + value.Describe(v))
	default: // value.Boolean
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(x) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return fail(`only "true" or "false" convert`)
		}
		return fail("it is " + value.Describe(v))
	}
}

// scalarText renders a string, number or boolean; ok is false for null,
// lists and maps.
func scalarText(v any) (string, bool) {
	switch v.(type) {
	case string, bool, int64, int, float64:
		s, err := Text(v)
		return s, err == nil
	}
	return "", false
}
