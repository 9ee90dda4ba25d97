package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// motoEngine is an engine whose AWS calls go to a fresh moto through the real
// awsapi client, wired as the CLI wires it: calls attributed to their step and
// recorded on the execution. The engine is given no account id, so
// global:ACCOUNT_ID must come from the credentials in use.
type motoEngine struct {
	t   *testing.T
	db  *sqlite.DB
	eng *Engine
	aws *awsapi.Client // for checking moto's state from the test
}

func newMotoEngine(t *testing.T) *motoEngine {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	limiters := &awsapi.Limiters{}
	newInvoker := func(ctx context.Context, req InvokerRequest) (action.Invoker, error) {
		return awsapi.New(cfg, awsapi.Options{Limiters: limiters, StepOf: StepFromContext, Record: func(c awsapi.Call) {
			req.Record(store.Call{Step: c.Step, Service: c.Service, Operation: c.Operation, IAMAction: c.IAMAction, Start: c.Start, Duration: c.Duration, ErrorCode: c.ErrorCode})
		}}), nil
	}
	m := &motoEngine{t: t, db: db, aws: awsapi.New(cfg, awsapi.Options{Limiters: limiters})}
	m.eng = New(Options{Store: db, Actions: action.Builtin(), NewInvoker: newInvoker, Region: "us-east-1", RetryDelay: time.Millisecond})
	t.Cleanup(m.eng.Shutdown)
	return m
}

func (m *motoEngine) call(service, op string, in map[string]any) map[string]any {
	m.t.Helper()
	out, err := m.aws.Invoke(context.Background(), service, op, in)
	if err != nil {
		m.t.Fatalf("%s %s: %v", service, op, err)
	}
	return out
}

