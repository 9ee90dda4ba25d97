package action

import "time"

func registerEC2(r *Registry) {
	r.Register(Spec{
		Name:    "aws:changeInstanceState",
		Summary: "Start, stop or terminate EC2 instances and wait for the state (or only check it).",
		Inputs: []Input{
			req("InstanceIds", StringList, "EC2 instance IDs."),
			req("DesiredState", String, "running, stopped or terminated; running also waits for instance and system status OK."),
			optDefault("CheckStateOnly", Boolean, false, "Only wait for the state, do not change it."),
			optDefault("Force", Boolean, false, "Force the stop (as StopInstances Force)."),
			opt("AdditionalInfo", String, "Reserved (StartInstances AdditionalInfo)."),
			optDefault("FailOnUnexpectedStopped", Boolean, false, "With DesiredState running, fail as soon as an instance is seen stopping or stopped instead of waiting."),
		},
		DefaultTimeout: time.Hour,
		RetrySafe:      true,
		Impact:         Mutating,
		Support:        Executes,
		IAM:            changeInstanceStateIAM,
	}, &changeInstanceState{poll: defaultPoller})
	r.Register(Spec{
		Name:    "aws:createImage",
		Summary: "Create an AMI from an instance and wait until it is available.",
		Inputs: []Input{
			req("InstanceId", String, "The instance to image."),
			req("ImageName", String, "Name of the new AMI."),
			opt("ImageDescription", String, "Description of the new AMI."),
			optDefault("NoReboot", Boolean, false, "Do not reboot the instance before imaging."),
			opt("BlockDeviceMappings", MapList, "Block devices of the AMI."),
		},
		Outputs: []Output{
			{Name: "ImageId", Type: String, Doc: "ID of the new AMI."},
			{Name: "ImageState", Type: String, Doc: "State of the AMI (available, pending, failed)."},
		},
		NoOnCancel: true,
		Impact:     Mutating,
		Support:    Executes,
		IAM:        fixedIAM("ec2:CreateImage", "ec2:DescribeImages"),
	}, &createImage{poll: defaultPoller})
	r.Register(Spec{
		Name:    "aws:copyImage",
		Summary: "Copy an AMI from another Region into the current one and wait until it is available.",
		Inputs: []Input{
			req("SourceRegion", String, "Region of the source AMI."),
			req("SourceImageId", String, "ID of the source AMI."),
			req("ImageName", String, "Name of the copy."),
			opt("ImageDescription", String, "Description of the copy."),
			opt("Encrypted", Boolean, "Encrypt the copy's snapshots."),
			opt("KmsKeyId", String, "KMS key for the encrypted snapshots."),
			opt("ClientToken", String, "Idempotency token."),
		},
		Outputs: []Output{
			{Name: "ImageId", Type: String, Doc: "ID of the copied AMI."},
			{Name: "ImageState", Type: String, Doc: "State of the copy (available, pending, failed)."},
		},
		NoOnCancel: true,
		Impact:     Mutating,
		Support:    Executes,
		IAM:        copyImageIAM,
	}, &copyImage{poll: defaultPoller})
	r.Register(Spec{
		Name:    "aws:deleteImage",
		Summary: "Deregister an AMI and delete its snapshots.",
		Inputs: []Input{
			req("ImageId", String, "The AMI to delete."),
		},
		Impact:  Mutating,
		Support: Executes,
		IAM:     fixedIAM("ec2:DeleteSnapshot", "ec2:DeregisterImage", "ec2:DescribeImages", "ec2:DescribeSnapshots"),
	}, deleteImage{})
	r.Register(Spec{
		Name:    "aws:createTags",
		Summary: "Tag EC2 resources or Systems Manager managed instances, maintenance windows or parameters.",
		Inputs: []Input{
			req("ResourceIds", StringList, "Resources to tag; only one when ResourceType is not EC2."),
			req("Tags", MapList, "Tags as Key/Value maps."),
			optDefault("ResourceType", String, "EC2", "EC2, ManagedInstance, MaintenanceWindow or Parameter."),
		},
		NoOnCancel: true,
		RetrySafe:  true,
		Impact:     Mutating,
		Support:    Executes,
		IAM:        createTagsIAM,
	}, createTags{})
	r.Register(Spec{
		Name:    "aws:runInstances",
		Summary: "Launch EC2 instances and wait until they are ready.",
		Inputs: []Input{
			req("ImageId", String, "AMI to launch."),
			optDefault("InstanceType", String, "m1.small", "Instance type."),
			optDefault("MinInstanceCount", Integer, int64(1), "Minimum number of instances."),
			optDefault("MaxInstanceCount", Integer, int64(1), "Maximum number of instances."),
			opt("AdditionalInfo", String, "Reserved."),
			opt("BlockDeviceMappings", MapList, "Block devices."),
			opt("ClientToken", String, "Idempotency token."),
			opt("DisableApiTermination", Boolean, "Protect the instances from API termination."),
			opt("EbsOptimized", Boolean, "EBS-optimized instances."),
			opt("IamInstanceProfileArn", String, "Instance profile ARN."),
			opt("IamInstanceProfileName", String, "Instance profile name."),
			opt("InstanceInitiatedShutdownBehavior", String, "stop or terminate."),
			opt("KernelId", String, "Kernel ID."),
			opt("KeyName", String, "Key pair name."),
			opt("MetadataOptions", StringMap, "Instance metadata service options."),
			opt("Monitoring", Boolean, "Detailed monitoring."),
			opt("NetworkInterfaces", MapList, "Network interfaces."),
			opt("Placement", StringMap, "Placement."),
			opt("PrivateIpAddress", String, "Primary private IPv4 address."),
			opt("RamdiskId", String, "RAM disk ID."),
			opt("SecurityGroupIds", StringList, "Security group IDs."),
			opt("SecurityGroups", StringList, "Security group names (default VPC)."),
			opt("SubnetId", String, "Subnet to launch into."),
			opt("TagSpecifications", MapList, "Tags applied at launch."),
			opt("UserData", String, "User data, base64-encoded."),
		},
		Outputs: []Output{
			{Name: "InstanceIds", Type: StringList, Doc: "IDs of the launched instances."},
			{Name: "InstanceStates", Type: StringList, Doc: "States of the launched instances."},
		},
		NoOnCancel: true,
		Impact:     Mutating,
		Support:    Executes,
		IAM:        runInstancesIAM,
	}, &runInstances{poll: defaultPoller})
}

