package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ExecutionFailedError says a Step Functions execution ended in a status
// other than SUCCEEDED (FAILED, TIMED_OUT, ABORTED); the step fails with it.
type ExecutionFailedError struct {
	ExecutionArn string
	Status       string
	ErrorName    string // DescribeExecution's error, may be empty
	Cause        string // DescribeExecution's cause, may be empty
}

func (e *ExecutionFailedError) Error() string {
	msg := fmt.Sprintf("state machine execution %s ended %s", e.ExecutionArn, e.Status)
	switch {
	case e.ErrorName != "" && e.Cause != "":
		msg += ": " + e.ErrorName + ": " + truncate(e.Cause, stderrExcerpt)
	case e.ErrorName != "":
		msg += ": " + e.ErrorName
	case e.Cause != "":
		msg += ": " + truncate(e.Cause, stderrExcerpt)
	}
	return msg
}

// executionRunning are the Step Functions execution statuses that are not
// final: RUNNING, and PENDING_REDRIVE (a redrive was accepted and the
// execution is about to run again).
var executionRunning = map[string]bool{"RUNNING": true, "PENDING_REDRIVE": true}

// stopTimeout bounds the best-effort StopExecution after the step ended.
const stopTimeout = 10 * time.Second

type executeStateMachine struct{ poll poller }

// Run starts the execution, waits for it to leave RUNNING and fails the step
// unless it SUCCEEDED. A step cancelled or timed out while waiting stops the
// execution, so nothing the runbook started keeps running behind it.
func (a *executeStateMachine) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:executeStateMachine"
	arn, err := stringInput(name, req.Inputs, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	request := map[string]any{"stateMachineArn": arn}
	copyPresent(request, req.Inputs, map[string]string{"name": ""})
	switch in := req.Inputs["input"].(type) {
	case nil:
	case string:
		if in != "" { // "" is absent, as for every optional input
			request["input"] = in
		}
	default:
		// Documented as JSON text; a map written in YAML is sent as JSON.
		b, err := json.Marshal(in)
		if err != nil {
			return nil, &InputError{Action: name, Input: "input", Reason: err.Error()}
		}
		request["input"] = string(b)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// A cancellation arriving while StartExecution is in flight must not
	// leave an execution running that capstan never learnt the ARN of: the
	// call gets a grace period past the step's end, and the execution is
	// stopped as soon as it is known.
	sctx, cancelStart := afterGrace(ctx, stopTimeout)
	started, err := invoke(sctx, req, name, "stepfunctions", "StartExecution", request)
	cancelStart()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w; the step had ended: %w", err, ctx.Err())
		}
		return nil, err
	}
	execArn := digString(started, "executionArn")
	if execArn == "" {
		return nil, fmt.Errorf("%s: StartExecution returned no executionArn", name)
	}
	if err := ctx.Err(); err != nil {
		stopExecution(ctx, req, execArn)
		return nil, fmt.Errorf("%s: state machine execution %s: %w", name, execArn, err)
	}
	var desc map[string]any
	err = a.poll.until(ctx, req, func(ctx context.Context) (bool, string, error) {
		out, err := invoke(ctx, req, name, "stepfunctions", "DescribeExecution", map[string]any{"executionArn": execArn})
		if err != nil {
			return false, "", err
		}
		desc = out
		status := digString(out, "status")
		return !executionRunning[status], "execution " + status, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			stopExecution(ctx, req, execArn)
			return nil, fmt.Errorf("%s: state machine execution %s: %w", name, execArn, err)
		}
		return nil, err
	}
	status := digString(desc, "status")
	if status != "SUCCEEDED" {
		return nil, fmt.Errorf("%s: %w", name, &ExecutionFailedError{
			ExecutionArn: execArn, Status: status, ErrorName: digString(desc, "error"), Cause: digString(desc, "cause"),
		})
	}
	outputs := map[string]any{
		"executionArn": execArn, "input": digString(desc, "input"), "name": digString(desc, "name"),
		"output": digString(desc, "output"), "startDate": digString(desc, "startDate"),
		"stateMachineArn": digString(desc, "stateMachineArn"), "status": status, "stopDate": digString(desc, "stopDate"),
	}
	if outputs["stateMachineArn"] == "" {
		outputs["stateMachineArn"] = arn
	}
	return &Result{Outputs: outputs, Response: desc}, nil
}

// afterGrace returns a context that ends grace after ctx does, for a call
// that should outlive a cancellation briefly rather than be cut short.
func afterGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return gctx, func() { stop(); cancel() }
}

// stopExecution asks Step Functions to stop the execution once the step is
// over (cancelled or timed out). It is best effort: the step already failed,
// and an execution that finished meanwhile cannot be stopped anyway.
func stopExecution(ctx context.Context, req *Request, execArn string) {
	code, why := "Capstan.Cancelled", "cancelled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code, why = "Capstan.TimedOut", "timed out"
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	_, _ = req.awsCall(sctx, "stepfunctions", "StopExecution", map[string]any{
		"executionArn": execArn,
		"error":        code,
		"cause":        fmt.Sprintf("capstan automation execution %s: step %s %s", req.ExecutionID, req.Step, why),
	})
}

var _ Action = (*executeStateMachine)(nil)
