package action_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/mototest"
)

// motoAWS returns an Invoker over a fresh moto, as the engine builds one.
func motoAWS(t *testing.T) action.Invoker {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	return clientFor(t, "")
}

// clientFor builds an awsapi client from the environment; endpoint, when
// set, overrides it (an httptest server standing in for a service).
func clientFor(t *testing.T, endpoint string) action.Invoker {
	t.Helper()
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return awsapi.New(cfg, awsapi.Options{MaxAttempts: 1, Limiters: &awsapi.Limiters{}})
}

// run executes one action of the fast registry as the engine would.
func run(t *testing.T, aws action.Invoker, name string, inputs map[string]any) (*action.Result, error) {
	t.Helper()
	return runCtx(context.Background(), t, aws, name, inputs)
}

func runCtx(ctx context.Context, t *testing.T, aws action.Invoker, name string, inputs map[string]any) (*action.Result, error) {
	t.Helper()
	e, ok := action.FastRegistry().Lookup(name)
	if !ok || e.Impl == nil {
		t.Fatalf("%s is not executable", name)
	}
	if e.Spec.Support != action.Executes {
		t.Errorf("%s Support = %v, want executes", name, e.Spec.Support)
	}
	return e.Impl.Run(ctx, &action.Request{ExecutionID: "exec-1", Step: "step", Inputs: inputs, AWS: aws})
}

func call(t *testing.T, aws action.Invoker, service, op string, in map[string]any) map[string]any {
	t.Helper()
	out, err := aws.Invoke(context.Background(), service, op, in)
	if err != nil {
		t.Fatalf("%s %s: %v", service, op, err)
	}
	return out
}

func launch(t *testing.T, aws action.Invoker) string {
	t.Helper()
	out := call(t, aws, "ec2", "RunInstances", map[string]any{"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1})
	return out["Instances"].([]any)[0].(map[string]any)["InstanceId"].(string)
}

func stateOf(t *testing.T, aws action.Invoker, id string) string {
	t.Helper()
	out := call(t, aws, "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id}})
	inst := out["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)
	return inst["State"].(map[string]any)["Name"].(string)
}

func TestChangeInstanceStateMoto(t *testing.T) {
	aws := motoAWS(t)
	id := launch(t, aws)
	change := func(desired string, checkOnly bool) error {
		_, err := run(t, aws, "aws:changeInstanceState", map[string]any{
			"InstanceIds": []any{id}, "DesiredState": desired, "CheckStateOnly": checkOnly, "Force": true,
		})
		return err
	}

	if err := change("stopped", false); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, aws, id); got != "stopped" {
		t.Fatalf("after stopping, state = %s", got)
	}

	// CheckStateOnly must not start the instance: the wait runs until the
	// step's deadline and the error says what the instance still was.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := runCtx(ctx, t, aws, "aws:changeInstanceState", map[string]any{
		"InstanceIds": []any{id}, "DesiredState": "running", "CheckStateOnly": true,
	})
	if !errors.Is(err, context.DeadlineExceeded) || !contains(err, id+" stopped") {
		t.Fatalf("check-only wait error = %v, want a deadline naming %s stopped", err, id)
	}
	if got := stateOf(t, aws, id); got != "stopped" {
		t.Fatalf("CheckStateOnly changed the state to %s", got)
	}

	if err := change("running", false); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, aws, id); got != "running" {
		t.Fatalf("after starting, state = %s", got)
	}
	// Already running: a retry after a crash succeeds again.
	if err := change("running", false); err != nil {
		t.Fatalf("starting a running instance again: %v", err)
	}

	if err := change("terminated", false); err != nil {
		t.Fatal(err)
	}
	err = change("running", true)
	var se *action.InstanceStateError
	if !errors.As(err, &se) || se.InstanceID != id || se.State != "terminated" {
		t.Fatalf("waiting for a terminated instance to run: error = %v, want an InstanceStateError for %s", err, id)
	}
}

