package action

import (
	"slices"
	"strings"
	"testing"
)

func TestIAM(t *testing.T) {
	tests := []struct {
		name         string
		action       string
		inputs       map[string]any
		want         []string
		wantComplete bool
	}{
		{"ec2 DescribeInstances", "aws:executeAwsApi", map[string]any{"Service": "ec2", "Api": "DescribeInstances"}, []string{"ec2:DescribeInstances"}, true},
		{"boto3 snake_case", "aws:executeAwsApi", map[string]any{"Service": "ec2", "Api": "describe_iam_instance_profile_associations"}, []string{"ec2:DescribeIamInstanceProfileAssociations"}, true},
		{"elbv2 prefix", "aws:waitForAwsResourceProperty", map[string]any{"Service": "elbv2", "Api": "describe_load_balancers"}, []string{"elasticloadbalancing:DescribeLoadBalancers"}, true},
		{"capitalised service", "aws:assertAwsResourceProperty", map[string]any{"Service": "EC2", "Api": "DescribeInstances"}, []string{"ec2:DescribeInstances"}, true},
		{"templated Api", "aws:executeAwsApi", map[string]any{"Service": "ec2", "Api": "{{ ApiName }}"}, nil, false},
		{"templated Service", "aws:executeAwsApi", map[string]any{"Service": "{{Service}}", "Api": "DescribeInstances"}, nil, false},
		{"unknown service", "aws:executeAwsApi", map[string]any{"Service": "nosuchservice", "Api": "Go"}, nil, false},
		{"branch needs nothing", "aws:branch", map[string]any{}, nil, true},
		{"start instances", "aws:changeInstanceState", map[string]any{"DesiredState": "running"}, []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:StartInstances"}, true},
		{"stop instances", "aws:changeInstanceState", map[string]any{"DesiredState": "stopped"}, []string{"ec2:DescribeInstances", "ec2:StopInstances"}, true},
		{"terminate instances", "aws:changeInstanceState", map[string]any{"DesiredState": "terminated"}, []string{"ec2:DescribeInstances", "ec2:TerminateInstances"}, true},
		{"check state only", "aws:changeInstanceState", map[string]any{"DesiredState": "running", "CheckStateOnly": true}, []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances"}, true},
		{"templated state yields every change", "aws:changeInstanceState", map[string]any{"DesiredState": "{{ State }}"}, []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"}, true},
		{"runCommand", "aws:runCommand", map[string]any{"DocumentName": "AWS-RunShellScript"}, []string{"ssm:CancelCommand", "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation", "ssm:ListCommandInvocations", "ssm:ListCommands", "ssm:SendCommand"}, true},
		{"executeAutomation leaves the child's needs out", "aws:executeAutomation", map[string]any{"DocumentName": "AWS-RestartEC2Instance"}, []string{"ssm:DescribeAutomationExecutions", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution"}, false},
		{"approve with topic", "aws:approve", map[string]any{"NotificationArn": "arn:aws:sns:us-east-1:123456789012:AutomationApprovals"}, []string{"sns:Publish"}, true},
		{"approve without topic", "aws:approve", map[string]any{}, nil, true},
		{"tags on EC2 by default", "aws:createTags", map[string]any{}, []string{"ec2:CreateTags"}, true},
		{"tags on a parameter", "aws:createTags", map[string]any{"ResourceType": "Parameter"}, []string{"ssm:AddTagsToResource"}, true},
		{"runInstances with profile", "aws:runInstances", map[string]any{"IamInstanceProfileName": "p"}, []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:RunInstances", "iam:PassRole"}, true},
		{"createStack without role is incomplete", "aws:createStack", map[string]any{"StackName": "s"}, []string{"cloudformation:CreateStack", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks"}, false},
		{"createStack with role", "aws:createStack", map[string]any{"StackName": "s", "RoleARN": "arn:aws:iam::123456789012:role/cfn"}, []string{"cloudformation:CreateStack", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks", "iam:PassRole"}, true},
		{"lambda", "aws:invokeLambdaFunction", map[string]any{"FunctionName": "f"}, []string{"lambda:InvokeFunction"}, true},
		{"script is never complete", "aws:executeScript", map[string]any{"Runtime": "python3.11"}, nil, false},
	}
	r := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := r.Lookup(tt.action)
			if !ok {
				t.Fatalf("%s not registered", tt.action)
			}
			got, gap := e.Spec.IAM(tt.inputs)
			complete := gap == ""
			if !slices.Equal(got, tt.want) || complete != tt.wantComplete {
				t.Errorf("IAM = %v, complete %v; want %v, complete %v", got, complete, tt.want, tt.wantComplete)
			}
		})
	}
}

// An incomplete list says why, in words a user of `capstan policy` can act on.
func TestIAMGapSaysWhy(t *testing.T) {
	tests := []struct {
		action string
		inputs map[string]any
		want   string
	}{
		{"aws:executeAwsApi", map[string]any{"Service": "ec2", "Api": "{{ ApiName }}"}, `Api "{{ ApiName }}" is templated`},
		{"aws:waitForAwsResourceProperty", map[string]any{"Service": "nosuchservice", "Api": "Go"}, `no service "nosuchservice" with an operation "Go" is known`},
		{"aws:executeScript", map[string]any{}, "the script's own AWS calls"},
		{"aws:deleteStack", map[string]any{"StackName": "s"}, "without RoleARN"},
		{"aws:executeAutomation", map[string]any{"DocumentName": "d"}, "child runbook"},
	}
	r := Builtin()
	for _, tt := range tests {
		e, _ := r.Lookup(tt.action)
		if _, gap := e.Spec.IAM(tt.inputs); !strings.Contains(gap, tt.want) {
			t.Errorf("%s %v: gap %q, want it to contain %q", tt.action, tt.inputs, gap, tt.want)
		}
	}
}
