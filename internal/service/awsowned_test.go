package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// awsOwned runs AWS's own runbooks, unchanged, the way a user with only an
// account does: each is created in the account's SSM (moto) from the corpus,
// and capstan fetches it by name through the catalog and runs it.
type awsOwned struct {
	t   *testing.T
	ctx context.Context
	inv *awsapi.Client
	svc *Service
}

func newAWSOwned(t *testing.T) *awsOwned {
	t.Helper()
	ctx := context.Background()
	moto := mototest.Start(t)
	moto.SetEnv(t)
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	inv := awsapi.New(cfg, awsapi.Options{})
	db, err := sqlite.Open(ctx, t.TempDir()+"/c.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// No library: these names are the library's too, and this test is about
	// the account's own copies.
	svc := New(Options{
		Store: db, Account: func(context.Context) (action.Invoker, error) { return inv, nil },
		Engine: engine.Options{Actions: action.Builtin(), Region: "us-east-1",
			NewInvoker: func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) { return inv, nil }},
	})
	t.Cleanup(svc.Engine().Shutdown)
	return &awsOwned{t: t, ctx: ctx, inv: inv, svc: svc}
}

func (a *awsOwned) call(service, op string, in map[string]any) map[string]any {
	a.t.Helper()
	out, err := a.inv.Invoke(a.ctx, service, op, in)
	if err != nil {
		a.t.Fatalf("%s %s: %v", service, op, err)
	}
	return out
}

// publish creates a corpus runbook in the account's SSM under its own name.
func (a *awsOwned) publish(name string) {
	a.t.Helper()
	src, err := os.ReadFile(filepath.Join(corpusDir(a.t), name+".json"))
	if err != nil {
		a.t.Fatal(err)
	}
	a.call("ssm", "CreateDocument", map[string]any{"Name": name, "Content": string(src), "DocumentType": "Automation", "DocumentFormat": "JSON"})
}

// runByName starts the runbook by name, as every front end does, and runs
// it to its end; the name must come from the account.
func (a *awsOwned) runByName(name string, params map[string]any) *engine.State {
	a.t.Helper()
	if rb, err := a.svc.Catalog().Find(a.ctx, name, ""); err != nil || rb.From != catalog.FromAccount {
		a.t.Fatalf("%s found in %q (%v), want the account", name, rb.From, err)
	}
	id, err := a.svc.StartExecution(a.ctx, Principal{Name: "tester"}, StartInput{DocumentName: name, Parameters: document.Inputs{Typed: params}})
	if err != nil {
		a.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Minute)
	defer cancel()
	st, err := a.svc.Engine().Wait(ctx, id)
	if err != nil {
		a.t.Fatal(err)
	}
	if st.Status != engine.StatusSuccess {
		a.t.Fatalf("%s ended %s: %s", name, st.Status, st.FailureMessage)
	}
	return st
}

func (a *awsOwned) instanceState(id string) string {
	out := a.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id}})
	return fmt.Sprint(out["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)["State"].(map[string]any)["Name"])
}

func TestAWSOwnedRunbooksRunUnchanged(t *testing.T) {
	a := newAWSOwned(t)
	for _, n := range []string{"AWS-RestartEC2Instance", "AWS-CreateImage", "AWS-DeleteSnapshot", "AWS-TerminateEC2Instance"} {
		a.publish(n)
	}
	images := a.call("ec2", "DescribeImages", map[string]any{"Owners": []any{"amazon"}})
	ami := images["Images"].([]any)[0].(map[string]any)["ImageId"]
	run := a.call("ec2", "RunInstances", map[string]any{"ImageId": ami, "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
	iid := fmt.Sprint(run["Instances"].([]any)[0].(map[string]any)["InstanceId"])

	a.runByName("AWS-RestartEC2Instance", map[string]any{"InstanceId": []any{iid}})
	if s := a.instanceState(iid); s != "running" {
		t.Errorf("after AWS-RestartEC2Instance the instance is %s", s)
	}

	st := a.runByName("AWS-CreateImage", map[string]any{"InstanceId": iid, "NoReboot": true})
	imageID := st.Outputs["createImage.ImageId"]
	if len(imageID) != 1 {
		t.Fatalf("AWS-CreateImage outputs %v", st.Outputs)
	}
	got := a.call("ec2", "DescribeImages", map[string]any{"ImageIds": []any{imageID[0]}})
	if len(got["Images"].([]any)) != 1 {
		t.Errorf("image %s does not exist after AWS-CreateImage", imageID[0])
	}

	vol := a.call("ec2", "CreateVolume", map[string]any{"AvailabilityZone": "us-east-1a", "Size": 1})
	snap := a.call("ec2", "CreateSnapshot", map[string]any{"VolumeId": vol["VolumeId"]})
	snapID := fmt.Sprint(snap["SnapshotId"])
	a.runByName("AWS-DeleteSnapshot", map[string]any{"SnapshotId": snapID})
	if _, err := a.inv.Invoke(a.ctx, "ec2", "DescribeSnapshots", map[string]any{"SnapshotIds": []any{snapID}}); awsapi.ErrorCode(err) != "InvalidSnapshot.NotFound" {
		t.Errorf("snapshot %s after AWS-DeleteSnapshot: %v", snapID, err)
	}

	a.runByName("AWS-TerminateEC2Instance", map[string]any{"InstanceId": []any{iid}})
	if s := a.instanceState(iid); s != "terminated" {
		t.Errorf("after AWS-TerminateEC2Instance the instance is %s", s)
	}
}

// corpusDir finds the shared corpus beside the repository.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../../shared/corpus/aws-owned")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the runbook corpus is missing at %s: %v", dir, err)
	}
	return dir
}
