package action

func registerCommand(r *Registry) {
	r.Register(Spec{
		Name:    "aws:runCommand",
		Summary: "Run a Command document on managed instances (SendCommand) and wait for it to finish.",
		Inputs: []Input{
			req("DocumentName", String, "Command document name or ARN (AWS-RunShellScript, AWS-RunPowerShellScript, ...)."),
			opt("InstanceIds", StringList, "Managed instance IDs, at most 50; or use Targets."),
			opt("Targets", MapList, "Targets as Key/Values (tag:Name, InstanceIds, resource groups)."),
			opt("Parameters", StringMap, "Parameters of the Command document."),
			opt("CloudWatchOutputConfig", StringMap, "CloudWatchLogGroupName and CloudWatchOutputEnabled."),
			opt("Comment", String, "Free text recorded with the command."),
			opt("DocumentHash", String, "Hash of the document, checked before running."),
			opt("DocumentHashType", String, "Sha256 or Sha1."),
			opt("DocumentVersion", String, "Version of the Command document."),
			opt("MaxConcurrency", String, "Instances at once, a number or a percentage."),
			opt("MaxErrors", String, "Errors before stopping, a number or a percentage."),
			opt("NotificationConfig", StringMap, "SNS notification settings (NotificationArn, NotificationEvents, NotificationType)."),
			opt("OutputS3BucketName", String, "S3 bucket for the full command output."),
			opt("OutputS3KeyPrefix", String, "Key prefix in OutputS3BucketName."),
			opt("OutputS3Region", String, "Region of OutputS3BucketName."),
			opt("ServiceRoleArn", String, "Role SSM uses to publish notifications."),
			opt("TimeoutSeconds", Integer, "Delivery timeout: seconds before a command that has not started on an instance is given up."),
		},
		Outputs: []Output{
			{Name: "CommandId", Type: String, Doc: "The SendCommand command ID."},
			{Name: "Status", Type: String, Doc: "The command's final status."},
			{Name: "ResponseCode", Type: Integer, Doc: "The exit code of the command (single instance)."},
			{Name: "Output", Type: String, Doc: "Standard output of the command (single instance; truncated by Run Command)."},
		},
		UserOutputs: true,
		Impact:      Undetermined,
		Support:     Executes,
		IAM:         runCommandIAM,
	}, &runCommand{poll: defaultPoller})
}

func runCommandIAM(inputs map[string]any) ([]string, string) {
	acts := []string{
		"ssm:CancelCommand", "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation",
		"ssm:ListCommandInvocations", "ssm:ListCommands", "ssm:SendCommand",
	}
	if present(inputs, "ServiceRoleArn") {
		acts = append(acts, "iam:PassRole")
	}
	return sortedUnique(acts), ""
}
