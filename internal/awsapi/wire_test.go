package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsmodel"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// A server that answers AWS calls itself (capstan test's endpoint for
// scripts) decodes what the client's codecs send and writes what they
// read, in every protocol: the client here is capstan's own, over smithy's
// codecs; the boto3 side is tested in internal/runbooktest.
func TestWireRoundTrip(t *testing.T) {
	type call struct {
		service, op string
		input, out  map[string]any
		read        map[string]any // what the client reads, when not out
	}
	calls := []call{
		{"ssm", "GetParameter", map[string]any{"Name": "/app/color", "WithDecryption": true},
			map[string]any{"Parameter": map[string]any{"Name": "/app/color", "Value": "blue", "Version": int64(3)}}, nil},
		{"ec2", "DescribeInstances",
			map[string]any{"InstanceIds": []any{"i-1", "i-2"}, "Filters": []any{map[string]any{"Name": "instance-state-name", "Values": []any{"running"}}}, "MaxResults": int64(5)},
			map[string]any{"Reservations": []any{map[string]any{"ReservationId": "r-1", "Instances": []any{
				map[string]any{"InstanceId": "i-1", "State": map[string]any{"Name": "running", "Code": int64(16)}, "LaunchTime": "2026-01-02T03:04:05Z",
					"Tags": []any{map[string]any{"Key": "Name", "Value": "web"}}}}}}}, nil},
		{"iam", "GetRole", map[string]any{"RoleName": "ops"},
			map[string]any{"Role": map[string]any{"RoleName": "ops", "Arn": "arn:aws:iam::123456789012:role/ops", "Path": "/", "RoleId": "AROA1", "CreateDate": "2026-01-02T03:04:05Z",
				"Tags": []any{map[string]any{"Key": "team", "Value": "sre"}}}}, nil},
		{"sqs", "GetQueueAttributes", map[string]any{"QueueUrl": "https://q", "AttributeNames": []any{"All"}},
			map[string]any{"Attributes": map[string]any{"VisibilityTimeout": "30"}}, nil},
		{"sns", "SetTopicAttributes", map[string]any{"TopicArn": "arn:aws:sns:us-east-1:1:t", "AttributeName": "DisplayName", "AttributeValue": "x"}, map[string]any{}, nil},
		{"s3", "ListObjectsV2", map[string]any{"Bucket": "reports", "Prefix": "2026/", "MaxKeys": int64(2)},
			map[string]any{"Name": "reports", "KeyCount": int64(1), "IsTruncated": false, "Contents": []any{map[string]any{"Key": "2026/a.csv", "Size": int64(12), "LastModified": "2026-01-02T03:04:05Z"}}}, nil},
		{"s3", "GetObject", map[string]any{"Bucket": "reports", "Key": "2026/a b.csv"},
			map[string]any{"Body": "a,b\n1,2\n", "ContentType": "text/csv", "Metadata": map[string]any{"owner": "ops"}, "ETag": `"abc"`},
			// The length comes with the body, as S3 sends it.
			map[string]any{"Body": "a,b\n1,2\n", "ContentType": "text/csv", "Metadata": map[string]any{"owner": "ops"}, "ETag": `"abc"`, "ContentLength": int64(8)}},
		{"lambda", "GetFunction", map[string]any{"FunctionName": "resize", "Qualifier": "live"},
			map[string]any{"Configuration": map[string]any{"FunctionName": "resize", "Runtime": "python3.12", "MemorySize": int64(256)}}, nil},
		{"lambda", "Invoke", map[string]any{"FunctionName": "resize", "InvocationType": "RequestResponse", "Payload": `{"size":3}`},
			map[string]any{"StatusCode": int64(200), "Payload": `{"ok":true}`, "ExecutedVersion": "$LATEST"},
			// capstan's client shows a blob payload base64, as any blob.
			map[string]any{"StatusCode": int64(200), "Payload": "eyJvayI6dHJ1ZX0=", "ExecutedVersion": "$LATEST"}},
	}
	var got *Incoming
	answer := map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = answerWith(w, r, answer)
	}))
	defer srv.Close()
	c := wireClient(t, srv.URL)
	for _, tc := range calls {
		answer = tc.out
		out, err := c.Invoke(context.Background(), tc.service, tc.op, tc.input)
		if err != nil {
			t.Errorf("%s %s: %v", tc.service, tc.op, err)
			continue
		}
		if got.Service != tc.service || got.Operation != tc.op {
			t.Errorf("%s %s: the server read %s %s", tc.service, tc.op, got.Service, got.Operation)
		}
		if !sameJSON(got.Input, tc.input) {
			t.Errorf("%s %s: the server read input %v, want %v", tc.service, tc.op, got.Input, tc.input)
		}
		want := tc.out
		if tc.read != nil {
			want = tc.read
		}
		if !sameJSON(out, want) {
			t.Errorf("%s %s: the client read %v, want %v", tc.service, tc.op, out, want)
		}
	}
	// An error reaches the client with its code and message in each
	// protocol's error shape.
	for _, tc := range []struct{ service, op, code string }{
		{"ssm", "GetParameter", "ParameterNotFound"},
		{"ec2", "DescribeInstances", "InvalidInstanceID.NotFound"},
		{"iam", "GetRole", "NoSuchEntity"},
		{"s3", "GetObject", "NoSuchKey"},
		{"lambda", "GetFunction", "ResourceNotFoundException"},
	} {
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			in, _ := ReadRequest(r)
			in.WriteError(w, tc.code, "not here")
		})
		_, err := c.Invoke(context.Background(), tc.service, tc.op, calls[0].input)
		if tc.service != "ssm" {
			for _, x := range calls {
				if x.service == tc.service && x.op == tc.op {
					_, err = c.Invoke(context.Background(), tc.service, tc.op, x.input)
				}
			}
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.Message != "not here" {
			t.Errorf("%s %s error: %v, want %s: not here", tc.service, tc.op, err, tc.code)
		}
	}
}

