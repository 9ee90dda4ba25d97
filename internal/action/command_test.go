package action_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/mototest"
)

func TestRunCommandMoto(t *testing.T) {
	aws := motoAWS(t)
	id := launch(t, aws)
	res, err := run(t, aws, "aws:runCommand", map[string]any{
		"DocumentName": "AWS-RunShellScript", "InstanceIds": []any{id},
		"Parameters": map[string]any{"commands": "echo hi"}, "Comment": "from capstan",
		"TimeoutSeconds": int64(120), "OutputS3BucketName": "logs", "OutputS3KeyPrefix": "run/",
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := res.Outputs["CommandId"].(string)
	if cmd == "" || res.Outputs["Status"] != "Success" || res.Outputs["ResponseCode"] != int64(0) {
		t.Fatalf("outputs = %v, want a successful command", res.Outputs)
	}
	out := call(t, aws, "ssm", "ListCommands", map[string]any{"CommandId": cmd})
	c := out["Commands"].([]any)[0].(map[string]any)
	if c["Comment"] != "from capstan" || c["OutputS3BucketName"] != "logs" {
		t.Errorf("sent command = %v, want the step's Comment and S3 output", c)
	}
	// A single parameter value is sent as the one-element list SSM requires.
	if got, _ := json.Marshal(c["Parameters"]); string(got) != `{"commands":["echo hi"]}` {
		t.Errorf("Parameters = %s", got)
	}
}

// fakeSSM speaks the SSM JSON 1.1 protocol for the Run Command calls moto
// does not cover: moto 5.2.1 accepts any instance ID in SendCommand, reports
// every invocation Success, and lacks ListCommandInvocations.
type fakeSSM struct {
	mu    sync.Mutex
	calls []string
	reply func(op string, in map[string]any) (int, any)
}

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	f.calls = append(f.calls, op)
	f.mu.Unlock()
	status, body := f.reply(op, in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func fakeSSMClient(t *testing.T, f *fakeSSM) action.Invoker {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s := mototest.Start(t) // only for its credential environment
	s.SetEnv(t)
	return clientFor(t, srv.URL)
}

func TestRunCommandUnknownInstanceFailsNamingIt(t *testing.T) {
	f := &fakeSSM{reply: func(op string, _ map[string]any) (int, any) {
		return 400, map[string]any{"__type": "InvalidInstanceId", "message": "Instances [[i-0aaaaaaaaaaaaaaaa]] not in a valid state for account 123456789012"}
	}}
	_, err := run(t, fakeSSMClient(t, f), "aws:runCommand", map[string]any{"DocumentName": "AWS-RunShellScript", "InstanceIds": []any{"i-0aaaaaaaaaaaaaaaa"}})
	if !contains(err, "i-0aaaaaaaaaaaaaaaa") || !contains(err, "InvalidInstanceId") {
		t.Fatalf("error = %v, want InvalidInstanceId naming the instance", err)
	}
}

func TestRunCommandFailedInvocationFailsTheStep(t *testing.T) {
	polls := 0
	f := &fakeSSM{reply: func(op string, in map[string]any) (int, any) {
		switch op {
		case "SendCommand":
			return 200, map[string]any{"Command": map[string]any{"CommandId": "c-1", "Status": "Pending"}}
		case "GetCommandInvocation":
			polls++
			switch {
			case polls == 1:
				// SSM has not created the invocation yet.
				return 400, map[string]any{"__type": "InvocationDoesNotExist"}
			case polls < 4:
				return 200, map[string]any{"CommandId": "c-1", "InstanceId": in["InstanceId"], "Status": "InProgress", "ResponseCode": -1}
			}
			return 200, map[string]any{"CommandId": "c-1", "InstanceId": in["InstanceId"], "Status": "Failed", "StatusDetails": "Failed",
				"ResponseCode": 2, "StandardErrorContent": "ls: cannot access '/nope'"}
		}
		return 400, map[string]any{"__type": "UnexpectedCall"}
	}}
	_, err := run(t, fakeSSMClient(t, f), "aws:runCommand", map[string]any{"DocumentName": "AWS-RunShellScript", "InstanceIds": []any{"i-1"},
		"Parameters": map[string]any{"commands": []any{"ls /nope"}}})
	var cf *action.CommandFailedError
	if !errors.As(err, &cf) {
		t.Fatalf("error = %v, want a CommandFailedError", err)
	}
	if cf.InstanceID != "i-1" || cf.Status != "Failed" || cf.ResponseCode != 2 || !strings.Contains(err.Error(), "cannot access") {
		t.Errorf("failure = %+v, want i-1 Failed with exit code 2 and its stderr", cf)
	}
}

func TestRunCommandTargetsWaitsForEveryInvocation(t *testing.T) {
	listed := 0
	f := &fakeSSM{reply: func(op string, in map[string]any) (int, any) {
		switch op {
		case "SendCommand":
			if in["Targets"] == nil || in["MaxConcurrency"] != "50%" {
				return 400, map[string]any{"__type": "ValidationException", "message": "targets or concurrency missing"}
			}
			return 200, map[string]any{"Command": map[string]any{"CommandId": "c-2"}}
		case "ListCommands":
			listed++
			status := "InProgress"
			if listed > 2 {
				status = "Success"
			}
			return 200, map[string]any{"Commands": []any{map[string]any{"CommandId": "c-2", "Status": status}}}
		case "ListCommandInvocations":
			inv := func(id, out string) map[string]any {
				return map[string]any{"InstanceId": id, "Status": "Success", "CommandPlugins": []any{map[string]any{"Output": out, "ResponseCode": 0}}}
			}
			if in["NextToken"] == nil {
				return 200, map[string]any{"CommandInvocations": []any{inv("i-b", "from b")}, "NextToken": "p2"}
			}
			return 200, map[string]any{"CommandInvocations": []any{inv("i-a", "from a")}}
		}
		return 400, map[string]any{"__type": "UnexpectedCall"}
	}}
	res, err := run(t, fakeSSMClient(t, f), "aws:runCommand", map[string]any{"DocumentName": "AWS-RunShellScript",
		"Targets": []any{map[string]any{"Key": "tag:Role", "Values": []any{"web"}}}, "MaxConcurrency": "50%"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["Status"] != "Success" || res.Outputs["Output"] != "from a" || listed != 3 {
		t.Errorf("outputs = %v after %d ListCommands, want Success with the first instance's output after the command finished", res.Outputs, listed)
	}
}
