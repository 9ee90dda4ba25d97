package document

import (
	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/value"
)

// testRegistry declares the actions the tests and the corpus use, with the
// required inputs SSM documents for each. It stands in for action.Builtin
// until that lands; OpenInputs keeps it from judging inputs it does not list.
func testRegistry() *action.Registry {
	r := action.NewRegistry()
	in := func(name string, t value.Type, req bool) action.Input {
		return action.Input{Name: name, Type: t, Required: req}
	}
	out := func(names ...string) []action.Output {
		var o []action.Output
		for _, n := range names {
			o = append(o, action.Output{Name: n, Type: value.String})
		}
		return o
	}
	open := func(name string, inputs ...action.Input) action.Spec {
		return action.Spec{Name: name, Inputs: inputs, OpenInputs: true}
	}
	api := []action.Input{in("Service", value.String, true), in("Api", value.String, true)}
	wait := append(append([]action.Input{}, api...), in("PropertySelector", value.String, true), in("DesiredValues", value.StringList, true))
	specs := []action.Spec{
		{Name: "aws:executeAwsApi", Inputs: api, OpenInputs: true, UserOutputs: true},
		{Name: "aws:waitForAwsResourceProperty", Inputs: wait, OpenInputs: true},
		{Name: "aws:assertAwsResourceProperty", Inputs: wait, OpenInputs: true},
		{Name: "aws:branch", Inputs: []action.Input{in("Choices", value.MapList, true), in("Default", value.String, false)}, Outputs: out("NextStep")},
		{Name: "aws:sleep", Inputs: []action.Input{in("Duration", value.String, false), in("Timestamp", value.String, false)}},
		{Name: "aws:pause", Inputs: []action.Input{in("Message", value.String, false)}},
		{Name: "aws:approve", Inputs: []action.Input{in("Approvers", value.StringList, false), in("EnhancedApprovals", value.StringMap, false), in("MinRequiredApprovals", value.Integer, false),
			in("Message", value.String, false), in("NotificationArn", value.String, false)}, Outputs: out("ApprovalStatus", "ApproverDecisions")},
		{Name: "aws:loop", Inputs: []action.Input{in("Iterators", value.StringList, false), in("IteratorDataType", value.String, false),
			in("LoopCondition", value.StringMap, false), in("MaxIterations", value.Integer, false)}, NestedSteps: true, NoOnCancel: true,
			Outputs: out("CurrentIteration", "CurrentIteratorValue")},
		{Name: "aws:updateVariable", Inputs: []action.Input{in("Name", value.String, true), in("Value", value.Any, true)}},
		{Name: "aws:executeAutomation", Inputs: []action.Input{in("DocumentName", value.String, true)}, OpenInputs: true, UserOutputs: true, Outputs: out("Output", "ExecutionId", "Status")},
		{Name: "aws:executeScript", Inputs: []action.Input{in("Runtime", value.String, true), in("Handler", value.String, false),
			in("Script", value.String, false), in("InputPayload", value.StringMap, false), in("Attachment", value.String, false)},
			UserOutputs: true, Outputs: out("Payload", "OutputPayload")},
		{Name: "aws:invokeLambdaFunction", Inputs: []action.Input{in("FunctionName", value.String, true)}, OpenInputs: true, UserOutputs: true,
			Outputs: out("StatusCode", "FunctionError", "LogResult", "Payload", "OutputPayload")},
		{Name: "aws:executeStateMachine", Inputs: []action.Input{in("stateMachineArn", value.String, true)}, OpenInputs: true},
		{Name: "aws:runCommand", Inputs: []action.Input{in("DocumentName", value.String, true)}, OpenInputs: true, UserOutputs: true, Outputs: out("CommandId", "Status", "ResponseCode", "Output")},
		{Name: "aws:changeInstanceState", Inputs: []action.Input{in("InstanceIds", value.StringList, true), in("DesiredState", value.String, true),
			in("CheckStateOnly", value.Boolean, false), in("Force", value.Boolean, false), in("AdditionalInfo", value.String, false)}},
		{Name: "aws:createImage", Inputs: []action.Input{in("InstanceId", value.String, true), in("ImageName", value.String, true)}, OpenInputs: true, Outputs: out("ImageId", "ImageState")},
		{Name: "aws:copyImage", Inputs: []action.Input{in("SourceRegion", value.String, true)}, OpenInputs: true, Outputs: out("ImageId", "ImageState"), NoOnCancel: true},
		{Name: "aws:deleteImage", Inputs: []action.Input{in("ImageId", value.String, true)}},
		{Name: "aws:runInstances", Inputs: []action.Input{in("ImageId", value.String, true)}, OpenInputs: true, Outputs: out("InstanceIds", "InstanceStates"), NoOnCancel: true},
		{Name: "aws:createTags", Inputs: []action.Input{in("ResourceIds", value.StringList, true), in("Tags", value.MapList, true)}, OpenInputs: true, NoOnCancel: true},
		{Name: "aws:createStack", Inputs: []action.Input{in("StackName", value.String, true)}, OpenInputs: true, UserOutputs: true, Outputs: out("StackId", "StackStatus", "StackStatusReason")},
		{Name: "aws:deleteStack", Inputs: []action.Input{in("StackName", value.String, true)}, OpenInputs: true},
		{Name: "aws:invokeWebhook", Inputs: []action.Input{in("IntegrationName", value.String, true), in("Body", value.String, false)}, Outputs: out("Response", "ResponseCode")},
		{Name: "aws:putServerUpgradeMetrics", Support: action.Internal, OpenInputs: true},
		{Name: "aws:shareSQLMedia", Support: action.Internal, OpenInputs: true},
		{Name: "aws:installDistributorPackageOnAzure", Support: action.Internal, OpenInputs: true},
	}
	for _, s := range specs {
		if s.Name == "aws:deleteStack" || s.Name == "aws:executeStateMachine" {
			s = open(s.Name, s.Inputs...)
		}
		r.Register(s, nil)
	}
	return r
}
