package action

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests check request shaping and the matching rules with a stub
// Invoker returning canned responses; the moto-backed runs of these actions
// against real API calls live with the engine and awsapi.
type stubInvoker struct {
	responses []map[string]any // returned in turn; the last one repeats
	err       error
	calls     []stubCall
	onCall    func(n int) // called after each call with the call count
}

type stubCall struct {
	service, operation string
	input              map[string]any
}

func (s *stubInvoker) Invoke(_ context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	s.calls = append(s.calls, stubCall{service, operation, input})
	if s.onCall != nil {
		s.onCall(len(s.calls))
	}
	if s.err != nil {
		return nil, s.err
	}
	i := min(len(s.calls)-1, len(s.responses)-1)
	return s.responses[i], nil
}

func instances(states ...string) map[string]any {
	var list []any
	for _, s := range states {
		list = append(list, map[string]any{"InstanceId": "i-1", "State": map[string]any{"Name": s}, "EbsOptimized": false})
	}
	return map[string]any{"Reservations": []any{map[string]any{"Instances": list}}}
}

func TestExecuteAwsApiSendsTheRestAsRequest(t *testing.T) {
	inv := &stubInvoker{responses: []map[string]any{{"Reservations": []any{}}}}
	in := map[string]any{"Service": "ec2", "Api": "DescribeInstances", "InstanceIds": []any{"i-1"}}
	res, err := executeAwsAPI{}.Run(context.Background(), &Request{Inputs: in, AWS: inv})
	if err != nil {
		t.Fatal(err)
	}
	want := stubCall{"ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"i-1"}}}
	if len(inv.calls) != 1 || !reflect.DeepEqual(inv.calls[0], want) {
		t.Errorf("calls = %+v, want one %+v", inv.calls, want)
	}
	if !reflect.DeepEqual(res.Response, map[string]any{"Reservations": []any{}}) {
		t.Errorf("Response = %v", res.Response)
	}
	if _, ok := in["Service"]; !ok {
		t.Error("Run modified the caller's inputs")
	}
}

func TestExecuteAwsApiWrapsErrors(t *testing.T) {
	cause := errors.New("InvalidInstanceID.NotFound")
	inv := &stubInvoker{err: cause}
	_, err := executeAwsAPI{}.Run(context.Background(), &Request{Inputs: map[string]any{"Service": "ec2", "Api": "DescribeInstances"}, AWS: inv})
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "ec2 DescribeInstances") {
		t.Errorf("error = %v, want it to wrap the cause and name the call", err)
	}
}

func TestAssertAwsResourceProperty(t *testing.T) {
	tests := []struct {
		name     string
		response map[string]any
		selector string
		desired  []any
		wantErr  []string // empty: the assertion holds
	}{
		{"single value matches", instances("running"), "$.Reservations[0].Instances[0].State.Name", []any{"running", "pending"}, nil},
		{"single value differs", instances("stopped"), "$.Reservations[0].Instances[0].State.Name", []any{"running"}, []string{"$.Reservations[0].Instances[0].State.Name", `"stopped"`, `["running"]`}},
		{"boolean compares as False", instances("running"), "$.Reservations[0].Instances[0].EbsOptimized", []any{"False"}, nil},
		{"boolean does not match lower case", instances("running"), "$.Reservations[0].Instances[0].EbsOptimized", []any{"false"}, []string{`"False"`}},
		{"integer compares as text", map[string]any{"Count": 3.0}, "$.Count", []any{"3"}, nil},
		{"list: every element desired", instances("running", "running"), "$..State.Name", []any{"running"}, nil},
		{"list: one element not desired", instances("running", "pending"), "$..State.Name", []any{"running"}, []string{`["running", "pending"]`}},
		{"list: empty never matches", instances(), "$..State.Name", []any{"running"}, []string{"$..State.Name"}},
		{"selector matches nothing", instances("running"), "$.Nope", []any{"running"}, []string{"matched nothing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &stubInvoker{responses: []map[string]any{tt.response}}
			in := map[string]any{"Service": "ec2", "Api": "DescribeInstances", "InstanceIds": []any{"i-1"},
				"PropertySelector": tt.selector, "DesiredValues": tt.desired}
			_, err := assertProperty{}.Run(context.Background(), &Request{Inputs: in, AWS: inv})
			if len(inv.calls) != 1 {
				t.Fatalf("made %d calls, want 1", len(inv.calls))
			}
			if got := inv.calls[0].input; !reflect.DeepEqual(got, map[string]any{"InstanceIds": []any{"i-1"}}) {
				t.Errorf("request = %v, want only the API fields", got)
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var mm *PropertyMismatchError
			if !errors.As(err, &mm) {
				t.Fatalf("error = %v, want a *PropertyMismatchError", err)
			}
			for _, f := range tt.wantErr {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not mention %q", err, f)
				}
			}
		})
	}
}

func TestWaitForAwsResourcePropertyPollsUntilMatched(t *testing.T) {
	inv := &stubInvoker{responses: []map[string]any{instances("pending"), instances("pending"), instances("running")}}
	w := &waitForProperty{initial: time.Millisecond, max: 2 * time.Millisecond}
	in := map[string]any{"Service": "ec2", "Api": "DescribeInstances",
		"PropertySelector": "$.Reservations[0].Instances[0].State.Name", "DesiredValues": []any{"running"}}
	res, err := w.Run(context.Background(), &Request{Inputs: in, AWS: inv})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.calls) != 3 {
		t.Errorf("made %d calls, want 3 (two pending, then running)", len(inv.calls))
	}
	if !reflect.DeepEqual(res.Response, instances("running")) {
		t.Errorf("Response = %v, want the matching response", res.Response)
	}
}

func TestWaitForAwsResourcePropertyStopsWithContext(t *testing.T) {
	inv := &stubInvoker{responses: []map[string]any{instances("pending")}}
	w := &waitForProperty{initial: time.Millisecond, max: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	in := map[string]any{"Service": "ec2", "Api": "DescribeInstances",
		"PropertySelector": "$.Reservations[0].Instances[0].State.Name", "DesiredValues": []any{"running"}}
	inv.onCall = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	_, err := w.Run(ctx, &Request{Inputs: in, AWS: inv})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"pending"`) {
		t.Errorf("error = %v, want context.Canceled with the last value seen", err)
	}
	if len(inv.calls) != 3 {
		t.Errorf("made %d calls, want 3 (none after the cancel)", len(inv.calls))
	}
}

func TestWaitForAwsResourcePropertyFailsOnAPIError(t *testing.T) {
	cause := errors.New("AccessDenied")
	w := &waitForProperty{initial: time.Millisecond, max: time.Millisecond}
	in := map[string]any{"Service": "ec2", "Api": "DescribeInstances", "PropertySelector": "$.X", "DesiredValues": []any{"y"}}
	_, err := w.Run(context.Background(), &Request{Inputs: in, AWS: &stubInvoker{err: cause}})
	if !errors.Is(err, cause) {
		t.Errorf("error = %v, want the API error", err)
	}
}

func TestBadSelectorFailsBeforeCalling(t *testing.T) {
	inv := &stubInvoker{responses: []map[string]any{{}}}
	in := map[string]any{"Service": "ec2", "Api": "DescribeInstances", "PropertySelector": "$.[[", "DesiredValues": []any{"x"}}
	_, err := assertProperty{}.Run(context.Background(), &Request{Inputs: in, AWS: inv})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Input != "PropertySelector" {
		t.Errorf("error = %v, want an InputError on PropertySelector", err)
	}
	if len(inv.calls) != 0 {
		t.Errorf("made %d calls with an invalid selector", len(inv.calls))
	}
}
