package execlog

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

const runbook = `schemaVersion: "0.3"
mainSteps:
  - name: whoami
    action: aws:executeAwsApi
    inputs: {Service: sts, Api: GetCallerIdentity}
    outputs:
      - {Name: Account, Selector: $.Account, Type: String}
  - name: nap
    action: aws:sleep
    inputs: {Duration: PT0S}
`

type fixture struct {
	t   testing.TB
	db  *sqlite.DB
	aws *awsapi.Client
	eng *engine.Engine

	mu       sync.Mutex
	outcomes []string // "dest ok" or "dest failed"
}

// newFixture runs an engine against moto whose changes feed ship.
func newFixture(t testing.TB, ship *Shipper) *fixture {
	t.Helper()
	mototest.Start(t).SetEnv(t)
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
	f := &fixture{t: t, db: db, aws: awsapi.New(cfg, awsapi.Options{})}
	newInvoker := func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		return awsapi.New(cfg, awsapi.Options{StepOf: engine.StepFromContext, Record: func(c awsapi.Call) {
			req.Record(store.Call{Step: c.Step, Service: c.Service, Operation: c.Operation, IAMAction: c.IAMAction, Start: c.Start, Duration: c.Duration, ErrorCode: c.ErrorCode})
		}}), nil
	}
	ship.Store = db
	ship.AWS = func(context.Context) (action.Invoker, error) { return f.aws, nil }
	ship.Backoff = time.Millisecond
	ship.OnShipped = func(dest string, err error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		outcome := " ok"
		if err != nil {
			outcome = " failed"
		}
		f.outcomes = append(f.outcomes, dest+outcome)
	}
	ship.Start()
	f.eng = engine.New(engine.Options{Store: db, Actions: action.Builtin(), NewInvoker: newInvoker, Region: "us-east-1", OnChange: ship.OnChange})
	t.Cleanup(f.eng.Shutdown)
	return f
}

