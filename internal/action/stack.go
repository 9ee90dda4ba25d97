package action

func registerStack(r *Registry) {
	r.Register(Spec{
		Name:    "aws:createStack",
		Summary: "Create a CloudFormation stack and wait for it to finish.",
		Inputs: []Input{
			req("StackName", String, "Name of the stack."),
			opt("TemplateBody", String, "Template text, at most 51,200 bytes; or TemplateURL."),
			opt("TemplateURL", String, "S3 URL of the template, at most 460,800 bytes."),
			opt("Parameters", MapList, "Template parameters (ParameterKey/ParameterValue)."),
			opt("Capabilities", StringList, "CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND."),
			opt("ClientRequestToken", String, "Idempotency token."),
			opt("DisableRollback", Boolean, "Keep resources after a failure; exclusive with OnFailure."),
			opt("OnFailure", String, "DO_NOTHING, ROLLBACK or DELETE."),
			opt("NotificationARNs", StringList, "SNS topics for stack events, at most 5."),
			opt("ResourceTypes", StringList, "Resource types the template may create."),
			opt("RoleARN", String, "Service role CloudFormation uses for the stack's resources."),
			opt("StackPolicyBody", String, "Stack policy text."),
			opt("StackPolicyURL", String, "S3 URL of the stack policy."),
			opt("Tags", MapList, "Stack tags (Key/Value), at most 10."),
			opt("TimeoutInMinutes", Integer, "Minutes before the creation fails."),
		},
		Outputs: []Output{
			{Name: "StackId", Type: String, Doc: "ID of the stack."},
			{Name: "StackStatus", Type: String, Doc: "Final status of the stack."},
			{Name: "StackStatusReason", Type: String, Doc: "Reason for the final status."},
		},
		UserOutputs: true,
		NoOnCancel:  true,
		Impact:      Mutating,
		Support:     Executes,
		IAM:         createStackIAM,
	}, &createStack{poll: defaultPoller})
	r.Register(Spec{
		Name:    "aws:deleteStack",
		Summary: "Delete a CloudFormation stack and wait for it to be gone.",
		Inputs: []Input{
			req("StackName", String, "Name or ID of the stack."),
			opt("ClientRequestToken", String, "Idempotency token."),
			opt("RetainResources", StringList, "Logical IDs of resources to keep (stacks in DELETE_FAILED)."),
			opt("RoleARN", String, "Service role CloudFormation uses to delete the resources."),
		},
		RetrySafe: true,
		Impact:    Mutating,
		Support:   Executes,
		IAM:       deleteStackIAM,
	}, &deleteStack{poll: defaultPoller})
}

// withoutRoleGap: a stack action without RoleARN acts with the caller's own
// permissions on whatever the template holds.
const withoutRoleGap = "without RoleARN CloudFormation acts on the template's resources with this role's permissions, which the template decides"

// createStackIAM: without a RoleARN CloudFormation creates the template's
// resources with the caller's permissions, which the template, not this
// step, determines; the list is then incomplete.
func createStackIAM(inputs map[string]any) ([]string, string) {
	acts := []string{"cloudformation:CreateStack", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks"}
	if present(inputs, "TemplateURL") {
		acts = append(acts, "s3:GetObject")
	}
	if !present(inputs, "RoleARN") {
		return sortedUnique(acts), withoutRoleGap
	}
	return sortedUnique(append(acts, "iam:PassRole")), ""
}

func deleteStackIAM(inputs map[string]any) ([]string, string) {
	acts := []string{"cloudformation:DeleteStack", "cloudformation:DescribeStacks"}
	if !present(inputs, "RoleARN") {
		return sortedUnique(acts), withoutRoleGap
	}
	return sortedUnique(append(acts, "iam:PassRole")), ""
}
