package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsapi"
)

// seed003 prepares moto for the runbook of seed 003: an instance with its
// original instance profile, and the policy the temporary role carries.
type seed003 struct {
	inv      *awsapi.Client
	instance string
	policy   string
}

func newSeed003(t *testing.T) *seed003 {
	t.Helper()
	motoCLI(t)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &seed003{inv: awsapi.New(cfg, awsapi.Options{})}
	call := func(service, op string, in map[string]any) map[string]any {
		out, err := s.inv.Invoke(ctx, service, op, in)
		if err != nil {
			t.Fatalf("%s %s: %v", service, op, err)
		}
		return out
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	call("iam", "CreateRole", map[string]any{"RoleName": "original", "AssumeRolePolicyDocument": trust})
	call("iam", "CreateInstanceProfile", map[string]any{"InstanceProfileName": "original"})
	call("iam", "AddRoleToInstanceProfile", map[string]any{"InstanceProfileName": "original", "RoleName": "original"})
	images := call("ec2", "DescribeImages", map[string]any{"Owners": []any{"amazon"}})
	ami := images["Images"].([]any)[0].(map[string]any)["ImageId"]
	run := call("ec2", "RunInstances", map[string]any{"ImageId": ami, "MinCount": 1, "MaxCount": 1, "IamInstanceProfile": map[string]any{"Name": "original"}})
	s.instance = fmt.Sprint(run["Instances"].([]any)[0].(map[string]any)["InstanceId"])
	pol := call("iam", "CreatePolicy", map[string]any{"PolicyName": "expandedPermissionsForAutomation",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`})
	s.policy = fmt.Sprint(pol["Policy"].(map[string]any)["Arn"])
	return s
}

func (s *seed003) profileArn(t *testing.T) string {
	t.Helper()
	out, err := s.inv.Invoke(context.Background(), "ec2", "DescribeIamInstanceProfileAssociations", map[string]any{
		"Filters": []any{map[string]any{"Name": "instance-id", "Values": []any{s.instance}}}})
	if err != nil {
		t.Fatal(err)
	}
	assocs := out["IamInstanceProfileAssociations"].([]any)
	if len(assocs) != 1 {
		t.Fatalf("instance has %d profile associations", len(assocs))
	}
	return fmt.Sprint(assocs[0].(map[string]any)["IamInstanceProfile"].(map[string]any)["Arn"])
}

func (s *seed003) gone(t *testing.T, op, param, name string) bool {
	t.Helper()
	_, err := s.inv.Invoke(context.Background(), "iam", op, map[string]any{param: name})
	return awsapi.ErrorCode(err) == "NoSuchEntity"
}

func TestSeed003TemporaryInstanceProfile(t *testing.T) {
	s := newSeed003(t)
	db := filepath.Join(t.TempDir(), "c.db")
	code, out, errOut := cli(t, "run", "../../testdata/seed003-temporary-instance-profile.json", "--db", db, "--output", "json",
		"-p", "InstanceId="+s.instance, "-p", "PolicyArn="+s.policy)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	if e.AutomationExecutionStatus != "Success" {
		t.Fatalf("status %s: %s", e.AutomationExecutionStatus, e.FailureMessage)
	}
	if arn := s.profileArn(t); !strings.HasSuffix(arn, "instance-profile/original") {
		t.Errorf("the instance ends with profile %s, not its original one", arn)
	}
	if !s.gone(t, "GetRole", "RoleName", "tempAutomationInstanceRole") || !s.gone(t, "GetInstanceProfile", "InstanceProfileName", "tempAutomationInstanceRole") {
		t.Error("the temporary role or instance profile is still there")
	}
	// The child AWS-AttachIAMToInstance appears with its parent's id.
	code, list, _ := cli(t, "executions", "list", "--db", db, "--output", "json")
	if code != 0 || !strings.Contains(list, `"ParentAutomationExecutionId": "`+e.AutomationExecutionId+`"`) || !strings.Contains(list, "AWS-AttachIAMToInstance") {
		t.Errorf("the child execution is not listed with its parent:\n%s", list)
	}
}

// TestSeed003CleanupChainOnFailure makes attachTempAutomationPolicy fail (the
// policy does not exist) and checks that the onFailure chain still deletes
// the temporary role and the execution ends Failed.
func TestSeed003CleanupChainOnFailure(t *testing.T) {
	s := newSeed003(t)
	db := filepath.Join(t.TempDir(), "c.db")
	code, out, errOut := cli(t, "run", "../../testdata/seed003-temporary-instance-profile.json", "--db", db, "--output", "json",
		"-p", "InstanceId="+s.instance, "-p", "PolicyArn=arn:aws:iam::123456789012:policy/doesNotExist")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	if e.AutomationExecutionStatus != "Failed" || !strings.Contains(e.FailureMessage, "attachTempAutomationPolicy") {
		t.Errorf("status %s: %s", e.AutomationExecutionStatus, e.FailureMessage)
	}
	if !s.gone(t, "GetRole", "RoleName", "tempAutomationInstanceRole") {
		t.Error("the temporary role survived the failed run")
	}
	if arn := s.profileArn(t); !strings.HasSuffix(arn, "instance-profile/original") {
		t.Errorf("the instance ends with profile %s", arn)
	}
}
