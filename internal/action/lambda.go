package action

import "time"

func registerLambda(r *Registry) {
	r.Register(Spec{
		Name:    "aws:invokeLambdaFunction",
		Summary: "Invoke a Lambda function and expose its result.",
		Inputs: []Input{
			req("FunctionName", String, "Function name or ARN."),
			opt("Qualifier", String, "Version or alias."),
			optDefault("InvocationType", String, "RequestResponse", "RequestResponse, Event or DryRun."),
			optDefault("LogType", String, "None", "None or Tail (Tail returns the last 4 KB of the log in LogResult)."),
			opt("ClientContext", String, "Client context, base64 JSON."),
			opt("InputPayload", StringMap, "Event as a map; takes precedence over Payload."),
			// Documented as a JSON string; one public runbook passes a map.
			opt("Payload", Any, "Event as JSON text (a map is sent as JSON)."),
		},
		Outputs: []Output{
			{Name: "StatusCode", Type: Integer, Doc: "HTTP status of the invocation."},
			{Name: "FunctionError", Type: String, Doc: "Set when the function raised an error."},
			{Name: "LogResult", Type: String, Doc: "Base64 log tail when LogType is Tail."},
			{Name: "Payload", Type: String, Doc: "The function's response, at most 200 KB."},
		},
		UserOutputs: true,
		MaxTimeout:  300 * time.Second,
		Impact:      Undetermined,
		Support:     Executes,
		IAM:         fixedIAM("lambda:InvokeFunction"),
	}, invokeLambda{})
	r.Register(Spec{
		Name:    "aws:executeStateMachine",
		Summary: "Start a Step Functions execution and wait for it to finish.",
		Inputs: []Input{
			req("stateMachineArn", String, "ARN of the state machine."),
			opt("name", String, "Name of the execution."),
			opt("input", String, "Execution input as JSON text."),
		},
		Outputs: []Output{
			{Name: "executionArn", Type: String, Doc: "ARN of the execution."},
			{Name: "input", Type: String, Doc: "Input of the execution."},
			{Name: "name", Type: String, Doc: "Name of the execution."},
			{Name: "output", Type: String, Doc: "Output of the execution."},
			{Name: "startDate", Type: String, Doc: "Start time."},
			{Name: "stateMachineArn", Type: String, Doc: "ARN of the state machine."},
			{Name: "status", Type: String, Doc: "Final status."},
			{Name: "stopDate", Type: String, Doc: "Stop time."},
		},
		Impact:  Undetermined,
		Support: Executes,
		IAM:     fixedIAM("states:DescribeExecution", "states:StartExecution", "states:StopExecution"),
	}, &executeStateMachine{poll: defaultPoller})
}
