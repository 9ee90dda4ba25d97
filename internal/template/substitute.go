package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Resolver gives the value of one reference. It returns a typed decoded
// value: string, int64, float64, bool, []any or map[string]any (int and
// []string are accepted too).
type Resolver interface {
	Resolve(ref Ref) (any, error)
}

// ErrUnresolved is what a Resolver returns (or wraps) for a reference that
// has no value but is not an error: SSM then leaves the reference as its
// literal text, so a step output whose selector matched nothing reads as
// "{{ step.Output }}" (docs/references.md). Substitute and Render write the
// reference exactly as it appears in the runbook.
var ErrUnresolved = errors.New("reference has no value")

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ref Ref) (any, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ref Ref) (any, error) { return f(ref) }

// ResolveError is a reference that could not be resolved or rendered.
type ResolveError struct {
	Ref  Ref    // the reference, with offsets into the string it came from
	Text string // the reference as written: "{{InstanceId}}"
	Path string // where in the value: "InstanceIds[0]", "Parameters.commands"; "" at the top
	Err  error  // the resolver's error, or why the value cannot be rendered
}

func (e *ResolveError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("resolving %s: %v", e.Text, e.Err)
	}
	return fmt.Sprintf("resolving %s at %s: %v", e.Text, e.Path, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }

// Substitute returns v with every reference replaced, following SSM:
//
//   - A string that is exactly one reference ("{{ P }}", blanks allowed only
//     inside the braces) becomes the referenced value with its type, so
//     "{{ InstanceIds }}" gives a list and "{{ Count }}" an integer.
//   - A list element that is exactly one reference to a list is spliced into
//     the list: ["{{ InstanceIds }}"] gives the flat list of ids, not a list
//     in a list.
//   - A reference inside longer text is rendered as text (see Render).
//   - Map keys are left alone: SSM does not substitute them.
//
// Resolved values are not searched for references again (SSM has no nested
// expansion), and they are returned as the resolver gave them, not copied.
// Text that only looks like a reference (script braces, an unclosed "{{") is
// left as written, as SSM leaves it. v itself is not modified; maps and lists
// are rebuilt. Errors are *ResolveError, wrapping the resolver's error.
func Substitute(v any, r Resolver) (any, error) {
	return substitute(v, r, "")
}

func substitute(v any, r Resolver, path string) (any, error) {
	switch x := v.(type) {
	case string:
		return substituteString(x, r, path)
	case []any:
		return substituteList(x, r, path)
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return substituteList(l, r, path)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			s, err := substitute(e, r, joinPath(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	}
	return v, nil
}

func substituteList(l []any, r Resolver, path string) ([]any, error) {
	out := make([]any, 0, len(l))
	for i, e := range l {
		p := path + "[" + strconv.Itoa(i) + "]"
		if s, ok := e.(string); ok {
			if ref, whole := wholeRef(s); whole {
				v, err := resolve(r, ref, s, p)
				if err != nil {
					return nil, err
				}
				switch lv := v.(type) {
				case []any:
					out = append(out, lv...)
					continue
				case []string:
					for _, s := range lv {
						out = append(out, s)
					}
					continue
				}
				out = append(out, v)
				continue
			}
		}
		s, err := substitute(e, r, p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func substituteString(s string, r Resolver, path string) (any, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	if ref, whole := wholeRef(s); whole {
		return resolve(r, ref, s, path)
	}
	return render(s, r, path)
}

// wholeRef reports whether s is exactly one reference.
func wholeRef(s string) (Ref, bool) {
	if len(s) < 4 || s[0] != '{' || s[len(s)-1] != '}' {
		return Ref{}, false
	}
	var (
		first Ref
		n     int
	)
	_ = scan(s, true, func(r Ref) {
		if n == 0 {
			first = r
		}
		n++
	})
	return first, n == 1 && first.Start == 0 && first.End == len(s)
}

func resolve(r Resolver, ref Ref, s, path string) (any, error) {
	v, err := r.Resolve(ref)
	if errors.Is(err, ErrUnresolved) {
		return s[ref.Start:ref.End], nil
	}
	if err != nil {
		return nil, &ResolveError{Ref: ref, Text: s[ref.Start:ref.End], Path: path, Err: err}
	}
	return v, nil
}

// Render replaces every reference in s by its value as text, for contexts
// that only take text (names, messages, script bodies). The text form of a
// value is: a string as is; an integer or a number in plain decimal form
// (5, 2.5, never 5e+00); a boolean as true or false; null as the empty
// string; a list or a map as compact JSON with keys sorted and no HTML
// escaping. SSM does not document how non-strings look inside text (the
// corpus only embeds String-like values); JSON is what a script or an API
// field receiving the text can parse back.
func Render(s string, r Resolver) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	return render(s, r, "")
}

func render(s string, r Resolver, path string) (string, error) {
	var (
		b    strings.Builder
		last int
		err  error
	)
	b.Grow(len(s))
	_ = scan(s, true, func(ref Ref) {
		if err != nil {
			return
		}
		var v any
		if v, err = resolve(r, ref, s, path); err != nil {
			return
		}
		var text string
		if text, err = Text(v); err != nil {
			err = &ResolveError{Ref: ref, Text: s[ref.Start:ref.End], Path: path, Err: err}
			return
		}
		b.WriteString(s[last:ref.Start])
		b.WriteString(text)
		last = ref.End
	})
	if err != nil {
		return "", err
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// Text is the text form of a decoded value used by Render.
func Text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" in a script stays "<"
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("rendering %T as text: %w", v, err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
