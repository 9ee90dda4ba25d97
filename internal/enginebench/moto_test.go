package enginebench

import (
	"context"
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

// tenSteps is a runbook of ten real operations across six services, with
// outputs selected and fed forward the way runbooks do. Every call can be
// repeated, so rounds need no reset of moto between them.
const tenSteps = `
schemaVersion: "0.3"
parameters:
  Name: {type: String, default: /capstan/bench}
mainSteps:
  - name: put
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: PutParameter, Name: "{{ Name }}", Value: v1, Type: String, Overwrite: true}
  - name: get
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: GetParameter, Name: "{{ Name }}"}
    outputs:
      - {Name: Value, Selector: $.Parameter.Value, Type: String}
  - name: describeParameters
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: DescribeParameters}
  - name: identity
    action: aws:executeAwsApi
    inputs: {Service: sts, Api: GetCallerIdentity}
    outputs:
      - {Name: Account, Selector: $.Account, Type: String}
  - name: vpcs
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: DescribeVpcs}
    outputs:
      - {Name: VpcId, Selector: "$.Vpcs[0].VpcId", Type: String}
  - name: groups
    action: aws:executeAwsApi
    inputs:
      Service: ec2
      Api: DescribeSecurityGroups
      Filters: [{Name: vpc-id, Values: ["{{ vpcs.VpcId }}"]}]
  - name: instances
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: DescribeInstances}
  - name: roles
    action: aws:executeAwsApi
    inputs: {Service: iam, Api: ListRoles}
  - name: buckets
    action: aws:executeAwsApi
    inputs: {Service: s3, Api: ListBuckets}
  - name: logGroups
    action: aws:executeAwsApi
    inputs: {Service: logs, Api: DescribeLogGroups, logGroupNamePrefix: /capstan}
outputs: [get.Value, identity.Account]
`

// generic makes the same ten calls through awsapi without the engine: the
// generic executeAwsApi path alone, to tell its share of any gap from the
// engine's.
func generic(ctx context.Context, c *awsapi.Client, name string) error {
	calls := []struct {
		service, api string
		input        map[string]any
	}{
		{"ssm", "PutParameter", map[string]any{"Name": name, "Value": "v1", "Type": "String", "Overwrite": true}},
		{"ssm", "GetParameter", map[string]any{"Name": name}},
		{"ssm", "DescribeParameters", nil},
		{"sts", "GetCallerIdentity", nil},
		{"ec2", "DescribeVpcs", nil},
		{"ec2", "DescribeSecurityGroups", nil},
		{"ec2", "DescribeInstances", nil},
		{"iam", "ListRoles", nil},
		{"s3", "ListBuckets", nil},
		{"logs", "DescribeLogGroups", map[string]any{"logGroupNamePrefix": "/capstan"}},
	}
	for _, call := range calls {
		out, err := c.Invoke(ctx, call.service, call.api, call.input)
		if err != nil {
			return err
		}
		if call.api == "DescribeVpcs" {
			// The next call filters on the first VPC, as the runbook's
			// groups step does with {{ vpcs.VpcId }}.
			vpc := out["Vpcs"].([]any)[0].(map[string]any)["VpcId"]
			calls[5].input = map[string]any{"Filters": []any{map[string]any{"Name": "vpc-id", "Values": []any{vpc}}}}
		}
	}
	return nil
}

// BenchmarkTenStepsMoto runs the ten-step runbook through the engine
// (durable SQLite store, generic executeAwsApi, call records) and the same
// ten calls made directly, against the same moto, alternating which goes
// first in each round so that drift in moto or in the machine's load falls on
// both. It reports the median of each and their ratio.
func BenchmarkTenStepsMoto(b *testing.B) {
	srv := mototest.Start(b)
	srv.SetEnv(b)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, b.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	limiters := &awsapi.Limiters{}
	eng := engine.New(engine.Options{
		Store:   db,
		Actions: action.Builtin(),
		Region:  cfg.Region,
		NewInvoker: func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
			return awsapi.New(cfg, awsapi.Options{Limiters: limiters, StepOf: engine.StepFromContext, Record: func(c awsapi.Call) {
				req.Record(store.Call{Step: c.Step, Service: c.Service, Operation: c.Operation, IAMAction: c.IAMAction, Start: c.Start, Duration: c.Duration, ErrorCode: c.ErrorCode})
			}}), nil
		},
	})
	b.Cleanup(func() { db.Close() })
	b.Cleanup(eng.Shutdown)

	doc, diags := document.Parse("ten.yaml", []byte(tenSteps))
	for _, d := range diags {
		if d.Severity == document.Error {
			b.Fatalf("runbook: %s", d)
		}
	}
	params, err := doc.Coerce(document.Inputs{})
	if err != nil {
		b.Fatal(err)
	}
	viaEngine := func() time.Duration {
		t0 := time.Now()
		id, err := eng.Start(ctx, engine.StartRequest{Document: doc, Source: []byte(tenSteps), DocumentName: "ten", Parameters: params})
		if err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		st, err := eng.Wait(wctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if st.Status != engine.StatusSuccess || len(st.Steps) != 10 {
			b.Fatalf("engine run ended %s after %d steps: %s", st.Status, len(st.Steps), st.FailureMessage)
		}
		return time.Since(t0)
	}
	viaSDK := func() time.Duration {
		t0 := time.Now()
		if err := Direct(ctx, cfg, "/capstan/bench"); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	viaGeneric := func() time.Duration {
		t0 := time.Now()
		// A client per run, as the engine makes one per execution.
		if err := generic(ctx, awsapi.New(cfg, awsapi.Options{Limiters: limiters}), "/capstan/bench"); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	// One warm-up of each: moto builds its per-region backends on first use
	// and the SDK resolves endpoints once; neither belongs to a round.
	viaEngine()
	viaSDK()
	viaGeneric()

	// The order rotates each round so that drift in moto or in the
	// machine's load falls on all three alike.
	ways := []func() time.Duration{viaEngine, viaSDK, viaGeneric}
	times := make([][]time.Duration, len(ways))
	round := 0
	for b.Loop() {
		for k := range ways {
			w := (round + k) % len(ways)
			times[w] = append(times[w], ways[w]())
		}
		round++
	}
	e, s, g := median(times[0]), median(times[1]), median(times[2])
	b.ReportMetric(float64(e.Microseconds()), "engine-µs/run")
	b.ReportMetric(float64(s.Microseconds()), "sdk-µs/run")
	b.ReportMetric(float64(g.Microseconds()), "generic-µs/run")
	b.ReportMetric(float64(e)/float64(s), "engine/sdk")
	b.ReportMetric(float64(g)/float64(s), "generic/sdk")
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