// run validates src as the CLI does, starts it and waits for its end.
func (m *motoEngine) run(src string) (*State, []store.Call) {
	m.t.Helper()
	doc, diags := document.Load("test.yaml", []byte(src), action.Builtin())
	for _, d := range diags {
		if d.Severity == document.Error {
			m.t.Fatalf("test document: %s", d)
		}
	}
	params, err := doc.Coerce(document.Inputs{})
	if err != nil {
		m.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id, err := m.eng.Start(ctx, StartRequest{Document: doc, Source: []byte(src), DocumentName: "test", Parameters: params})
	if err != nil {
		m.t.Fatal(err)
	}
	st, err := m.eng.Wait(ctx, id)
	if err != nil {
		m.t.Fatal(err)
	}
	calls, err := m.db.Calls(ctx, id)
	if err != nil {
		m.t.Fatal(err)
	}
	return st, calls
}

func stepView(t *testing.T, v *State, name string) *StepState {
	t.Helper()
	for _, s := range v.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step execution %s in %s", name, statuses(v))
	return nil
}

func hasCall(calls []store.Call, step, service, op, code string) bool {
	for _, c := range calls {
		if c.Step == step && c.Service == service && c.Operation == op && c.IAMAction == service+":"+op && c.ErrorCode == code {
			return true
		}
	}
	return false
}

const ec2Runbook = `
schemaVersion: "0.3"
parameters:
  ImageId:
    type: String
    default: "{{ ssm:/capstan/test/ami }}"
  Owner:
    type: String
    default: "{{ global:ACCOUNT_ID }}"
mainSteps:
  - name: launch
    action: aws:executeAwsApi
    inputs:
      Service: EC2
      Api: run_instances
      ImageId: "{{ ImageId }}"
      MinCount: 1
      MaxCount: 1
      InstanceType: t3.micro
      TagSpecifications:
        - ResourceType: instance
          Tags: [{Key: Owner, Value: "{{ Owner }}"}]
    outputs:
      - {Name: InstanceId, Selector: "$.Instances[0].InstanceId", Type: String}
  - name: describe
    action: aws:executeAwsApi
    inputs:
      Service: ec2
      Api: describe_instances
      InstanceIds: ["{{ launch.InstanceId }}"]
    outputs:
      - {Name: Type, Selector: "$.Reservations[0].Instances[0].InstanceType", Type: String}
      - {Name: Owner, Selector: "$.Reservations[0].Instances[0].Tags[0].Value", Type: String}
  - name: waitRunning
    action: aws:waitForAwsResourceProperty
    timeoutSeconds: 60
    inputs:
      Service: ec2
      Api: DescribeInstances
      InstanceIds: ["{{ launch.InstanceId }}"]
      PropertySelector: "$.Reservations[0].Instances[0].State.Name"
      DesiredValues: [running]
  - name: assertType
    action: aws:assertAwsResourceProperty
    inputs:
      Service: ec2
      Api: DescribeInstances
      InstanceIds: ["{{ launch.InstanceId }}"]
      PropertySelector: "$.Reservations[0].Instances[0].InstanceType"
      DesiredValues: [t3.micro]
outputs: [launch.InstanceId, describe.Type, describe.Owner]
`

func TestMotoEC2RunDescribeWaitAssert(t *testing.T) {
	m := newMotoEngine(t)
	m.call("ssm", "PutParameter", map[string]any{"Name": "/capstan/test/ami", "Value": "ami-12c6146b", "Type": "String"})

	st, calls := m.run(ec2Runbook)
	v := st
	if v.Status != StatusSuccess {
		t.Fatalf("status %s (%s); steps %s", v.Status, v.FailureMessage, statuses(st))
	}
	id := v.Outputs["launch.InstanceId"]
	if len(id) != 1 || !strings.HasPrefix(id[0], "i-") {
		t.Fatalf("launch.InstanceId = %v", id)
	}
	if got := v.Outputs["describe.Type"]; len(got) != 1 || got[0] != "t3.micro" {
		t.Errorf("describe.Type = %v", got)
	}
	// moto's account: the engine had no account configured.
	if got := v.Outputs["describe.Owner"]; len(got) != 1 || got[0] != "123456789012" {
		t.Errorf("global:ACCOUNT_ID tagged as %v, want moto's account 123456789012", got)
	}
	// The Parameter Store default reached the call.
	if in := stepView(t, v, "launch").Inputs["ImageId"]; in != "ami-12c6146b" {
		t.Errorf("launch ImageId input = %s, want the value from Parameter Store", in)
	}
	// moto really holds a running instance of that id.
	out := m.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id[0]}})
	b, _ := json.Marshal(out)
	if !strings.Contains(string(b), `"Name":"running"`) {
		t.Errorf("moto's instance is not running: %s", b)
	}
	for _, want := range []struct{ step, service, op string }{
		{"launch", "ssm", "GetParameter"},
		{"launch", "ec2", "RunInstances"},
		{"describe", "ec2", "DescribeInstances"},
		{"waitRunning", "ec2", "DescribeInstances"},
		{"assertType", "ec2", "DescribeInstances"},
	} {
		if !hasCall(calls, want.step, want.service, want.op, "") {
			t.Errorf("no recorded call %s %s:%s in %+v", want.step, want.service, want.op, calls)
		}
	}
}

