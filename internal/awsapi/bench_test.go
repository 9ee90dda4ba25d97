package awsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ec2Response is a DescribeInstances answer in EC2's query protocol.
const ec2Response = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>
<reservationSet><item><reservationId>r-0123</reservationId><ownerId>123456789012</ownerId>
<instancesSet><item><instanceId>i-0123456789</instanceId><imageId>ami-12c6146b</imageId>
<instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>
<launchTime>2024-01-01T00:00:00.000Z</launchTime><privateIpAddress>10.0.0.1</privateIpAddress>
<tagSet><item><key>Name</key><value>web</value></item><item><key>env</key><value>prod</value></item></tagSet>
</item></instancesSet></item></reservationSet></DescribeInstancesResponse>`

// protocolCases are one typical read per protocol, each answered by a
// loopback server with a canned response in that protocol, called through
// the typed SDK client and through the generic path.
var protocolCases = []struct {
	protocol, service, api string
	contentType, response  string
	input                  map[string]any
	typed                  func(url string) func(context.Context) error
}{
	{"ec2", "ec2", "DescribeInstances", "text/xml", ec2Response,
		map[string]any{"InstanceIds": []any{"i-0123456789"}},
		func(url string) func(context.Context) error {
			c := ec2.NewFromConfig(testConfig(url))
			return func(ctx context.Context) error {
				_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789"}})
				return err
			}
		}},
	{"query", "sts", "GetCallerIdentity", "text/xml",
		`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
			`<Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>` +
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
		nil,
		func(url string) func(context.Context) error {
			c := sts.NewFromConfig(testConfig(url))
			return func(ctx context.Context) error {
				_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return err
			}
		}},
	{"json", "ssm", "GetParameter", "application/x-amz-json-1.1",
		`{"Parameter":{"ARN":"arn:aws:ssm:us-east-1:123456789012:parameter/a","LastModifiedDate":1.7e9,"Name":"/a","Type":"String","Value":"v","Version":1}}`,
		map[string]any{"Name": "/a"},
		func(url string) func(context.Context) error {
			c, name := ssm.NewFromConfig(testConfig(url)), "/a"
			return func(ctx context.Context) error {
				_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: &name})
				return err
			}
		}},
	{"rest-json", "lambda", "GetFunction", "application/json",
		`{"Configuration":{"FunctionName":"f","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f","Runtime":"python3.12",` +
			`"MemorySize":128,"Timeout":3,"LastModified":"2024-01-01T00:00:00.000+0000","State":"Active"},"Tags":{"team":"ops"}}`,
		map[string]any{"FunctionName": "f"},
		func(url string) func(context.Context) error {
			c, name := lambda.NewFromConfig(testConfig(url)), "f"
			return func(ctx context.Context) error {
				_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
				return err
			}
		}},
	{"rest-xml", "s3", "ListObjectsV2", "application/xml",
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount>` +
			`<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>k</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>` +
			`<ETag>&quot;x&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`,
		map[string]any{"Bucket": "capstan-b"},
		func(url string) func(context.Context) error {
			c, bucket := s3.NewFromConfig(testConfig(url), func(o *s3.Options) { o.UsePathStyle = true }), "capstan-b"
			return func(ctx context.Context) error {
				_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
				return err
			}
		}},
}

func cannedServer(contentType, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Amzn-Requestid", "r-1")
		fmt.Fprint(w, body)
	}))
}

// BenchmarkProtocols compares, per protocol, one call through the generic
// path with the same call through the typed SDK client (each client made
// once, as a program makes it) on the same loopback server. The two
// alternate call by call, so that the machine's load falls on both alike;
// the generic/typed metric is the ratio of their total times (target:
// ≤ 1.10).
func BenchmarkProtocols(b *testing.B) {
	ctx := context.Background()
	for _, pc := range protocolCases {
		b.Run(pc.protocol, func(b *testing.B) {
			ts := cannedServer(pc.contentType, pc.response)
			defer ts.Close()
			typed := pc.typed(ts.URL)
			c := New(testConfig(ts.URL), Options{Limiters: &Limiters{}})
			var tTyped, tGeneric time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := typed(ctx); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := c.Invoke(ctx, pc.service, pc.api, pc.input); err != nil {
					b.Fatal(err)
				}
				tTyped += t1.Sub(t0)
				tGeneric += time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(tTyped.Microseconds())/n, "typed-µs/op")
			b.ReportMetric(float64(tGeneric.Microseconds())/n, "generic-µs/op")
			b.ReportMetric(float64(tGeneric)/float64(tTyped), "generic/typed")
		})
	}
}

// TestProtocolCases checks that the benchmark's canned responses read as
// their typed clients read them, so the comparison is of equal work.
func TestProtocolCases(t *testing.T) {
	ctx := context.Background()
	for _, pc := range protocolCases {
		ts := cannedServer(pc.contentType, pc.response)
		if err := pc.typed(ts.URL)(ctx); err != nil {
			t.Errorf("%s typed: %v", pc.protocol, err)
		}
		out, err := New(testConfig(ts.URL), Options{Limiters: &Limiters{}}).Invoke(ctx, pc.service, pc.api, pc.input)
		if err != nil || len(out) == 0 {
			t.Errorf("%s generic: %v %v", pc.protocol, out, err)
		}
		ts.Close()
	}
}