// answerWith reads a request and answers it with out, or with an error
// saying why it could not; it returns what it read.
func answerWith(w http.ResponseWriter, r *http.Request, out map[string]any) *Incoming {
	in, err := ReadRequest(r)
	if err != nil {
		in.WriteError(w, "Unreadable", err.Error())
		return in
	}
	if err := in.WriteResponse(w, out); err != nil {
		in.WriteError(w, "Unwritable", err.Error())
	}
	return in
}

// wireClient is capstan's client, signing with test keys, against url.
func wireClient(t *testing.T, url string) *Client {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := LoadConfig(context.Background(), LoadOptions{EndpointURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}})
}

// sameJSON compares decoded values as JSON sees them (int64 and float64
// alike).
func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

// Every operation of services of each protocol is routed back to itself:
// REST templates that share a path (S3's GET /{Bucket} is a dozen
// operations told apart by their query keys) and forms alike.
func TestWireRoutesEveryOperation(t *testing.T) {
	var got *Incoming
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = answerWith(w, r, map[string]any{})
	}))
	defer srv.Close()
	c := wireClient(t, srv.URL)
	for _, service := range []string{"s3", "lambda", "apigateway", "route53", "cloudfront", "eks", "iam", "sts", "sns", "cloudformation", "rds", "elbv2", "autoscaling", "ec2", "ssm", "sqs"} {
		info, _ := awsservice.Lookup(service)
		m, err := awsmodel.Load(service)
		if err != nil {
			t.Fatal(err)
		}
		routed := 0
		for _, name := range info.Operations {
			op := m.Operation(name)
			input := map[string]any{}
			if op.Input != nil {
				input = sample(m, op.Input.Shape, 0).(map[string]any)
			}
			got = nil
			_, err := c.Invoke(context.Background(), service, name, input)
			if errors.Is(err, ErrUnsupported) {
				continue // event streams
			}
			if err != nil {
				t.Errorf("%s %s: %v", service, name, err)
				continue
			}
			if got == nil || (got.Service+" "+got.Operation != service+" "+name && !slices.Contains(got.Alternatives(), service+" "+name)) {
				t.Errorf("%s %s: routed to %+v", service, name, got)
				continue
			}
			routed++
		}
		if routed < len(info.Operations)/2 {
			t.Errorf("%s: only %d of %d operations routed", service, routed, len(info.Operations))
		}
	}
}

// sample is an input with every required member set to a value of its
// type.
func sample(m *awsmodel.Model, shape string, depth int) any {
	sh := m.Shape(shape)
	switch sh.Type {
	case "structure":
		out := map[string]any{}
		if depth > 8 {
			return out
		}
		if sh.Union {
			for _, k := range slices.Sorted(maps.Keys(sh.Members)) {
				return map[string]any{k: sample(m, sh.Members[k].Shape, depth+1)}
			}
		}
		for _, r := range sh.Required {
			out[r] = sample(m, sh.Members[r].Shape, depth+1)
		}
		return out
	case "list":
		return []any{sample(m, sh.Member.Shape, depth+1)}
	case "map":
		return map[string]any{"k": sample(m, sh.Value.Shape, depth+1)}
	case "integer", "long":
		return int64(1)
	case "float", "double":
		return 1.5
	case "boolean":
		return true
	case "timestamp":
		return "2026-01-02T03:04:05Z"
	}
	return "x1"
}

// A hostile script's form cannot nest a recursive shape without end.
func TestWireFormDepthIsBounded(t *testing.T) {
	key := "Filters"
	for range 200 {
		key += ".member.1.Filters"
	}
	op, err := resolve("cloudwatch", "DescribeAlarms")
	if err != nil {
		t.Fatal(err)
	}
	// The bound is on the key's depth, whatever the shape it reads.
	fr := &formReader{form: map[string][]string{key: {"x"}}, prefixes: map[string]bool{}}
	if _, err := fr.value(key, op.schema.Input); err == nil || !strings.Contains(err.Error(), "nested too deep") {
		t.Errorf("a key %d levels deep: %v", 200, err)
	}
}
