package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/credentials"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/runbooks"
)

// corpusDir holds real runbooks (AWS-owned and community), shared read-only.
const corpusDir = "../../../shared/corpus"

const (
	motoAccount = "123456789012"
	runbookRole = "arn:aws:iam::" + motoAccount + ":role/runbook"
	callerARN   = "arn:aws:iam::" + motoAccount + ":user/caller"
)

// iamWorld is an IAM-enforcing moto with an administrator (who sets
// resources up and writes policies), a user "caller" who runs capstan and
// may only assume the role "runbook", and that role, whose policy each
// test writes.
type iamWorld struct {
	t      *testing.T
	admin  *awsapi.Client
	caller aws.Config
}

func newIAMWorld(t *testing.T) *iamWorld {
	t.Helper()
	// Three calls before moto enforces IAM: the administrator and its key.
	srv := mototest.StartWith(t, mototest.Options{EnforceIAM: true, UnauthCalls: 3})
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	ctx := context.Background()
	cfgFor := func(id, secret string) aws.Config {
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithBaseEndpoint(srv.URL),
			awsconfig.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
			})))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	w := &iamWorld{t: t, admin: awsapi.New(cfgFor("AKIAIOSFODNN7EXAMPLE", "setup"), awsapi.Options{})}
	w.call("iam", "CreateUser", map[string]any{"UserName": "admin"})
	key := w.call("iam", "CreateAccessKey", map[string]any{"UserName": "admin"})["AccessKey"].(map[string]any)
	w.call("iam", "PutUserPolicy", map[string]any{"UserName": "admin", "PolicyName": "all", "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	w.admin = awsapi.New(cfgFor(key["AccessKeyId"].(string), key["SecretAccessKey"].(string)), awsapi.Options{})

	w.call("iam", "CreateUser", map[string]any{"UserName": "caller"})
	ck := w.call("iam", "CreateAccessKey", map[string]any{"UserName": "caller"})["AccessKey"].(map[string]any)
	w.call("iam", "PutUserPolicy", map[string]any{"UserName": "caller", "PolicyName": "assume", "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + runbookRole + `"}]}`})
	w.call("iam", "CreateRole", map[string]any{"RoleName": "runbook", "AssumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + callerARN + `"},"Action":"sts:AssumeRole"}]}`})
	w.caller = cfgFor(ck["AccessKeyId"].(string), ck["SecretAccessKey"].(string))
	return w
}

func (w *iamWorld) call(service, op string, in map[string]any) map[string]any {
	w.t.Helper()
	out, err := w.admin.Invoke(context.Background(), service, op, in)
	if err != nil {
		w.t.Fatalf("setup: %s %s: %v", service, op, err)
	}
	return out
}

// motoResourceServices are the services whose requests moto checks against
// the resource's ARN; it checks every other request against "*" (as of
// moto 5.2), so a narrowed statement of theirs cannot be tested there and is
// granted on "*" instead.
var motoResourceServices = map[string]bool{"s3": true, "iam": true, "sts": true}

// grant makes g the role's whole policy.
func (w *iamWorld) grant(g Grants) {
	w.t.Helper()
	doc := g.Policy()
	for i, st := range doc.Statement {
		service, _, _ := strings.Cut(st.Action[0], ":")
		if !motoResourceServices[service] {
			doc.Statement[i].Resource = []string{"*"}
		}
	}
	if len(doc.Statement) == 0 {
		// IAM refuses an empty policy; this one grants nothing of use.
		doc.Statement = []Statement{{Effect: "Allow", Action: []string{"sts:GetCallerIdentity"}, Resource: []string{"*"}}}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		w.t.Fatal(err)
	}
	w.call("iam", "PutRolePolicy", map[string]any{"RoleName": "runbook", "PolicyName": "derived", "PolicyDocument": string(b)})
}

