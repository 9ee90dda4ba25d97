package ssmapi

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/credentials"
	"github.com/capstan-run/capstan/internal/engine"
)

const tagInstanceRunbook = `schemaVersion: '0.3'
parameters:
  InstanceId: {type: String}
  Mark: {type: String, default: done}
mainSteps:
  - name: mark
    action: aws:createTags
    inputs:
      ResourceType: EC2
      ResourceIds: ['{{ InstanceId }}']
      Tags: [{Key: Fleet, Value: '{{ Mark }}'}]
`

// launchTagged starts n moto instances tagged Env=env.
func (e *testEnv) launchTagged(n int, env string) []string {
	e.t.Helper()
	inv := awsapi.New(e.cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
	out, err := inv.Invoke(context.Background(), "ec2", "RunInstances", map[string]any{"ImageId": "ami-12c6146b", "MinCount": n, "MaxCount": n,
		"TagSpecifications": []any{map[string]any{"ResourceType": "instance", "Tags": []any{map[string]any{"Key": "Env", "Value": env}}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, i := range out["Instances"].([]any) {
		ids = append(ids, i.(map[string]any)["InstanceId"].(string))
	}
	return ids
}

// fleetTag returns the Fleet tag of every instance that has one.
func (e *testEnv) fleetTags() map[string]string {
	e.t.Helper()
	inv := awsapi.New(e.cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
	out, err := inv.Invoke(context.Background(), "ec2", "DescribeTags", map[string]any{"Filters": []any{map[string]any{"Name": "key", "Values": []any{"Fleet"}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	tags := map[string]string{}
	for _, t := range out["Tags"].([]any) {
		m := t.(map[string]any)
		tags[m["ResourceId"].(string)] = m["Value"].(string)
	}
	return tags
}

func TestSDKFleetByTag(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Tag-Instance", tagInstanceRunbook)
	prod := e.launchTagged(5, "prod")
	e.launchTagged(2, "dev")

	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Tag-Instance"),
		TargetParameterName: aws.String("InstanceId"), Targets: []types.Target{{Key: aws.String("tag:Env"), Values: []string{"prod"}}},
		MaxConcurrency: aws.String("2"), MaxErrors: aws.String("0"), Parameters: map[string][]string{"Mark": {"fleet-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	out := e.waitStatus(c, id, "Success", "Failed", "Cancelled", "TimedOut").AutomationExecution
	if out.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("parent ended %s: %s", out.AutomationExecutionStatus, aws.ToString(out.FailureMessage))
	}
	if out.ResolvedTargets == nil || !sameSet(out.ResolvedTargets.ParameterValues, prod) || aws.ToString(out.TargetParameterName) != "InstanceId" ||
		aws.ToString(out.MaxConcurrency) != "2" || aws.ToString(out.MaxErrors) != "0" || len(out.Targets) != 1 || aws.ToString(out.Targets[0].Key) != "tag:Env" {
		t.Errorf("parent shows ResolvedTargets %+v, TargetParameterName %q, MaxConcurrency %q, MaxErrors %q, Targets %+v",
			out.ResolvedTargets, aws.ToString(out.TargetParameterName), aws.ToString(out.MaxConcurrency), aws.ToString(out.MaxErrors), out.Targets)
	}
	tags := e.fleetTags()
	if len(tags) != len(prod) {
		t.Errorf("instances tagged by the fleet: %v, want exactly the %d prod instances", tags, len(prod))
	}
	for _, p := range prod {
		if tags[p] != "fleet-1" {
			t.Errorf("prod instance %s has Fleet tag %q, want fleet-1", p, tags[p])
		}
	}

	list, err := c.DescribeAutomationExecutions(ctx, &ssm.DescribeAutomationExecutionsInput{Filters: []types.AutomationExecutionFilter{
		{Key: types.AutomationExecutionFilterKeyParentExecutionId, Values: []string{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.AutomationExecutionMetadataList) != len(prod) {
		t.Fatalf("%d children listed by ParentExecutionId, want %d", len(list.AutomationExecutionMetadataList), len(prod))
	}
	var childTargets []string
	for _, m := range list.AutomationExecutionMetadataList {
		child, err := c.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: m.AutomationExecutionId})
		if err != nil {
			t.Fatal(err)
		}
		x := child.AutomationExecution
		if aws.ToString(x.ParentAutomationExecutionId) != id || x.Parameters["InstanceId"][0] != aws.ToString(x.Target) {
			t.Errorf("child %s: parent %q, Target %q, parameters %v", aws.ToString(x.AutomationExecutionId), aws.ToString(x.ParentAutomationExecutionId), aws.ToString(x.Target), x.Parameters)
		}
		childTargets = append(childTargets, aws.ToString(x.Target))
	}
	if !sameSet(childTargets, prod) {
		t.Errorf("children's targets %v, want %v", childTargets, prod)
	}
}

func TestSDKFleetValidation(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	e.createRunbook("Tag-Instance", tagInstanceRunbook)
	tag := func(k, v string) types.Target { return types.Target{Key: aws.String(k), Values: []string{v}} }
	cases := []struct {
		name string
		in   ssm.StartAutomationExecutionInput
		want string
	}{
		{"targets with maps", ssm.StartAutomationExecutionInput{TargetParameterName: aws.String("InstanceId"), Targets: []types.Target{tag("tag:Env", "prod")},
			TargetMaps: []map[string][]string{{"InstanceId": {"i-1"}}}}, "Targets and TargetMaps cannot be specified together"},
		{"two tags", ssm.StartAutomationExecutionInput{TargetParameterName: aws.String("InstanceId"), Targets: []types.Target{tag("tag:Env", "prod"), tag("tag:Team", "a")}},
			"Only one resource group or tag can be specified at a time"},
		{"bad concurrency", ssm.StartAutomationExecutionInput{TargetParameterName: aws.String("InstanceId"), Targets: []types.Target{tag("tag:Env", "prod")}, MaxConcurrency: aws.String("0")},
			`MaxConcurrency "0"`},
		{"undeclared target parameter", ssm.StartAutomationExecutionInput{TargetParameterName: aws.String("Nope"), Targets: []types.Target{tag("tag:Env", "prod")}},
			"TargetParameterName Nope is not a parameter of the runbook"},
	}
	for _, tc := range cases {
		tc.in.DocumentName = aws.String("Tag-Instance")
		_, err := c.StartAutomationExecution(context.Background(), &tc.in)
		if code := errorCode(t, err); code != "InvalidAutomationExecutionParametersException" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want InvalidAutomationExecutionParametersException saying %q", tc.name, err, tc.want)
		}
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

const whereRunbook = `schemaVersion: '0.3'
parameters:
  Name: {type: String, default: where}
mainSteps:
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: '/fleet/{{ Name }}'
      Value: '{{ global:ACCOUNT_ID }}/{{ global:REGION }}'
      Type: String
      Overwrite: true
`

// TestSDKFleetAcrossAccountsAndRegions runs one runbook over two accounts
// and two Regions of moto (each account its own world, entered by assuming
// the execution role there) and two targets in each, and reads back where
// each child wrote.
func TestSDKFleetAcrossAccountsAndRegions(t *testing.T) {
	e := newTestEnv(t)
	sessions := &credentials.Sessions{}
	limiters := &awsapi.Limiters{}
	e.newInvokerFor = func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		cfg, err := sessions.ForLocation(ctx, e.cfg, req.SourceRole, req.AssumeRole, req.Region)
		if err != nil {
			return nil, err
		}
		return awsapi.New(cfg, awsapi.Options{Limiters: limiters}), nil
	}
	e.stopEngine()
	e.startEngine()
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Where", whereRunbook)

	accounts, regions := []string{"111111111111", "222222222222"}, []string{"us-east-1", "eu-west-1"}
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Where"),
		TargetParameterName: aws.String("Name"), Targets: []types.Target{{Key: aws.String("ParameterValues"), Values: []string{"a", "b"}}},
		TargetLocations: []types.TargetLocation{{Accounts: accounts, Regions: regions, TargetLocationMaxConcurrency: aws.String("2"), TargetsMaxConcurrency: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	out := e.waitStatus(c, id, "Success", "Failed", "Cancelled", "TimedOut").AutomationExecution
	if out.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("parent ended %s: %s", out.AutomationExecutionStatus, aws.ToString(out.FailureMessage))
	}
	if len(out.TargetLocations) != 1 || len(out.TargetLocations[0].Accounts) != 2 {
		t.Errorf("parent TargetLocations %+v; want the request's location", out.TargetLocations)
	}
	self, err := c.DescribeAutomationExecutions(ctx, &ssm.DescribeAutomationExecutionsInput{Filters: []types.AutomationExecutionFilter{
		{Key: types.AutomationExecutionFilterKeyExecutionId, Values: []string{id}}}})
	if err != nil || len(self.AutomationExecutionMetadataList) != 1 || self.AutomationExecutionMetadataList[0].AutomationType != types.AutomationTypeCrossAccount {
		t.Errorf("parent metadata %+v, %v; want AutomationType CrossAccount", self, err)
	}
	list, err := c.DescribeAutomationExecutions(ctx, &ssm.DescribeAutomationExecutionsInput{Filters: []types.AutomationExecutionFilter{
		{Key: types.AutomationExecutionFilterKeyParentExecutionId, Values: []string{id}}}})
	if err != nil || len(list.AutomationExecutionMetadataList) != 4 {
		t.Fatalf("location children: %+v, %v; want one per account and Region", list, err)
	}
	for _, m := range list.AutomationExecutionMetadataList {
		if m.AutomationType != types.AutomationTypeCrossAccount {
			t.Errorf("location child %s has AutomationType %s", aws.ToString(m.AutomationExecutionId), m.AutomationType)
		}
	}

	for _, acct := range accounts {
		for _, region := range regions {
			cfg, err := (&credentials.Sessions{}).ForLocation(ctx, e.cfg, "", "arn:aws:iam::"+acct+":role/AWS-SystemsManager-AutomationExecutionRole", region)
			if err != nil {
				t.Fatal(err)
			}
			inv := awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
			for _, name := range []string{"a", "b"} {
				got, err := inv.Invoke(ctx, "ssm", "GetParameter", map[string]any{"Name": "/fleet/" + name})
				if err != nil {
					t.Errorf("account %s Region %s: /fleet/%s: %v", acct, region, name, err)
					continue
				}
				if v := got["Parameter"].(map[string]any)["Value"]; v != acct+"/"+region {
					t.Errorf("account %s Region %s: /fleet/%s = %v", acct, region, name, v)
				}
			}
		}
	}
	// Nothing ran as the caller, in the caller's own account.
	home := awsapi.New(e.cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
	if _, err := home.Invoke(ctx, "ssm", "GetParameter", map[string]any{"Name": "/fleet/a"}); err == nil {
		t.Error("a child wrote /fleet/a in the caller's own account")
	}
}

func TestSDKExecutionPreview(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Tag-Instance", tagInstanceRunbook)
	e.launchTagged(3, "prod")
	e.launchTagged(1, "dev")

	start, err := c.StartExecutionPreview(ctx, &ssm.StartExecutionPreviewInput{DocumentName: aws.String("Tag-Instance"),
		ExecutionInputs: &types.ExecutionInputsMemberAutomation{Value: types.AutomationExecutionInputs{
			TargetParameterName: aws.String("InstanceId"), Targets: []types.Target{{Key: aws.String("tag:Env"), Values: []string{"prod"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetExecutionPreview(ctx, &ssm.GetExecutionPreviewInput{ExecutionPreviewId: start.ExecutionPreviewId})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != types.ExecutionPreviewStatusSuccess {
		t.Fatalf("preview %s: %s", got.Status, aws.ToString(got.StatusMessage))
	}
	p, ok := got.ExecutionPreview.(*types.ExecutionPreviewMemberAutomation)
	if !ok {
		t.Fatalf("ExecutionPreview is %T", got.ExecutionPreview)
	}
	a := p.Value
	if len(a.TargetPreviews) != 1 || a.TargetPreviews[0].Count != 3 || aws.ToString(a.TargetPreviews[0].TargetType) != "ec2:instance" {
		t.Errorf("TargetPreviews %+v, want 3 ec2:instance", a.TargetPreviews)
	}
	if a.StepPreviews["Mutating"] != 1 || a.StepPreviews["NonMutating"] != 0 || !slices.Equal(a.Regions, []string{"us-east-1"}) || a.TotalAccounts != 1 {
		t.Errorf("preview %+v, want one mutating step in us-east-1, one account", a)
	}
	if len(e.fleetTags()) != 0 {
		t.Error("the preview ran something")
	}
	// An id no one was given is not found.
	_, err = c.GetExecutionPreview(ctx, &ssm.GetExecutionPreviewInput{ExecutionPreviewId: aws.String("00000000-0000-4000-8000-000000000000")})
	if code := errorCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("an unknown preview: %s", code)
	}
}
