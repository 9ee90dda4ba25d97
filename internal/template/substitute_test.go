package template

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// params is a resolver over a fixed map, keyed by the reference as
// "ns:Name" (or "Name" for parameters and step outputs).
type params map[string]any

var errNoValue = errors.New("no such value")

func (p params) Resolve(r Ref) (any, error) {
	key := r.Name
	if r.Namespace != NSNone {
		key = string(r.Namespace) + ":" + r.Name
	}
	v, ok := p[key]
	if !ok {
		return nil, errNoValue
	}
	return v, nil
}

var testParams = params{
	"InstanceId":              "i-0123456789abcdef0",
	"InstanceIds":             []any{"i-1", "i-2"},
	"Count":                   int64(3),
	"Ratio":                   2.5,
	"Big":                     float64(1e21),
	"Force":                   true,
	"Tags":                    map[string]any{"b": "2", "a": "<1>"},
	"Targets":                 []any{map[string]any{"Key": "tag:env", "Values": []any{"prod"}}},
	"Empty":                   nil,
	"Ids":                     []string{"x", "y"},
	"SourceAmiId":             "ami-1",
	"getInstance.State":       "running",
	"global:ACCOUNT_ID":       "123456789012",
	"global:DATE_TIME":        "2024-05-06_07.08.09",
	"automation:EXECUTION_ID": "e-1",
}

func TestSubstitute(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"no refs", "plain", "plain"},
		{"whole string keeps type: list", "{{ InstanceIds }}", []any{"i-1", "i-2"}},
		{"whole string keeps type: integer", "{{Count}}", int64(3)},
		{"whole string keeps type: boolean", "{{ Force }}", true},
		{"whole string keeps type: map", "{{ Tags }}", map[string]any{"b": "2", "a": "<1>"}},
		{"whole string keeps type: map list", "{{ Targets }}", []any{map[string]any{"Key": "tag:env", "Values": []any{"prod"}}}},
		{"tight and spaced are the same", []any{"{{InstanceId}}", "{{ InstanceId }}"}, []any{"i-0123456789abcdef0", "i-0123456789abcdef0"}},
		{"step output", "{{ getInstance.State }}", "running"},
		{"blank around the braces is text", " {{ Count }}", " 3"},
		{"list element splices", []any{"{{ InstanceIds }}"}, []any{"i-1", "i-2"}},
		{"splice among others", []any{"i-0", "{{ InstanceIds }}", "{{ InstanceId }}"}, []any{"i-0", "i-1", "i-2", "i-0123456789abcdef0"}},
		{"splice a []string", []any{"{{ Ids }}"}, []any{"x", "y"}},
		{"maplist element splices", []any{"{{ Targets }}"}, []any{map[string]any{"Key": "tag:env", "Values": []any{"prod"}}}},
		{"embedded string", "arn:aws:iam::{{global:ACCOUNT_ID}}:role/x", "arn:aws:iam::123456789012:role/x"},
		{"two embedded", "UpdateLinuxAmi_from_{{SourceAmiId}}_on_{{global:DATE_TIME}}", "UpdateLinuxAmi_from_ami-1_on_2024-05-06_07.08.09"},
		{"embedded integer", "n={{ Count }}", "n=3"},
		{"embedded float", "r={{ Ratio }}", "r=2.5"},
		{"embedded big float is plain", "{{ Big }}!", "1000000000000000000000!"},
		{"embedded boolean", "force={{Force}}", "force=true"},
		{"embedded list is JSON", "ids: {{ InstanceIds }}", `ids: ["i-1","i-2"]`},
		{"embedded map is JSON, sorted, unescaped", "t={{ Tags }}", `t={"a":"<1>","b":"2"}`},
		{"embedded null is empty", "[{{ Empty }}]", "[]"},
		{"nested maps and lists", map[string]any{
			"Service": "ec2", "InstanceIds": []any{"{{ InstanceIds }}"}, "MaxCount": "{{ Count }}",
			"TagSpecifications": []any{map[string]any{"Tags": []any{map[string]any{"Key": "Name", "Value": "x-{{ automation:EXECUTION_ID }}"}}}},
		}, map[string]any{
			"Service": "ec2", "InstanceIds": []any{"i-1", "i-2"}, "MaxCount": int64(3),
			"TagSpecifications": []any{map[string]any{"Tags": []any{map[string]any{"Key": "Name", "Value": "x-e-1"}}}},
		}},
		{"map keys are not substituted", map[string]any{"{{ InstanceId }}": "{{ Count }}"}, map[string]any{"{{ InstanceId }}": int64(3)}},
		{"non-strings pass through", []any{int64(1), false, nil, 2.5}, []any{int64(1), false, nil, 2.5}},
		{"script braces stay", `f"{{{}}}".format(x); awk '{{print $2}}' {{ Count }}`, `f"{{{}}}".format(x); awk '{{print $2}}' 3`},
		{"unclosed stays, later refs resolve", "x_{{ automation:EXECUTION_ID }", "x_{{ automation:EXECUTION_ID }"},
		{"resolved values are not expanded again", "{{ Nested }}", "{{ Count }}"},
	}
	p := params{"Nested": "{{ Count }}"}
	for k, v := range testParams {
		p[k] = v
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Substitute(tt.in, p)
			if err != nil {
				t.Fatalf("Substitute(%#v): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Substitute(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSubstituteDoesNotModifyInput(t *testing.T) {
	in := map[string]any{"L": []any{"{{ InstanceIds }}"}, "S": "{{ Count }}"}
	if _, err := Substitute(in, testParams); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"L": []any{"{{ InstanceIds }}"}, "S": "{{ Count }}"}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("input changed to %#v", in)
	}
}

func TestSubstituteErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
		text string
		path string
	}{
		{"whole", "{{ Missing }}", "{{ Missing }}", ""},
		{"embedded", map[string]any{"Name": "x-{{Missing}}"}, "{{Missing}}", "Name"},
		{"list element", map[string]any{"Ids": []any{"a", "{{ ssm:/nope }}"}}, "{{ ssm:/nope }}", "Ids[1]"},
		{"deep", map[string]any{"A": []any{map[string]any{"B": "{{ variable:V }}"}}}, "{{ variable:V }}", "A[0].B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Substitute(tt.in, testParams)
			var re *ResolveError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want *ResolveError", err)
			}
			if re.Text != tt.text || re.Path != tt.path {
				t.Errorf("got text %q path %q, want %q %q", re.Text, re.Path, tt.text, tt.path)
			}
			if !errors.Is(err, errNoValue) {
				t.Errorf("error %v does not wrap the resolver's error", err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("message %q does not name the reference", err)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"no refs at all", "no refs at all"},
		{"{{ InstanceIds }}", `["i-1","i-2"]`},
		{"{{ Count }}", "3"},
		{"{{InstanceId}}", "i-0123456789abcdef0"},
		{"a {{ {{p}} }} b", ""}, // errors: p is unknown
	}
	for _, tt := range tests {
		got, err := Render(tt.in, testParams)
		if tt.want == "" && tt.in != "" {
			if err == nil {
				t.Errorf("Render(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"s", "s"}, {int64(-4), "-4"}, {7, "7"}, {3.0, "3"}, {0.1, "0.1"}, {false, "false"}, {nil, ""},
		{[]any{}, "[]"}, {map[string]any{}, "{}"}, {[]any{"a&b"}, `["a&b"]`},
	}
	for _, tt := range tests {
		if got, err := Text(tt.in); err != nil || got != tt.want {
			t.Errorf("Text(%#v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Text(map[string]any{"f": func() {}}); err == nil {
		t.Error("Text of a function value: want an error")
	}
}

// unproduced answers ErrUnresolved for step outputs that were not produced
// and defers everything else to testParams.
type unproduced map[string]bool

func (u unproduced) Resolve(r Ref) (any, error) {
	if u[r.Name] {
		return nil, fmt.Errorf("step %s: %w", r.Name, ErrUnresolved)
	}
	return testParams.Resolve(r)
}

// A reference the resolver cannot give a value for, without that being an
// error, stays exactly as written wherever it stands: whole value, list
// element, inside text.
func TestSubstituteLeavesUnresolvedAsWritten(t *testing.T) {
	r := unproduced{"getProfile.Arn": true}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"whole value", "{{ getProfile.Arn }}", "{{ getProfile.Arn }}"},
		{"tight spelling kept", "{{getProfile.Arn}}", "{{getProfile.Arn}}"},
		{"list element is not spliced", []any{"{{ getProfile.Arn}}", "{{ InstanceIds }}"}, []any{"{{ getProfile.Arn}}", "i-1", "i-2"}},
		{"inside text", "arn is {{ getProfile.Arn }} for {{ InstanceId }}", "arn is {{ getProfile.Arn }} for i-0123456789abcdef0"},
		{"branch variable", map[string]any{"Variable": "{{ getProfile.Arn }}", "Contains": "arn:"},
			map[string]any{"Variable": "{{ getProfile.Arn }}", "Contains": "arn:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Substitute(tt.in, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if got, err := Render("x-{{ getProfile.Arn }}", r); err != nil || got != "x-{{ getProfile.Arn }}" {
		t.Errorf("Render = %q, %v", got, err)
	}
	// Any other error still fails the substitution.
	if _, err := Substitute("{{ Missing }}", r); !errors.Is(err, errNoValue) {
		t.Errorf("unknown reference: %v", err)
	}
}
