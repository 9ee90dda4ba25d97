package awsapi

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ohler55/ojg/jp"

	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/mototest"
)

// step is one generic call and what its response must show.
type step struct {
	service, api string
	input        map[string]any
	checks       map[string]any // selector → wanted value
	absent       []string       // selectors that must match nothing
}

// run calls each step and checks its response. Selectors are SSM's
// JSONPath, as runbook outputs use them.
func run(t *testing.T, c *Client, steps []step) {
	t.Helper()
	vars := map[string]string{}
	for _, s := range steps {
		for k, v := range s.input {
			if str, ok := v.(string); ok && strings.HasPrefix(str, "{{") {
				s.input[k] = vars[strings.Trim(str, "{}")]
			}
		}
		out, err := c.Invoke(context.Background(), s.service, s.api, s.input)
		if u, ok := out["QueueUrl"].(string); ok {
			vars["url"] = u
		}
		if err != nil {
			t.Fatalf("%s %s: %v", s.service, s.api, err)
		}
		for sel, want := range s.checks {
			x := jp.MustParseString(sel)
			got := x.Get(out)
			if len(got) == 0 {
				t.Errorf("%s %s: %s found nothing in %v", s.service, s.api, sel, out)
				continue
			}
			if !reflect.DeepEqual(got[0], want) {
				t.Errorf("%s %s: %s = %#v, want %#v", s.service, s.api, sel, got[0], want)
			}
		}
		for _, sel := range s.absent {
			if got := jp.MustParseString(sel).Get(out); len(got) != 0 {
				t.Errorf("%s %s: %s should be absent (the response did not send it), got %#v", s.service, s.api, sel, got)
			}
		}
	}
}

