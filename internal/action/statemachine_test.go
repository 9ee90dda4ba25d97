package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/mototest"
)

// By default moto 5.2.1 does not run state machines: every execution stays
// RUNNING until StopExecution (or is born FAILED with SF_EXECUTION_HISTORY_TYPE
// =FAILURE in moto_server's environment). Its config switch
// {"stepfunctions": {"execute_state_machine": true}}, settable at run time
// through POST /moto-api/config, makes it interpret the definition for real
// (the LocalStack ASL interpreter it vendors): Pass, Fail and Wait states,
// TimeoutSeconds, SUCCEEDED with output, FAILED with error and cause,
// TIMED_OUT, and ABORTED after StopExecution. Two quirks shape the tests: in
// that mode moto answers HTTP 500 to every StartExecution after the first
// until it is reset (deep-copying a state machine trips over the first
// execution's lock), so each test starts a single execution; and it does
// not record the error and cause given to StopExecution, which
// TestExecuteStateMachineTimeoutStopsExecution checks against a fake server.

// sfnMoto is motoAWS with moto executing state machines; the switch outlives
// moto's reset, so it is turned off again after the test.
func sfnMoto(t *testing.T) action.Invoker {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	setConfig := func(on bool) error {
		body, _ := json.Marshal(map[string]any{"stepfunctions": map[string]any{"execute_state_machine": on}})
		resp, err := http.Post(s.URL+"/moto-api/config", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return errors.New("moto config: " + resp.Status)
		}
		return nil
	}
	if err := setConfig(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := setConfig(false); err != nil {
			t.Errorf("restoring moto's stepfunctions config: %v", err)
		}
	})
	return clientFor(t, "")
}

func createStateMachine(t *testing.T, aws action.Invoker, name, definition string) string {
	t.Helper()
	out := call(t, aws, "stepfunctions", "CreateStateMachine", map[string]any{
		"name": name, "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/capstan-sfn",
	})
	return out["stateMachineArn"].(string)
}