// FailOnUnexpectedStopped (a later addition to SSM's action) turns a stopped
// instance on the way to running into a failure instead of a wait.
func TestChangeInstanceStateFailOnUnexpectedStopped(t *testing.T) {
	aws := motoAWS(t)
	id := launch(t, aws)
	call(t, aws, "ec2", "StopInstances", map[string]any{"InstanceIds": []any{id}})
	for stateOf(t, aws, id) != "stopped" {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := runCtx(ctx, t, aws, "aws:changeInstanceState", map[string]any{
		"InstanceIds": []any{id}, "DesiredState": "running", "CheckStateOnly": true, "FailOnUnexpectedStopped": "true",
	})
	var se *action.InstanceStateError
	if !errors.As(err, &se) || se.InstanceID != id || se.State != "stopped" || ctx.Err() != nil {
		t.Fatalf("error = %v, want an InstanceStateError for %s stopped before the deadline", err, id)
	}
}

func TestChangeInstanceStateRejectsUnknownState(t *testing.T) {
	_, err := run(t, nil, "aws:changeInstanceState", map[string]any{"InstanceIds": []any{"i-1"}, "DesiredState": "rebooted"})
	var ie *action.InputError
	if !errors.As(err, &ie) || ie.Input != "DesiredState" {
		t.Fatalf("error = %v, want an InputError on DesiredState", err)
	}
}

func TestChangeInstanceStateUnknownInstanceFails(t *testing.T) {
	aws := motoAWS(t)
	_, err := run(t, aws, "aws:changeInstanceState", map[string]any{"InstanceIds": []any{"i-0123456789abcdef0"}, "DesiredState": "stopped"})
	if err == nil || awsapi.ErrorCode(err) != "InvalidInstanceID.NotFound" {
		t.Fatalf("error = %v, want InvalidInstanceID.NotFound", err)
	}
}

func TestRunInstancesMoto(t *testing.T) {
	aws := motoAWS(t)
	res, err := run(t, aws, "aws:runInstances", map[string]any{
		"ImageId": "ami-12c6146b", "MinInstanceCount": int64(2), "MaxInstanceCount": int64(2),
		"Monitoring": true, "TagSpecifications": []any{map[string]any{"ResourceType": "instance",
			"Tags": []any{map[string]any{"Key": "Name", "Value": "capstan"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := res.Outputs["InstanceIds"].([]any)
	states, _ := res.Outputs["InstanceStates"].([]any)
	if len(ids) != 2 || len(states) != 2 || states[0] != "running" || states[1] != "running" {
		t.Fatalf("outputs = %v, want two running instances", res.Outputs)
	}
	out := call(t, aws, "ec2", "DescribeInstances", map[string]any{"InstanceIds": ids})
	for _, r := range out["Reservations"].([]any) {
		for _, i := range r.(map[string]any)["Instances"].([]any) {
			inst := i.(map[string]any)
			if inst["InstanceType"] != "m1.small" {
				t.Errorf("InstanceType = %v, want SSM's default m1.small", inst["InstanceType"])
			}
			if tags, _ := inst["Tags"].([]any); len(tags) != 1 {
				t.Errorf("Tags = %v, want the Name tag from TagSpecifications", inst["Tags"])
			}
		}
	}
}

func TestImagesMoto(t *testing.T) {
	aws := motoAWS(t)
	id := launch(t, aws)
	res, err := run(t, aws, "aws:createImage", map[string]any{"InstanceId": id, "ImageName": "capstan-img", "ImageDescription": "from a test", "NoReboot": true})
	if err != nil {
		t.Fatal(err)
	}
	image, _ := res.Outputs["ImageId"].(string)
	if image == "" || res.Outputs["ImageState"] != "available" {
		t.Fatalf("outputs = %v, want an available image", res.Outputs)
	}

	res, err = run(t, aws, "aws:copyImage", map[string]any{"SourceRegion": "us-east-1", "SourceImageId": image, "ImageName": "capstan-copy"})
	if err != nil {
		t.Fatal(err)
	}
	imageCopy, _ := res.Outputs["ImageId"].(string)
	if imageCopy == "" || imageCopy == image || res.Outputs["ImageState"] != "available" {
		t.Fatalf("copy outputs = %v, want a second available image", res.Outputs)
	}

	img := call(t, aws, "ec2", "DescribeImages", map[string]any{"ImageIds": []any{image}})["Images"].([]any)[0].(map[string]any)
	var snapshots []any
	for _, b := range img["BlockDeviceMappings"].([]any) {
		if s, ok := b.(map[string]any)["Ebs"].(map[string]any)["SnapshotId"].(string); ok {
			snapshots = append(snapshots, s)
		}
	}
	if len(snapshots) == 0 {
		t.Fatalf("moto made no snapshot for the image: %v", img)
	}
	if _, err := run(t, aws, "aws:deleteImage", map[string]any{"ImageId": image}); err != nil {
		t.Fatal(err)
	}
	left := call(t, aws, "ec2", "DescribeImages", map[string]any{"Owners": []any{"self"}})["Images"].([]any)
	for _, l := range left {
		if l.(map[string]any)["ImageId"] == image {
			t.Errorf("image %s still registered", image)
		}
	}
	if _, err := aws.Invoke(context.Background(), "ec2", "DescribeSnapshots", map[string]any{"SnapshotIds": snapshots}); awsapi.ErrorCode(err) != "InvalidSnapshot.NotFound" {
		t.Errorf("describing the image's snapshots after deleteImage: error = %v, want InvalidSnapshot.NotFound", err)
	}
}

func TestCreateTagsMoto(t *testing.T) {
	aws := motoAWS(t)
	id := launch(t, aws)
	tags := []any{map[string]any{"Key": "team", "Value": "ops"}}
	if _, err := run(t, aws, "aws:createTags", map[string]any{"ResourceIds": []any{id}, "Tags": tags}); err != nil {
		t.Fatal(err)
	}
	out := call(t, aws, "ec2", "DescribeTags", map[string]any{"Filters": []any{map[string]any{"Name": "resource-id", "Values": []any{id}}}})
	if got := out["Tags"].([]any); len(got) != 1 || got[0].(map[string]any)["Value"] != "ops" {
		t.Errorf("EC2 tags = %v", got)
	}

	call(t, aws, "ssm", "PutParameter", map[string]any{"Name": "/capstan/p", "Value": "v", "Type": "String"})
	if _, err := run(t, aws, "aws:createTags", map[string]any{"ResourceIds": []any{"/capstan/p"}, "Tags": tags, "ResourceType": "Parameter"}); err != nil {
		t.Fatal(err)
	}
	out = call(t, aws, "ssm", "ListTagsForResource", map[string]any{"ResourceType": "Parameter", "ResourceId": "/capstan/p"})
	if got := out["TagList"].([]any); len(got) != 1 || got[0].(map[string]any)["Key"] != "team" {
		t.Errorf("parameter tags = %v", got)
	}

	_, err := run(t, aws, "aws:createTags", map[string]any{"ResourceIds": []any{"a", "b"}, "Tags": tags, "ResourceType": "Parameter"})
	var ie *action.InputError
	if !errors.As(err, &ie) || ie.Input != "ResourceIds" {
		t.Errorf("two parameters at once: error = %v, want an InputError on ResourceIds", err)
	}
}

func contains(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}
