package engine

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/targets"
)

// BenchmarkFleet runs a fleet of 1,000 targets of a one-step runbook
// (bench:noop) at MaxConcurrency 50 on a durable SQLite store, then starts
// the same 1,000 executions on their own (8 at a time) for comparison. It
// reports the fleet's wall and CPU time per child, the standalone
// execution's, and the peak heap while the fleet ran. Run it with
// -benchtime=1x.
func BenchmarkFleet(b *testing.B) {
	const n = 1000
	src := []byte("schemaVersion: \"0.3\"\nparameters:\n  Target: {type: String}\nmainSteps:\n  - name: one\n    action: bench:noop\n    inputs: {Value: \"{{ Target }}\"}\n")
	doc, diags := document.Parse("fleet.yaml", src)
	if doc == nil || hasError(diags) {
		b.Fatalf("fleet runbook: %v", diags)
	}
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("t-%04d", i)
	}
	for b.Loop() {
		eng := benchEngine(b, nil)
		fl := &Fleet{TargetParameterName: "Target", Targets: []targets.Target{{Key: "ParameterValues", Values: values}}, MaxConcurrency: "50"}
		params, err := FleetParameters(doc, document.Inputs{}, fl)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		heap0 := heapBytes()
		var peak atomic.Int64
		stop := make(chan struct{})
		go func() {
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if h := heapBytes(); h > peak.Load() {
						peak.Store(h)
					}
				}
			}
		}()
		cpu0, start := cpuTime(), time.Now()
		id, err := eng.Start(b.Context(), StartRequest{Document: doc, Source: src, DocumentName: "fleet", Parameters: params, Fleet: fl})
		if err != nil {
			b.Fatal(err)
		}
		st := waitBench(b, eng, id)
		fleetWall, fleetCPU := time.Since(start), cpuTime()-cpu0
		close(stop)
		if len(st.Steps) != n {
			b.Fatalf("the fleet ran %d children, want %d", len(st.Steps), n)
		}

		single, err := doc.Coerce(document.Inputs{Values: map[string][]string{"Target": {"t-single"}}})
		if err != nil {
			b.Fatal(err)
		}
		cpu0, start = cpuTime(), time.Now()
		ids := make([]string, 0, n)
		for i := range n {
			id, err := eng.Start(b.Context(), StartRequest{Document: doc, Source: src, DocumentName: "single", Parameters: single})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
			if i%50 == 49 {
				// 50 at a time, as the fleet runs them.
				for _, id := range ids {
					waitBench(b, eng, id)
				}
				ids = ids[:0]
			}
		}
		singleWall, singleCPU := time.Since(start), cpuTime()-cpu0

		b.ReportMetric(fleetWall.Seconds(), "s-fleet")
		b.ReportMetric(float64(fleetWall.Microseconds())/n, "µs/child")
		b.ReportMetric(float64(fleetCPU.Microseconds())/n, "cpu-µs/child")
		b.ReportMetric(float64(singleWall.Microseconds())/n, "µs/single")
		b.ReportMetric(float64(singleCPU.Microseconds())/n, "cpu-µs/single")
		b.ReportMetric(float64(peak.Load()-heap0)/(1<<20), "MB-peak-heap")
		eng.Shutdown()
	}
}
