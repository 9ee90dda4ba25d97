package conformance

import (
	"strings"

	"github.com/capstan-run/capstan/internal/engine"
)

func ec2Cases() []conformanceCase {
	return []conformanceCase{
		{runbook: "AWS-RestartEC2Instance",
			setup: func(a *account) map[string]any {
				return map[string]any{"InstanceId": []any{a.instance()}}
			},
			check: func(a *account, st *engine.State) {
				a.expect("instance state", a.instanceState(param(st, "InstanceId")), "running")
			}},
		{runbook: "AWS-TerminateEC2Instance",
			setup: func(a *account) map[string]any {
				return map[string]any{"InstanceId": []any{a.instance()}}
			},
			check: func(a *account, st *engine.State) {
				a.expect("instance state", a.instanceState(param(st, "InstanceId")), "terminated")
			}},
		{runbook: "AWS-CreateImage",
			setup: func(a *account) map[string]any {
				return map[string]any{"InstanceId": a.instance(), "NoReboot": true}
			},
			check: func(a *account, st *engine.State) {
				id := st.Outputs["createImage.ImageId"]
				if len(id) != 1 || !strings.HasPrefix(id[0], "ami-") {
					a.t.Fatalf("outputs %v", st.Outputs)
				}
				out := a.call("ec2", "DescribeImages", map[string]any{"ImageIds": []any{id[0]}})
				a.expect("image state", dig(out, "Images", 0, "State"), "available")
			}},
		{runbook: "AWS-DeleteSnapshot",
			setup: func(a *account) map[string]any {
				return map[string]any{"SnapshotId": a.snapshot(a.volume())}
			},
			check: func(a *account, st *engine.State) {
				a.expect("DescribeSnapshots error", a.errorCode("ec2", "DescribeSnapshots", map[string]any{"SnapshotIds": []any{param(st, "SnapshotId")}}), "InvalidSnapshot.NotFound")
			}},
		{runbook: "AWS-CloseSecurityGroup",
			setup: func(a *account) map[string]any {
				sg := a.securityGroup(a.vpc(), "open")
				a.call("ec2", "AuthorizeSecurityGroupIngress", map[string]any{"GroupId": sg, "IpPermissions": []any{
					map[string]any{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}}}})
				return map[string]any{"SecurityGroupId": sg}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeSecurityGroups", map[string]any{"GroupIds": []any{param(st, "SecurityGroupId")}})
				a.expect("ingress rules", len(dig(out, "SecurityGroups", 0, "IpPermissions").([]any)), 0)
				a.expect("egress rules", len(dig(out, "SecurityGroups", 0, "IpPermissionsEgress").([]any)), 0)
			}},
		{runbook: "AWS-DisablePublicAccessForSecurityGroup",
			setup: func(a *account) map[string]any {
				sg := a.securityGroup(a.vpc(), "public")
				a.call("ec2", "AuthorizeSecurityGroupIngress", map[string]any{"GroupId": sg, "IpPermissions": []any{
					map[string]any{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}, "Ipv6Ranges": []any{map[string]any{"CidrIpv6": "::/0"}}},
					map[string]any{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}, "Ipv6Ranges": []any{map[string]any{"CidrIpv6": "::/0"}}},
					map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}}}})
				return map[string]any{"GroupId": sg}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeSecurityGroups", map[string]any{"GroupIds": []any{param(st, "GroupId")}})
				perms, _ := dig(out, "SecurityGroups", 0, "IpPermissions").([]any)
				if len(perms) != 1 || str(dig(perms, 0, "FromPort")) != "443" {
					a.t.Errorf("ingress left: %v, want only port 443", perms)
				}
			}},
		{runbook: "AWSConfigRemediation-DeleteUnusedSecurityGroup",
			setup: func(a *account) map[string]any {
				return map[string]any{"GroupId": a.securityGroup(a.vpc(), "unused"), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("DescribeSecurityGroups error", a.errorCode("ec2", "DescribeSecurityGroups", map[string]any{"GroupIds": []any{param(st, "GroupId")}}), "InvalidGroup.NotFound")
			}},
		{runbook: "AWSConfigRemediation-DeleteUnusedEBSVolume",
			setup: func(a *account) map[string]any {
				return map[string]any{"VolumeId": a.volume(), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				vol := param(st, "VolumeId")
				a.expect("DescribeVolumes error", a.errorCode("ec2", "DescribeVolumes", map[string]any{"VolumeIds": []any{vol}}), "InvalidVolume.NotFound")
				out := a.call("ec2", "DescribeSnapshots", map[string]any{"Filters": []any{map[string]any{"Name": "volume-id", "Values": []any{vol}}}})
				a.expect("snapshots of the deleted volume", len(out["Snapshots"].([]any)), 1)
			}},
		{runbook: "AWSConfigRemediation-DisableSubnetAutoAssignPublicIP",
			setup: func(a *account) map[string]any {
				sub := a.subnet(a.vpc())
				a.call("ec2", "ModifySubnetAttribute", map[string]any{"SubnetId": sub, "MapPublicIpOnLaunch": map[string]any{"Value": true}})
				return map[string]any{"SubnetId": sub, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeSubnets", map[string]any{"SubnetIds": []any{param(st, "SubnetId")}})
				a.expect("MapPublicIpOnLaunch", dig(out, "Subnets", 0, "MapPublicIpOnLaunch"), false)
			}},
		{runbook: "AWSConfigRemediation-EnableEbsEncryptionByDefault",
			setup: func(a *account) map[string]any { return map[string]any{"AutomationAssumeRole": roleArn} },
			check: func(a *account, st *engine.State) {
				a.expect("EbsEncryptionByDefault", a.call("ec2", "GetEbsEncryptionByDefault", map[string]any{})["EbsEncryptionByDefault"], true)
			}},
		{runbook: "AWSConfigRemediation-DeleteEgressOnlyInternetGateway",
			setup: func(a *account) map[string]any {
				out := a.call("ec2", "CreateEgressOnlyInternetGateway", map[string]any{"VpcId": a.vpc()})
				return map[string]any{"EgressOnlyInternetGatewayId": str(dig(out, "EgressOnlyInternetGateway", "EgressOnlyInternetGatewayId")), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeEgressOnlyInternetGateways", map[string]any{})
				a.expect("egress-only gateways left", len(out["EgressOnlyInternetGateways"].([]any)), 0)
			}},
		{runbook: "AWSConfigRemediation-DetachAndDeleteVirtualPrivateGateway",
			setup: func(a *account) map[string]any {
				out := a.call("ec2", "CreateVpnGateway", map[string]any{"Type": "ipsec.1"})
				vgw := str(dig(out, "VpnGateway", "VpnGatewayId"))
				a.call("ec2", "AttachVpnGateway", map[string]any{"VpcId": a.vpc(), "VpnGatewayId": vgw})
				return map[string]any{"VpnGatewayId": vgw, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeVpnGateways", map[string]any{"VpnGatewayIds": []any{param(st, "VpnGatewayId")}})
				a.expect("gateway state", dig(out, "VpnGateways", 0, "State"), "deleted")
			}},
		{runbook: "AWS-DeleteEbsVolumeSnapshots-V2",
			setup: func(a *account) map[string]any {
				vol := a.volume()
				for range 3 {
					a.snapshot(vol)
				}
				return map[string]any{"VolumeId": vol, "RetentionCount": "1"}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeSnapshots", map[string]any{"Filters": []any{map[string]any{"Name": "volume-id", "Values": []any{param(st, "VolumeId")}}}})
				a.expect("snapshots kept", len(out["Snapshots"].([]any)), 1)
			}},
		{runbook: "AWS-QuarantineEC2Instance",
			setup: func(a *account) map[string]any { return map[string]any{"InstanceId": a.instance()} },
			check: func(a *account, st *engine.State) {
				groups, _ := a.describeInstance(param(st, "InstanceId"))["SecurityGroups"].([]any)
				if len(groups) != 1 || str(dig(groups, 0, "GroupName")) != "isolated-security-group" {
					a.t.Errorf("instance groups %v, want only isolated-security-group", groups)
				}
			}},
		{runbook: "AWSMigration-VerifyTags",
			setup: func(a *account) map[string]any {
				id := a.instance()
				a.call("ec2", "CreateTags", map[string]any{"Resources": []any{id}, "Tags": []any{map[string]any{"Key": "env", "Value": "prod"}}})
				return map[string]any{"InstanceId": id, "TagsToVerify": "env=prod"}
			},
			check: func(a *account, st *engine.State) {}},
		{runbook: "AWSSupport-ModifyEBSSnapshotPermission",
			skip: "moto ignores the CreateVolumePermission.Remove form of ModifySnapshotAttribute that the runbook uses: " +
				"modify_snapshot_attribute(Attribute='createVolumePermission', CreateVolumePermission={'Remove': [{'Group': 'all'}]}, " +
				"OperationType='remove') answers HTTP 200 and describe_snapshot_attribute still lists [{'Group': 'all'}]",
			setup: func(a *account) map[string]any {
				snap := a.snapshot(a.volume())
				a.call("ec2", "ModifySnapshotAttribute", map[string]any{"SnapshotId": snap, "Attribute": "createVolumePermission", "OperationType": "add", "GroupNames": []any{"all"}})
				return map[string]any{"SnapshotIds": []any{snap}, "Private": "Yes"}
			},
			check: func(a *account, st *engine.State) {
				snap := st.Started.Parameters["SnapshotIds"].([]any)[0]
				out := a.call("ec2", "DescribeSnapshotAttribute", map[string]any{"SnapshotId": snap, "Attribute": "createVolumePermission"})
				a.expect("createVolumePermissions", len(out["CreateVolumePermissions"].([]any)), 0)
			}},
	}
}

// param is a String parameter of the execution, or the first of a list.
func param(st *engine.State, name string) string {
	switch v := st.Started.Parameters[name].(type) {
	case []any:
		if len(v) > 0 {
			return str(v[0])
		}
		return ""
	default:
		return str(v)
	}
}
