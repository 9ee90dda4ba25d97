package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/template"
)

// apiInputs are the inputs shared by the three API-driven actions; the
// operation's own request fields come on top (Spec.OpenInputs).
var apiInputs = []Input{
	req("Service", String, "AWS service namespace as boto3 names it (ec2, ssm, elbv2, logs, ...); case-insensitive."),
	req("Api", String, "Operation name, PascalCase (DescribeInstances) or boto3 snake_case (describe_instances)."),
}

var propertyInputs = []Input{
	req("PropertySelector", String, "JSONPath into the response selecting the property to check."),
	req("DesiredValues", StringList, "Accepted values, compared as strings (booleans as True/False). A list selection matches only if every element is accepted."),
}

func registerAPI(r *Registry) {
	r.Register(Spec{
		Name:        "aws:executeAwsApi",
		Summary:     "Call one AWS API operation and expose its response to output selectors.",
		Inputs:      apiInputs,
		OpenInputs:  true,
		UserOutputs: true,
		MaxTimeout:  25 * time.Second,
		// A read-only operation may be called again after a crash; any
		// other may have changed something and is not.
		RetrySafeFor: readOnlyCall,
		Impact:       Undetermined,
		Support:      Executes,
		IAM:          apiIAM,
	}, executeAwsAPI{})
	r.Register(Spec{
		Name:           "aws:waitForAwsResourceProperty",
		Summary:        "Poll an AWS API operation until a selected property has one of the desired values.",
		Inputs:         append(append([]Input(nil), apiInputs...), propertyInputs...),
		OpenInputs:     true,
		DefaultTimeout: time.Hour,
		RetrySafe:      true,
		Impact:         NonMutating,
		Support:        Executes,
		IAM:            apiIAM,
	}, &waitForProperty{initial: defaultPollInitial, max: defaultPollMax})
	r.Register(Spec{
		Name:           "aws:assertAwsResourceProperty",
		Summary:        "Call an AWS API operation once and fail unless a selected property has one of the desired values.",
		Inputs:         append(append([]Input(nil), apiInputs...), propertyInputs...),
		OpenInputs:     true,
		DefaultTimeout: time.Hour,
		RetrySafe:      true,
		Impact:         NonMutating,
		Support:        Executes,
		IAM:            apiIAM,
	}, assertProperty{})
}

// readOnlyOps are read-only operations whose names do not start with one of
// readOnlyPrefixes.
var readOnlyOps = map[string]bool{
	"HeadBucket":   true, // s3
	"HeadObject":   true, // s3
	"LookupEvents": true, // cloudtrail
}

// readOnlyPrefixes start the names of AWS operations that only read.
var readOnlyPrefixes = []string{"Describe", "Get", "List"}

// readOnlyCall reports whether an API step's literal Api names a read-only
// operation (DescribeInstances, get_parameter, ListRoles,
// GetCallerIdentity), which is safe to call again. A templated or masked
// name is not.
func readOnlyCall(inputs map[string]any) bool {
	api, ok := inputs["Api"].(string)
	if !ok || api == "" || strings.Contains(api, "{{") {
		return false
	}
	return ReadOnlyOperation(awsservice.OperationName(api))
}

// ReadOnlyOperation reports whether the operation, spelt as the API model
// spells it (DescribeInstances), only reads: its name is Describe, Get or
// List followed by a capitalised word, or it is one of a few other reads.
func ReadOnlyOperation(op string) bool {
	if readOnlyOps[op] {
		return true
	}
	for _, p := range readOnlyPrefixes {
		if rest, ok := strings.CutPrefix(op, p); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
			return true
		}
	}
	return false
}

// apiIAM derives the IAM actions an API step needs from Service and Api
// (one, or a few for operations such as s3 CopyObject).
// A templated or unknown pair yields nothing and an incomplete policy.
func apiIAM(inputs map[string]any) ([]string, string) {
	service, _ := inputs["Service"].(string)
	api, _ := inputs["Api"].(string)
	if isTemplated(service) || isTemplated(api) {
		return nil, fmt.Sprintf("Service %q or Api %q is templated: the operation is known only when the step runs", service, api)
	}
	acts, ok := awsservice.IAMActions(service, api)
	if !ok {
		return nil, fmt.Sprintf("no service %q with an operation %q is known", service, api)
	}
	return sortedUnique(acts), ""
}

// apiCall splits a step's inputs into service, operation and the request,
// dropping the action's own keys.
func apiCall(action string, inputs map[string]any, own ...string) (service, api string, request map[string]any, err error) {
	if service, err = stringInput(action, inputs, "Service"); err != nil {
		return "", "", nil, err
	}
	if api, err = stringInput(action, inputs, "Api"); err != nil {
		return "", "", nil, err
	}
	request = make(map[string]any, len(inputs))
	for k, v := range inputs {
		request[k] = v
	}
	delete(request, "Service")
	delete(request, "Api")
	for _, k := range own {
		delete(request, k)
	}
	return service, api, request, nil
}

func invoke(ctx context.Context, req *Request, action, service, api string, request map[string]any) (map[string]any, error) {
	if req.AWS == nil {
		return nil, fmt.Errorf("%s: calling %s %s: no AWS invoker configured", action, service, api)
	}
	out, err := req.AWS.Invoke(ctx, service, api, request)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, callError(service, api, err))
	}
	return out, nil
}

// callError names the call an error came from, unless the error already
// does (AWS errors start with "service Operation:").
func callError(service, api string, err error) error {
	if strings.HasPrefix(err.Error(), service+" "+api+":") {
		return err
	}
	return fmt.Errorf("calling %s %s: %w", service, api, err)
}

type executeAwsAPI struct{}

