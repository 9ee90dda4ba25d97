package targets

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/mototest"
)

// motoInvoker returns an AWS caller over a fresh moto, configured as the
// CLI configures one.
func motoInvoker(t *testing.T) *awsapi.Client {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
}

// launch starts n instances tagged Env=env and returns their ids.
func launch(t *testing.T, inv *awsapi.Client, n int, env string, extra ...map[string]any) []string {
	t.Helper()
	tags := []any{map[string]any{"Key": "Env", "Value": env}}
	for _, e := range extra {
		tags = append(tags, e)
	}
	out, err := inv.Invoke(context.Background(), "ec2", "RunInstances", map[string]any{
		"ImageId": "ami-12c6146b", "MinCount": n, "MaxCount": n, "InstanceType": "t3.micro",
		"TagSpecifications": []any{map[string]any{"ResourceType": "instance", "Tags": tags}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range list(out["Instances"]) {
		ids = append(ids, str(i["InstanceId"]))
	}
	if len(ids) != n {
		t.Fatalf("RunInstances started %d instances, want %d", len(ids), n)
	}
	return ids
}

func TestResolveFleetOverOneThousand(t *testing.T) {
	inv := motoInvoker(t)
	ctx := context.Background()
	prod := launch(t, inv, 1001, "prod")
	dev := launch(t, inv, 3, "dev")

	start := time.Now()
	got, err := Resolve(ctx, inv, []Target{{Key: "tag:Env", Values: []string{"prod"}}})
	if err != nil {
		t.Fatal(err)
	}
	// A figure for docs/fleets.md, not a check: the machine is shared.
	t.Logf("tag:Env=prod resolved %d targets in %s", len(got), time.Since(start))
	if !sameSet(got, prod) {
		t.Errorf("tag:Env=prod resolved %d targets, want the %d prod instances", len(got), len(prod))
	}

	start = time.Now()
	got, err = Resolve(ctx, inv, []Target{{Key: "AWS::EC2::Instance", Values: []string{"*"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AWS::EC2::Instance * resolved %d targets in %s", len(got), time.Since(start))
	if want := append(slices.Clone(prod), dev...); !sameSet(got, want) {
		t.Errorf("AWS::EC2::Instance * resolved %d targets, want all %d instances", len(got), len(want))
	}

	nodes, err := Nodes(ctx, inv, []Filter{{Name: "tag:Env", Values: []string{"dev"}}}, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 || nodes[0].Name != nodes[0].ID || nodes[0].Tags["Env"] != "dev" || nodes[0].Region != "us-east-1" || nodes[0].PrivateIP == "" {
		t.Errorf("nodes tag:Env=dev = %+v, want the 3 dev instances named by id with their tags, Region and private address", nodes)
	}
}

func TestResolveKeys(t *testing.T) {
	inv := motoInvoker(t)
	ctx := context.Background()
	web := launch(t, inv, 2, "prod", map[string]any{"Key": "Name", "Value": "web"})
	got, err := Resolve(ctx, inv, []Target{{Key: "ParameterValues", Values: []string{"a", "b", "a"}}, {Key: "InstanceIds", Values: []string{"*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{"a", "b"}, web...); !slices.Equal(got, want) {
		t.Errorf("ParameterValues a,b,a and InstanceIds * resolved %v, want %v (given order, no duplicates)", got, want)
	}

	nodes, err := Nodes(ctx, inv, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || nodes[0].Name != "web" || nodes[0].State == "" || nodes[0].Region != "us-east-1" {
		t.Errorf("nodes = %+v, want 2 named web, with a state and the Region from the zone", nodes)
	}
}

// moto 5.2.1 does not route ListGroupResources (POST /list-group-resources
// answers 404), so this test serves it from an httptest server speaking the
// REST-JSON protocol of resource-groups, two pages long.
func TestResolveResourceGroup(t *testing.T) {
	arn := func(id string) map[string]any {
		return map[string]any{"Identifier": map[string]any{"ResourceArn": "arn:aws:ec2:us-east-1:123456789012:instance/" + id, "ResourceType": "AWS::EC2::Instance"}}
	}
	var asked []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		asked = append(asked, in)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path != "/list-group-resources":
			w.WriteHeader(http.StatusNotFound)
		case in["Group"] != "prod-fleet":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"__type":"NotFoundException","Message":"group not found"}`))
		case in["NextToken"] == nil:
			_ = json.NewEncoder(w).Encode(map[string]any{"Resources": []any{arn("i-1"), arn("i-2")}, "NextToken": "page2"})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"Resources": []any{arn("i-3")}})
		}
	}))
	defer srv.Close()
	mototest.Start(t).SetEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_RESOURCE_GROUPS", srv.URL)
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv := awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}, MaxAttempts: 1})

	got, err := Resolve(context.Background(), inv, []Target{{Key: "ResourceGroup", Values: []string{"prod-fleet"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"i-1", "i-2", "i-3"}; !slices.Equal(got, want) {
		t.Errorf("ResourceGroup prod-fleet resolved %v, want %v", got, want)
	}
	if len(asked) != 2 || asked[1]["NextToken"] != "page2" {
		t.Errorf("requests = %v, want two pages, the second with NextToken page2", asked)
	}
	_, err = Resolve(context.Background(), inv, []Target{{Key: "ResourceGroup", Values: []string{"missing"}}})
	if err == nil || !strings.Contains(err.Error(), "resource group missing") || !strings.Contains(err.Error(), "NotFoundException") {
		t.Errorf("an unknown group: err = %v, want NotFoundException naming the group", err)
	}
}

func TestResourceID(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-0abc": "i-0abc",
		"arn:aws:s3:::my-bucket":                             "my-bucket",
		"arn:aws:rds:us-east-1:123456789012:db:prod-db":      "prod-db",
		"not-an-arn": "not-an-arn",
	} {
		if got := ResourceID(arn); got != want {
			t.Errorf("ResourceID(%s) = %s, want %s", arn, got, want)
		}
	}
}

func TestResourceType(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-0abc": "ec2:instance",
		"arn:aws:s3:::my-bucket":                             "s3",
		"arn:aws:rds:us-east-1:123456789012:db:prod-db":      "rds:db",
	} {
		if got := ResourceType(arn); got != want {
			t.Errorf("ResourceType(%s) = %s, want %s", arn, got, want)
		}
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
