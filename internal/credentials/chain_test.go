package credentials

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/mototest"
)

const (
	acct       = "123456789012"
	runnerARN  = "arn:aws:iam::" + acct + ":user/runner"
	readerRole = "arn:aws:iam::" + acct + ":role/ec2-reader"
	hop1Role   = "arn:aws:iam::" + acct + ":role/hop1"
	untrusted  = "arn:aws:iam::" + acct + ":role/untrusted"
	auditRole  = "arn:aws:iam::111111111111:role/PerformSecurityAudit"
	deniedRole = "arn:aws:iam::222222222222:role/PerformSecurityAudit"
)

// setupCalls is how many requests iamWorld makes before moto starts
// enforcing IAM; it must match the calls below exactly.
const setupCalls = 8

func trust(principal string) *string {
	return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`)
}

func allow(action string, resources ...string) *string {
	res := `"*"`
	if len(resources) > 0 {
		res = `["` + strings.Join(resources, `","`) + `"]`
	}
	return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":` + res + `}]}`)
}

// iamWorld starts an IAM-enforcing moto and creates, within its
// unauthenticated calls: a user "runner" that may assume ec2-reader, hop1
// and untrusted; ec2-reader, which may only describe instances; hop1, which
// may assume PerformSecurityAudit in account 111111111111 only; and
// untrusted, whose trust policy names someone else. It returns the runner's
// base configuration (static keys from key storage), and the profile and
// key storage it was made from.
func iamWorld(t *testing.T) (aws.Config, config.Profile, SecretReader) {
	t.Helper()
	srv := mototest.StartWith(t, mototest.Options{EnforceIAM: true, UnauthCalls: setupCalls})
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	ctx := context.Background()
	admin, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithBaseEndpoint(srv.URL),
		awsconfig.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "setup"}, nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	ic := iam.NewFromConfig(admin)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("moto setup: %v", err)
		}
	}
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("runner")}))
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("runner")})
	must(key, err)
	must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("runner"), PolicyName: aws.String("assume"),
		PolicyDocument: allow("sts:AssumeRole", readerRole, hop1Role, untrusted)}))
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ec2-reader"), AssumeRolePolicyDocument: trust(runnerARN)}))
	must(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ec2-reader"), PolicyName: aws.String("read"),
		PolicyDocument: allow("ec2:DescribeInstances")}))
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("hop1"), AssumeRolePolicyDocument: trust(runnerARN)}))
	must(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("hop1"), PolicyName: aws.String("next"),
		PolicyDocument: allow("sts:AssumeRole", auditRole)}))
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("untrusted"),
		AssumeRolePolicyDocument: trust("arn:aws:iam::" + acct + ":user/someone-else")}))

	secrets := mapSecrets{"aws/runner": *key.AccessKey.SecretAccessKey}
	prof := config.Profile{
		Region:      "us-east-1",
		EndpointURL: srv.URL,
		Credentials: config.Credentials{Provider: "static", AccessKeyID: *key.AccessKey.AccessKeyId, SecretKey: "key:aws/runner"},
	}
	base, err := Base(ctx, prof, secrets)
	if err != nil {
		t.Fatal(err)
	}
	return base, prof, secrets
}

func TestLeastPrivilegeAndChainsAgainstMoto(t *testing.T) {
	base, prof, secrets := iamWorld(t)
	ctx := context.Background()
	var sessions Sessions

	// A configured chain (capstan --assume-role) with a hop the runner may
	// not take fails when the base is made, naming the role as denied.
	prof.AssumeRoles = []config.AssumeRole{{ARN: untrusted}}
	if _, err := Base(ctx, prof, secrets); err == nil || !strings.Contains(err.Error(), untrusted) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("Base with a denied hop = %v, want AccessDenied naming %s", err, untrusted)
	}

	// The execution's assumeRole may describe instances, nothing else.
	reader, err := sessions.ForExecution(ctx, base, readerRole)
	if err != nil {
		t.Fatalf("assuming %s: %v", readerRole, err)
	}
	if _, err := ec2.NewFromConfig(reader).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("allowed call failed: %v", err)
	}
	_, err = ec2.NewFromConfig(reader).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err == nil || !strings.Contains(err.Error(), "ec2-reader") || !strings.Contains(err.Error(), "ec2:DescribeVpcs") {
		t.Errorf("denied call: %v, want AccessDenied naming the role and ec2:DescribeVpcs", err)
	}
	again, err := sessions.ForExecution(ctx, base, readerRole)
	if err != nil || again.Credentials != reader.Credentials {
		t.Errorf("a second execution with the same role did not share the cached session (err %v)", err)
	}

	tests := []struct {
		name      string
		chain     []AssumeRole
		wantAcct  string
		wantHop   int
		wantRole  string
		wantWords []string
	}{
		{"two hops end in another account", []AssumeRole{{ARN: hop1Role}, {ARN: auditRole, SessionName: "audit"}}, "111111111111", 0, "", nil},
		{"second hop denied by policy", []AssumeRole{{ARN: hop1Role}, {ARN: deniedRole}}, "", 2, deniedRole,
			[]string{"hop 2 of 2", "AccessDenied", "sts:AssumeRole", "trust policy"}},
		{"first hop denied by trust policy", []AssumeRole{{ARN: untrusted}, {ARN: auditRole}}, "", 1, untrusted,
			[]string{"hop 1 of 2", "AccessDenied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Chain(base, tt.chain)
			if err != nil {
				t.Fatal(err)
			}
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if tt.wantAcct != "" {
				if err != nil || aws.ToString(id.Account) != tt.wantAcct {
					t.Fatalf("GetCallerIdentity = %+v, %v; want account %s", id, err, tt.wantAcct)
				}
				return
			}
			var ae *AssumeRoleError
			if !errors.As(err, &ae) || ae.Hop != tt.wantHop || ae.ARN != tt.wantRole {
				t.Fatalf("err = %v, want an AssumeRoleError for hop %d %s", err, tt.wantHop, tt.wantRole)
			}
			for _, w := range append(tt.wantWords, tt.wantRole) {
				if !strings.Contains(ae.Error(), w) {
					t.Errorf("message %q does not mention %q", ae.Error(), w)
				}
			}
		})
	}

	// A role the runner may not assume fails the execution at its start.
	_, err = sessions.ForExecution(ctx, base, untrusted)
	var ae *AssumeRoleError
	if !errors.As(err, &ae) || ae.ARN != untrusted || ae.Code != "AccessDenied" {
		t.Errorf("ForExecution(untrusted) = %v", err)
	}
}

func TestMalformedARNRejectedBeforeAnyCall(t *testing.T) {
	// The endpoint is closed: any call would fail differently.
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1")}
	for _, arn := range []string{"PerformSecurityAudit", "arn:aws:iam::1111:role/x", "arn:aws:iam::111111111111:user/x"} {
		_, err := Chain(base, []AssumeRole{{ARN: hop1Role}, {ARN: arn}})
		if err == nil || !strings.Contains(err.Error(), "hop 2") || !strings.Contains(err.Error(), arn) || !strings.Contains(err.Error(), config.RoleARNPattern) {
			t.Errorf("Chain(%q) = %v, want a malformed-ARN error naming the hop and the pattern", arn, err)
		}
		var s Sessions
		if _, err := s.ForExecution(context.Background(), base, arn); err == nil || !strings.Contains(err.Error(), config.RoleARNPattern) {
			t.Errorf("ForExecution(%q) = %v", arn, err)
		}
	}
}
