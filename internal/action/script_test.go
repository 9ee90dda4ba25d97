package action_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
)

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("these tests need python3 on PATH")
	}
}

func runScript(ctx context.Context, t *testing.T, script string, payload map[string]any, env func(context.Context) ([]string, error)) (*action.Result, error) {
	t.Helper()
	e, _ := action.FastRegistry().Lookup("aws:executeScript")
	inputs := map[string]any{"Runtime": "python3.11", "Handler": "handler", "Script": script}
	if payload != nil {
		inputs["InputPayload"] = payload
	}
	return e.Impl.Run(ctx, &action.Request{ExecutionID: "exec-1", Step: "step", Inputs: inputs, Env: env})
}

func TestExecuteScriptReturnsThePayload(t *testing.T) {
	needPython(t)
	res, err := runScript(context.Background(), t, `
def handler(events, context):
    print("greeting", events["name"])
    return {"x": events["n"] + 1, "who": "hello " + events["name"], "step": context["StepName"]}
`, map[string]any{"name": "Ada", "n": 41}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := res.Response.(map[string]any)["Payload"].(map[string]any)
	if p["x"] != float64(42) || p["who"] != "hello Ada" || p["step"] != "step" {
		t.Errorf("response = %v, want {Payload: {x: 42, who: hello Ada, step: step}}", res.Response)
	}
	if _, ok := res.Outputs["Payload"].(map[string]any); !ok {
		t.Errorf("Payload output = %v, want the returned map", res.Outputs["Payload"])
	}
}

func TestExecuteScriptCutsListsTo100Items(t *testing.T) {
	needPython(t)
	res, err := runScript(context.Background(), t, "def handler(events, context):\n    return list(range(150))\n", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := res.Outputs["Payload"].([]any); len(l) != 100 {
		t.Errorf("Payload has %d items, want 100 as SSM", len(l))
	}
}

func TestExecuteScriptExceptionFailsTheStep(t *testing.T) {
	needPython(t)
	_, err := runScript(context.Background(), t, `
def handler(events, context):
    print("checking the volume")
    raise ValueError("volume vol-1 is not attached")
`, nil, nil)
	var se *action.ScriptError
	if !errors.As(err, &se) || se.Type != "ValueError" || se.Message != "volume vol-1 is not attached" || se.Line != "line 4, in handler" {
		t.Fatalf("error = %#v, want the ValueError with its message and line", err)
	}
	if !strings.Contains(err.Error(), "checking the volume") {
		t.Errorf("error %q lacks what the script printed", err)
	}
}

func TestExecuteScriptMissingHandler(t *testing.T) {
	needPython(t)
	_, err := runScript(context.Background(), t, "def main(events, context):\n    return 1\n", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "'handler'") {
		t.Fatalf("error = %v, want one naming the missing handler", err)
	}
}

func TestExecuteScriptTimeoutKillsTheScript(t *testing.T) {
	needPython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := runScript(ctx, t, `
import subprocess, time
def handler(events, context):
    subprocess.Popen(["sleep", "300"])
    print("waiting forever")
    time.sleep(300)
`, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timeout") || !strings.Contains(err.Error(), "waiting forever") {
		t.Fatalf("error = %v, want the step's timeout with the script's output", err)
	}
}

func TestExecuteScriptCleanEnvironment(t *testing.T) {
	needPython(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "capstan-own-key")
	t.Setenv("CAPSTAN_SECRET_THING", "x")
	env := func(context.Context) ([]string, error) {
		return []string{"AWS_ACCESS_KEY_ID=execution-key", "AWS_REGION=eu-west-1"}, nil
	}
	res, err := runScript(context.Background(), t, `
import os
def handler(events, context):
    return dict(os.environ)
`, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := res.Outputs["Payload"].(map[string]any)
	if got["AWS_ACCESS_KEY_ID"] != "execution-key" || got["AWS_REGION"] != "eu-west-1" {
		t.Errorf("script saw %v, want the execution's AWS variables", got)
	}
	if _, leaked := got["CAPSTAN_SECRET_THING"]; leaked {
		t.Errorf("capstan's own environment reached the script: %v", got)
	}
}

func TestExecuteScriptAttachmentIsUnsupported(t *testing.T) {
	e, _ := action.FastRegistry().Lookup("aws:executeScript")
	_, err := e.Impl.Run(context.Background(), &action.Request{Inputs: map[string]any{"Runtime": "python3.8", "Handler": "script.handler", "Attachment": "script.zip"}})
	if !errors.Is(err, action.ErrScriptUnsupported) || !strings.Contains(err.Error(), "Attachment") {
		t.Fatalf("error = %v, want Attachment reported as unsupported", err)
	}
}
