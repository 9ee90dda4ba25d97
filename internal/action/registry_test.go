package action

import (
	"slices"
	"testing"
)

// TestBuiltinDeclaresEveryAction fails when an action the SSM docs name (or
// an AWS-internal one seen in AWS-owned runbooks) is missing or declared
// with the wrong required inputs or fixed outputs.
func TestBuiltinDeclaresEveryAction(t *testing.T) {
	tests := []struct {
		name     string
		support  Support
		required []string
		outputs  []string
	}{
		{"aws:executeAwsApi", Executes, []string{"Service", "Api"}, nil},
		{"aws:waitForAwsResourceProperty", Executes, []string{"Service", "Api", "PropertySelector", "DesiredValues"}, nil},
		{"aws:assertAwsResourceProperty", Executes, []string{"Service", "Api", "PropertySelector", "DesiredValues"}, nil},
		{"aws:branch", Executes, []string{"Choices"}, nil},
		{"aws:sleep", Executes, nil, nil},
		{"aws:pause", Executes, nil, nil},
		{"aws:approve", Executes, []string{"Approvers"}, []string{"ApprovalStatus", "ApproverDecisions"}},
		{"aws:executeAutomation", Executes, []string{"DocumentName"}, []string{"Output", "ExecutionId", "Status"}},
		{"aws:runCommand", Executes, []string{"DocumentName"}, []string{"CommandId", "Status", "ResponseCode", "Output"}},
		{"aws:changeInstanceState", Executes, []string{"InstanceIds", "DesiredState"}, nil},
		{"aws:createImage", Executes, []string{"InstanceId", "ImageName"}, []string{"ImageId", "ImageState"}},
		{"aws:deleteImage", Executes, []string{"ImageId"}, nil},
		{"aws:copyImage", Executes, []string{"SourceRegion", "SourceImageId", "ImageName"}, []string{"ImageId", "ImageState"}},
		{"aws:createTags", Executes, []string{"ResourceIds", "Tags"}, nil},
		{"aws:runInstances", Executes, []string{"ImageId"}, []string{"InstanceIds", "InstanceStates"}},
		{"aws:createStack", Executes, []string{"StackName"}, []string{"StackId", "StackStatus", "StackStatusReason"}},
		{"aws:deleteStack", Executes, []string{"StackName"}, nil},
		{"aws:invokeLambdaFunction", Executes, []string{"FunctionName"}, []string{"StatusCode", "FunctionError", "LogResult", "Payload"}},
		{"aws:executeScript", Executes, []string{"Runtime"}, []string{"Payload"}},
		{"aws:loop", Executes, []string{"Steps"}, []string{"CurrentIteration", "CurrentIteratorValue"}},
		{"aws:updateVariable", Executes, []string{"Name", "Value"}, nil},
		{"aws:executeStateMachine", Executes, []string{"stateMachineArn"}, []string{"executionArn", "input", "name", "output", "startDate", "stateMachineArn", "status", "stopDate"}},
		{"aws:invokeWebhook", Executes, []string{"IntegrationName"}, []string{"Response", "ResponseCode"}},
		{"aws:putServerUpgradeMetrics", Internal, nil, nil},
		{"aws:shareSQLMedia", Internal, nil, nil},
		{"aws:installDistributorPackageOnAzure", Internal, nil, nil},
	}
	// The engine runs these itself (they start steps or executions of their
	// own), so they execute without an Impl.
	engineRun := map[string]bool{"aws:loop": true, "aws:executeAutomation": true}
	r := Builtin()
	if got, want := len(r.Names()), len(tests); got != want {
		t.Errorf("Builtin has %d actions, the table %d: %v", got, want, r.Names())
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := r.Lookup(tt.name)
			if !ok {
				t.Fatalf("%s not registered", tt.name)
			}
			s := e.Spec
			if s.Support != tt.support {
				t.Errorf("Support = %v, want %v", s.Support, tt.support)
			}
			var required []string
			for _, in := range s.Inputs {
				if in.Required {
					required = append(required, in.Name)
				}
				if !in.Type.Valid() && in.Type != Any {
					t.Errorf("input %s has type %q", in.Name, in.Type)
				}
				if in.Doc == "" {
					t.Errorf("input %s has no doc", in.Name)
				}
			}
			if !slices.Equal(required, tt.required) {
				t.Errorf("required inputs = %v, want %v", required, tt.required)
			}
			var outputs []string
			for _, o := range s.Outputs {
				outputs = append(outputs, o.Name)
			}
			if !slices.Equal(outputs, tt.outputs) {
				t.Errorf("outputs = %v, want %v", outputs, tt.outputs)
			}
			if s.Summary == "" || s.Impact == "" || s.IAM == nil {
				t.Errorf("incomplete declaration: summary %q impact %q IAM set %v", s.Summary, s.Impact, s.IAM != nil)
			}
			if s.Support == Executes && e.Impl == nil && !engineRun[tt.name] {
				t.Errorf("declared as executing but has no implementation")
			}
			if s.Support != Executes && e.Impl != nil {
				t.Errorf("has an implementation but Support is %v", s.Support)
			}
		})
	}
}

func TestBuiltinIsFreshEachCall(t *testing.T) {
	a, b := Builtin(), Builtin()
	a.SetImpl("aws:sleep", nil)
	if e, _ := b.Lookup("aws:sleep"); e.Impl == nil {
		t.Fatal("changing one Builtin registry changed another")
	}
}
