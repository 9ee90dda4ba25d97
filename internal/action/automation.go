package action

func registerAutomation(r *Registry) {
	r.Register(Spec{
		Name:    "aws:executeAutomation",
		Summary: "Run another automation runbook as a child execution and wait for it.",
		Inputs: []Input{
			req("DocumentName", String, "Runbook name, or ARN for a runbook shared from another account."),
			opt("DocumentVersion", String, "Version to run; the default version if omitted."),
			opt("RuntimeParameters", StringMap, "Parameters for the child runbook."),
			opt("Tags", MapList, "Tags for the child execution (Key/Value), at most 5."),
			opt("TargetParameterName", String, "Rate control: the parameter that receives each target."),
			opt("Targets", MapList, "Rate control: targets (Key/Values)."),
			opt("TargetMaps", MapList, "Rate control: parameter maps, one child per map."),
			opt("MaxConcurrency", String, "Rate control: children at once, a number or a percentage."),
			opt("MaxErrors", String, "Rate control: errors before stopping, a number or a percentage."),
			opt("TargetLocations", MapList, "Accounts and Regions to run in (1 to 100 locations)."),
		},
		Outputs: []Output{
			{Name: "Output", Type: StringList, Doc: "The child's declared outputs, in declaration order."},
			{Name: "ExecutionId", Type: String, Doc: "The child execution's ID."},
			{Name: "Status", Type: String, Doc: "The child execution's final status."},
		},
		UserOutputs:    true,
		ChildExecution: true,
		Impact:         Undetermined,
		Support:        Executes,
		IAM:            executeAutomationIAM,
	}, nil)
}

// executeAutomationIAM lists the calls that start and watch the child. The
// child runs with the same identity, so its own needs add to these; they
// come from the child runbook, which a caller must derive separately.
func executeAutomationIAM(map[string]any) ([]string, string) {
	return []string{"ssm:DescribeAutomationExecutions", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution"},
		"the child runbook's own needs come from the child runbook"
}
