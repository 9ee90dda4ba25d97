package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/runbooks"
)

func load(t *testing.T, name, src string) *document.Document {
	t.Helper()
	doc, diags := document.Load(name, []byte(src), action.Builtin())
	if document.HasErrors(diags) {
		t.Fatalf("%s: %v", name, diags)
	}
	return doc
}

// shelf resolves child runbooks from the library and from test sources.
func shelf(t *testing.T, extra map[string]string) func(context.Context, string) (*document.Document, error) {
	return func(_ context.Context, name string) (*document.Document, error) {
		if src, ok := extra[name]; ok {
			return load(t, name, src), nil
		}
		if src, ok := runbooks.Lookup(name); ok {
			return load(t, name, string(src)), nil
		}
		return nil, fmt.Errorf("no runbook %s", name)
	}
}

func derive(t *testing.T, src string, flags []string, opts Options, children map[string]string) *Result {
	t.Helper()
	doc := load(t, "main.yaml", src)
	params, err := Parameters(doc, document.Inputs{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	opts.Actions = action.Builtin()
	opts.Runbooks = shelf(t, children)
	res, err := Derive(context.Background(), doc, params, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// grants renders grants as "action on r1 r2" lines for comparison.
func grants(g Grants) []string {
	var out []string
	for _, a := range g.Actions() {
		out = append(out, a+" on "+strings.Join(g.Resources(a), " "))
	}
	return out
}

func TestLibraryRunbookNarrowedToItsInstance(t *testing.T) {
	src, _ := runbooks.Lookup("AWS-RestartEC2Instance")
	res := derive(t, string(src), []string{"InstanceId=i-0abc,i-0def"}, Options{Scope: Scope{Region: "eu-west-1", Account: "123456789012"}}, nil)
	if !res.Complete() || len(res.Roles) != 1 || res.Roles[0].ARN != "" {
		t.Fatalf("result %+v, gaps %v", res.Roles, res.Gaps)
	}
	want := []string{
		"ec2:DescribeInstanceStatus on *",
		"ec2:DescribeInstances on *",
		"ec2:StartInstances on arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc arn:aws:ec2:eu-west-1:123456789012:instance/i-0def",
		"ec2:StopInstances on arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc arn:aws:ec2:eu-west-1:123456789012:instance/i-0def",
	}
	if got := grants(res.Roles[0].Grants); !slices.Equal(got, want) {
		t.Errorf("grants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without the parameter the instances are not known.
	res = derive(t, string(src), nil, Options{}, nil)
	if got := res.Roles[0].Grants.Resources("ec2:StopInstances"); !slices.Equal(got, []string{"*"}) {
		t.Errorf("StopInstances without InstanceId on %v, want *", got)
	}
}

const mixed = `schemaVersion: "0.3"
assumeRole: "{{ Role }}"
parameters:
  Role: {type: String, default: "arn:aws:iam::123456789012:role/runner"}
  Bucket: {type: String}
  Svc: {type: String, default: ec2}
mainSteps:
  - name: list
    action: aws:executeAwsApi
    inputs: {Service: s3, Api: GetBucketPolicy, Bucket: "{{ Bucket }}"}
  - name: read
    action: aws:executeAwsApi
    inputs: {Service: s3, Api: GetObject, Bucket: "{{ Bucket }}", Key: "a/b.json"}
  - name: copy
    action: aws:executeAwsApi
    inputs: {Service: s3, Api: CopyObject, Bucket: "{{ Bucket }}", Key: c.json, CopySource: other/x.json}
  - name: param
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: get_parameter, Name: /app/db}
  - name: templated
    action: aws:executeAwsApi
    inputs: {Service: "{{ Svc }}", Api: "{{ automation:EXECUTION_ID }}"}
  - name: script
    action: aws:executeScript
    inputs: {Runtime: python3.11, Handler: h, Script: "def h(e, c): pass"}
  - name: command
    action: aws:runCommand
    inputs: {DocumentName: AWS-RunShellScript, InstanceIds: [i-1], ServiceRoleArn: "arn:aws:iam::123456789012:role/notify", Parameters: {commands: [id]}}
`

func TestNarrowingPassRoleAndGaps(t *testing.T) {
	res := derive(t, mixed, []string{"Bucket=reports"}, Options{Scope: Scope{Region: "us-east-1", Account: "123456789012"}}, nil)
	g := res.Roles[0].Grants
	if res.Roles[0].ARN != "arn:aws:iam::123456789012:role/runner" {
		t.Errorf("runner role %q, want the assumeRole", res.Roles[0].ARN)
	}
	for action, want := range map[string]string{
		"s3:GetBucketPolicy": "arn:aws:s3:::reports",
		// GetObject is needed for read (narrowed) and for copy's source
		// (anywhere); PutObject for copy's target.
		"s3:GetObject":     "*",
		"s3:PutObject":     "arn:aws:s3:::reports/c.json",
		"ssm:GetParameter": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db",
		"iam:PassRole":     "arn:aws:iam::123456789012:role/notify",
		"ssm:SendCommand":  "*",
	} {
		if got := g.Resources(action); !slices.Equal(got, []string{want}) {
			t.Errorf("%s on %v, want %s", action, got, want)
		}
	}
	var gapSteps []string
	for _, gp := range res.Gaps {
		gapSteps = append(gapSteps, gp.Step)
		if gp.Runbook != "main.yaml" || gp.Reason == "" {
			t.Errorf("gap %+v", gp)
		}
	}
	if !slices.Equal(gapSteps, []string{"templated", "script"}) {
		t.Errorf("gaps at %v, want templated and script", gapSteps)
	}
	if !strings.Contains(res.Gaps[0].String(), "templated") || !strings.Contains(res.Gaps[1].String(), "script") {
		t.Errorf("gap messages: %v", res.Gaps)
	}
}

const parent = `schemaVersion: "0.3"
mainSteps:
  - name: restart
    action: aws:executeAutomation
    inputs:
      DocumentName: AWS-RestartEC2Instance
      RuntimeParameters: {InstanceId: [i-0abc]}
  - name: elsewhere
    action: aws:executeAutomation
    inputs:
      DocumentName: Tagger
      TargetLocations:
        - {Accounts: ["111111111111", "222222222222"], Regions: [us-east-1], ExecutionRoleName: Exec}
`

const tagger = `schemaVersion: "0.3"
mainSteps:
  - name: tag
    action: aws:createTags
    inputs: {ResourceIds: [i-1], Tags: [{Key: a, Value: b}]}
`

func TestChildRunbooksAndTargetLocations(t *testing.T) {
	res := derive(t, parent, nil, Options{Caller: "arn:aws:iam::123456789012:user/me"}, map[string]string{"Tagger": tagger})
	if !res.Complete() {
		t.Fatalf("gaps: %v", res.Gaps)
	}
	runner := res.Roles[0].Grants
	// The library child runs as its parent: its needs add to the runner's.
	for _, a := range []string{"ec2:StopInstances", "ssm:StartAutomationExecution"} {
		if runner[a] == nil {
			t.Errorf("runner lacks %s: %v", a, grants(runner))
		}
	}
	if got := runner.Resources("ec2:StartInstances"); !slices.Equal(got, []string{"arn:aws:ec2:*:*:instance/i-0abc"}) {
		t.Errorf("child's RuntimeParameters did not narrow: %v", got)
	}
	wantRoles := []string{"arn:aws:iam::111111111111:role/Exec", "arn:aws:iam::222222222222:role/Exec"}
	if got := runner.Resources("sts:AssumeRole"); !slices.Equal(got, wantRoles) {
		t.Errorf("runner may assume %v, want %v", got, wantRoles)
	}
	if len(res.Roles) != 3 {
		t.Fatalf("%d roles, want the runner and two execution roles", len(res.Roles))
	}
	for i, r := range res.Roles[1:] {
		if r.ARN != wantRoles[i] || !slices.Equal(grants(r.Grants), []string{"ec2:CreateTags on *"}) {
			t.Errorf("role %s grants %v", r.ARN, grants(r.Grants))
		}
		tr := r.Trust(Scope{})
		if got := tr.Statement[0].Principal["AWS"]; !slices.Equal(got, []string{"arn:aws:iam::123456789012:user/me"}) {
			t.Errorf("role %s trusts %v", r.ARN, got)
		}
	}
	if runner["ec2:CreateTags"] != nil {
		t.Error("the child of TargetLocations runs as the execution roles, not the runner")
	}
}

func TestChainTrustWithExternalID(t *testing.T) {
	src := "schemaVersion: \"0.3\"\nassumeRole: arn:aws:iam::333333333333:role/runbook\nmainSteps:\n  - {name: s, action: aws:sleep, inputs: {Duration: PT1S}}\n"
	res := derive(t, src, nil, Options{Chain: []Hop{{ARN: "arn:aws:iam::123456789012:role/hop1"}, {ARN: "arn:aws:iam::333333333333:role/hop2", ExternalID: "xyz"}}}, nil)
	if len(res.Roles) != 3 {
		t.Fatalf("roles %+v", res.Roles)
	}
	hop1, hop2 := res.Roles[1], res.Roles[2]
	if !slices.Equal(hop1.Grants.Resources("sts:AssumeRole"), []string{hop2.ARN}) || !slices.Equal(hop2.Grants.Resources("sts:AssumeRole"), []string{"arn:aws:iam::333333333333:role/runbook"}) {
		t.Errorf("hops grant %v then %v", grants(hop1.Grants), grants(hop2.Grants))
	}
	tr := hop2.Trust(Scope{})
	if tr.Statement[0].Principal["AWS"][0] != hop1.ARN || tr.Statement[0].Condition["StringEquals"].(map[string]any)["sts:ExternalId"] != "xyz" {
		t.Errorf("hop 2 trust %+v", tr.Statement[0])
	}
	if got := hop1.Trust(Scope{Account: "123456789012"}).Statement[0].Principal["AWS"]; got[0] != "arn:aws:iam::123456789012:root" {
		t.Errorf("an unknown caller is trusted as %v", got)
	}
}

func TestPolicyGroupsByServiceAndResources(t *testing.T) {
	g := Grants{}
	g.Add("s3:ListBucket", "arn:aws:s3:::a")
	g.Add("s3:GetBucketAcl", "arn:aws:s3:::a")
	g.Add("s3:ListAllMyBuckets", "*")
	g.Add("ec2:DescribeInstances", "*")
	g.Add("ec2:DescribeInstances", "arn:x") // "*" absorbs any narrower need
	doc := g.Policy()
	var got []string
	for _, s := range doc.Statement {
		got = append(got, s.Sid+" "+strings.Join(s.Action, ",")+" "+strings.Join(s.Resource, ","))
	}
	want := []string{"Ec2 ec2:DescribeInstances *", "S3 s3:ListAllMyBuckets *", "S32 s3:GetBucketAcl,s3:ListBucket arn:aws:s3:::a"}
	if !slices.Equal(got, want) {
		t.Errorf("statements %q, want %q", got, want)
	}
}
