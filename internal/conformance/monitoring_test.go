package conformance

import (
	"strings"

	"github.com/capstan-run/capstan/internal/engine"
)

// monitoringCases cover CloudWatch, flow logs, access logs, tags and the
// account-level switches.
func monitoringCases() []conformanceCase {
	return []conformanceCase{
		{runbook: "AWS-EnableCWAlarm",
			setup: func(a *account) map[string]any {
				arn := "arn:aws:ec2:us-east-1:123456789012:instance/" + a.instance()
				return map[string]any{"ResourceARNs": []any{arn}, "MetricName": "CPUUtilization", "Statistic": "Average",
					"Threshold": 80, "ComparisonOperator": "GreaterThanThreshold", "Period": 300}
			},
			check: func(a *account, st *engine.State) {
				alarms, _ := a.call("cloudwatch", "DescribeAlarms", map[string]any{})["MetricAlarms"].([]any)
				if len(alarms) != 1 || str(dig(alarms, 0, "MetricName")) != "CPUUtilization" {
					a.t.Errorf("alarms %v, want one on CPUUtilization", alarms)
				}
			}},
		{runbook: "AWS-EnableVPCFlowLogs",
			setup: func(a *account) map[string]any {
				return map[string]any{"VPCIds": []any{a.vpc()}, "LogDestinationType": "s3", "LogDestinationArn": "arn:aws:s3:::" + a.bucket("flow-logs")}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeFlowLogs", map[string]any{})
				a.expect("flow log of the VPC", dig(out, "FlowLogs", 0, "ResourceId"), param(st, "VPCIds"))
			}},
		{runbook: "AWSConfigRemediation-DeleteVPCFlowLog",
			setup: func(a *account) map[string]any {
				out := a.call("ec2", "CreateFlowLogs", map[string]any{"ResourceIds": []any{a.vpc()}, "ResourceType": "VPC", "TrafficType": "ALL",
					"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::" + a.bucket("flow-logs")})
				return map[string]any{"FlowLogId": str(dig(out, "FlowLogIds", 0)), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("flow logs left", len(a.call("ec2", "DescribeFlowLogs", map[string]any{})["FlowLogs"].([]any)), 0)
			}},
		{runbook: "AWS-EnableCLBAccessLogs",
			setup: func(a *account) map[string]any {
				return map[string]any{"LoadBalancerNames": []any{a.classicLB("web")}, "S3BucketName": a.bucket("elb-logs")}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("elb", "DescribeLoadBalancerAttributes", map[string]any{"LoadBalancerName": "web"})
				a.expect("access log enabled", dig(out, "LoadBalancerAttributes", "AccessLog", "Enabled"), true)
				a.expect("access log bucket", dig(out, "LoadBalancerAttributes", "AccessLog", "S3BucketName"), "elb-logs")
			}},
		{runbook: "AWSConfigRemediation-DeleteDefaultVPCRoutes",
			setup: func(a *account) map[string]any {
				vpc := a.vpc()
				igw := str(dig(a.call("ec2", "CreateInternetGateway", map[string]any{}), "InternetGateway", "InternetGatewayId"))
				a.call("ec2", "AttachInternetGateway", map[string]any{"InternetGatewayId": igw, "VpcId": vpc})
				rtb := str(dig(a.call("ec2", "CreateRouteTable", map[string]any{"VpcId": vpc}), "RouteTable", "RouteTableId"))
				a.call("ec2", "CreateRoute", map[string]any{"RouteTableId": rtb, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw})
				return map[string]any{"RouteTableID": rtb, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("ec2", "DescribeRouteTables", map[string]any{"RouteTableIds": []any{param(st, "RouteTableID")}})
				routes, _ := dig(out, "RouteTables", 0, "Routes").([]any)
				for _, r := range routes {
					if str(dig(r, "DestinationCidrBlock")) == "0.0.0.0/0" {
						a.t.Errorf("default route still there: %v", routes)
					}
				}
			}},
		{runbook: "AWSConfigRemediation-EnableAutoScalingGroupELBHealthCheck",
			setup: func(a *account) map[string]any {
				a.call("autoscaling", "CreateLaunchConfiguration", map[string]any{"LaunchConfigurationName": "lc", "ImageId": a.ami(), "InstanceType": "t3.micro"})
				a.call("autoscaling", "CreateAutoScalingGroup", map[string]any{"AutoScalingGroupName": "web", "LaunchConfigurationName": "lc",
					"MinSize": 0, "MaxSize": 1, "AvailabilityZones": []any{"us-east-1a"}})
				out := a.call("autoscaling", "DescribeAutoScalingGroups", map[string]any{"AutoScalingGroupNames": []any{"web"}})
				return map[string]any{"AutoScalingGroupARN": str(dig(out, "AutoScalingGroups", 0, "AutoScalingGroupARN")), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("autoscaling", "DescribeAutoScalingGroups", map[string]any{"AutoScalingGroupNames": []any{"web"}})
				a.expect("HealthCheckType", dig(out, "AutoScalingGroups", 0, "HealthCheckType"), "ELB")
			}},
		{runbook: "AWSQuickSetup-AddOrRemoveTag-PatchPolicy-2zveo",
			setup: func(a *account) map[string]any {
				return map[string]any{"InstanceId": a.instance(), "QSConfigurationId": "abc12", "TagAction": "Add", "QSConfigurationName": "patching", "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				tags, _ := a.describeInstance(param(st, "InstanceId"))["Tags"].([]any)
				found := false
				for _, tg := range tags {
					found = found || (str(dig(tg, "Key")) == "QSConfigName-abc12" && str(dig(tg, "Value")) == "patching")
				}
				if !found {
					a.t.Errorf("instance tags %v lack QSConfigName-abc12=patching", tags)
				}
			}},
		{runbook: "AWSResilienceHub-ScaleUpEc2SOP_2020-05-20",
			setup: func(a *account) map[string]any {
				return map[string]any{"EC2InstanceIdentifier": a.instance(), "EC2InstanceTargetInstanceType": "t3.large", "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				in := a.describeInstance(param(st, "EC2InstanceIdentifier"))
				a.expect("instance type", in["InstanceType"], "t3.large")
				a.expect("instance state", dig(in, "State", "Name"), "running")
			}},
		{runbook: "AWSResilienceHub-RebootRdsInstanceTest_2020-04-01",
			setup: func(a *account) map[string]any {
				id, _ := a.dbInstance("canary-db", nil)
				return map[string]any{"DbInstanceId": id, "CanaryAlarmName": a.okAlarm("canary"), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("DB status", a.describeDB("canary-db")["DBInstanceStatus"], "available")
			}},
		{runbook: "AWS-BulkDeleteAssociation",
			skip: "moto has no SSM CreateAssociation: it answers HTTP 500 <title>500 Internal Server Error</title> and logs " +
				"NotImplementedError: The create_association action has not been implemented",
			setup: func(a *account) map[string]any {
				out := a.call("ssm", "CreateAssociation", map[string]any{"Name": "AWS-RunShellScript", "Targets": []any{map[string]any{"Key": "tag:env", "Values": []any{"dev"}}},
					"Parameters": map[string]any{"commands": []any{"true"}}})
				return map[string]any{"AssociationsIds": []any{str(dig(out, "AssociationDescription", "AssociationId"))}}
			},
			check: func(a *account, st *engine.State) {
				a.expect("associations left", len(a.call("ssm", "ListAssociations", map[string]any{})["Associations"].([]any)), 0)
			}},
		{runbook: "AWSConfigRemediation-EnableSecurityHub",
			setup: func(a *account) map[string]any { return map[string]any{"AutomationAssumeRole": roleArn} },
			check: func(a *account, st *engine.State) {
				if arn := str(a.call("securityhub", "DescribeHub", map[string]any{})["HubArn"]); !strings.Contains(arn, ":hub/") {
					a.t.Errorf("DescribeHub HubArn %q", arn)
				}
			}},
		{runbook: "AWSMigration-EnableInspector",
			setup: func(a *account) map[string]any { return map[string]any{} },
			check: func(a *account, st *engine.State) {
				out := a.call("inspector2", "BatchGetAccountStatus", map[string]any{"accountIds": []any{"123456789012"}})
				a.expect("ec2 scanning", dig(out, "accounts", 0, "resourceState", "ec2", "status"), "ENABLED")
			}},
		{runbook: "AWSConfigRemediation-UpdateXRayKMSKey",
			skip: "moto has no X-Ray PutEncryptionConfig: POST /PutEncryptionConfig answers HTTP 404 <title>404 Not Found</title>",
			setup: func(a *account) map[string]any {
				id, _ := a.kmsKey()
				return map[string]any{"KeyId": id, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("xray", "GetEncryptionConfig", map[string]any{})
				a.expect("encryption type", dig(out, "EncryptionConfig", "Type"), "KMS")
			}},
		{runbook: "AWS-ConfigureCloudWatchOnEC2Instance",
			skip: "moto has no EC2 MonitorInstances: it answers HTTP 500 <title>500 Internal Server Error</title> and logs " +
				"NotImplementedError: Monitoring.monitor_instances is not yet implemented",
			setup: func(a *account) map[string]any { return map[string]any{"InstanceId": a.instance()} },
			check: func(a *account, st *engine.State) {
				a.expect("monitoring", dig(a.describeInstance(param(st, "InstanceId")), "Monitoring", "State"), "enabled")
			}},
	}
}

// okAlarm creates a CloudWatch alarm in state OK and returns its name.
func (a *account) okAlarm(name string) string {
	a.call("cloudwatch", "PutMetricAlarm", map[string]any{"AlarmName": name, "MetricName": "Errors", "Namespace": "App", "Statistic": "Sum",
		"Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"})
	a.call("cloudwatch", "SetAlarmState", map[string]any{"AlarmName": name, "StateValue": "OK", "StateReason": "test"})
	return name
}
