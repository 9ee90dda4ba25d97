package action

import "testing"

// TestBuiltinDeclaresSSMOptionalInputs pins every optional input that SSM's
// "Systems Manager Automation actions reference" documents for an action
// (and the ones AWS-owned runbooks use although the reference is silent),
// with its type, so that dropping one — a runbook using it would then be
// refused at validation — fails here and not in a user's hands. Inputs SSM
// added to an action later are marked: they are the ones most easily lost.
func TestBuiltinDeclaresSSMOptionalInputs(t *testing.T) {
	type in struct {
		name string
		typ  Type
	}
	tests := map[string][]in{
		"aws:changeInstanceState": {{"CheckStateOnly", Boolean}, {"Force", Boolean}, {"AdditionalInfo", String},
			{"FailOnUnexpectedStopped", Boolean}}, // added later to the reference
		"aws:approve": {{"Message", String}, {"MinRequiredApprovals", Integer}, {"NotificationArn", String},
			{"EnhancedApprovals", StringMap}}, // AWS-owned change templates
		"aws:pause":       {{"Message", String}}, // AWS-owned runbooks
		"aws:branch":      {{"Default", String}},
		"aws:sleep":       {{"Duration", String}, {"Timestamp", String}},
		"aws:createImage": {{"ImageDescription", String}, {"NoReboot", Boolean}, {"BlockDeviceMappings", MapList}},
		"aws:copyImage":   {{"ImageDescription", String}, {"Encrypted", Boolean}, {"KmsKeyId", String}, {"ClientToken", String}},
		"aws:createTags":  {{"ResourceType", String}},
		"aws:runInstances": {{"InstanceType", String}, {"MinInstanceCount", Integer}, {"MaxInstanceCount", Integer},
			{"AdditionalInfo", String}, {"BlockDeviceMappings", MapList}, {"ClientToken", String},
			{"DisableApiTermination", Boolean}, {"EbsOptimized", Boolean}, {"IamInstanceProfileArn", String},
			{"IamInstanceProfileName", String}, {"InstanceInitiatedShutdownBehavior", String}, {"KernelId", String},
			{"KeyName", String}, {"MetadataOptions", StringMap}, {"Monitoring", Boolean}, {"NetworkInterfaces", MapList},
			{"Placement", StringMap}, {"PrivateIpAddress", String}, {"RamdiskId", String}, {"SecurityGroupIds", StringList},
			{"SecurityGroups", StringList}, {"SubnetId", String}, {"TagSpecifications", MapList}, {"UserData", String}},
		"aws:createStack": {{"Capabilities", StringList}, {"ClientRequestToken", String}, {"DisableRollback", Boolean},
			{"NotificationARNs", StringList}, {"OnFailure", String}, {"Parameters", MapList}, {"ResourceTypes", StringList},
			{"RoleARN", String}, {"StackPolicyBody", String}, {"StackPolicyURL", String}, {"Tags", MapList},
			{"TemplateBody", String}, {"TemplateURL", String}, {"TimeoutInMinutes", Integer}},
		"aws:deleteStack": {{"ClientRequestToken", String}, {"RetainResources", StringList}, {"RoleARN", String}},
		"aws:invokeLambdaFunction": {{"Qualifier", String}, {"InvocationType", String}, {"LogType", String},
			{"ClientContext", String}, {"Payload", Any}, {"InputPayload", StringMap}},
		"aws:executeScript":       {{"Handler", String}, {"Script", String}, {"Attachment", String}, {"InputPayload", StringMap}},
		"aws:executeStateMachine": {{"name", String}, {"input", String}},
		"aws:executeAutomation": {{"DocumentVersion", String}, {"RuntimeParameters", StringMap}, {"Tags", MapList},
			{"TargetParameterName", String}, {"Targets", MapList}, {"TargetMaps", MapList}, {"MaxConcurrency", String},
			{"MaxErrors", String}, {"TargetLocations", MapList}},
		"aws:runCommand": {{"InstanceIds", StringList}, {"Targets", MapList}, {"Parameters", StringMap},
			{"CloudWatchOutputConfig", StringMap}, {"Comment", String}, {"DocumentHash", String},
			{"DocumentHashType", String}, {"DocumentVersion", String}, {"MaxConcurrency", String}, {"MaxErrors", String},
			{"NotificationConfig", StringMap}, {"OutputS3BucketName", String}, {"OutputS3KeyPrefix", String},
			{"OutputS3Region", String}, {"ServiceRoleArn", String}, {"TimeoutSeconds", Integer}},
		"aws:loop": {{"Iterators", StringList}, {"IteratorDataType", String}, {"LoopCondition", StringMap},
			{"MaxIterations", Integer}},
		"aws:invokeWebhook": {{"Body", String}},
	}
	reg := Builtin()
	for action, inputs := range tests {
		e, ok := reg.Lookup(action)
		if !ok {
			t.Errorf("%s is not declared", action)
			continue
		}
		declared := map[string]Input{}
		for _, d := range e.Spec.Inputs {
			declared[d.Name] = d
		}
		for _, want := range inputs {
			got, ok := declared[want.name]
			switch {
			case !ok:
				t.Errorf("%s: input %s is not declared; runbooks that set it would be refused", action, want.name)
			case got.Type != want.typ:
				t.Errorf("%s: input %s has type %v, SSM documents %v", action, want.name, got.Type, want.typ)
			case got.Required:
				t.Errorf("%s: input %s is declared required; SSM documents it as optional", action, want.name)
			case got.Doc == "":
				t.Errorf("%s: input %s has no Doc text for `capstan actions`", action, want.name)
			}
		}
	}
}
