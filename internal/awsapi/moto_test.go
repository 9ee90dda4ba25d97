package awsapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ohler55/ojg/jp"

	"github.com/capstan-run/capstan/internal/mototest"
)

// motoClient returns a Client over a fresh moto, configured the way the CLI
// configures it (LoadConfig from the environment).
func motoClient(t *testing.T, opts Options) *Client {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	cfg, err := LoadConfig(context.Background(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Limiters == nil {
		opts.Limiters = &Limiters{}
	}
	return New(cfg, opts)
}

// sel evaluates an SSM output selector on a response.
func sel(t *testing.T, out map[string]any, selector string) any {
	t.Helper()
	x, err := jp.ParseString(selector)
	if err != nil {
		t.Fatal(err)
	}
	got := x.Get(out)
	if len(got) == 0 {
		t.Fatalf("selector %s found nothing in %v", selector, out)
	}
	return got[0]
}

func TestMotoCalls(t *testing.T) {
	c := motoClient(t, Options{})
	ctx := context.Background()
	type call struct {
		service, api string
		input        map[string]any
		selector     string // checked on the response when set
		want         any
	}
	tests := []struct {
		name  string
		calls []call
	}{
		{"ec2 run and describe, boto3 names", []call{
			{"ec2", "run_instances", map[string]any{"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"},
				"$.Instances[0].InstanceType", "t3.micro"},
			{"EC2", "describe_instances", map[string]any{"Filters": []any{map[string]any{"Name": "instance-type", "Values": []any{"t3.micro"}}}},
				"$.Reservations[0].Instances[0].InstanceType", "t3.micro"},
			{"ec2", "describeInstances", nil, "$.Reservations[0].Instances[0].ImageId", "ami-12c6146b"},
		}},
		{"iam role with decoded names", []call{
			{"iam", "CreateRole", map[string]any{"RoleName": "r1", "AssumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[]}`}, "$.Role.RoleName", "r1"},
			{"iam", "GetRole", map[string]any{"RoleName": "r1"}, "$.Role.Path", "/"},
			{"iam", "GetRole", map[string]any{"RoleName": "r1"}, "$.Role.AssumeRolePolicyDocument.Version", "2012-10-17"},
		}},
		{"ssm parameters", []call{
			{"ssm", "PutParameter", map[string]any{"Name": "/a/b", "Value": "v1", "Type": "String"}, "$.Version", int64(1)},
			{"ssm", "GetParameter", map[string]any{"Name": "/a/b"}, "$.Parameter.Value", "v1"},
		}},
		{"sts caller identity", []call{
			{"sts", "GetCallerIdentity", nil, "$.Account", "123456789012"},
		}},
		{"logs lower-case member names", []call{
			{"logs", "CreateLogGroup", map[string]any{"logGroupName": "/capstan/test"}, "", nil},
			{"logs", "DescribeLogGroups", map[string]any{"logGroupNamePrefix": "/capstan"}, "$.logGroups[0].logGroupName", "/capstan/test"},
		}},
		{"s3 path style on a custom endpoint", []call{
			{"s3", "CreateBucket", map[string]any{"Bucket": "capstan-bucket"}, "", nil},
			{"s3", "listBuckets", nil, "$.Buckets[0].Name", "capstan-bucket"},
		}},
		{"dynamodb AttributeValue unions", []call{
			{"dynamodb", "CreateTable", map[string]any{
				"TableName":            "t",
				"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
				"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}},
				"BillingMode":          "PAY_PER_REQUEST",
			}, "$.TableDescription.TableName", "t"},
			{"dynamodb", "PutItem", map[string]any{"TableName": "t", "Item": map[string]any{
				"pk":   map[string]any{"S": "k1"},
				"n":    map[string]any{"N": "42"},
				"tags": map[string]any{"L": []any{map[string]any{"S": "x"}, map[string]any{"BOOL": true}}},
			}}, "", nil},
			{"dynamodb", "GetItem", map[string]any{"TableName": "t", "Key": map[string]any{"pk": map[string]any{"S": "k1"}}},
				"$.Item.tags.L[1].BOOL", true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, cl := range tc.calls {
				out, err := c.Invoke(ctx, cl.service, cl.api, cl.input)
				if err != nil {
					t.Fatalf("%s %s: %v", cl.service, cl.api, err)
				}
				if cl.selector == "" {
					continue
				}
				if got := sel(t, out, cl.selector); got != cl.want {
					t.Errorf("%s %s: %s = %#v, want %#v", cl.service, cl.api, cl.selector, got, cl.want)
				}
			}
		})
	}
}

func TestMotoErrors(t *testing.T) {
	var mu sync.Mutex
	var calls []Call
	c := motoClient(t, Options{MaxAttempts: 1, Record: func(cl Call) {
		mu.Lock()
		calls = append(calls, cl)
		mu.Unlock()
	}})
	ctx := context.Background()
	tests := []struct {
		name, service, api string
		input              map[string]any
		is                 error  // errors.Is target, when set
		code               string // *Error code, when set
		contains           string
	}{
		{"unknown field with suggestion", "ec2", "DescribeInstances", map[string]any{"Filterz": []any{}},
			ErrInvalidInput, "", `unknown field "Filterz" (did you mean "Filters"?)`},
		{"wrong type with path", "ec2", "DescribeInstances", map[string]any{"Filters": []any{map[string]any{"Name": "x", "Values": "v"}}},
			ErrInvalidInput, "", `Filters[0].Values: expected a list of strings, got string "v"`},
		{"go field name is not the model name", "logs", "DescribeLogGroups", map[string]any{"LogGroupNamePrefix": "/x"},
			ErrInvalidInput, "", `did you mean "logGroupNamePrefix"?`},
		{"aws error code and request id", "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"i-1"}},
			nil, "InvalidInstanceID.NotFound", "ec2 DescribeInstances: InvalidInstanceID.NotFound: The instance ID 'i-1' does not exist (request id: "},
		{"iam not found", "iam", "GetRole", map[string]any{"RoleName": "nope"},
			nil, "NoSuchEntity", "iam GetRole: NoSuchEntity"},
		{"unknown service", "nosuch", "Get", nil, ErrUnknownService, "", `service "nosuch"`},
		{"unknown operation", "ec2", "ListBuckets", nil, ErrUnknownOperation, "", `operation "ListBuckets"`},
		{"event streams rejected", "s3", "SelectObjectContent", map[string]any{"Bucket": "b", "Key": "k"}, ErrUnsupported, "", "event-stream operations are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Invoke(ctx, tc.service, tc.api, tc.input)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if tc.code != "" {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if ae.Code != tc.code || ae.RequestID == "" || !strings.Contains(err.Error(), "(request id: "+ae.RequestID+")") {
					t.Errorf("got code %q request id %q in %q", ae.Code, ae.RequestID, err)
				}
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != len(tests) {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(tests))
	}
	for i, cl := range calls {
		if cl.ErrorCode == "" {
			t.Errorf("call %d (%s %s) recorded no error code", i, cl.Service, cl.Operation)
		}
	}
	if calls[3].IAMAction != "ec2:DescribeInstances" || calls[3].ErrorCode != "InvalidInstanceID.NotFound" {
		t.Errorf("recorded %+v", calls[3])
	}
}

// TestServiceEndpointEnv checks that AWS_ENDPOINT_URL_<SERVICE> wins over
// AWS_ENDPOINT_URL, as with the aws CLI.
func TestServiceEndpointEnv(t *testing.T) {
	s := mototest.Start(t)
	s.SetEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", s.URL)
	cfg, err := LoadConfig(context.Background(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}})
	tests := []struct {
		service, api string
		unreachable  bool
	}{
		{"logs", "DescribeLogGroups", false},
		{"sts", "GetCallerIdentity", true},
	}
	for _, tc := range tests {
		_, err := c.Invoke(context.Background(), tc.service, tc.api, nil)
		if got := errors.Is(err, ErrUnreachable); got != tc.unreachable {
			t.Errorf("%s %s: error %v, want unreachable=%v", tc.service, tc.api, err, tc.unreachable)
		}
	}
}
