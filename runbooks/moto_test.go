package runbooks

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// moto is an engine whose AWS calls go to a fresh moto_server through
// awsapi, wired as the CLI wires it, plus a client to set up and check moto.
type moto struct {
	t   *testing.T
	eng *engine.Engine
	aws *awsapi.Client
	url string // moto_server's base URL, for its /moto-api/ control calls
}

func newMoto(t *testing.T) *moto {
	t.Helper()
	s := mototest.Start(t)
	s.SetEnv(t)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	limiters := &awsapi.Limiters{}
	newInvoker := func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		return awsapi.New(cfg, awsapi.Options{Limiters: limiters, StepOf: engine.StepFromContext, Record: func(c awsapi.Call) {
			req.Record(store.Call{Step: c.Step, Service: c.Service, Operation: c.Operation, IAMAction: c.IAMAction, Start: c.Start, Duration: c.Duration, ErrorCode: c.ErrorCode})
		}}), nil
	}
	m := &moto{t: t, aws: awsapi.New(cfg, awsapi.Options{Limiters: limiters}), url: s.URL}
	m.eng = engine.New(engine.Options{Store: db, Actions: action.Builtin(), NewInvoker: newInvoker, Region: "us-east-1", RetryDelay: time.Millisecond})
	t.Cleanup(m.eng.Shutdown)
	return m
}

func (m *moto) call(service, op string, in map[string]any) map[string]any {
	m.t.Helper()
	out, err := m.aws.Invoke(context.Background(), service, op, in)
	if err != nil {
		m.t.Fatalf("%s %s: %v", service, op, err)
	}
	return out
}

