package conformance

import (
	"strings"

	"github.com/capstan-run/capstan/internal/engine"
)

// queueURL is the queue's URL as AWS writes it: the runbooks' allowedPattern
// wants sqs.REGION.amazonaws.com, and moto finds the queue by its path.
func queueURL(name string) string {
	return "https://sqs.us-east-1.amazonaws.com/123456789012/" + name
}

func securityCases() []conformanceCase {
	return []conformanceCase{
		{runbook: "AWSConfigRemediation-EnableKeyRotation",
			setup: func(a *account) map[string]any {
				id, _ := a.kmsKey()
				return map[string]any{"KeyId": id, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("KeyRotationEnabled", a.call("kms", "GetKeyRotationStatus", map[string]any{"KeyId": param(st, "KeyId")})["KeyRotationEnabled"], true)
			}},
		{runbook: "AWSConfigRemediation-EncryptSNSTopic",
			setup: func(a *account) map[string]any {
				_, arn := a.kmsKey()
				return map[string]any{"TopicArn": a.topic("alerts"), "KmsKeyArn": arn, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("sns", "GetTopicAttributes", map[string]any{"TopicArn": param(st, "TopicArn")})
				a.expect("KmsMasterKeyId", dig(out, "Attributes", "KmsMasterKeyId"), param(st, "KmsKeyArn"))
			}},
		{runbook: "AWS-EnableSQSEncryption",
			setup: func(a *account) map[string]any {
				id, _ := a.kmsKey()
				a.queue("orders")
				return map[string]any{"QueueUrl": queueURL("orders"), "KmsKeyId": id}
			},
			check: func(a *account, st *engine.State) {
				a.expect("KmsMasterKeyId", a.queueAttributes(param(st, "QueueUrl"))["KmsMasterKeyId"], param(st, "KmsKeyId"))
			}},
		{runbook: "AWS-EnableCloudTrail",
			setup: func(a *account) map[string]any {
				return map[string]any{"TrailName": "audit", "S3BucketName": a.bucket("trail-logs")}
			},
			check: func(a *account, st *engine.State) {
				a.expect("trail bucket", a.getTrail("audit")["S3BucketName"], "trail-logs")
			}},
		{runbook: "AWSConfigRemediation-EnableCloudTrailLogFileValidation",
			setup: func(a *account) map[string]any {
				a.trail("audit", a.bucket("trail-logs"))
				return map[string]any{"TrailName": "audit", "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("LogFileValidationEnabled", a.getTrail("audit")["LogFileValidationEnabled"], true)
			}},
		{runbook: "AWSConfigRemediation-CreateCloudTrailMultiRegionTrail",
			skip: "moto answers CloudTrail StartLogging with the trail's ARN as Name (what the runbook passes, from CreateTrail's TrailARN) " +
				"with HTTP 500 and an HTML body: <h1>Internal Server Error</h1> <p>The server encountered an internal error ...</p>",
			setup: func(a *account) map[string]any {
				return map[string]any{"TrailName": "everywhere", "BucketName": a.bucket("trail-logs"), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("IsMultiRegionTrail", a.getTrail("everywhere")["IsMultiRegionTrail"], true)
				a.expect("IsLogging", a.call("cloudtrail", "GetTrailStatus", map[string]any{"Name": "everywhere"})["IsLogging"], true)
			}},
		{runbook: "AWS-EnableCloudTrailKmsEncryption",
			setup: func(a *account) map[string]any {
				a.trail("audit", a.bucket("trail-logs"))
				id, _ := a.kmsKey()
				return map[string]any{"TrailNames": []any{"audit"}, "KmsKeyId": id}
			},
			check: func(a *account, st *engine.State) {
				if got := str(a.getTrail("audit")["KmsKeyId"]); !strings.Contains(got, param(st, "KmsKeyId")) {
					a.t.Errorf("trail KmsKeyId %q, want key %s", got, param(st, "KmsKeyId"))
				}
			}},
		{runbook: "AWS-DeleteIAMInlinePolicy",
			setup: func(a *account) map[string]any {
				a.iamUser("alice")
				a.call("iam", "PutUserPolicy", map[string]any{"UserName": "alice", "PolicyName": "inline", "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`})
				return map[string]any{"IamArns": []any{"arn:aws:iam::123456789012:user/alice"}}
			},
			check: func(a *account, st *engine.State) {
				a.expect("inline policies", len(a.call("iam", "ListUserPolicies", map[string]any{"UserName": "alice"})["PolicyNames"].([]any)), 0)
			}},
		{runbook: "AWSConfigRemediation-DeleteIAMRole",
			setup: func(a *account) map[string]any {
				id, _ := a.iamRole("unused-role")
				a.call("iam", "PutRolePolicy", map[string]any{"RoleName": "unused-role", "PolicyName": "inline", "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`})
				return map[string]any{"IAMRoleID": id, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("GetRole error", a.errorCode("iam", "GetRole", map[string]any{"RoleName": "unused-role"}), "NoSuchEntity")
			}},
		{runbook: "AWSConfigRemediation-DeleteUnusedIAMGroup",
			skip: "moto's IAM group ids are not AGPA ids: CreateGroup returns GroupId \"8zvkb3wbdxp73qc2u6du\", " +
				"which the runbook's GroupId allowedPattern ^AGPA[A-Z0-9]{12,128}$ refuses, as SSM would",
			setup: func(a *account) map[string]any {
				out := a.call("iam", "CreateGroup", map[string]any{"GroupName": "nobody"})
				return map[string]any{"GroupId": str(dig(out, "Group", "GroupId")), "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				a.expect("GetGroup error", a.errorCode("iam", "GetGroup", map[string]any{"GroupName": "nobody"}), "NoSuchEntity")
			}},
		{runbook: "AWSConfigRemediation-SetIAMPasswordPolicy",
			setup: func(a *account) map[string]any {
				return map[string]any{"MinimumPasswordLength": 14, "RequireSymbols": true, "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("iam", "GetAccountPasswordPolicy", map[string]any{})
				a.expect("MinimumPasswordLength", dig(out, "PasswordPolicy", "MinimumPasswordLength"), 14)
				a.expect("RequireSymbols", dig(out, "PasswordPolicy", "RequireSymbols"), true)
			}},
		{runbook: "AWSSupport-GrantPermissionsToIAMUser",
			skip: "moto has AWS managed policies only when started with MOTO_IAM_LOAD_MANAGED_POLICIES=true; without it " +
				"AttachGroupPolicy answers NoSuchEntity: Policy arn:aws:iam::aws:policy/AWSSupportAccess was not found",
			setup: func(a *account) map[string]any {
				a.iamUser("bob")
				return map[string]any{"IAMGroupName": "support", "IAMUserName": "bob", "Permissions": "SupportFullAccess"}
			},
			check: func(a *account, st *engine.State) {
				out := a.call("iam", "ListGroupsForUser", map[string]any{"UserName": "bob"})
				a.expect("bob's group", dig(out, "Groups", 0, "GroupName"), "support")
			}},
		{runbook: "AWS-UpdateSQSPermissions",
			setup: func(a *account) map[string]any {
				a.queue("shared")
				return map[string]any{"SQSQueueUrl": queueURL("shared"), "Principal": "arn:aws:iam::123456789012:role/Reader", "AutomationAssumeRole": roleArn}
			},
			check: func(a *account, st *engine.State) {
				if p := str(a.queueAttributes(param(st, "SQSQueueUrl"))["Policy"]); !strings.Contains(p, "arn:aws:iam::123456789012:role/Reader") {
					a.t.Errorf("queue policy %q does not name the principal", p)
				}
			}},
	}
}
