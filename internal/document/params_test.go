package document

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const paramsDoc = `schemaVersion: "0.3"
parameters:
  Name:
    type: String
    allowedPattern: "^[a-z]+$"
    maxChars: 8
  Ids:
    type: StringList
    default: []
    maxItems: 2
  Count:
    type: Integer
    default: 2
    minValue: 1
    maxValue: 5
  Force:
    type: Boolean
    default: false
  Tags:
    type: StringMap
    default: {}
  Maps:
    type: MapList
    default: []
  Size:
    type: String
    default: small
    allowedValues: [small, large]
  Instance:
    type: AWS::EC2::Instance::Id
    default: "{{ssm:/default/instance}}"
  Instances:
    type: List<AWS::EC2::Instance::Id>
    default: []
  Ami:
    type: String
    default: "from_{{Name}}_on_{{global:DATE_TIME}}"
mainSteps:
  - name: s
    action: aws:sleep
    inputs: {Duration: PT1S}
`

func TestCoerce(t *testing.T) {
	d, diags := Parse("p.yaml", []byte(paramsDoc))
	if HasErrors(diags) {
		t.Fatal(diags)
	}
	defaults := map[string]any{"Ids": []any{}, "Count": int64(2), "Force": false, "Tags": map[string]any{},
		"Maps": []any{}, "Size": "small", "Instance": "{{ssm:/default/instance}}", "Instances": []any{},
		"Ami": "from_{{Name}}_on_{{global:DATE_TIME}}"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range defaults {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		in    Inputs
		want  map[string]any
		rules []string // ParameterError rules expected, in any order
	}{
		{name: "API form", in: Inputs{Values: map[string][]string{"Name": {"abc"}, "Ids": {"a", "b"}, "Count": {"3"}, "Force": {"true"}}},
			want: with("Name", "abc", "Ids", []any{"a", "b"}, "Count", int64(3), "Force", true)},
		{name: "flags split lists on commas only", in: Inputs{Flags: []string{"Name=abc", "Ids=a,b", "Tags={\"k\":\"v\"}", "Maps=[{\"a\":1}]"}},
			want: with("Name", "abc", "Ids", []any{"a", "b"}, "Tags", map[string]any{"k": "v"}, "Maps", []any{map[string]any{"a": int64(1)}})},
		{name: "typed file", in: Inputs{Typed: map[string]any{"Name": "abc", "Count": int64(4), "Force": true, "Instances": []any{"i-0123456789abcdef0"}}},
			want: with("Name", "abc", "Count", int64(4), "Force", true, "Instances", []any{"i-0123456789abcdef0"})},
		{name: "flags win over values", in: Inputs{Values: map[string][]string{"Name": {"xyz"}}, Flags: []string{"Name=abc"}},
			want: with("Name", "abc")},
		{name: "missing required", in: Inputs{}, rules: []string{"required (it has no default)"}},
		{name: "broken rules", in: Inputs{Flags: []string{"Name=ABC", "Count=9", "Force=yes", "Size=medium", "Ids=a,b,c", "Instance=x-1", "Forse=1"}},
			rules: []string{"does not match allowedPattern ^[a-z]+$", "must be at most 5 (maxValue)", "expected a Boolean: true or false",
				"not one of the allowedValues [\"small\",\"large\"]", "at most 2 items allowed (maxItems), got 3",
				"not a valid AWS::EC2::Instance::Id (must match ^m?i-([a-z0-9]{8}|[a-z0-9]{17})$)", "not declared by the runbook (did you mean \"Force\"?)"}},
		{name: "integer without decimals", in: Inputs{Flags: []string{"Name=a", "Count=2.5"}}, rules: []string{"expected an Integer (whole number, no decimals)"}},
		{name: "string takes one value", in: Inputs{Values: map[string][]string{"Name": {"a", "b"}}}, rules: []string{"String takes a single value, got 2"}},
		{name: "maxChars", in: Inputs{Flags: []string{"Name=abcdefghij"}}, rules: []string{"at most 8 characters allowed (maxChars), got 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Coerce(tt.in)
			if tt.rules == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %#v\nwant %#v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, got %v", got)
			}
			var rules []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var pe *ParameterError
				if !errors.As(e, &pe) {
					t.Fatalf("not a *ParameterError: %v", e)
				}
				rules = append(rules, pe.Rule)
			}
			for _, want := range tt.rules {
				found := false
				for _, r := range rules {
					found = found || r == want
				}
				if !found {
					t.Errorf("no rule %q in %q", want, rules)
				}
			}
			if len(rules) != len(tt.rules) {
				t.Errorf("rules %q, want %d of them", rules, len(tt.rules))
			}
		})
	}
}

