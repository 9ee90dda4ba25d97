package mock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsapi"
)

func TestResponsesAreCheckedAgainstTheModel(t *testing.T) {
	for _, tc := range []struct {
		m    Mock
		want string
	}{
		{Mock{Service: "ec2", API: "DescribeInstances", Response: map[string]any{"Reservations": []any{map[string]any{"Instances": []any{map[string]any{"Statee": map[string]any{"Name": "stopped"}}}}}}},
			`Reservations[0].Instances[0]: unknown member "Statee" of Instance (did you mean State?)`},
		{Mock{Service: "ec2", API: "DescribeInstances", Response: map[string]any{"Reservations": "x"}}, "Reservations: expected a list"},
		{Mock{Service: "ssm", API: "GetParameter", Response: map[string]any{"Parameter": map[string]any{"Version": "one"}}}, "Parameter.Version: expected a number"},
		{Mock{Service: "ec2", API: "DescribeInstancez"}, "ec2 DescribeInstancez: service ec2 has no operation"},
		{Mock{Service: "ec3", API: "DescribeInstances"}, "no such service"},
		{Mock{Service: "ec2", API: "DescribeInstances", Match: map[string]any{"InstanceIdz": []any{"i-1"}}}, "InstanceIdz"},
	} {
		err := tc.m.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.m.Name(), err, tc.want)
		}
	}
	ok := Mock{Service: "EC2", API: "describe_instances", Match: map[string]any{"InstanceIds": []any{"i-1"}},
		Response: map[string]any{"Reservations": []any{map[string]any{"Instances": []any{map[string]any{"InstanceId": "i-1", "State": map[string]any{"Name": "stopped", "Code": int64(80)}}}}}}}
	if err := ok.Check(); err != nil {
		t.Errorf("a valid mock: %v", err)
	}
}

func TestMocksMatchInOrderAndTheLastRepeats(t *testing.T) {
	state := func(s string) map[string]any {
		return map[string]any{"Reservations": []any{map[string]any{"Instances": []any{map[string]any{"State": map[string]any{"Name": s}}}}}}
	}
	inv := &Invoker{MaxCalls: 5, Set: NewSet([]*Mock{
		{Service: "ec2", API: "DescribeInstances", Match: map[string]any{"InstanceIds": "i-1"}, Response: state("pending")},
		{Service: "ec2", API: "DescribeInstances", Response: state("running")},
		{Service: "ssm", API: "PutParameter", Error: &Error{Code: "AccessDeniedException", Message: "no"}},
	})}
	ctx := context.Background()
	got := func(in map[string]any) string {
		out, err := inv.Invoke(ctx, "ec2", "describe_instances", in)
		if err != nil {
			t.Fatal(err)
		}
		return out["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)["State"].(map[string]any)["Name"].(string)
	}
	// The first call matches the first mock (a scalar matches a one-element list).
	if s := got(map[string]any{"InstanceIds": []any{"i-1"}}); s != "pending" {
		t.Errorf("first call %s", s)
	}
	for range 2 {
		if s := got(map[string]any{"InstanceIds": []any{"i-1"}}); s != "running" {
			t.Errorf("later call %s, want the second mock, then it again", s)
		}
	}
	_, err := inv.Invoke(ctx, "ssm", "PutParameter", map[string]any{"Name": "x"})
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != "AccessDeniedException" || ae.Message != "no" {
		t.Errorf("mocked error: %v", err)
	}
	_, err = inv.Invoke(ctx, "s3", "ListBuckets", nil)
	if !errors.Is(err, ErrUnmocked) || !strings.Contains(err.Error(), "s3 ListBuckets") {
		t.Errorf("unmocked call: %v", err)
	}
	_, err = inv.Invoke(ctx, "ec2", "DescribeInstances", nil)
	if !errors.Is(err, ErrTooManyCalls) {
		t.Errorf("call past the bound: %v", err)
	}
}

func TestLoadNamesTheLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.yaml")
	src := "- {service: ec2, api: CreateImage, response: {ImageId: ami-1}}\n- service: ec2\n  api: CreateImage\n  respone: {ImageId: ami-2}\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p+":2:") || !strings.Contains(err.Error(), `"respone"`) {
		t.Errorf("Load: %v", err)
	}
}