func TestMotoAssertFailureNamesSelectorAndValues(t *testing.T) {
	m := newMotoEngine(t)
	out := m.call("ec2", "RunInstances", map[string]any{"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
	instance := out["Instances"].([]any)[0].(map[string]any)["InstanceId"].(string)

	st, _ := m.run(`
schemaVersion: "0.3"
mainSteps:
  - name: assertType
    action: aws:assertAwsResourceProperty
    inputs:
      Service: ec2
      Api: DescribeInstances
      InstanceIds: [` + instance + `]
      PropertySelector: "$.Reservations[0].Instances[0].InstanceType"
      DesiredValues: [m5.large, c5.xlarge]
`)
	v := st
	if v.Status != StatusFailed {
		t.Fatalf("status %s, want Failed", v.Status)
	}
	s := stepView(t, v, "assertType")
	for _, want := range []string{"$.Reservations[0].Instances[0].InstanceType", "t3.micro", "m5.large", "c5.xlarge"} {
		if !strings.Contains(s.FailureMessage, want) {
			t.Errorf("assert failure %q does not name %s", s.FailureMessage, want)
		}
	}
	if !strings.Contains(v.FailureMessage, "assertType") {
		t.Errorf("execution failure %q does not name the step", v.FailureMessage)
	}
}

func TestMotoFailingCallRunsCleanupChain(t *testing.T) {
	m := newMotoEngine(t)
	st, calls := m.run(`
schemaVersion: "0.3"
mainSteps:
  - name: launch
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: RunInstances, ImageId: ami-12c6146b, MinCount: 1, MaxCount: 1}
    outputs:
      - {Name: InstanceId, Selector: "$.Instances[0].InstanceId", Type: String}
  - name: terminateMissing
    action: aws:executeAwsApi
    onFailure: step:cleanup
    inputs: {Service: ec2, Api: TerminateInstances, InstanceIds: [i-00000000000000000]}
  - name: neverRuns
    action: aws:executeAwsApi
    isEnd: true
    inputs: {Service: sts, Api: GetCallerIdentity}
  - name: cleanup
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: TerminateInstances, InstanceIds: ["{{ launch.InstanceId }}"]}
  - name: missingRole
    action: aws:executeAwsApi
    onFailure: Continue
    isCritical: false
    inputs: {Service: iam, Api: GetRole, RoleName: no-such-role}
`)
	v := st
	if got := statuses(st); got != "launch=Success terminateMissing=Failed cleanup=Success missingRole=Failed" {
		t.Fatalf("steps: %s", got)
	}
	if v.Status != StatusFailed {
		t.Errorf("status %s: the critical failure of terminateMissing must fail the execution", v.Status)
	}
	if !strings.Contains(v.FailureMessage, "terminateMissing") {
		t.Errorf("execution failure %q does not name the step", v.FailureMessage)
	}
	s := stepView(t, v, "terminateMissing")
	for _, want := range []string{"ec2", "TerminateInstances", "InvalidInstanceID.NotFound", "request id"} {
		if !strings.Contains(s.FailureMessage, want) {
			t.Errorf("step failure %q does not name %s", s.FailureMessage, want)
		}
	}
	if s.FailureDetails.FailureType != "Action" || s.FailureDetails.FailureStage != "Invocation" ||
		strings.Join(s.FailureDetails.Details["ErrorCode"], "") != "InvalidInstanceID.NotFound" {
		t.Errorf("FailureDetails = %+v", s.FailureDetails)
	}
	r := stepView(t, v, "missingRole")
	for _, want := range []string{"iam", "GetRole", "NoSuchEntity", "request id"} {
		if !strings.Contains(r.FailureMessage, want) {
			t.Errorf("step failure %q does not name %s", r.FailureMessage, want)
		}
	}
	// The clean-up step really terminated the instance launch created.
	launched := st.Steps[0].Outputs["InstanceId"].(string)
	out := m.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{launched}})
	b, _ := json.Marshal(out)
	if !strings.Contains(string(b), `"Name":"terminated"`) && !strings.Contains(string(b), `"Name":"shutting-down"`) {
		t.Errorf("the clean-up chain did not terminate %s: %s", launched, b)
	}
	for _, want := range []struct{ step, service, op, code string }{
		{"launch", "ec2", "RunInstances", ""},
		{"terminateMissing", "ec2", "TerminateInstances", "InvalidInstanceID.NotFound"},
		{"cleanup", "ec2", "TerminateInstances", ""},
		{"missingRole", "iam", "GetRole", "NoSuchEntity"},
	} {
		if !hasCall(calls, want.step, want.service, want.op, want.code) {
			t.Errorf("no recorded call %+v in %+v", want, calls)
		}
	}
	for _, c := range calls {
		if c.Service == "sts" && c.Step == "neverRuns" {
			t.Errorf("neverRuns made a call: %+v", c)
		}
	}
}

