package action

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// FunctionError says the Lambda function itself failed (the invocation
// answered with X-Amz-Function-Error); the step fails with it rather than
// passing a broken result on to the next step.
type FunctionError struct {
	Function string
	Kind     string // Lambda's FunctionError: Unhandled or Handled
	Payload  string // the error document the function returned
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s failed (%s): %s", e.Function, e.Kind, truncate(e.Payload, stderrExcerpt))
}

type invokeLambda struct{}

func (invokeLambda) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:invokeLambdaFunction"
	fn, err := stringInput(name, req.Inputs, "FunctionName")
	if err != nil {
		return nil, err
	}
	request := map[string]any{"FunctionName": fn}
	copyPresent(request, req.Inputs, map[string]string{"Qualifier": "", "InvocationType": "", "LogType": "", "ClientContext": ""})
	// InputPayload wins over Payload, as in SSM; a map given as Payload is
	// sent as JSON too.
	var event any
	switch {
	case present(req.Inputs, "InputPayload"):
		event = req.Inputs["InputPayload"]
	case present(req.Inputs, "Payload"):
		event = req.Inputs["Payload"]
	}
	switch e := event.(type) {
	case nil:
	case string:
		request["Payload"] = e
	default:
		b, err := json.Marshal(e)
		if err != nil {
			return nil, &InputError{Action: name, Input: "InputPayload", Reason: err.Error()}
		}
		request["Payload"] = string(b)
	}
	out, err := invoke(ctx, req, name, "lambda", "Invoke", request)
	if err != nil {
		return nil, err
	}
	// awsapi renders blobs base64 as boto3's JSON output does; the step
	// output is the function's text.
	payload := ""
	if p := digString(out, "Payload"); p != "" {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("%s: decoding the payload of %s: %w", name, fn, err)
		}
		payload = string(b)
	}
	status, _ := intInput(name, out, "StatusCode", 0)
	if kind := digString(out, "FunctionError"); kind != "" {
		return nil, fmt.Errorf("%s: %w", name, &FunctionError{Function: fn, Kind: kind, Payload: payload})
	}
	// Selectors address the function's JSON result ($.Payload.x), so the
	// response holds it decoded when it is JSON.
	var decoded any = payload
	var v any
	if json.Unmarshal([]byte(payload), &v) == nil {
		decoded = v
	}
	return &Result{
		Outputs: map[string]any{
			"StatusCode": status, "FunctionError": "", "LogResult": digString(out, "LogResult"), "Payload": payload,
		},
		Response: map[string]any{"Payload": decoded},
	}, nil
}

var _ Action = invokeLambda{}
