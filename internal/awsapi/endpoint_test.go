package awsapi

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// seen is one request as it reached the server.
type seen struct {
	host, path, query, body, auth string
}

// awsLike answers every request with the canned body of its protocol and
// records where it was sent: AWS's own hostnames cannot be reached from a
// test (moto answers on one loopback address), so a TLS test server takes
// every connection and the requests' Host headers tell the endpoint used.
func awsLike(t *testing.T, contentType, body string) (aws.Config, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{host: r.Host, path: r.URL.EscapedPath(), query: r.URL.RawQuery, body: string(b), auth: r.Header.Get("Authorization")})
		mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test server's certificate names 127.0.0.1
	}}
	cfg := aws.Config{Region: "eu-west-1", HTTPClient: client,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	return cfg, func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), got...) }
}

// TestAWSEndpoints checks the endpoints capstan calls on AWS itself (no
// custom endpoint): regional hosts, the global ones of global services
// signed for us-east-1, S3 buckets as subdomains, host prefixes.
func TestAWSEndpoints(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	tests := []struct {
		name, contentType, body string
		service, api            string
		input                   map[string]any
		host, path              string
		signedFor               string // region/service in the credential scope
	}{
		{"regional", "text/xml", `<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>`,
			"ec2", "DescribeVpcs", nil, "ec2.eu-west-1.amazonaws.com", "/", "eu-west-1/ec2/"},
		{"global iam", "text/xml", `<ListRolesResponse><ListRolesResult><Roles/><IsTruncated>false</IsTruncated></ListRolesResult></ListRolesResponse>`,
			"iam", "ListRoles", nil, "iam.amazonaws.com", "/", "us-east-1/iam/"},
		{"sts is regional, as boto3's default", "text/xml", `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`,
			"sts", "GetCallerIdentity", nil, "sts.eu-west-1.amazonaws.com", "/", "eu-west-1/sts/"},
		{"global route53", "application/xml", `<ListHostedZonesResponse><HostedZones/><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesResponse>`,
			"route53", "ListHostedZones", nil, "route53.amazonaws.com", "/2013-04-01/hostedzone", "us-east-1/route53/"},
		{"global organizations", "application/x-amz-json-1.1", `{}`,
			"organizations", "ListRoots", nil, "organizations.us-east-1.amazonaws.com", "/", "us-east-1/organizations/"},
		{"s3 bucket as subdomain", "application/xml", `<ListBucketResult><Name>capstan-b</Name><IsTruncated>false</IsTruncated></ListBucketResult>`,
			"s3", "ListObjectsV2", map[string]any{"Bucket": "capstan-b", "Prefix": "a/"}, "capstan-b.s3.eu-west-1.amazonaws.com", "/", "eu-west-1/s3/"},
		{"s3 bucket with dots stays in the path", "application/xml", `<ListBucketResult><Name>b.c</Name><IsTruncated>false</IsTruncated></ListBucketResult>`,
			"s3", "ListObjectsV2", map[string]any{"Bucket": "b.example.com"}, "s3.eu-west-1.amazonaws.com", "/b.example.com", "eu-west-1/s3/"},
		{"host prefix from a member", "application/xml", `<ListAccessPointsResult/>`,
			"s3control", "ListAccessPoints", map[string]any{"AccountId": "123456789012"}, "123456789012.s3-control.eu-west-1.amazonaws.com", "/v20180820/accesspoint", "eu-west-1/s3/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, got := awsLike(t, tc.contentType, tc.body)
			if _, err := New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}}).Invoke(context.Background(), tc.service, tc.api, tc.input); err != nil {
				t.Fatal(err)
			}
			r := got()
			if len(r) != 1 {
				t.Fatalf("%d requests", len(r))
			}
			if r[0].host != tc.host || r[0].path != tc.path {
				t.Errorf("sent to %s%s, want %s%s", r[0].host, r[0].path, tc.host, tc.path)
			}
			if !strings.Contains(r[0].auth, "/"+tc.signedFor) {
				t.Errorf("signed %q, want the scope %s", r[0].auth, tc.signedFor)
			}
		})
	}
}

// TestServiceEndpointOverride checks AWS_ENDPOINT_URL_<SERVICE> (by the
// model's service id) over AWS_ENDPOINT_URL, with S3 in path style there.
func TestServiceEndpointOverride(t *testing.T) {
	cfg, got := awsLike(t, "application/xml", `<ListBucketResult><Name>capstan-b</Name><IsTruncated>false</IsTruncated></ListBucketResult>`)
	t.Setenv("AWS_ENDPOINT_URL", "https://elsewhere.example:1")
	t.Setenv("AWS_ENDPOINT_URL_S3", "https://objects.example:8443")
	cfg.BaseEndpoint = aws.String("https://elsewhere.example:1")
	if _, err := New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}}).Invoke(context.Background(), "s3", "ListObjectsV2", map[string]any{"Bucket": "capstan-b"}); err != nil {
		t.Fatal(err)
	}
	if r := got(); len(r) != 1 || r[0].host != "objects.example:8443" || r[0].path != "/capstan-b" {
		t.Errorf("requests %+v, want objects.example:8443/capstan-b", r)
	}
}

// TestIdempotencyTokenFilled checks that a token the input leaves out is
// filled with a fresh UUID, as boto3 does, and one given is kept.
func TestIdempotencyTokenFilled(t *testing.T) {
	cfg, got := awsLike(t, "text/xml", `<RunInstancesResponse><instancesSet/></RunInstancesResponse>`)
	c := New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}})
	in := map[string]any{"ImageId": "ami-1", "MinCount": 1, "MaxCount": 1}
	for range 2 {
		if _, err := c.Invoke(context.Background(), "ec2", "RunInstances", in); err != nil {
			t.Fatal(err)
		}
	}
	in["ClientToken"] = "mine"
	if _, err := c.Invoke(context.Background(), "ec2", "RunInstances", in); err != nil {
		t.Fatal(err)
	}
	r := got()
	uuid := regexp.MustCompile(`ClientToken=([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})(&|$)`)
	m1, m2 := uuid.FindStringSubmatch(r[0].body), uuid.FindStringSubmatch(r[1].body)
	if m1 == nil || m2 == nil || m1[1] == m2[1] {
		t.Errorf("tokens not filled with fresh UUIDs: %q, %q", r[0].body, r[1].body)
	}
	if v, _ := url.ParseQuery(r[2].body); v.Get("ClientToken") != "mine" {
		t.Errorf("given token not kept: %q", r[2].body)
	}
}

// TestHostLabelMustBeALabel checks that a host label member cannot steer
// the signed request to another host.
func TestHostLabelMustBeALabel(t *testing.T) {
	cfg, got := awsLike(t, "application/xml", `<ListAccessPointsResult/>`)
	c := New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}})
	for _, bad := range []string{"evil.example.com/", "a.b", "x@evil.example", ""} {
		_, err := c.Invoke(context.Background(), "s3control", "ListAccessPoints", map[string]any{"AccountId": bad})
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "AccountId") {
			t.Errorf("AccountId %q: error %v, want an invalid input naming AccountId", bad, err)
		}
	}
	if r := got(); len(r) != 0 {
		t.Errorf("requests were sent: %+v", r)
	}
}