// TestModelServices calls services through the model-driven path against
// moto, among them services the typed table never had, over every
// protocol: json, rest-json, rest-xml, query and ec2.
func TestModelServices(t *testing.T) {
	c := motoClient(t, Options{MaxAttempts: 2})
	role := "arn:aws:iam::123456789012:role/r"
	tests := []struct {
		name, protocol string
		steps          []step
	}{
		{"glue", "json", []step{
			{"glue", "create_database", map[string]any{"DatabaseInput": map[string]any{"Name": "db1"}}, nil, nil},
			{"glue", "GetDatabase", map[string]any{"Name": "db1"}, map[string]any{"$.Database.Name": "db1"}, []string{"$.Database.Description"}},
		}},
		{"apigatewayv2", "rest-json", []step{
			{"apigatewayv2", "CreateApi", map[string]any{"Name": "a1", "ProtocolType": "HTTP"}, map[string]any{"$.Name": "a1", "$.ProtocolType": "HTTP"}, nil},
			{"apigatewayv2", "get_apis", nil, map[string]any{"$.Items[0].Name": "a1"}, nil},
		}},
		{"sesv2", "rest-json", []step{
			{"sesv2", "CreateEmailIdentity", map[string]any{"EmailIdentity": "ops@example.com"}, nil, nil},
			{"sesv2", "ListEmailIdentities", nil, map[string]any{"$.EmailIdentities[0].IdentityName": "ops@example.com"}, nil},
		}},
		{"ram", "rest-json", []step{
			{"ram", "CreateResourceShare", map[string]any{"name": "share1"}, map[string]any{"$.resourceShare.name": "share1"}, nil},
		}},
		{"cognito-idp", "json", []step{
			{"cognito-idp", "CreateUserPool", map[string]any{"PoolName": "pool1"}, map[string]any{"$.UserPool.Name": "pool1"}, nil},
		}},
		{"scheduler", "rest-json", []step{
			{"scheduler", "CreateSchedule", map[string]any{"Name": "s1", "ScheduleExpression": "rate(1 hour)",
				"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
				"Target":             map[string]any{"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": role}}, nil, nil},
			{"scheduler", "GetSchedule", map[string]any{"Name": "s1"}, map[string]any{"$.Name": "s1", "$.FlexibleTimeWindow.Mode": "OFF"}, nil},
		}},
		{"firehose", "json", []step{
			{"firehose", "ListDeliveryStreams", nil, map[string]any{"$.HasMoreDeliveryStreams": false}, nil},
		}},
		{"kafka", "rest-json", []step{
			{"kafka", "CreateClusterV2", map[string]any{"ClusterName": "k1", "Serverless": map[string]any{
				"VpcConfigs": []any{map[string]any{"SubnetIds": []any{"subnet-1"}}}}}, map[string]any{"$.ClusterName": "k1"}, nil},
			{"kafka", "ListClustersV2", nil, map[string]any{"$.ClusterInfoList[0].ClusterName": "k1"}, nil},
		}},
		{"fsx", "json", []step{
			{"fsx", "DescribeFileSystems", nil, map[string]any{"$.FileSystems": []any{}}, nil},
		}},
		{"opensearch", "rest-json", []step{
			{"opensearch", "CreateDomain", map[string]any{"DomainName": "d1"}, map[string]any{"$.DomainStatus.DomainName": "d1"}, nil},
		}},
		{"iot", "rest-json", []step{
			{"iot", "CreateThing", map[string]any{"thingName": "t1"}, map[string]any{"$.thingName": "t1"}, nil},
			{"iot", "DescribeThing", map[string]any{"thingName": "t1"}, map[string]any{"$.thingName": "t1"}, nil},
		}},
		{"batch", "rest-json", []step{
			{"batch", "DescribeComputeEnvironments", nil, map[string]any{"$.computeEnvironments": []any{}}, nil},
		}},
		{"codepipeline", "json", []step{
			{"codepipeline", "ListPipelines", nil, map[string]any{"$.pipelines": []any{}}, nil},
		}},
		{"acm", "json", []step{
			{"acm", "RequestCertificate", map[string]any{"DomainName": "example.com"}, nil, nil},
			{"acm", "ListCertificates", nil, map[string]any{"$.CertificateSummaryList[0].DomainName": "example.com"}, nil},
		}},
		{"sqs", "json", []step{
			{"sqs", "CreateQueue", map[string]any{"QueueName": "q1"}, nil, nil},
			{"sqs", "GetQueueAttributes", map[string]any{"QueueUrl": "{{url}}", "AttributeNames": []any{"QueueArn"}},
				map[string]any{"$.Attributes.QueueArn": "arn:aws:sqs:us-east-1:123456789012:q1"}, nil},
		}},
		{"sns", "query", []step{
			{"sns", "CreateTopic", map[string]any{"Name": "t1"}, map[string]any{"$.TopicArn": "arn:aws:sns:us-east-1:123456789012:t1"}, nil},
		}},
		{"kms", "json", []step{
			{"kms", "CreateKey", map[string]any{"Description": "k"}, map[string]any{"$.KeyMetadata.Description": "k"}, nil},
		}},
		{"secretsmanager", "json", []step{
			{"secretsmanager", "CreateSecret", map[string]any{"Name": "s1", "SecretString": "v"}, map[string]any{"$.Name": "s1"}, nil},
			{"secretsmanager", "GetSecretValue", map[string]any{"SecretId": "s1"}, map[string]any{"$.SecretString": "v"}, []string{"$.SecretBinary"}},
		}},
		{"lambda", "rest-json", []step{
			{"lambda", "ListFunctions", nil, map[string]any{"$.Functions": []any{}}, nil},
		}},
		{"cloudformation", "query", []step{
			{"cloudformation", "ListStacks", nil, map[string]any{"$.StackSummaries": []any{}}, nil},
		}},
		{"autoscaling", "query", []step{
			{"autoscaling", "DescribeAutoScalingGroups", nil, map[string]any{"$.AutoScalingGroups": []any{}}, nil},
		}},
		{"elbv2", "query", []step{
			{"elbv2", "DescribeLoadBalancers", nil, map[string]any{"$.LoadBalancers": []any{}}, nil},
		}},
		{"route53", "rest-xml", []step{
			{"route53", "CreateHostedZone", map[string]any{"Name": "example.com", "CallerReference": "r1"}, map[string]any{"$.HostedZone.Name": "example.com."}, nil},
			{"route53", "ListHostedZones", nil, map[string]any{"$.HostedZones[0].Name": "example.com.", "$.IsTruncated": false}, nil},
		}},
		{"events", "json", []step{
			{"events", "PutRule", map[string]any{"Name": "r1", "ScheduleExpression": "rate(5 minutes)"}, nil, nil},
			{"events", "DescribeRule", map[string]any{"Name": "r1"}, map[string]any{"$.ScheduleExpression": "rate(5 minutes)"}, nil},
		}},
		{"stepfunctions", "json", []step{
			{"stepfunctions", "ListStateMachines", nil, map[string]any{"$.stateMachines": []any{}}, nil},
		}},
		{"ecr", "json", []step{
			{"ecr", "CreateRepository", map[string]any{"repositoryName": "r1"}, map[string]any{"$.repository.repositoryName": "r1"}, nil},
		}},
		{"rds", "query", []step{
			{"rds", "DescribeDBInstances", nil, map[string]any{"$.DBInstances": []any{}}, nil},
		}},
		{"cloudtrail", "json", []step{
			{"cloudtrail", "DescribeTrails", nil, map[string]any{"$.trailList": []any{}}, nil},
		}},
		{"sts", "query", []step{
			{"sts", "get_caller_identity", nil, map[string]any{"$.Account": "123456789012"}, nil},
		}},
		{"logs", "json", []step{
			{"logs", "CreateLogGroup", map[string]any{"logGroupName": "/g"}, nil, nil},
			{"logs", "DescribeLogGroups", nil, map[string]any{"$.logGroups[0].logGroupName": "/g"}, []string{"$.logGroups[0].kmsKeyId"}},
		}},
		{"identitystore", "json", []step{
			{"identitystore", "ListGroups", map[string]any{"IdentityStoreId": "d-1234567890"}, map[string]any{"$.Groups": []any{}}, nil},
		}},
	}
	seen := map[string]bool{}
	protocols := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := awsservice.Lookup(tc.steps[0].service)
			if !ok || s.Protocol != tc.protocol {
				t.Fatalf("%s speaks %q, the table says %q", tc.name, tc.protocol, s.Protocol)
			}
			run(t, c, tc.steps)
		})
		seen[tc.steps[0].service] = true
		protocols[tc.protocol] = true
	}
	if len(seen) < 30 {
		t.Errorf("%d services exercised, want at least 30", len(seen))
	}
}