func TestParameterErrorNamesValue(t *testing.T) {
	e := &ParameterError{Name: "Count", Value: "9", Rule: "must be at most 5 (maxValue)"}
	if got := e.Error(); !strings.Contains(got, "Count") || !strings.Contains(got, `"9"`) || !strings.Contains(got, "maxValue") {
		t.Errorf("message %q does not name parameter, value and rule", got)
	}
}

// Java's regex constructs: what RE2 can express is translated exactly; the
// rest is left out of the check, which only lets more values through, and is
// named so validation can warn.
func TestCompilePatternJava(t *testing.T) {
	tests := []struct {
		name, pat      string
		match, noMatch []string
		loosened       string // prefix of the first loosened construct; "" for exact
	}{
		{name: "counts above RE2's limit", pat: `^[a-z0-9-]{1,1024}$`, match: []string{strings.Repeat("a", 1024)}, noMatch: []string{strings.Repeat("a", 1025)}},
		{name: "group counts above the limit", pat: `^(ab){2,1500}$`, match: []string{strings.Repeat("ab", 1200)}, noMatch: []string{"ab"}},
		{name: "unicode escapes", pat: `^[\u0041-\u005A]+\u00e9$`, match: []string{"ABé"}, noMatch: []string{"abé"}},
		{name: "surrogate pair classes are supplementary code points", pat: `^([a-z]|[\uD800-\uDBFF][\uDC00-\uDFFF])+$`, match: []string{"a😀b"}, noMatch: []string{"aé"}},
		{name: "a literal surrogate pair", pat: `^\uD83D\uDE00$`, match: []string{"😀"}, noMatch: []string{"a"}},
		{name: "POSIX classes", pat: `^\p{Upper}[\p{Alnum}\P{Punct}]*$`, match: []string{"Ab1 "}, noMatch: []string{"ab", "A!"}},
		{name: "unicode properties with Is", pat: `^\p{IsL}+$`, match: []string{"été"}, noMatch: []string{"1"}},
		{name: "horizontal space", pat: `^a\hb$`, match: []string{"a b", "a\tb"}, noMatch: []string{"a\nb"}},
		{name: "a plus after an escaped plus is a quantifier", pat: `^\++$`, match: []string{"+++"}, noMatch: []string{"a"}},
		{name: "lookahead left out", pat: `(?=^.{3,63}$)^[a-z]+$`, match: []string{"ab", "abc"}, noMatch: []string{"ABC"}, loosened: "a lookahead"},
		{name: "negative lookahead left out", pat: `^(?!env-)[a-z-]+$`, match: []string{"env-a", "prod"}, noMatch: []string{"Env"}, loosened: "a negative lookahead"},
		{name: "lookbehind left out", pat: `^[a-z-]+(?<!-)$`, match: []string{"a-"}, noMatch: []string{"A"}, loosened: "a negative lookbehind"},
		{name: "possessive made greedy", pat: `^a++b$`, match: []string{"aab"}, noMatch: []string{"b"}, loosened: "a possessive quantifier"},
		{name: "atomic group made plain", pat: `^(?>ab|a)c$`, match: []string{"abc", "ac"}, noMatch: []string{"c"}, loosened: "an atomic group"},
		{name: "backreference widened", pat: `^(a+)-\1$`, match: []string{"a-a", "a-b"}, noMatch: []string{"b-a"}, loosened: "a backreference"},
		{name: "java class widened", pat: `^\p{javaLowerCase}+1$`, match: []string{"a1", "A1"}, noMatch: []string{"a2"}, loosened: "a Java character class"},
		{name: "class intersection not checked", pat: `^[a-z&&[^b]]$`, match: []string{"b", "1"}, loosened: "a class intersection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompilePattern(tt.pat)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.loosened == "" && len(p.Loosened) > 0:
				t.Errorf("loosened %q, want an exact translation", p.Loosened)
			case tt.loosened != "" && (len(p.Loosened) == 0 || !strings.HasPrefix(p.Loosened[0], tt.loosened)):
				t.Errorf("loosened %q, want %q", p.Loosened, tt.loosened)
			}
			for _, m := range tt.match {
				if !p.MatchString(m) {
					t.Errorf("%q does not match", m)
				}
			}
			for _, m := range tt.noMatch {
				if p.MatchString(m) {
					t.Errorf("%q matches", m)
				}
			}
		})
	}
	if _, err := CompilePattern(`[`); err == nil {
		t.Error("an unclosed class compiled")
	}
}
