package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// benchInvoker answers every AWS call at once with an empty result and
// records it on the execution, as awsapi does after a real call.
type benchInvoker struct{ req InvokerRequest }

func (i benchInvoker) Invoke(ctx context.Context, service, operation string, _ map[string]any) (map[string]any, error) {
	i.req.Record(store.Call{Step: StepFromContext(ctx), Service: service, Operation: operation, IAMAction: service + ":" + operation, Start: time.Now()})
	return map[string]any{"Ok": true}, nil
}

// BenchmarkTenAWSSteps is what the engine adds to a ten-step runbook of
// aws:executeAwsApi (BenchmarkTenStepsMoto in internal/enginebench) without
// AWS itself: an invoker that answers at once, so the durable writes (the
// steps' events and the call records), input resolution and output selection
// are all that is timed. One execution at a time, start to Wait.
func BenchmarkTenAWSSteps(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, b.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	eng := New(Options{Store: db, Actions: action.Builtin(), Region: "eu-west-1", AccountID: "123456789012",
		NewInvoker: func(ctx context.Context, req InvokerRequest) (action.Invoker, error) { return benchInvoker{req}, nil }})
	b.Cleanup(func() { db.Close() })
	b.Cleanup(eng.Shutdown)
	var sb strings.Builder
	sb.WriteString("schemaVersion: \"0.3\"\nmainSteps:\n")
	for i := range 10 {
		fmt.Fprintf(&sb, "  - name: s%d\n    action: aws:executeAwsApi\n    inputs: {Service: ec2, Api: DescribeVpcs}\n    outputs:\n      - {Name: Ok, Selector: $.Ok, Type: Boolean}\n", i)
	}
	src := []byte(sb.String())
	doc, diags := document.Parse("bench.yaml", src)
	if doc == nil || hasError(diags) {
		b.Fatalf("bench runbook: %v", diags)
	}
	run := func() {
		id, err := eng.Start(ctx, StartRequest{Document: doc, Source: src, DocumentName: "bench", Parameters: map[string]any{}})
		if err != nil {
			b.Fatal(err)
		}
		st := waitBench(b, eng, id)
		if len(st.Steps) != 10 {
			b.Fatalf("%d steps", len(st.Steps))
		}
	}
	run()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		run()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/run")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/run")
}
