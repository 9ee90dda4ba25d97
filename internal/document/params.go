package document

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/value"
)

// awsTypes are the console-populating parameter types and the pattern each
// value must match (SSM User Guide, populating-input-parameters).
var awsTypes = map[ParamType]*regexp.Regexp{
	"AWS::EC2::Instance::Id": regexp.MustCompile(`^m?i-([a-z0-9]{8}|[a-z0-9]{17})$`),
	"AWS::S3::Bucket::Name":  regexp.MustCompile(`^[0-9a-z][a-z0-9\-\.]{3,63}$`),
	"AWS::IAM::Role::Arn":    regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::[0-9]{12}:role/.*$`),
}

// Valid reports whether t is a type SSM accepts for a parameter.
func (t ParamType) Valid() bool {
	if value.Type(t).Valid() {
		return true
	}
	_, ok := awsTypes[t.Element()]
	return ok
}

// IsList reports whether values of t are lists of strings: StringList and
// the List<AWS::...> types.
func (t ParamType) IsList() bool {
	return t == ParamType(value.StringList) || strings.HasPrefix(string(t), "List<")
}

// Element is the AWS type of one element: AWS::EC2::Instance::Id for both
// AWS::EC2::Instance::Id and List<AWS::EC2::Instance::Id>; t itself otherwise.
func (t ParamType) Element() ParamType {
	s := string(t)
	if strings.HasPrefix(s, "List<") && strings.HasSuffix(s, ">") {
		return ParamType(s[len("List<") : len(s)-1])
	}
	return t
}

// Value is the SSM value type values of t have: the AWS types behave as
// String, their List<> forms as StringList.
func (t ParamType) Value() value.Type {
	if value.Type(t).Valid() {
		return value.Type(t)
	}
	if t.IsList() {
		return value.StringList
	}
	return value.String
}

// Inputs are the parameter values a caller supplies for one execution. Each
// source may name any parameter; when several name the same one, Flags win
// over Values, which win over Typed.
type Inputs struct {
	// Values is SSM's API form (StartAutomationExecution Parameters): every
	// value a list of strings.
	Values map[string][]string
	// Flags are command-line "Name=Value" pairs (-p). The value is split on
	// commas for list types and taken whole for every other type; repeating
	// a list parameter appends.
	Flags []string
	// Typed are decoded values, as read from a parameters file (JSON or
	// YAML): native types, or the API form of a list of strings.
	Typed map[string]any
}

// ParameterError says which rule a supplied parameter value broke.
type ParameterError struct {
	Name  string // the parameter
	Value string // the offending value as the user gave it
	Rule  string // what was expected
}

func (e *ParameterError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("parameter %s: %s", e.Name, e.Rule)
	}
	return fmt.Sprintf("parameter %s: value %q: %s", e.Name, e.Value, e.Rule)
}

// Coerce turns supplied values into the declared parameter types, applies
// defaults and checks every rule of the declaration. The result holds every
// declared parameter: String and AWS scalar types as string, StringList and
// List<> types as []any of strings, Integer as int64, Boolean as bool,
// StringMap as map[string]any and MapList as []any of maps. Defaults that are
// templates ({{ssm:/x}}, {{global:ACCOUNT_ID}}, {{OtherParam}}) come back as
// strings for the engine to substitute; defaults are not checked against
// allowedValues or allowedPattern (SSM does not either: an empty default is
// the common way to say "optional"). The error joins one *ParameterError per
// broken rule.
func (d *Document) Coerce(in Inputs) (map[string]any, error) {
	decl := make(map[string]*Parameter, len(d.Parameters))
	for _, p := range d.Parameters {
		decl[p.Name] = p
	}
	var errs []error
	given := map[string]any{}
	for name, v := range in.Typed {
		given[name] = v
	}
	for name, v := range in.Values {
		given[name] = v
	}
	flagLists := map[string][]string{}
	for _, f := range in.Flags {
		name, v, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			errs = append(errs, &ParameterError{Name: f, Rule: "expected Name=Value"})
			continue
		}
		p := decl[name]
		if p != nil && p.Type.IsList() {
			flagLists[name] = append(flagLists[name], splitList(v)...)
			given[name] = flagLists[name]
			continue
		}
		given[name] = []string{v}
	}

	out := make(map[string]any, len(d.Parameters))
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if decl[name] == nil {
			errs = append(errs, &ParameterError{Name: name, Rule: "not declared by the runbook" + didYouMean(name, slices.Collect(maps.Keys(decl)))})
		}
	}
	for _, p := range d.Parameters {
		v, ok := given[p.Name]
		if !ok {
			if !p.HasDefault {
				errs = append(errs, &ParameterError{Name: p.Name, Rule: "required (it has no default)"})
				continue
			}
			out[p.Name] = p.defaultValue()
			continue
		}
		cv, err := p.coerce(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := p.check(cv); err != nil {
			errs = append(errs, err)
			continue
		}
		out[p.Name] = cv
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// defaultValue is the default in the parameter's type. A default written as
// a string where a number or a list is declared (a template, usually) stays
// a string.
func (p *Parameter) defaultValue() any {
	switch v := p.Default.(type) {
	case []any:
		// A copy, never nil: an empty default list stays an empty list.
		return append(make([]any, 0, len(v)), v...)
	case int:
		return int64(v)
	case float64:
		if p.Type.Value() == value.Integer && v == float64(int64(v)) {
			return int64(v)
		}
	case string:
		if t, ok := value.FromText(v, p.Type.Value()); ok {
			return t
		}
	}
	return p.Default
}

func (p *Parameter) fail(v any, format string, args ...any) *ParameterError {
	return &ParameterError{Name: p.Name, Value: show(v), Rule: fmt.Sprintf(format, args...)}
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// coerce converts one supplied value into p's type.
func (p *Parameter) coerce(v any) (any, error) {
	// The API form: a list of strings, even for scalar types.
	if l, ok := stringList(v); ok {
		if p.Type.IsList() {
			out := make([]any, len(l))
			for i, s := range l {
				out[i] = s
			}
			return out, nil
		}
		if p.Type.Value() == value.MapList && len(l) > 1 {
			return p.fromText(v, "["+strings.Join(l, ",")+"]")
		}
		if len(l) != 1 {
			return nil, p.fail(v, "%s takes a single value, got %d", p.Type, len(l))
		}
		return p.fromText(v, l[0])
	}
	switch p.Type.Value() {
	case value.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64, float64, bool:
			return show(x), nil
		}
	case value.Integer:
		switch x := v.(type) {
		case string:
			return p.fromText(v, x)
		case int:
			return int64(x), nil
		}
		if err := value.Check(v, value.Integer); err == nil {
			if f, ok := v.(float64); ok {
				return int64(f), nil
			}
			return v, nil
		}
	case value.Boolean:
		switch x := v.(type) {
		case string:
			return p.fromText(v, x)
		case bool:
			return x, nil
		}
	case value.StringMap, value.MapList:
		if s, ok := v.(string); ok {
			return p.fromText(v, s)
		}
		if err := value.Check(v, p.Type.Value()); err == nil {
			return v, nil
		}
	case value.StringList:
		if s, ok := v.(string); ok {
			return p.coerce(splitList(s))
		}
	}
	return nil, p.fail(v, "expected %s, got %s", p.Type, value.Describe(v))
}

// fromText parses the text form of a value of p's type.
func (p *Parameter) fromText(orig any, s string) (any, error) {
	switch p.Type.Value() {
	case value.Integer:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, p.fail(orig, "expected an Integer (whole number, no decimals)")
		}
		return n, nil
	case value.Boolean:
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, p.fail(orig, "expected a Boolean: true or false")
	case value.StringMap, value.MapList:
		var x any
		if err := json.Unmarshal([]byte(s), &x); err != nil {
			return nil, p.fail(orig, "expected %s as JSON text: %v", p.Type, err)
		}
		x = normalizeJSON(x)
		if err := value.Check(x, p.Type.Value()); err != nil {
			return nil, p.fail(orig, "%v", err)
		}
		return x, nil
	}
	return s, nil
}

// normalizeJSON turns encoding/json's float64 whole numbers into int64, the
// model's integer type.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case []any:
		for i := range x {
			x[i] = normalizeJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeJSON(x[k])
		}
	}
	return v
}

func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// check applies the declaration's rules to a coerced value.
func (p *Parameter) check(v any) error {
	var strs []string
	switch x := v.(type) {
	case string:
		strs = []string{x}
	case []any:
		if p.Type.IsList() {
			n := len(x)
			if p.MinItems != nil && n < *p.MinItems {
				return p.fail(v, "at least %d items required (minItems), got %d", *p.MinItems, n)
			}
			if p.MaxItems != nil && n > *p.MaxItems {
				return p.fail(v, "at most %d items allowed (maxItems), got %d", *p.MaxItems, n)
			}
			strs, _ = stringList(x)
		}
	case int64:
		if p.MinValue != nil && x < *p.MinValue {
			return p.fail(v, "must be at least %d (minValue)", *p.MinValue)
		}
		if p.MaxValue != nil && x > *p.MaxValue {
			return p.fail(v, "must be at most %d (maxValue)", *p.MaxValue)
		}
		if len(p.AllowedValues) > 0 && !allowed(p.AllowedValues, strconv.FormatInt(x, 10)) {
			return p.fail(v, "not one of the allowedValues %s", show(p.AllowedValues))
		}
	case bool:
		if len(p.AllowedValues) > 0 && !allowed(p.AllowedValues, strconv.FormatBool(x)) {
			return p.fail(v, "not one of the allowedValues %s", show(p.AllowedValues))
		}
	}
	re := awsTypes[p.Type.Element()]
	var pat *Pattern
	if p.AllowedPattern != "" {
		// A pattern with Java-only constructs is checked without them
		// (validation warns of it): a value refused here, SSM refuses too.
		var err error
		if pat, err = CompilePattern(p.AllowedPattern); err != nil {
			return &ParameterError{Name: p.Name, Value: show(v), Rule: fmt.Sprintf("allowedPattern cannot be checked: %v", err)}
		}
	}
	for _, s := range strs {
		if re != nil && !re.MatchString(s) {
			return p.fail(s, "not a valid %s (must match %s)", p.Type.Element(), re)
		}
		if len(p.AllowedValues) > 0 && !allowed(p.AllowedValues, s) {
			return p.fail(s, "not one of the allowedValues %s", show(p.AllowedValues))
		}
		if pat != nil && !pat.MatchString(s) {
			return p.fail(s, "does not match allowedPattern %s", p.AllowedPattern)
		}
		n := len([]rune(s))
		if p.MinChars != nil && n < *p.MinChars {
			return p.fail(s, "at least %d characters required (minChars), got %d", *p.MinChars, n)
		}
		if p.MaxChars != nil && n > *p.MaxChars {
			return p.fail(s, "at most %d characters allowed (maxChars), got %d", *p.MaxChars, n)
		}
	}
	return nil
}

// allowed compares as text: allowedValues are case-sensitive strings in SSM,
// but YAML may have decoded an unquoted 5 or true.
func allowed(values []any, s string) bool {
	for _, a := range values {
		if show(a) == s {
			return true
		}
	}
	return false
}

// SplitErrors flattens err (joined and wrapped errors) into the parameter
// errors it holds and the other errors at its leaves, each in order, so a
// front end can show a parameter's error next to its field and mask a
// secret parameter's value.
func SplitErrors(err error) (params []*ParameterError, rest []error) {
	var walk func(error)
	walk = func(e error) {
		if pe, ok := e.(*ParameterError); ok {
			params = append(params, pe)
			return
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, y := range x.Unwrap() {
				walk(y)
			}
		case interface{ Unwrap() error }:
			if y := x.Unwrap(); y != nil {
				walk(y)
				return
			}
			rest = append(rest, e)
		default:
			rest = append(rest, e)
		}
	}
	if err != nil {
		walk(err)
	}
	return params, rest
}
