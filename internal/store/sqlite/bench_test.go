package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func benchDB(b *testing.B, opts sqlite.Options) *sqlite.DB {
	b.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// stepEvent is about the size of a real "step succeeded" event.
var stepEvent = []byte(`{"step":"describe","status":"Success","outputs":{"InstanceState":["running"]},"attempt":1}`)

// BenchmarkAppend is the store's share of one step transition: one event
// appended to one execution, with its summary row, durably committed.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b, sqlite.Options{})
	e := store.Execution{ID: "bench", DocumentName: "D", Status: "InProgress", Tags: map[string]string{"k": "v"}}
	if err := db.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted"}}); err != nil {
		b.Fatal(err)
	}
	e.Seq = 1
	evs := make([]store.Event, 1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		evs[0] = store.Event{Type: "StepSucceeded", Data: stepEvent}
		e.CurrentStep = "describe"
		if err := db.Append(ctx, e, evs); err != nil {
			b.Fatal(err)
		}
		e.Seq++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkAppendParallel appends one event at a time to each of 1,000
// executions concurrently and reports events/s, with group commit (the
// default batch) and without it (MaxBatch 1: one transaction per append).
func BenchmarkAppendParallel(b *testing.B) {
	for _, tc := range []struct {
		name  string
		batch int
	}{{"group-commit", 0}, {"one-tx-per-append", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			db := benchDB(b, sqlite.Options{MaxBatch: tc.batch})
			const execs = 1000
			var next atomic.Int64
			b.SetParallelism((execs + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				n := next.Add(1)
				e := store.Execution{ID: fmt.Sprintf("exec-%04d", n), DocumentName: "D", Status: "InProgress"}
				if err := db.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted"}}); err != nil {
					b.Error(err)
					return
				}
				e.Seq = 1
				evs := make([]store.Event, 1)
				for pb.Next() {
					evs[0] = store.Event{Type: "StepSucceeded", Data: stepEvent}
					if err := db.Append(ctx, e, evs); err != nil {
						b.Error(err)
						return
					}
					e.Seq++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user+system CPU time. The machine is shared, so
// wall-clock ns/op swings with other load; CPU per op is the steadier figure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
