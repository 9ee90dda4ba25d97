package action

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// CommandFailedError says a Run Command invocation ended in a status other
// than Success; the step fails with it.
type CommandFailedError struct {
	CommandID    string
	InstanceID   string
	Status       string // Failed, TimedOut, Cancelled, ...
	StatusDetail string // e.g. DeliveryTimedOut, Undeliverable
	ResponseCode int64
	Stderr       string // the start of the instance's standard error
}

func (e *CommandFailedError) Error() string {
	msg := fmt.Sprintf("command %s on %s: %s", e.CommandID, e.InstanceID, e.Status)
	if e.StatusDetail != "" && e.StatusDetail != e.Status {
		msg += " (" + e.StatusDetail + ")"
	}
	if e.ResponseCode != 0 {
		msg += fmt.Sprintf(", exit code %d", e.ResponseCode)
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// invocation is what capstan keeps of one instance's run of the command.
type invocation struct {
	status, detail, stdout, stderr string
	code                           int64
}

// Terminal statuses of an invocation and of a command (the SSM API's
// CommandInvocationStatus and CommandStatus enums; Cancelling is not final).
var commandDone = map[string]bool{"Success": true, "Failed": true, "TimedOut": true, "Cancelled": true}

// stderrExcerpt bounds what of the standard error goes into the failure
// message, which is shown in lists and stored with the step.
const stderrExcerpt = 500

type runCommand struct{ poll poller }

func (a *runCommand) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:runCommand"
	request, ids, err := sendCommandRequest(name, req.Inputs)
	if err != nil {
		return nil, err
	}
	sent, err := req.awsCall(ctx, "ssm", "SendCommand", request)
	if err != nil {
		// SSM refuses unmanaged or unknown instances here (InvalidInstanceId).
		target := "targets"
		if len(ids) > 0 {
			target = strings.Join(ids, ", ")
		}
		return nil, fmt.Errorf("%s: sending %s to %s: %w", name, request["DocumentName"], target, err)
	}
	id := digString(sent, "Command", "CommandId")
	if id == "" {
		return nil, fmt.Errorf("%s: SendCommand returned no CommandId", name)
	}
	invs := map[string]*invocation{}
	err = a.poll.until(ctx, req, func(ctx context.Context) (bool, string, error) {
		if len(ids) > 0 {
			return pollInvocations(ctx, req, id, ids, invs)
		}
		return pollTargets(ctx, req, id, invs)
	})
	if err != nil {
		if ctx.Err() != nil {
			// Leave nothing running on the instances once the step is over.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_, _ = req.awsCall(cctx, "ssm", "CancelCommand", map[string]any{"CommandId": id})
			cancel()
		}
		return nil, fmt.Errorf("%s: command %s: %w", name, id, err)
	}
	instances := ids
	if len(instances) == 0 {
		for i := range invs {
			instances = append(instances, i)
		}
		sort.Strings(instances)
	}
	status := "Success"
	var failed error
	for _, i := range instances {
		inv := invs[i]
		if inv.status != "Success" && failed == nil {
			status = inv.status
			failed = &CommandFailedError{CommandID: id, InstanceID: i, Status: inv.status, StatusDetail: inv.detail,
				ResponseCode: inv.code, Stderr: truncate(inv.stderr, stderrExcerpt)}
		}
	}
	if failed != nil {
		return nil, fmt.Errorf("%s: %w", name, failed)
	}
	// SSM documents ResponseCode and Output for a single instance; with
	// several, capstan reports the first in ID order.
	outputs := map[string]any{"CommandId": id, "Status": status, "ResponseCode": int64(0), "Output": ""}
	if len(instances) > 0 {
		first := invs[instances[0]]
		outputs["ResponseCode"] = first.code
		outputs["Output"] = first.stdout
	}
	response := map[string]any{"Command": dig(sent, "Command")}
	for k, v := range outputs {
		response[k] = v
	}
	return &Result{Outputs: outputs, Response: response}, nil
}

// awsCall is invoke without the action-name prefix, for callers that add
// their own context.
func (r *Request) awsCall(ctx context.Context, service, op string, input map[string]any) (map[string]any, error) {
	if r.AWS == nil {
		return nil, fmt.Errorf("calling %s %s: no AWS invoker configured", service, op)
	}
	out, err := r.AWS.Invoke(ctx, service, op, input)
	if err != nil {
		return nil, callError(service, op, err)
	}
	return out, nil
}

func sendCommandRequest(name string, inputs map[string]any) (map[string]any, []string, error) {
	doc, err := stringInput(name, inputs, "DocumentName")
	if err != nil {
		return nil, nil, err
	}
	ids, err := stringList(name, inputs, "InstanceIds")
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 && !present(inputs, "Targets") {
		return nil, nil, &InputError{Action: name, Input: "InstanceIds", Reason: "set InstanceIds or Targets"}
	}
	request := map[string]any{"DocumentName": doc}
	if len(ids) > 0 {
		request["InstanceIds"] = anyList(ids)
	}
	copyPresent(request, inputs, map[string]string{
		"Targets": "", "Comment": "", "DocumentHash": "", "DocumentHashType": "", "DocumentVersion": "",
		"MaxConcurrency": "", "MaxErrors": "", "NotificationConfig": "", "OutputS3BucketName": "",
		"OutputS3KeyPrefix": "", "OutputS3Region": "", "ServiceRoleArn": "",
	})
	if present(inputs, "TimeoutSeconds") {
		n, err := intInput(name, inputs, "TimeoutSeconds", 0)
		if err != nil {
			return nil, nil, err
		}
		request["TimeoutSeconds"] = n
	}
	if params, ok := inputs["Parameters"].(map[string]any); ok {
		// SendCommand takes every parameter as a list of strings; runbooks
		// commonly write a single value.
		p := make(map[string]any, len(params))
		for k, v := range params {
			if l, isList := v.([]any); isList {
				p[k] = l
			} else {
				p[k] = []any{ssmString(v)}
			}
		}
		request["Parameters"] = p
	}
	if cw, ok := inputs["CloudWatchOutputConfig"].(map[string]any); ok {
		c := map[string]any{}
		for k, v := range cw {
			c[k] = v
		}
		// StringMap values arrive as text; the API member is a boolean.
		if s, isString := c["CloudWatchOutputEnabled"].(string); isString {
			c["CloudWatchOutputEnabled"] = strings.EqualFold(s, "true")
		}
		request["CloudWatchOutputConfig"] = c
	}
	return request, ids, nil
}

// pollInvocations asks for each instance not yet finished. A fresh command
// may not have its invocations yet (InvocationDoesNotExist): keep waiting.
func pollInvocations(ctx context.Context, req *Request, id string, ids []string, invs map[string]*invocation) (bool, string, error) {
	var waiting []string
	for _, i := range ids {
		if inv, ok := invs[i]; ok && commandDone[inv.status] {
			continue
		}
		out, err := req.awsCall(ctx, "ssm", "GetCommandInvocation", map[string]any{"CommandId": id, "InstanceId": i})
		if err != nil {
			if isCode(err, "InvocationDoesNotExist") {
				waiting = append(waiting, i+" not started")
				continue
			}
			return false, "", err
		}
		inv := &invocation{
			status: digString(out, "Status"), detail: digString(out, "StatusDetails"),
			stdout: digString(out, "StandardOutputContent"), stderr: digString(out, "StandardErrorContent"),
		}
		inv.code, _ = intInput("", out, "ResponseCode", 0)
		invs[i] = inv
		if !commandDone[inv.status] {
			waiting = append(waiting, i+" "+inv.status)
		}
	}
	return len(waiting) == 0, strings.Join(waiting, ", "), nil
}

// pollTargets serves Targets, where the instances are known only to SSM:
// wait for the command as a whole, then list its invocations.
func pollTargets(ctx context.Context, req *Request, id string, invs map[string]*invocation) (bool, string, error) {
	out, err := req.awsCall(ctx, "ssm", "ListCommands", map[string]any{"CommandId": id})
	if err != nil {
		return false, "", err
	}
	cmds := digList(out, "Commands")
	if len(cmds) == 0 {
		return false, "command not listed yet", nil
	}
	status := digString(cmds[0], "Status")
	if !commandDone[status] {
		return false, "command " + status, nil
	}
	request := map[string]any{"CommandId": id, "Details": true}
	for range 1000 { // pages of up to 50; far beyond any fleet one command reaches
		page, err := req.awsCall(ctx, "ssm", "ListCommandInvocations", request)
		if err != nil {
			return false, "", err
		}
		for _, ci := range digList(page, "CommandInvocations") {
			inv := &invocation{status: digString(ci, "Status"), detail: digString(ci, "StatusDetails")}
			for _, plugin := range digList(ci, "CommandPlugins") {
				inv.stdout += digString(plugin, "Output")
				if m, ok := plugin.(map[string]any); ok {
					if c, err := intInput("", m, "ResponseCode", 0); err == nil && c != 0 {
						inv.code = c
					}
				}
			}
			invs[digString(ci, "InstanceId")] = inv
		}
		next := digString(page, "NextToken")
		if next == "" {
			break
		}
		request["NextToken"] = next
	}
	if len(invs) == 0 {
		return false, "", errors.New("the targets matched no instances")
	}
	return true, "", nil
}

// isCode reports whether err carries that AWS error code. The Invoker's
// errors expose it through an ErrorCode method (smithy.APIError does).
func isCode(err error, code string) bool {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return coded.ErrorCode() == code
	}
	return false
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var _ Action = (*runCommand)(nil)