func TestMotoAccountIDAsksSTSOncePerExecution(t *testing.T) {
	m := newMotoEngine(t)
	st, calls := m.run(`
schemaVersion: "0.3"
mainSteps:
  - name: first
    action: aws:executeAwsApi
    inputs: {Service: logs, Api: CreateLogGroup, logGroupName: "/capstan/{{ global:ACCOUNT_ID }}/first"}
  - name: second
    action: aws:executeAwsApi
    inputs: {Service: logs, Api: CreateLogGroup, logGroupName: "/capstan/{{ global:ACCOUNT_ID }}/second"}
`)
	v := st
	if v.Status != StatusSuccess {
		t.Fatalf("status %s (%s); steps %s", v.Status, v.FailureMessage, statuses(st))
	}
	for _, step := range []string{"first", "second"} {
		if in := stepView(t, v, step).Inputs["logGroupName"]; in != "/capstan/123456789012/"+step {
			t.Errorf("%s logGroupName input = %s, want moto's account in it", step, in)
		}
	}
	n := 0
	for _, c := range calls {
		if c.IAMAction == "sts:GetCallerIdentity" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d sts:GetCallerIdentity calls for two global:ACCOUNT_ID references; want 1: %+v", n, calls)
	}
}

// recordingInvoker answers every call with an empty result (or err) and
// records it on the execution, as awsapi does.
type recordingInvoker struct {
	req InvokerRequest
	err error
}

func (r recordingInvoker) Invoke(ctx context.Context, service, operation string, _ map[string]any) (map[string]any, error) {
	code := ""
	if r.err != nil {
		code = "Boom"
	}
	r.req.Record(store.Call{Step: StepFromContext(ctx), Service: service, Operation: operation, IAMAction: service + ":" + operation, Start: time.Now(), ErrorCode: code})
	return map[string]any{}, r.err
}

// TestCallsRecordedWithStepEnd checks the promise behind recording a step's
// AWS calls with the event that ends it: once that event is acknowledged
// (OnChange sees it only after the store's Append returned), the calls are
// in the store; before, none of the step's calls has cost a commit.
func TestCallsRecordedWithStepEnd(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	type seen struct {
		typ   string
		calls int
	}
	events := make(chan seen, 64)
	eng := New(Options{
		Store: db, Actions: action.Builtin(), Region: "us-east-1", RetryDelay: time.Millisecond,
		NewInvoker: func(ctx context.Context, req InvokerRequest) (action.Invoker, error) {
			return recordingInvoker{req: req}, nil
		},
		OnChange: func(st *State, ev store.Event) {
			if ev.Type != evStepStarted && ev.Type != evStepSucceeded {
				return
			}
			calls, err := db.Calls(context.Background(), st.ID)
			if err != nil {
				t.Error(err)
			}
			events <- seen{ev.Type, len(calls)}
		},
	})
	t.Cleanup(eng.Shutdown)
	src := `
schemaVersion: "0.3"
mainSteps:
  - name: one
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: DescribeVpcs}
  - name: two
    action: aws:executeAwsApi
    inputs: {Service: sts, Api: GetCallerIdentity}
`
	doc, diags := document.Load("test.yaml", []byte(src), action.Builtin())
	for _, d := range diags {
		if d.Severity == document.Error {
			t.Fatalf("test document: %s", d)
		}
	}
	id, err := eng.Start(ctx, StartRequest{Document: doc, Source: []byte(src), DocumentName: "test", Parameters: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Wait(ctx, id); err != nil {
		t.Fatal(err)
	}
	close(events)
	var got []seen
	for s := range events {
		got = append(got, s)
	}
	want := []seen{{evStepStarted, 0}, {evStepSucceeded, 1}, {evStepStarted, 1}, {evStepSucceeded, 2}}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %+v, want %+v", got, want)
		}
	}
	calls, err := db.Calls(ctx, id)
	if err != nil || len(calls) != 2 || calls[0].Step != "one" || calls[1].Step != "two" || calls[1].Operation != "GetCallerIdentity" {
		t.Fatalf("calls %+v, %v", calls, err)
	}
}