// TestS3StreamingBody puts an object from a string body, as boto3 takes it,
// and reads it back: the body as text, HeadObject's headers as members.
func TestS3StreamingBody(t *testing.T) {
	c := motoClient(t, Options{MaxAttempts: 2})
	run(t, c, []step{
		{"s3", "CreateBucket", map[string]any{"Bucket": "capstan-b1"}, nil, nil},
		{"s3", "PutObject", map[string]any{"Bucket": "capstan-b1", "Key": "dir/hello.txt", "Body": "hello", "ContentType": "text/plain",
			"Metadata": map[string]any{"owner": "ops"}}, map[string]any{"$.ETag": `"5d41402abc4b2a76b9719d911017c592"`}, nil},
		{"s3", "GetObject", map[string]any{"Bucket": "capstan-b1", "Key": "dir/hello.txt"},
			map[string]any{"$.Body": "hello", "$.ContentLength": int64(5), "$.ContentType": "text/plain", "$.Metadata.owner": "ops"}, nil},
		{"s3", "HeadObject", map[string]any{"Bucket": "capstan-b1", "Key": "dir/hello.txt"},
			map[string]any{"$.ContentLength": int64(5)}, []string{"$.Body", "$.WebsiteRedirectLocation", "$.DeleteMarker"}},
		{"s3", "ListObjectsV2", map[string]any{"Bucket": "capstan-b1", "Prefix": "dir/"}, map[string]any{"$.Contents[0].Key": "dir/hello.txt", "$.KeyCount": int64(1)}, nil},
		{"s3", "PutBucketTagging", map[string]any{"Bucket": "capstan-b1", "Tagging": map[string]any{"TagSet": []any{map[string]any{"Key": "team", "Value": "ops"}}}}, nil, nil},
		{"s3", "GetBucketTagging", map[string]any{"Bucket": "capstan-b1"}, map[string]any{"$.TagSet[0].Value": "ops"}, nil},
		// Operations that require a body checksum (Content-MD5).
		{"s3", "PutBucketEncryption", map[string]any{"Bucket": "capstan-b1", "ServerSideEncryptionConfiguration": map[string]any{
			"Rules": []any{map[string]any{"ApplyServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}}}, nil, nil},
		{"s3", "GetBucketEncryption", map[string]any{"Bucket": "capstan-b1"},
			map[string]any{"$.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm": "AES256"}, nil},
		{"s3", "DeleteObjects", map[string]any{"Bucket": "capstan-b1", "Delete": map[string]any{"Objects": []any{map[string]any{"Key": "dir/hello.txt"}}}},
			map[string]any{"$.Deleted[0].Key": "dir/hello.txt"}, nil},
		{"s3", "ListObjectsV2", map[string]any{"Bucket": "capstan-b1"}, map[string]any{"$.KeyCount": int64(0)}, []string{"$.Contents"}},
	})
}

// TestEC2FiltersAndAbsentMembers checks EC2's query lists and filters, and
// that a member the response leaves out (moto's addresses carry no
// ServiceManaged) is absent, not "".
func TestEC2FiltersAndAbsentMembers(t *testing.T) {
	c := motoClient(t, Options{MaxAttempts: 2})
	run(t, c, []step{
		{"ec2", "RunInstances", map[string]any{"ImageId": "ami-12c6146b", "MinCount": 2, "MaxCount": 2, "InstanceType": "t3.small",
			"TagSpecifications": []any{map[string]any{"ResourceType": "instance", "Tags": []any{map[string]any{"Key": "Name", "Value": "web"}}}}},
			map[string]any{"$.Instances[1].Tags[0].Value": "web"}, nil},
		{"ec2", "DescribeInstances", map[string]any{"Filters": []any{
			map[string]any{"Name": "tag:Name", "Values": []any{"web"}},
			map[string]any{"Name": "instance-type", "Values": []any{"t3.small", "t3.micro"}}}},
			map[string]any{"$.Reservations[0].Instances[0].InstanceType": "t3.small"}, nil},
		{"ec2", "AllocateAddress", map[string]any{"Domain": "vpc"}, nil, nil},
		{"ec2", "DescribeAddresses", nil, map[string]any{"$.Addresses[0].Domain": "vpc"}, []string{"$.Addresses[0].ServiceManaged"}},
	})
}

// TestIAMPolicyDocuments checks that IAM's URL-encoded policy documents
// come out decoded, as boto3 shows them, and that absent members stay
// absent on the query protocol.
func TestIAMPolicyDocuments(t *testing.T) {
	c := motoClient(t, Options{MaxAttempts: 2})
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	out, err := c.Invoke(context.Background(), "iam", "CreatePolicy", map[string]any{"PolicyName": "p1", "PolicyDocument": doc})
	if err != nil {
		t.Fatal(err)
	}
	arn := sel(t, out, "$.Policy.Arn").(string)
	run(t, c, []step{
		{"iam", "GetPolicyVersion", map[string]any{"PolicyArn": arn, "VersionId": "v1"},
			map[string]any{"$.PolicyVersion.Document.Statement[0].Action": "s3:GetObject"}, nil},
		{"iam", "CreateRole", map[string]any{"RoleName": "r1", "AssumeRolePolicyDocument": doc}, nil, nil},
		{"iam", "GetRole", map[string]any{"RoleName": "r1"}, map[string]any{"$.Role.AssumeRolePolicyDocument.Statement[0].Effect": "Allow"},
			[]string{"$.Role.PermissionsBoundary", "$.Role.Description"}},
	})
}

// TestTimestampRoundTrip sends a timestamp and reads it back.
func TestTimestampRoundTrip(t *testing.T) {
	c := motoClient(t, Options{MaxAttempts: 2})
	run(t, c, []step{
		{"cloudwatch", "PutMetricData", map[string]any{"Namespace": "capstan", "MetricData": []any{
			map[string]any{"MetricName": "m", "Timestamp": "2026-01-02T03:04:00Z", "Value": 1.5}}}, nil, nil},
		{"cloudwatch", "GetMetricData", map[string]any{
			"StartTime": "2026-01-02T03:00:00Z", "EndTime": "2026-01-02T04:00:00Z",
			"MetricDataQueries": []any{map[string]any{"Id": "q", "MetricStat": map[string]any{
				"Metric": map[string]any{"Namespace": "capstan", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}}},
			map[string]any{"$.MetricDataResults[0].Timestamps[0]": "2026-01-02T03:04:00Z", "$.MetricDataResults[0].Values[0]": 1.5}, nil},
		// rest-json sends epoch seconds; the response comes back RFC 3339.
		{"scheduler", "CreateSchedule", map[string]any{"Name": "ts", "ScheduleExpression": "rate(1 hour)", "StartDate": "2030-05-06T07:08:09Z",
			"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
			"Target":             map[string]any{"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/r"}}, nil, nil},
		{"scheduler", "GetSchedule", map[string]any{"Name": "ts"}, map[string]any{"$.StartDate": "2030-05-06T07:08:09Z"}, nil},
	})
}

// TestErrorsOfEachProtocol checks that a service error keeps its code and
// request id whatever the protocol (moto's query errors come as
// <ErrorResponse><Errors><Error>, which boto3 reads).
func TestErrorsOfEachProtocol(t *testing.T) {
	c := motoClient(t, Options{MaxAttempts: 1})
	tests := []struct {
		protocol, service, api string
		input                  map[string]any
		code                   string
	}{
		{"json", "ssm", "GetParameter", map[string]any{"Name": "/nope"}, "ParameterNotFound"},
		{"rest-json", "lambda", "GetFunction", map[string]any{"FunctionName": "nope"}, "ResourceNotFoundException"},
		{"rest-xml", "s3", "GetObject", map[string]any{"Bucket": "nope", "Key": "k"}, "NoSuchBucket"},
		// A HEAD error has no body: its status is its code, as boto3 says.
		{"rest-xml", "s3", "HeadBucket", map[string]any{"Bucket": "nope"}, "404"},
		{"query", "iam", "GetRole", map[string]any{"RoleName": "nope"}, "NoSuchEntity"},
		{"query", "cloudformation", "DescribeStacks", map[string]any{"StackName": "nope"}, "ValidationError"},
		{"query", "elbv2", "DescribeLoadBalancers", map[string]any{"Names": []any{"nope"}}, "LoadBalancerNotFound"},
		{"ec2", "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"i-1"}}, "InvalidInstanceID.NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.protocol+" "+tc.service, func(t *testing.T) {
			_, err := c.Invoke(context.Background(), tc.service, tc.api, tc.input)
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *Error", err)
			}
			want := fmt.Sprintf("%s %s: %s", tc.service, tc.api, tc.code)
			if ae.Code != tc.code || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q (code %q), want code %q", err, ae.Code, tc.code)
			}
			if ae.StatusCode < 400 {
				t.Errorf("status %d", ae.StatusCode)
			}
		})
	}
}

// TestMotoAuthErrors checks errors in moto's <ErrorResponse><Errors><Error>
// shape, which it answers when it enforces IAM, on a query service and on
// JSON services (where the body is that XML, not JSON): boto3 reads their
// codes, and so must capstan (the SDK's typed clients said UnknownError).
func TestMotoAuthErrors(t *testing.T) {
	s := mototest.StartWith(t, mototest.Options{EnforceIAM: true})
	s.SetEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIANOSUCHKEY0000000")
	cfg, err := LoadConfig(context.Background(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}})
	for _, tc := range []struct{ service, api, code string }{
		{"iam", "ListRoles", "InvalidClientTokenId"},
		{"sts", "GetCallerIdentity", "InvalidClientTokenId"},
		{"ssm", "DescribeParameters", "InvalidClientTokenId"},
		{"logs", "DescribeLogGroups", "InvalidClientTokenId"},
		{"lambda", "ListFunctions", "InvalidClientTokenId"},
		{"s3", "ListBuckets", "InvalidAccessKeyId"},
	} {
		_, err := c.Invoke(context.Background(), tc.service, tc.api, nil)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.StatusCode != 403 || ae.Message == "" {
			t.Errorf("%s %s: error %v, want %s (403) with its message", tc.service, tc.api, err, tc.code)
		}
	}
}
