package awsservice

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in, name, iam, endpoint, pkg string
	}{
		{"ec2", "ec2", "ec2", "EC2", "ec2"},
		{"EC2", "ec2", "ec2", "EC2", "ec2"},
		{"Codedeploy", "codedeploy", "codedeploy", "CodeDeploy", "codedeploy"},
		{"logs", "logs", "logs", "CloudWatch Logs", "cloudwatchlogs"},
		{"elbv2", "elbv2", "elasticloadbalancing", "Elastic Load Balancing v2", "elasticloadbalancingv2"},
		{"elb", "elb", "elasticloadbalancing", "Elastic Load Balancing", "elasticloadbalancing"},
		{"stepfunctions", "stepfunctions", "states", "SFN", "sfn"},
		{"ds", "ds", "ds", "Directory Service", "directoryservice"},
		{"config", "config", "config", "Config Service", "configservice"},
		{"waf-regional", "waf-regional", "waf-regional", "WAF Regional", "wafregional"},
		{"migration-hub-refactor-spaces", "migration-hub-refactor-spaces", "refactor-spaces", "Migration Hub Refactor Spaces", "migrationhubrefactorspaces"},
		{"cloudwatch", "cloudwatch", "cloudwatch", "CloudWatch", "cloudwatch"},
		{"efs", "efs", "elasticfilesystem", "EFS", "efs"},
		{"emr", "emr", "elasticmapreduce", "EMR", "emr"},
		{"resourcegroupstaggingapi", "resourcegroupstaggingapi", "tag", "Resource Groups Tagging API", "resourcegroupstaggingapi"},
		{"docdb", "docdb", "rds", "DocDB", "docdb"},
		{"accessanalyzer", "accessanalyzer", "access-analyzer", "AccessAnalyzer", "accessanalyzer"},
		{"events", "events", "events", "EventBridge", "eventbridge"},
		{"cloudwatchlogs", "logs", "logs", "CloudWatch Logs", "cloudwatchlogs"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, ok := Lookup(tc.in)
			if !ok {
				t.Fatalf("Lookup(%q) found nothing", tc.in)
			}
			got := []string{s.Name, s.IAMPrefix, s.EndpointID, s.SDKPackage}
			want := []string{tc.name, tc.iam, tc.endpoint, tc.pkg}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("Lookup(%q) = %v, want %v", tc.in, got, want)
			}
		})
	}
	if _, ok := Lookup("nosuchservice"); ok {
		t.Error("Lookup(nosuchservice) reported a service")
	}
}

// TestCorpusServices checks that every service the issue lists is present.
func TestCorpusServices(t *testing.T) {
	for _, n := range strings.Fields(`ec2 rds cloudwatch ssm iam cloudformation workspaces sqs
		redshift s3 docdb dynamodb lambda autoscaling eks cloudtrail elbv2 neptune athena
		migration-hub-refactor-spaces ds sagemaker elb kms config appsync efs
		application-autoscaling kinesis elasticbeanstalk backup ecs sns accessanalyzer waf
		waf-regional xray emr stepfunctions codebuild guardduty secretsmanager securityhub
		inspector2 sts logs route53 events ecr organizations resourcegroupstaggingapi elasticache
		codedeploy`) {
		s, ok := Lookup(n)
		if !ok || len(s.Operations) == 0 {
			t.Errorf("service %q missing or without operations", n)
		}
	}
}