// whenRunning calls f with the ARN of the state machine's execution once
// Step Functions lists it as RUNNING, from another goroutine; the returned
// function waits for that and reports what went wrong.
func whenRunning(aws action.Invoker, sm string, f func(execArn string) error) (wait func() error) {
	done := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			out, err := aws.Invoke(context.Background(), "stepfunctions", "ListExecutions", map[string]any{"stateMachineArn": sm})
			if err != nil {
				done <- err
				return
			}
			for _, e := range out["executions"].([]any) {
				if e := e.(map[string]any); e["status"] == "RUNNING" {
					done <- f(e["executionArn"].(string))
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		done <- errors.New("no execution became RUNNING within 20s")
	}()
	return func() error { return <-done }
}

func describeOnly(t *testing.T, aws action.Invoker, sm string) map[string]any {
	t.Helper()
	out := call(t, aws, "stepfunctions", "ListExecutions", map[string]any{"stateMachineArn": sm})
	execs := out["executions"].([]any)
	if len(execs) != 1 {
		t.Fatalf("state machine has %d executions, want 1: %v", len(execs), execs)
	}
	arn := execs[0].(map[string]any)["executionArn"].(string)
	return call(t, aws, "stepfunctions", "DescribeExecution", map[string]any{"executionArn": arn})
}

func TestExecuteStateMachineMoto(t *testing.T) {
	aws := sfnMoto(t)
	sm := createStateMachine(t, aws, "capstan-greet",
		`{"StartAt": "Greet", "States": {"Greet": {"Type": "Pass", "Parameters": {"greeting.$": "$.who"}, "End": true}}}`)
	res, err := run(t, aws, "aws:executeStateMachine", map[string]any{
		"stateMachineArn": sm, "name": "capstan-run", "input": `{"who": "world"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	o := res.Outputs
	wantArn := "arn:aws:states:us-east-1:123456789012:execution:capstan-greet:capstan-run"
	if o["executionArn"] != wantArn || o["name"] != "capstan-run" || o["stateMachineArn"] != sm || o["status"] != "SUCCEEDED" {
		t.Errorf("outputs = %v, want SUCCEEDED execution %s", o, wantArn)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(o["output"].(string)), &got); err != nil || got["greeting"] != "world" {
		t.Errorf("output = %q, want the Pass state's {\"greeting\": \"world\"}", o["output"])
	}
	if o["input"] != `{"who": "world"}` {
		t.Errorf("input = %q", o["input"])
	}
	start, err1 := time.Parse(time.RFC3339, o["startDate"].(string))
	stop, err2 := time.Parse(time.RFC3339, o["stopDate"].(string))
	if err1 != nil || err2 != nil || stop.Before(start) {
		t.Errorf("startDate %q, stopDate %q: want RFC 3339 times, stop not before start", o["startDate"], o["stopDate"])
	}
	// Step Functions ran exactly the one execution the step reported.
	if d := describeOnly(t, aws, sm); d["executionArn"] != wantArn || d["status"] != "SUCCEEDED" {
		t.Errorf("Step Functions has %v", d)
	}
}

func TestExecuteStateMachineFailedMoto(t *testing.T) {
	aws := sfnMoto(t)
	sm := createStateMachine(t, aws, "capstan-fail",
		`{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Capstan.Boom", "Cause": "the disk is full"}}}`)
	res, err := run(t, aws, "aws:executeStateMachine", map[string]any{"stateMachineArn": sm, "name": "doomed"})
	if err == nil {
		t.Fatalf("a failed execution succeeded the step: %v", res.Outputs)
	}
	arn := "arn:aws:states:us-east-1:123456789012:execution:capstan-fail:doomed"
	for _, want := range []string{arn, "FAILED", "Capstan.Boom", "the disk is full"} {
		if !contains(err, want) {
			t.Errorf("error = %v, want it to name %q", err, want)
		}
	}
	var failed *action.ExecutionFailedError
	if !errors.As(err, &failed) || failed.Status != "FAILED" {
		t.Errorf("error %v is not an ExecutionFailedError with status FAILED", err)
	}
}

func TestExecuteStateMachineTimedOutMoto(t *testing.T) {
	aws := sfnMoto(t)
	// The state machine's own TimeoutSeconds, not the step's timeout.
	sm := createStateMachine(t, aws, "capstan-slow",
		`{"TimeoutSeconds": 1, "StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": true}}}`)
	_, err := run(t, aws, "aws:executeStateMachine", map[string]any{"stateMachineArn": sm, "name": "late"})
	if !contains(err, "execution:capstan-slow:late ended TIMED_OUT") {
		t.Fatalf("error = %v, want the execution to have ended TIMED_OUT", err)
	}
}

func TestExecuteStateMachineAbortedElsewhereFailsMoto(t *testing.T) {
	aws := sfnMoto(t)
	sm := createStateMachine(t, aws, "capstan-wait",
		`{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": true}}}`)
	// Someone stops the execution in the console while the step waits.
	stopped := whenRunning(aws, sm, func(arn string) error {
		_, err := aws.Invoke(context.Background(), "stepfunctions", "StopExecution", map[string]any{"executionArn": arn})
		return err
	})
	_, err := run(t, aws, "aws:executeStateMachine", map[string]any{"stateMachineArn": sm, "name": "interrupted"})
	if werr := stopped(); werr != nil {
		t.Fatal(werr)
	}
	if !contains(err, "execution:capstan-wait:interrupted ended ABORTED") {
		t.Fatalf("error = %v, want the step to fail with the execution ABORTED", err)
	}
}

// cancelAfter passes calls on and cancels the step once a call of op has
// answered: the moment the step is waiting for the execution.
type cancelAfter struct {
	action.Invoker
	op     string
	cancel context.CancelFunc
}

func (c cancelAfter) Invoke(ctx context.Context, service, op string, in map[string]any) (map[string]any, error) {
	out, err := c.Invoker.Invoke(ctx, service, op, in)
	if op == c.op {
		c.cancel()
	}
	return out, err
}

func TestExecuteStateMachineCancelStopsExecutionMoto(t *testing.T) {
	aws := sfnMoto(t)
	sm := createStateMachine(t, aws, "capstan-wait",
		`{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": true}}}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The automation execution is cancelled while the step waits.
	start := time.Now()
	_, err := runCtx(ctx, t, cancelAfter{aws, "DescribeExecution", cancel}, "aws:executeStateMachine",
		map[string]any{"stateMachineArn": sm, "name": "abandoned"})
	if !errors.Is(err, context.Canceled) || !contains(err, "execution:capstan-wait:abandoned") || !contains(err, "RUNNING") {
		t.Fatalf("error = %v, want context.Canceled naming the execution and its last status", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the cancelled step took %v to return", d)
	}
	// The execution does not outlive the step.
	if d := describeOnly(t, aws, sm); d["status"] != "ABORTED" {
		t.Errorf("after the cancelled step the execution is %v, want ABORTED", d["status"])
	}
}

// fakeSFN speaks the Step Functions wire protocol (AWS JSON 1.0,
// X-Amz-Target: AWSStepFunctions.<Operation>) for what moto cannot show: the
// error and cause capstan gives StopExecution (moto drops them), an
// execution passing through PENDING_REDRIVE (moto has no redrive), and a
// cancellation landing exactly while StartExecution is in flight.
type fakeSFN struct {
	mu    sync.Mutex
	calls []string
	reqs  map[string][]map[string]any
	reply func(op string, in map[string]any) (int, any)
}

func (f *fakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	if !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		http.Error(w, "not a Step Functions JSON 1.0 request: "+target, http.StatusBadRequest)
		return
	}
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	f.calls = append(f.calls, op)
	if f.reqs == nil {
		f.reqs = map[string][]map[string]any{}
	}
	f.reqs[op] = append(f.reqs[op], in)
	f.mu.Unlock()
	status, body := f.reply(op, in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (f *fakeSFN) requests(op string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[op]
}

func fakeSFNClient(t *testing.T, f *fakeSFN) action.Invoker {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	mototest.Start(t).SetEnv(t) // credentials and region only
	return clientFor(t, srv.URL)
}

const fakeExecArn = "arn:aws:states:us-east-1:123456789012:execution:capstan-sm:run-1"

func TestExecuteStateMachineTimeoutStopsExecution(t *testing.T) {
	f := &fakeSFN{reply: func(op string, in map[string]any) (int, any) {
		switch op {
		case "StartExecution":
			return 200, map[string]any{"executionArn": fakeExecArn, "startDate": 1.7e9}
		case "DescribeExecution":
			return 200, map[string]any{"executionArn": fakeExecArn, "status": "RUNNING", "startDate": 1.7e9,
				"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:capstan-sm"}
		case "StopExecution":
			return 200, map[string]any{"stopDate": 1.7e9 + 5}
		}
		return 400, map[string]any{"__type": "UnknownOperationException"}
	}}
	aws := fakeSFNClient(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := runCtx(ctx, t, aws, "aws:executeStateMachine", map[string]any{
		"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:capstan-sm",
	})
	if !errors.Is(err, context.DeadlineExceeded) || !contains(err, fakeExecArn) || !contains(err, "RUNNING") {
		t.Fatalf("error = %v, want a deadline naming the execution and its last status", err)
	}
	stops := f.requests("StopExecution")
	if len(stops) != 1 {
		t.Fatalf("StopExecution reached the server %d times, want once (calls %v)", len(stops), f.calls)
	}
	s := stops[0]
	if s["executionArn"] != fakeExecArn || s["error"] != "Capstan.TimedOut" {
		t.Errorf("StopExecution request = %v, want the execution stopped with error Capstan.TimedOut", s)
	}
	if cause, _ := s["cause"].(string); !strings.Contains(cause, "exec-1") || !strings.Contains(cause, "step step timed out") {
		t.Errorf("StopExecution cause = %q, want it to name the automation execution and step", cause)
	}
}

func TestExecuteStateMachineWaitsThroughRedrive(t *testing.T) {
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:capstan-sm"
	statuses := []string{"RUNNING", "PENDING_REDRIVE", "RUNNING", "SUCCEEDED"}
	f := &fakeSFN{}
	f.reply = func(op string, in map[string]any) (int, any) {
		switch op {
		case "StartExecution":
			return 200, map[string]any{"executionArn": fakeExecArn, "startDate": 1.7e9}
		case "DescribeExecution":
			status := statuses[0]
			if len(statuses) > 1 {
				statuses = statuses[1:]
			}
			d := map[string]any{"executionArn": fakeExecArn, "stateMachineArn": sm, "name": "run-1",
				"status": status, "startDate": 1.7e9, "input": `{"n":1}`}
			if status == "SUCCEEDED" {
				d["stopDate"], d["output"] = 1.7e9+42, `{"n":2}`
			}
			return 200, d
		}
		return 400, map[string]any{"__type": "UnknownOperationException"}
	}
	aws := fakeSFNClient(t, f)
	// A runbook may write the input as a YAML map rather than JSON text.
	res, err := run(t, aws, "aws:executeStateMachine", map[string]any{
		"stateMachineArn": sm, "name": "run-1", "input": map[string]any{"n": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := f.requests("StartExecution")[0]
	if start["stateMachineArn"] != sm || start["name"] != "run-1" || start["input"] != `{"n":1}` {
		t.Errorf("StartExecution request = %v", start)
	}
	if n := len(f.requests("DescribeExecution")); n != 4 {
		t.Errorf("DescribeExecution called %d times, want 4 (through PENDING_REDRIVE to SUCCEEDED)", n)
	}
	want := map[string]any{
		"executionArn": fakeExecArn, "name": "run-1", "stateMachineArn": sm, "status": "SUCCEEDED",
		"input": `{"n":1}`, "output": `{"n":2}`,
		"startDate": "2023-11-14T22:13:20Z", "stopDate": "2023-11-14T22:14:02Z",
	}
	for k, v := range want {
		if res.Outputs[k] != v {
			t.Errorf("output %s = %v, want %v", k, res.Outputs[k], v)
		}
	}
	if len(f.requests("StopExecution")) != 0 {
		t.Error("a finished execution was stopped")
	}
}

func TestExecuteStateMachineCancelDuringStartStopsExecution(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeSFN{reply: func(op string, in map[string]any) (int, any) {
		switch op {
		case "StartExecution":
			// The execution is cancelled while Step Functions starts it.
			cancel()
			return 200, map[string]any{"executionArn": fakeExecArn, "startDate": 1.7e9}
		case "StopExecution":
			return 200, map[string]any{"stopDate": 1.7e9 + 1}
		}
		return 400, map[string]any{"__type": "UnknownOperationException"}
	}}
	aws := fakeSFNClient(t, f)
	_, err := runCtx(ctx, t, aws, "aws:executeStateMachine", map[string]any{
		"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:capstan-sm",
	})
	if !errors.Is(err, context.Canceled) || !contains(err, fakeExecArn) {
		t.Fatalf("error = %v, want context.Canceled naming the execution", err)
	}
	stops := f.requests("StopExecution")
	if len(stops) != 1 || stops[0]["executionArn"] != fakeExecArn || stops[0]["error"] != "Capstan.Cancelled" {
		t.Fatalf("StopExecution requests = %v (calls %v), want the started execution stopped as Capstan.Cancelled", stops, f.calls)
	}
	if cause, _ := stops[0]["cause"].(string); !strings.Contains(cause, "step step cancelled") {
		t.Errorf("StopExecution cause = %q", cause)
	}
}