// changeInstanceStateIAM: DescribeInstances always; DescribeInstanceStatus
// only on the way to running, where the status checks are awaited; the state
// change unless CheckStateOnly is literally true. A templated DesiredState
// yields all three changes (a superset that still works).
func changeInstanceStateIAM(inputs map[string]any) ([]string, string) {
	acts := []string{"ec2:DescribeInstances"}
	s, literal := literalString(inputs, "DesiredState")
	if !literal || s == "running" {
		acts = append(acts, "ec2:DescribeInstanceStatus")
	}
	if only, ok := inputs["CheckStateOnly"].(bool); ok && only {
		return sortedUnique(acts), ""
	}
	change := map[string]string{
		"running":    "ec2:StartInstances",
		"stopped":    "ec2:StopInstances",
		"terminated": "ec2:TerminateInstances",
	}
	if literal {
		if a, known := change[s]; known {
			return sortedUnique(append(acts, a)), ""
		}
	}
	for _, a := range change {
		acts = append(acts, a)
	}
	return sortedUnique(acts), ""
}

func copyImageIAM(inputs map[string]any) ([]string, string) {
	acts := []string{"ec2:CopyImage", "ec2:DescribeImages"}
	if present(inputs, "KmsKeyId") {
		acts = append(acts, "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
			"kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo")
	}
	return sortedUnique(acts), ""
}

// createTagsIAM: EC2 resources are tagged through EC2, the others through
// SSM. A templated ResourceType yields both.
func createTagsIAM(inputs map[string]any) ([]string, string) {
	rt, literal := literalString(inputs, "ResourceType")
	switch {
	case !present(inputs, "ResourceType") || (literal && rt == "EC2"):
		return []string{"ec2:CreateTags"}, ""
	case literal:
		return []string{"ssm:AddTagsToResource"}, ""
	}
	return []string{"ec2:CreateTags", "ssm:AddTagsToResource"}, ""
}

func runInstancesIAM(inputs map[string]any) ([]string, string) {
	acts := []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:RunInstances"}
	if present(inputs, "IamInstanceProfileName") || present(inputs, "IamInstanceProfileArn") {
		acts = append(acts, "iam:PassRole")
	}
	if present(inputs, "TagSpecifications") {
		acts = append(acts, "ec2:CreateTags")
	}
	return sortedUnique(acts), ""
}
