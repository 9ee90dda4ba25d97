package action

import (
	"context"
	"fmt"
	"strings"
)

// StackFailedError says a stack operation ended in a status other than the
// one the step waited for (a rollback, a failure, a deletion on failure).
type StackFailedError struct {
	Stack  string
	Status string
	Reason string // CloudFormation's StackStatusReason, may be empty
}

func (e *StackFailedError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("stack %s ended %s", e.Stack, e.Status)
	}
	return fmt.Sprintf("stack %s ended %s: %s", e.Stack, e.Status, e.Reason)
}

type createStack struct{ poll poller }

func (a *createStack) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:createStack"
	stackName, err := stringInput(name, req.Inputs, "StackName")
	if err != nil {
		return nil, err
	}
	if !present(req.Inputs, "TemplateBody") && !present(req.Inputs, "TemplateURL") {
		return nil, &InputError{Action: name, Input: "TemplateBody", Reason: "set TemplateBody or TemplateURL"}
	}
	// The inputs are CreateStack's own members under the same names.
	request := map[string]any{"StackName": stackName}
	copyPresent(request, req.Inputs, map[string]string{
		"TemplateBody": "", "TemplateURL": "", "Parameters": "", "Capabilities": "", "ClientRequestToken": "",
		"DisableRollback": "", "OnFailure": "", "NotificationARNs": "", "ResourceTypes": "", "RoleARN": "",
		"StackPolicyBody": "", "StackPolicyURL": "", "Tags": "",
	})
	if present(req.Inputs, "TimeoutInMinutes") {
		n, err := intInput(name, req.Inputs, "TimeoutInMinutes", 0)
		if err != nil {
			return nil, err
		}
		request["TimeoutInMinutes"] = n
	}
	out, err := invoke(ctx, req, name, "cloudformation", "CreateStack", request)
	if err != nil {
		return nil, err
	}
	id := digString(out, "StackId")
	stack, err := waitStack(ctx, req, name, a.poll, id, "CREATE_COMPLETE")
	if err != nil {
		return nil, err
	}
	return &Result{
		Outputs: map[string]any{
			"StackId": id, "StackStatus": digString(stack, "StackStatus"), "StackStatusReason": digString(stack, "StackStatusReason"),
		},
		Response: map[string]any{"Stacks": []any{stack}},
	}, nil
}

type deleteStack struct{ poll poller }

// Run looks the stack up by name first and then follows it by ID: a deleted
// stack is no longer found by name, and a stack already gone (a retry after
// a crash) counts as deleted.
func (a *deleteStack) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:deleteStack"
	stackName, err := stringInput(name, req.Inputs, "StackName")
	if err != nil {
		return nil, err
	}
	out, err := req.awsCall(ctx, "cloudformation", "DescribeStacks", map[string]any{"StackName": stackName})
	if err != nil {
		if isCode(err, "ValidationError") && strings.Contains(err.Error(), "does not exist") {
			return &Result{}, nil
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	stacks := digList(out, "Stacks")
	if len(stacks) == 0 || digString(stacks[0], "StackStatus") == "DELETE_COMPLETE" {
		return &Result{}, nil
	}
	id := digString(stacks[0], "StackId")
	request := map[string]any{"StackName": id}
	copyPresent(request, req.Inputs, map[string]string{"ClientRequestToken": "", "RetainResources": "", "RoleARN": ""})
	if _, err := invoke(ctx, req, name, "cloudformation", "DeleteStack", request); err != nil {
		return nil, err
	}
	if _, err := waitStack(ctx, req, name, a.poll, id, "DELETE_COMPLETE"); err != nil {
		return nil, err
	}
	return &Result{}, nil
}

// waitStack polls until the stack leaves every *_IN_PROGRESS status and
// fails unless it ended in want.
func waitStack(ctx context.Context, req *Request, action string, p poller, id, want string) (map[string]any, error) {
	var stack map[string]any
	err := p.until(ctx, req, func(ctx context.Context) (bool, string, error) {
		out, err := invoke(ctx, req, action, "cloudformation", "DescribeStacks", map[string]any{"StackName": id})
		if err != nil {
			return false, "", err
		}
		stacks := digList(out, "Stacks")
		if len(stacks) == 0 {
			return false, "stack not listed yet", nil
		}
		stack, _ = stacks[0].(map[string]any)
		status := digString(stack, "StackStatus")
		if strings.HasSuffix(status, "_IN_PROGRESS") {
			return false, "stack " + status, nil
		}
		if status != want {
			return false, "", fmt.Errorf("%s: %w", action, &StackFailedError{Stack: id, Status: status, Reason: digString(stack, "StackStatusReason")})
		}
		return true, "", nil
	})
	if err != nil {
		if ctx.Err() == nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: stack %s to be %s: %w", action, id, want, err)
	}
	return stack, nil
}

var (
	_ Action = (*createStack)(nil)
	_ Action = (*deleteStack)(nil)
)