func (executeAwsAPI) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:executeAwsApi"
	service, api, request, err := apiCall(name, req.Inputs)
	if err != nil {
		return nil, err
	}
	out, err := invoke(ctx, req, name, service, api, request)
	if err != nil {
		return nil, err
	}
	return &Result{Response: out, Secrets: secureStrings(service, out)}, nil
}

// PropertyMismatchError says that a selected property did not have one of the
// desired values (aws:assertAwsResourceProperty fails the step with it).
type PropertyMismatchError struct {
	Selector string
	Found    bool // false when the selector matched nothing
	Actual   any
	Desired  []string
}

func (e *PropertyMismatchError) Error() string {
	if !e.Found {
		return fmt.Sprintf("property %s: selector matched nothing in the response; desired one of %s", e.Selector, quoteList(e.Desired))
	}
	return fmt.Sprintf("property %s is %s; desired one of %s", e.Selector, renderActual(e.Actual), quoteList(e.Desired))
}

// propertyCheck is the parsed PropertySelector/DesiredValues pair.
type propertyCheck struct {
	selector string
	sel      *template.Selector
	desired  []string
}

func newPropertyCheck(action string, inputs map[string]any) (*propertyCheck, error) {
	sel, err := stringInput(action, inputs, "PropertySelector")
	if err != nil {
		return nil, err
	}
	raw, ok := inputs["DesiredValues"].([]any)
	if !ok {
		if ss, isStrings := inputs["DesiredValues"].([]string); isStrings {
			for _, s := range ss {
				raw = append(raw, s)
			}
		} else {
			return nil, &InputError{Action: action, Input: "DesiredValues", Reason: "expected StringList"}
		}
	}
	parsed, err := template.ParseSelector(sel)
	if err != nil {
		return nil, &InputError{Action: action, Input: "PropertySelector", Reason: err.Error()}
	}
	pc := &propertyCheck{selector: sel, sel: parsed}
	for _, v := range raw {
		pc.desired = append(pc.desired, ssmString(v))
	}
	return pc, nil
}

// check selects the property and reports a mismatch, if any. A list
// selection (from .., [*] or a filter) matches only when it is non-empty and
// every element is desired: waiting on "all instances running" must not pass
// while one is still pending.
func (pc *propertyCheck) check(response any) error {
	got, found := pc.sel.Select(response)
	mismatch := &PropertyMismatchError{Selector: pc.selector, Found: found, Actual: got, Desired: pc.desired}
	if !found {
		return mismatch
	}
	if list, ok := got.([]any); ok {
		if len(list) == 0 {
			return mismatch
		}
		for _, e := range list {
			if !pc.accepts(e) {
				return mismatch
			}
		}
		return nil
	}
	if !pc.accepts(got) {
		return mismatch
	}
	return nil
}

func (pc *propertyCheck) accepts(v any) bool {
	s := ssmString(v)
	for _, d := range pc.desired {
		if d == s {
			return true
		}
	}
	return false
}

type assertProperty struct{}

func (assertProperty) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:assertAwsResourceProperty"
	pc, err := newPropertyCheck(name, req.Inputs)
	if err != nil {
		return nil, err
	}
	service, api, request, err := apiCall(name, req.Inputs, "PropertySelector", "DesiredValues")
	if err != nil {
		return nil, err
	}
	out, err := invoke(ctx, req, name, service, api, request)
	if err != nil {
		return nil, err
	}
	if err := pc.check(out); err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", name, service, api, err)
	}
	return &Result{Response: out}, nil
}

// SSM does not document its poll interval. capstan starts at 2 s so short
// waits finish promptly and doubles up to 30 s so hour-long waits cost about
// 120 calls, well under any API throttle.
const (
	defaultPollInitial = 2 * time.Second
	defaultPollMax     = 30 * time.Second
)

type waitForProperty struct {
	initial, max time.Duration
}

func (w *waitForProperty) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:waitForAwsResourceProperty"
	pc, err := newPropertyCheck(name, req.Inputs)
	if err != nil {
		return nil, err
	}
	service, api, request, err := apiCall(name, req.Inputs, "PropertySelector", "DesiredValues")
	if err != nil {
		return nil, err
	}
	interval := w.initial
	for {
		out, err := invoke(ctx, req, name, service, api, request)
		if err != nil {
			return nil, err
		}
		last := pc.check(out)
		if last == nil {
			return &Result{Response: out}, nil
		}
		var mismatch *PropertyMismatchError
		if !errors.As(last, &mismatch) {
			return nil, fmt.Errorf("%s: %s %s: %w", name, service, api, last)
		}
		if !req.sleep(ctx, interval) {
			// The engine turns the deadline into TimedOut; keep the last value
			// so the user sees what the property was when time ran out.
			return nil, fmt.Errorf("%s: %s %s: waiting: %w (last: %v)", name, service, api, ctx.Err(), last)
		}
		interval = min(interval*2, w.max)
	}
}

// ssmString renders a decoded JSON value the way SSM (Python) compares it:
// booleans as True/False, integral numbers without a fraction, null as None.
func ssmString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func renderActual(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = strconv.Quote(ssmString(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return strconv.Quote(ssmString(v))
}

func quoteList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var (
	_ Action = executeAwsAPI{}
	_ Action = assertProperty{}
	_ Action = (*waitForProperty)(nil)
)

// secureStrings are the decrypted values of SecureString parameters in an
// SSM response (GetParameter, GetParameters, GetParametersByPath,
// GetParameterHistory with WithDecryption): secrets the record must not hold.
func secureStrings(service string, v any) []string {
	if !strings.EqualFold(service, "ssm") {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["Type"] == "SecureString" {
				if s, ok := x["Value"].(string); ok && s != "" {
					out = append(out, s)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}