// engine returns an engine wired as capstan run wires it: the caller's
// credentials, the runbook's assumeRole assumed per execution, denials
// explained.
func (w *iamWorld) engine() *engine.Engine {
	w.t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(w.t.TempDir(), "capstan.db"), sqlite.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { db.Close() })
	sessions := &credentials.Sessions{}
	newInvoker := func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		cfg := w.caller
		if req.AssumeRole != "" {
			if cfg, err = sessions.ForExecution(ctx, cfg, req.AssumeRole); err != nil {
				return nil, err
			}
		}
		return Explain(awsapi.New(cfg, awsapi.Options{MaxAttempts: 1, StepOf: engine.StepFromContext, Record: func(c awsapi.Call) {
			req.Record(store.Call{Step: c.Step, Service: c.Service, Operation: c.Operation, IAMAction: c.IAMAction, ErrorCode: c.ErrorCode})
		}}), Scope{Region: "us-east-1"}), nil
	}
	eng := engine.New(engine.Options{Store: db, Actions: action.Builtin(), NewInvoker: newInvoker, Region: "us-east-1", AccountID: motoAccount, RetryDelay: time.Millisecond})
	w.t.Cleanup(eng.Shutdown)
	return eng
}

// run runs doc to its end and returns its status and, for a failure, the
// failure messages of its steps.
func run(t *testing.T, eng *engine.Engine, doc *document.Document, params map[string]any) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	id, err := eng.Start(ctx, engine.StartRequest{Document: doc, DocumentName: doc.File, Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	st, err := eng.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{st.FailureMessage}
	for _, s := range st.Steps {
		if s.FailureMessage != "" {
			msgs = append(msgs, s.Name+": "+s.FailureMessage)
		}
	}
	return st.Status, strings.Join(msgs, "; ")
}

func readRunbook(t *testing.T, ref string) *document.Document {
	t.Helper()
	src, ok := runbooks.Lookup(ref)
	if !ok {
		var err error
		if src, err = os.ReadFile(filepath.Join(corpusDir, ref)); err != nil {
			t.Fatalf("runbook %s: %v", ref, err)
		}
	}
	doc, diags := document.Load(ref, src, action.Builtin())
	if document.HasErrors(diags) {
		t.Fatalf("%s: %v", ref, diags)
	}
	return doc
}

func (w *iamWorld) instance() string {
	ami := w.call("ec2", "DescribeImages", map[string]any{})["Images"].([]any)[0].(map[string]any)["ImageId"]
	out := w.call("ec2", "RunInstances", map[string]any{"ImageId": ami, "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
	return out["Instances"].([]any)[0].(map[string]any)["InstanceId"].(string)
}

// TestDerivedPolicyIsExactlyEnoughAgainstMoto runs library and corpus
// runbooks as a role holding exactly their derived policy (Success), then
// once without each of its actions (Failed, naming that action).
func TestDerivedPolicyIsExactlyEnoughAgainstMoto(t *testing.T) {
	w := newIAMWorld(t)
	eng := w.engine()
	cases := []struct {
		runbook string
		// setup prepares a fresh resource for one run and returns the
		// runbook's parameters.
		setup func() []string
	}{
		{"AWS-StopEC2Instance", func() []string { return []string{"InstanceId=" + w.instance()} }},
		{"AWS-RestartEC2Instance", func() []string { return []string{"InstanceId=" + w.instance()} }},
		{"AWS-CreateSnapshot", func() []string {
			vol := w.call("ec2", "CreateVolume", map[string]any{"AvailabilityZone": "us-east-1a", "Size": 8})["VolumeId"].(string)
			return []string{"VolumeId=" + vol}
		}},
		{"Capstan-SetAutoScalingCapacity", func() []string {
			name := fmt.Sprintf("web%d", time.Now().UnixNano())
			w.call("autoscaling", "CreateAutoScalingGroup", map[string]any{"AutoScalingGroupName": name, "MinSize": 0, "MaxSize": 2, "DesiredCapacity": 0,
				"AvailabilityZones": []any{"us-east-1a"}, "LaunchConfigurationName": "lc"})
			return []string{"AutoScalingGroupName=" + name, "DesiredCapacity=1"}
		}},
		{"aws-owned/AWS-CreateImage.json", func() []string { return []string{"InstanceId=" + w.instance(), "NoReboot=true"} }},
		{"aws-owned/AWS-DisableEventBridgeRule.json", func() []string {
			name := fmt.Sprintf("rule%d", time.Now().UnixNano())
			w.call("events", "PutRule", map[string]any{"Name": name, "ScheduleExpression": "rate(5 minutes)"})
			return []string{"RuleName=" + name}
		}},
		{"aws-owned/AWSConfigRemediation-DisableSubnetAutoAssignPublicIP.json", func() []string {
			vpc := w.call("ec2", "CreateVpc", map[string]any{"CidrBlock": "10.0.0.0/16"})["Vpc"].(map[string]any)["VpcId"]
			sub := w.call("ec2", "CreateSubnet", map[string]any{"VpcId": vpc, "CidrBlock": "10.0.1.0/24"})["Subnet"].(map[string]any)["SubnetId"].(string)
			return []string{"SubnetId=" + sub}
		}},
		// (AWS-EnableSQSEncryption is left out: moto keeps SqsManagedSseEnabled
		// as written, "True", where SQS answers "true", so it fails with any policy.)
		{"aws-owned/AWS-DeleteSnapshot.json", func() []string {
			vol := w.call("ec2", "CreateVolume", map[string]any{"AvailabilityZone": "us-east-1a", "Size": 8})["VolumeId"]
			snap := w.call("ec2", "CreateSnapshot", map[string]any{"VolumeId": vol})["SnapshotId"].(string)
			return []string{"SnapshotId=" + snap}
		}},
	}
	ami := w.call("ec2", "DescribeImages", map[string]any{})["Images"].([]any)[0].(map[string]any)["ImageId"]
	w.call("autoscaling", "CreateLaunchConfiguration", map[string]any{"LaunchConfigurationName": "lc", "ImageId": ami, "InstanceType": "t3.micro"})

	for _, tc := range cases {
		t.Run(filepath.Base(tc.runbook), func(t *testing.T) {
			doc := readRunbook(t, tc.runbook)
			withRole := func(flags []string) map[string]any {
				p, err := doc.Coerce(document.Inputs{Flags: append(flags, "AutomationAssumeRole="+runbookRole)})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			params := withRole(tc.setup())
			res, err := Derive(context.Background(), doc, params, Options{Actions: action.Builtin(), Scope: Scope{Region: "us-east-1", Account: motoAccount}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete() || res.Roles[0].ARN != runbookRole {
				t.Fatalf("derived policy for %s, gaps %v", res.Roles[0].ARN, res.Gaps)
			}
			g := res.Roles[0].Grants
			w.grant(g)
			if status, msg := run(t, eng, doc, params); status != "Success" {
				t.Fatalf("with exactly %v: %s (%s)", g.Actions(), status, msg)
			}
			for _, a := range g.Actions() {
				w.grant(g.Without(a))
				params := withRole(tc.setup())
				status, msg := run(t, eng, doc, params)
				if status != "Failed" || !strings.Contains(msg, "needs "+a+" on ") {
					t.Errorf("without %s: %s (%s); want Failed naming it", a, status, msg)
				}
			}
		})
	}
}

// TestDenialsNameTheActionAgainstMoto reads moto's denials in each shape it
// writes them: EC2's, the query protocol's (which the SDK reports as
// UnknownError) and JSON services answered with an XML body.
func TestDenialsNameTheActionAgainstMoto(t *testing.T) {
	w := newIAMWorld(t)
	inv := Explain(awsapi.New(w.caller, awsapi.Options{MaxAttempts: 1}), Scope{Region: "us-east-1", Account: motoAccount})
	for _, tc := range []struct {
		service, op string
		in          map[string]any
		want        string
	}{
		{"ec2", "StopInstances", map[string]any{"InstanceIds": []any{"i-0abc"}}, "(needs ec2:StopInstances on arn:aws:ec2:us-east-1:123456789012:instance/i-0abc)"},
		{"iam", "GetRole", map[string]any{"RoleName": "runbook"}, "(needs iam:GetRole on arn:aws:iam::123456789012:role/runbook)"},
		{"events", "disable_rule", map[string]any{"Name": "r"}, "(needs events:DisableRule on *)"},
		{"s3", "ListObjectsV2", map[string]any{"Bucket": "reports"}, "on arn:aws:s3:::reports)"},
	} {
		_, err := inv.Invoke(context.Background(), tc.service, tc.op, tc.in)
		var de *DeniedError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(de.Code, "AccessDenied") && de.Code != "UnauthorizedOperation" {
			t.Errorf("%s %s: %v; want a denial ending %q", tc.service, tc.op, err, tc.want)
			continue
		}
		t.Logf("%s", err)
	}
}