func TestOperationName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"DescribeInstances", "DescribeInstances"},
		{"describe_instances", "DescribeInstances"},
		{"describeInstances", "DescribeInstances"},
		{"describe_iam_instance_profile_associations", "DescribeIamInstanceProfileAssociations"},
		{"describe_db_instances", "DescribeDBInstances"},
		{"list_buckets", "ListBuckets"},
		{"listBuckets", "ListBuckets"},
		{"get_caller_identity", "GetCallerIdentity"},
		{"some_future_call", "SomeFutureCall"},
	}
	for _, tc := range tests {
		if got := OperationName(tc.in); got != tc.want {
			t.Errorf("OperationName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIAMAction(t *testing.T) {
	tests := []struct {
		service, api, want string
		ok                 bool
	}{
		{"ec2", "DescribeInstances", "ec2:DescribeInstances", true},
		{"EC2", "describe_instances", "ec2:DescribeInstances", true},
		{"elbv2", "describe_load_balancers", "elasticloadbalancing:DescribeLoadBalancers", true},
		{"stepfunctions", "StartExecution", "states:StartExecution", true},
		{"logs", "describeLogGroups", "logs:DescribeLogGroups", true},
		{"rds", "describe_db_instances", "rds:DescribeDBInstances", true},
		{"ec2", "ListBuckets", "", false},
		{"nosuch", "DescribeInstances", "", false},
	}
	for _, tc := range tests {
		got, ok := IAMAction(tc.service, tc.api)
		if got != tc.want || ok != tc.ok {
			t.Errorf("IAMAction(%q, %q) = %q, %v; want %q, %v", tc.service, tc.api, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEndpointEnv(t *testing.T) {
	s, _ := Lookup("logs")
	if got := s.EndpointEnv(); got != "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS" {
		t.Errorf("EndpointEnv = %q", got)
	}
}

// TestTableMatchesBotocore regenerates nothing but rereads botocore's models
// and checks the committed operation lists against them.
func TestTableMatchesBotocore(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		t.Fatalf("botocore is installed on every machine of this project; locating it failed: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	for _, s := range All() {
		files, _ := filepath.Glob(filepath.Join(dir, "data", s.Name, s.APIVersion, "service-2.json*"))
		if len(files) != 1 {
			t.Errorf("%s: no botocore model for %s", s.Name, s.APIVersion)
			continue
		}
		f, err := os.Open(files[0])
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Operations map[string]json.RawMessage `json:"operations"`
		}
		if err := json.NewDecoder(gz).Decode(&m); err != nil {
			t.Fatal(err)
		}
		f.Close()
		var ops []string
		for op := range m.Operations {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		if strings.Join(ops, ",") != strings.Join(s.Operations, ",") {
			t.Errorf("%s: operations differ from botocore %s; run go generate ./internal/awsmodel/", s.Name, BotocoreVersion())
		}
	}
}

func TestIAMActionExceptions(t *testing.T) {
	tests := []struct {
		service, api string
		want         []string
	}{
		{"s3", "ListObjectsV2", []string{"s3:ListBucket"}},
		{"s3", "list_objects_v2", []string{"s3:ListBucket"}},
		{"s3", "HeadObject", []string{"s3:GetObject"}},
		{"s3", "PutBucketEncryption", []string{"s3:PutEncryptionConfiguration"}},
		{"s3", "CopyObject", []string{"s3:PutObject", "s3:GetObject"}},
		{"s3", "GetObject", []string{"s3:GetObject"}},
		{"lambda", "Invoke", []string{"lambda:InvokeFunction"}},
		{"apigateway", "GetRestApis", []string{"apigateway:GET"}},
		{"apigatewayv2", "CreateApi", []string{"apigateway:POST"}},
		{"s3control", "GetPublicAccessBlock", []string{"s3:GetAccountPublicAccessBlock"}},
		{"s3control", "ListAccessPoints", []string{"s3:ListAccessPoints"}},
		{"cloudwatch", "PutMetricData", []string{"cloudwatch:PutMetricData"}},
		{"sesv2", "SendEmail", []string{"ses:SendEmail"}},
		{"glue", "GetDatabases", []string{"glue:GetDatabases"}},
		{"ec2", "AssociateIamInstanceProfile", []string{"ec2:AssociateIamInstanceProfile", "iam:PassRole"}},
	}
	for _, tc := range tests {
		got, ok := IAMActions(tc.service, tc.api)
		if !ok || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("IAMActions(%q, %q) = %v, %v; want %v", tc.service, tc.api, got, ok, tc.want)
		}
		one, _ := IAMAction(tc.service, tc.api)
		if one != tc.want[0] {
			t.Errorf("IAMAction(%q, %q) = %q, want %q", tc.service, tc.api, one, tc.want[0])
		}
	}
}

// TestIAMExceptionsNameRealOperations keeps the exceptions table honest: a
// key that names no operation of the model is a typo that would silently
// never apply.
func TestIAMExceptionsNameRealOperations(t *testing.T) {
	for k := range iamExceptions {
		service, op, _ := strings.Cut(k, ":")
		s, ok := Lookup(service)
		if !ok {
			t.Errorf("%s: no service %q", k, service)
			continue
		}
		if got, ok := s.Operation(op); !ok || got != op {
			t.Errorf("%s: %s has no operation %q", k, service, op)
		}
	}
}

// TestEveryBotocoreService checks that the table holds every service of the
// model set (boto3 knows about 420) with its operations.
func TestEveryBotocoreService(t *testing.T) {
	all := All()
	if len(all) < 400 {
		t.Fatalf("table holds %d services, want every botocore service (about 420)", len(all))
	}
	for _, n := range strings.Fields(`s3control connect service-quotas sso-admin identitystore
		apigatewayv2 mwaa glue sesv2 ram cognito-idp scheduler firehose kafka fsx opensearch iot
		batch codepipeline acm`) {
		if s, ok := Lookup(n); !ok || len(s.Operations) == 0 {
			t.Errorf("service %q missing or without operations", n)
		}
	}
}