// run runs the library runbook with the parameters (command-line form) to
// its end.
func (m *moto) run(name string, params ...string) *engine.State {
	m.t.Helper()
	src, ok := Lookup(name)
	if !ok {
		m.t.Fatalf("no runbook %s", name)
	}
	doc, diags := document.Load(name+".yaml", src, action.Builtin())
	for _, d := range diags {
		m.t.Errorf("%s", d)
	}
	p, err := doc.Coerce(document.Inputs{Flags: params})
	if err != nil {
		m.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	id, err := m.eng.Start(ctx, engine.StartRequest{Document: doc, Source: src, DocumentName: name, Parameters: p})
	if err != nil {
		m.t.Fatal(err)
	}
	st, err := m.eng.Wait(ctx, id)
	if err != nil {
		m.t.Fatal(err)
	}
	return st
}

func (m *moto) success(st *engine.State) {
	m.t.Helper()
	if st.Status != "Success" {
		var steps []string
		for _, s := range st.Steps {
			steps = append(steps, fmt.Sprintf("%s=%s(%s)", s.Name, s.Status, s.FailureMessage))
		}
		m.t.Fatalf("status %s (%s); steps %v", st.Status, st.FailureMessage, steps)
	}
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, _ := v.(map[string]any)
			v = mm[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func (m *moto) volume() string {
	out := m.call("ec2", "CreateVolume", map[string]any{"AvailabilityZone": "us-east-1a", "Size": 8})
	return out["VolumeId"].(string)
}

func (m *moto) instance() string {
	imgs := m.call("ec2", "DescribeImages", map[string]any{})
	ami := dig(imgs, "Images", 0, "ImageId").(string)
	out := m.call("ec2", "RunInstances", map[string]any{"ImageId": ami, "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
	return dig(out, "Instances", 0, "InstanceId").(string)
}

func TestCreateAndDeleteSnapshot(t *testing.T) {
	m := newMoto(t)
	vol := m.volume()
	st := m.run("AWS-CreateSnapshot", "VolumeId="+vol, "Description=nightly backup")
	m.success(st)
	ids := st.Outputs["createSnapshot.Payload"]
	if len(ids) != 1 || len(ids[0]) < 5 || ids[0][:5] != "snap-" {
		t.Fatalf("output createSnapshot.Payload = %v, want one snapshot id", ids)
	}
	snap := m.call("ec2", "DescribeSnapshots", map[string]any{"SnapshotIds": []any{ids[0]}})
	if got := dig(snap, "Snapshots", 0, "VolumeId"); got != vol {
		t.Errorf("snapshot of volume %v, want %s", got, vol)
	}
	if got := dig(snap, "Snapshots", 0, "Description"); got != "nightly backup" {
		t.Errorf("snapshot description %q", got)
	}

	m.success(m.run("AWS-DeleteSnapshot", "SnapshotId="+ids[0]))
	if _, err := m.aws.Invoke(context.Background(), "ec2", "DescribeSnapshots", map[string]any{"SnapshotIds": []any{ids[0]}}); err == nil {
		t.Errorf("snapshot %s still exists after AWS-DeleteSnapshot", ids[0])
	}
	// Deleting it again fails the execution with EC2's error.
	st = m.run("AWS-DeleteSnapshot", "SnapshotId="+ids[0])
	if st.Status != "Failed" {
		t.Errorf("deleting a deleted snapshot: status %s", st.Status)
	}
}

func (m *moto) role(name string) {
	m.call("iam", "CreateRole", map[string]any{"RoleName": name, "AssumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
}

// associated returns the ARN of the instance profile associated with the
// instance, and how many associations it has.
func (m *moto) associated(instance string) (string, int) {
	out := m.call("ec2", "DescribeIamInstanceProfileAssociations", map[string]any{"Filters": []any{
		map[string]any{"Name": "instance-id", "Values": []any{instance}},
	}})
	l, _ := out["IamInstanceProfileAssociations"].([]any)
	n := 0
	arn := ""
	for _, a := range l {
		if s := dig(a, "State"); s == "associated" || s == "associating" {
			n++
			arn, _ = dig(a, "IamInstanceProfile", "Arn").(string)
		}
	}
	return arn, n
}

func TestAttachIAMToInstance(t *testing.T) {
	m := newMoto(t)
	inst := m.instance()
	m.role("app-role")

	// The role has no instance profile and the instance none: a profile
	// named after the role is created and associated.
	st := m.run("AWS-AttachIAMToInstance", "InstanceId="+inst, "RoleName=app-role")
	m.success(st)
	arn, n := m.associated(inst)
	if n != 1 || arn == "" {
		t.Fatalf("instance has %d associations (%q), want the role's profile", n, arn)
	}
	prof := m.call("iam", "GetInstanceProfile", map[string]any{"InstanceProfileName": "app-role"})
	if got := dig(prof, "InstanceProfile", "Arn"); got != arn {
		t.Errorf("associated %s, want the new profile %v", arn, got)
	}
	if got := dig(prof, "InstanceProfile", "Roles", 0, "RoleName"); got != "app-role" {
		t.Errorf("new profile holds role %v", got)
	}
	if got := st.Outputs["getInstanceProfile.InstanceProfileArn"]; len(got) != 1 || got[0] != arn {
		t.Errorf("output InstanceProfileArn = %v, want %s", got, arn)
	}
	if got := st.Outputs["describeResult.AssociationId"]; len(got) != 1 || len(got[0]) < 10 {
		t.Errorf("output AssociationId = %v", got)
	}

	// A second role already in a profile of another name: that profile
	// replaces the first (ForceReplace defaults to true).
	m.role("ops-role")
	m.call("iam", "CreateInstanceProfile", map[string]any{"InstanceProfileName": "ops-profile"})
	m.call("iam", "AddRoleToInstanceProfile", map[string]any{"InstanceProfileName": "ops-profile", "RoleName": "ops-role"})
	ops := dig(m.call("iam", "GetInstanceProfile", map[string]any{"InstanceProfileName": "ops-profile"}), "InstanceProfile", "Arn")

	// With ForceReplace=false the existing association stays.
	m.success(m.run("AWS-AttachIAMToInstance", "InstanceId="+inst, "RoleName=ops-role", "ForceReplace=false"))
	if got, n := m.associated(inst); got != arn || n != 1 {
		t.Errorf("ForceReplace=false: instance has %s (%d associations), want %s kept", got, n, arn)
	}

	st = m.run("AWS-AttachIAMToInstance", "InstanceId="+inst, "RoleName=ops-role")
	m.success(st)
	if got, n := m.associated(inst); got != ops || n != 1 {
		t.Errorf("instance has %s (%d associations), want only %v", got, n, ops)
	}
	if got := st.Outputs["getInstanceProfile.InstanceProfileName"]; len(got) != 1 || got[0] != "ops-profile" {
		t.Errorf("output InstanceProfileName = %v", got)
	}
}

func TestSetAutoScalingCapacity(t *testing.T) {
	m := newMoto(t)
	imgs := m.call("ec2", "DescribeImages", map[string]any{})
	ami := dig(imgs, "Images", 0, "ImageId").(string)
	m.call("autoscaling", "CreateLaunchConfiguration", map[string]any{"LaunchConfigurationName": "lc", "ImageId": ami, "InstanceType": "t3.micro"})
	m.call("autoscaling", "CreateAutoScalingGroup", map[string]any{"AutoScalingGroupName": "web", "LaunchConfigurationName": "lc",
		"MinSize": 1, "MaxSize": 2, "DesiredCapacity": 1, "AvailabilityZones": []any{"us-east-1a"}})

	group := func() map[string]any {
		out := m.call("autoscaling", "DescribeAutoScalingGroups", map[string]any{"AutoScalingGroupNames": []any{"web"}})
		return dig(out, "AutoScalingGroups", 0).(map[string]any)
	}

	st := m.run("Capstan-SetAutoScalingCapacity", "AutoScalingGroupName=web", "DesiredCapacity=4", "MaxSize=5")
	m.success(st)
	g := group()
	if g["DesiredCapacity"] != int64(4) || g["MaxSize"] != int64(5) || g["MinSize"] != int64(1) {
		t.Errorf("group sizes min %v max %v desired %v, want 1/5/4", g["MinSize"], g["MaxSize"], g["DesiredCapacity"])
	}
	if l, _ := g["Instances"].([]any); len(l) != 4 {
		t.Errorf("group has %d instances, want 4", len(l))
	}
	if got := st.Outputs["describeGroup.InstanceIds"]; len(got) != 4 {
		t.Errorf("output InstanceIds = %v, want 4 instances", got)
	}

	m.success(m.run("Capstan-SetAutoScalingCapacity", "AutoScalingGroupName=web", "DesiredCapacity=0", "MinSize=0"))
	g = group()
	if g["DesiredCapacity"] != int64(0) || g["MinSize"] != int64(0) || g["MaxSize"] != int64(5) {
		t.Errorf("group sizes min %v max %v desired %v, want 0/5/0", g["MinSize"], g["MaxSize"], g["DesiredCapacity"])
	}

	// An unknown group fails the execution rather than doing nothing.
	st = m.run("Capstan-SetAutoScalingCapacity", "AutoScalingGroupName=nope", "DesiredCapacity=1")
	if st.Status != "Failed" {
		t.Errorf("unknown group: status %s", st.Status)
	}
}

func TestStopAndStartEC2Instance(t *testing.T) {
	m := newMoto(t)
	a, b := m.instance(), m.instance()
	state := func(id string) any {
		out := m.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id}})
		return dig(out, "Reservations", 0, "Instances", 0, "State", "Name")
	}
	m.success(m.run("AWS-StopEC2Instance", "InstanceId="+a+","+b))
	for _, id := range []string{a, b} {
		if s := state(id); s != "stopped" {
			t.Errorf("%s is %v after AWS-StopEC2Instance", id, s)
		}
	}
	m.success(m.run("AWS-StartEC2Instance", "InstanceId="+a+","+b))
	for _, id := range []string{a, b} {
		if s := state(id); s != "running" {
			t.Errorf("%s is %v after AWS-StartEC2Instance", id, s)
		}
	}
	m.success(m.run("AWS-TerminateEC2Instance", "InstanceId="+b))
	if s := state(b); s != "terminated" {
		t.Errorf("%s is %v after AWS-TerminateEC2Instance", b, s)
	}
}

func TestQueryCloudWatchLogs(t *testing.T) {
	m := newMoto(t)
	m.call("logs", "CreateLogGroup", map[string]any{"logGroupName": "/app/web"})
	m.call("logs", "CreateLogStream", map[string]any{"logGroupName": "/app/web", "logStreamName": "s1"})
	now := time.Now()
	ms := now.UnixMilli()
	m.call("logs", "PutLogEvents", map[string]any{"logGroupName": "/app/web", "logStreamName": "s1", "logEvents": []any{
		map[string]any{"timestamp": ms - 2000, "message": "ERROR disk full"},
		map[string]any{"timestamp": ms - 1000, "message": "INFO all good"},
	}})
	st := m.run("Capstan-QueryCloudWatchLogs", "LogGroupNames=/app/web",
		"QueryString=fields @message",
		fmt.Sprintf("StartTime=%d", now.Add(-time.Hour).Unix()), fmt.Sprintf("EndTime=%d", now.Add(time.Minute).Unix()))
	m.success(st)
	if got := st.Outputs["getResults.Status"]; len(got) != 1 || got[0] != "Complete" {
		t.Errorf("Status = %v", got)
	}
	// moto runs StartQuery/GetQueryResults, but its query engine ignores
	// filter commands, so the query here only selects fields.
	vals := st.Outputs["getResults.Values"]
	for _, want := range []string{"ERROR disk full", "INFO all good"} {
		if !slices.Contains(vals, want) {
			t.Errorf("Values = %v, want %q among them", vals, want)
		}
	}
	if got := st.Outputs["getResults.Results"]; len(got) == 0 {
		t.Errorf("Results output empty")
	}

	// A query of a missing log group fails at StartQuery.
	st = m.run("Capstan-QueryCloudWatchLogs", "LogGroupNames=/app/none", "QueryString=fields @message", "StartTime=0", "EndTime=1")
	if st.Status != "Failed" {
		t.Errorf("missing log group: status %s", st.Status)
	}
}

func TestRestartEC2Instance(t *testing.T) {
	m := newMoto(t)
	id := m.instance()
	st := m.run("AWS-RestartEC2Instance", "InstanceId="+id)
	m.success(st)
	if len(st.Steps) != 2 || st.Steps[0].Name != "stopInstances" || st.Steps[1].Name != "startInstances" {
		t.Errorf("steps %v, want a stop then a start", st.Steps)
	}
	out := m.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id}})
	if s := dig(out, "Reservations", 0, "Instances", 0, "State", "Name"); s != "running" {
		t.Errorf("%s is %v after AWS-RestartEC2Instance", id, s)
	}
}

func TestCreateAndDeleteImage(t *testing.T) {
	m := newMoto(t)
	id := m.instance()
	st := m.run("AWS-CreateImage", "InstanceId="+id, "NoReboot=true")
	m.success(st)
	ids := st.Outputs["createImage.ImageId"]
	if len(ids) != 1 || len(ids[0]) < 4 || ids[0][:4] != "ami-" {
		t.Fatalf("output createImage.ImageId = %v", ids)
	}
	img := m.call("ec2", "DescribeImages", map[string]any{"ImageIds": []any{ids[0]}})
	if name, _ := dig(img, "Images", 0, "Name").(string); len(name) <= len(id) || name[:len(id)+1] != id+"_" {
		t.Errorf("image name %q, want the instance id and the execution id", name)
	}
	m.success(m.run("AWS-DeleteImage", "ImageId="+ids[0]))
	img = m.call("ec2", "DescribeImages", map[string]any{"ImageIds": []any{ids[0]}})
	if l, _ := img["Images"].([]any); len(l) != 0 {
		t.Errorf("image %s still listed after AWS-DeleteImage: %v", ids[0], l)
	}
}