func (f *fixture) run() string {
	f.t.Helper()
	doc, diags := document.Load("r.yaml", []byte(runbook), action.Builtin())
	if doc == nil {
		f.t.Fatal(diags)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := f.eng.Start(ctx, engine.StartRequest{Document: doc, Source: []byte(runbook), DocumentName: "Shipped"})
	if err != nil {
		f.t.Fatal(err)
	}
	if st, err := f.eng.Wait(ctx, id); err != nil || st.Status != "Success" {
		f.t.Fatalf("execution: %v %v", st, err)
	}
	return id
}

// await waits until n copies were shipped or failed.
func (f *fixture) await(n int) []string {
	f.t.Helper()
	for range 1000 {
		f.mu.Lock()
		got := append([]string(nil), f.outcomes...)
		f.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("shipping did not report %d copies", n)
	return nil
}

func TestShipToS3AndCloudWatchLogs(t *testing.T) {
	ship := &Shipper{Bucket: "capstan-logs", Prefix: "prod/", LogGroup: "/capstan/steps"}
	f := newFixture(t, ship)
	f.aws.Invoke(context.Background(), "s3", "CreateBucket", map[string]any{"Bucket": "capstan-logs"})
	f.aws.Invoke(context.Background(), "logs", "CreateLogGroup", map[string]any{"logGroupName": "/capstan/steps"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ship.Run(ctx)

	id := f.run()
	if got := f.await(3); strings.Join(got, ",") != "logs ok,logs ok,s3 ok" {
		t.Fatalf("copies %v, want two steps to logs then the record to S3", got)
	}
	out, err := f.aws.Invoke(ctx, "s3", "GetObject", map[string]any{"Bucket": "capstan-logs", "Key": "prod/" + id + ".json"})
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := json.Unmarshal([]byte(out["Body"].(string)), &rec); err != nil {
		t.Fatalf("object: %v", err)
	}
	ae := rec.AutomationExecution
	if ae.AutomationExecutionId != id || ae.AutomationExecutionStatus != "Success" || len(ae.StepExecutions) != 2 {
		t.Errorf("record %+v", ae)
	}
	if got := ae.StepExecutions[0].Outputs["Account"]; len(got) != 1 || got[0] != "123456789012" {
		t.Errorf("whoami outputs %v", ae.StepExecutions[0].Outputs)
	}
	if len(rec.Calls) != 1 || rec.Calls[0].IAMAction != "sts:GetCallerIdentity" || rec.Calls[0].Step != "whoami" {
		t.Errorf("calls %+v", rec.Calls)
	}

	evs, err := f.aws.Invoke(ctx, "logs", "GetLogEvents", map[string]any{"logGroupName": "/capstan/steps", "logStreamName": id, "startFromHead": true})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := evs["events"].([]any)
	if len(list) != 2 {
		t.Fatalf("log events %v, want one per step", evs)
	}
	var step ssmshape.StepExecution
	if err := json.Unmarshal([]byte(list[0].(map[string]any)["message"].(string)), &step); err != nil || step.StepName != "whoami" || step.StepStatus != "Success" {
		t.Errorf("first log event %v (%v)", list[0], err)
	}
}

// TestShipFailureKeepsTheRecordAndCatchesUp ships to a bucket that does
// not exist yet: the copy fails after its attempts and is reported, the
// store keeps the execution, and a later start ships it.
func TestShipFailureKeepsTheRecordAndCatchesUp(t *testing.T) {
	ship := &Shipper{Bucket: "later", Attempts: 2}
	f := newFixture(t, ship)
	ctx, cancel := context.WithCancel(context.Background())
	go ship.Run(ctx)
	id := f.run()
	if got := f.await(1); got[0] != "s3 failed" {
		t.Fatalf("copies %v, want a failure", got)
	}
	cancel()
	if _, err := f.db.Execution(context.Background(), id); err != nil {
		t.Fatalf("the store lost the execution: %v", err)
	}

	// The bucket exists now; a new shipper (a restart) catches up.
	f.aws.Invoke(context.Background(), "s3", "CreateBucket", map[string]any{"Bucket": "later"})
	again := &Shipper{Bucket: "later"}
	g := &fixture{t: t, db: f.db, aws: f.aws}
	again.Store, again.AWS = f.db, func(context.Context) (action.Invoker, error) { return f.aws, nil }
	again.OnShipped = func(dest string, err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.outcomes = append(g.outcomes, dest+map[bool]string{true: " ok", false: " failed"}[err == nil])
	}
	again.Start()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go again.Run(ctx2)
	if got := g.await(1); got[0] != "s3 ok" {
		t.Fatalf("catch-up copies %v", got)
	}
	if _, err := f.aws.Invoke(ctx2, "s3", "HeadObject", map[string]any{"Bucket": "later", "Key": id + ".json"}); err != nil {
		t.Errorf("record not shipped at catch-up: %v", err)
	}
	// A third start finds it shipped and copies nothing.
	third := &Shipper{Bucket: "later", Store: f.db, AWS: again.AWS}
	third.OnShipped = func(string, error) { t.Errorf("an already shipped execution was shipped again") }
	third.Start()
	if err := third.catchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestParseS3URL(t *testing.T) {
	for in, want := range map[string][2]string{"s3://b/p/": {"b", "p/"}, "s3://b/a/b": {"b", "a/b/"}, "s3://b": {"b", ""}} {
		if b, p, err := ParseS3URL(in); err != nil || b != want[0] || p != want[1] {
			t.Errorf("ParseS3URL(%q) = %q %q %v", in, b, p, err)
		}
	}
	for _, bad := range []string{"b/p", "https://b/p", "s3:///p", ""} {
		if _, _, err := ParseS3URL(bad); err == nil || !strings.Contains(err.Error(), "expected s3://BUCKET/PREFIX/") {
			t.Errorf("ParseS3URL(%q): %v", bad, err)
		}
	}
}

// BenchmarkShipRecord measures what shipping costs per execution: reading
// its record from the store and writing it to S3 (moto on loopback).
func BenchmarkShipRecord(b *testing.B) {
	ship := &Shipper{Bucket: "bench"}
	f := newFixture(b, ship)
	f.aws.Invoke(context.Background(), "s3", "CreateBucket", map[string]any{"Bucket": "bench"})
	id := f.run()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := ship.putRecord(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
