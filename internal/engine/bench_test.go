package engine

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// These benchmarks are the evidence for the engine's performance targets
// (docs/performance.md): they report figures, they do not fail on them, since
// the machine they run on is shared and its timings swing with other load.

// benchEngine is an engine on a fresh durable SQLite store whose registry
// holds the built-in actions and bench:noop, an action that does nothing, so
// that what is measured is the engine and the store alone.
func benchEngine(b *testing.B, onChange func(*State, store.Event)) *Engine {
	b.Helper()
	db, err := sqlite.Open(context.Background(), b.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	reg := action.Builtin().Clone()
	reg.Register(action.Spec{Name: "bench:noop", OpenInputs: true, RetrySafe: true},
		actFunc(func(context.Context, *action.Request) (*action.Result, error) { return &action.Result{}, nil }))
	eng := New(Options{Store: db, Actions: reg, Region: "eu-west-1", AccountID: "123456789012", OnChange: onChange})
	// Cleanups run last-in first-out: the engine stops before its store closes.
	b.Cleanup(func() { db.Close() })
	b.Cleanup(eng.Shutdown)
	return eng
}

// noopRunbook is a runbook of n steps of bench:noop, each with one input so
// that input resolution is part of the work, as it is for real steps.
func noopRunbook(b *testing.B, n int) (*document.Document, []byte) {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("schemaVersion: \"0.3\"\nparameters:\n  Name: {type: String, default: bench}\nmainSteps:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - name: s%d\n    action: bench:noop\n    inputs: {Value: \"{{ Name }}-%d\"}\n", i, i)
	}
	src := []byte(sb.String())
	doc, diags := document.Parse("bench.yaml", src)
	if doc == nil || hasError(diags) {
		b.Fatalf("bench runbook: %v", diags)
	}
	return doc, src
}

func startBench(b *testing.B, eng *Engine, doc *document.Document, src []byte) string {
	id, err := tryStart(eng, doc, src)
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// tryStart is startBench for other goroutines, which must not call b.Fatal.
func tryStart(eng *Engine, doc *document.Document, src []byte) (string, error) {
	params, err := doc.Coerce(document.Inputs{})
	if err != nil {
		return "", err
	}
	return eng.Start(context.Background(), StartRequest{Document: doc, Source: src, DocumentName: "bench", Parameters: params})
}

// startMany starts n executions from 8 goroutines: a start is one durable
// write, and starting them one after another would measure the latency of n
// commits rather than the engine's throughput.
func startMany(b *testing.B, eng *Engine, doc *document.Document, src []byte, n int) []string {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  []string
		errs []error
	)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				id, err := tryStart(eng, doc, src)
				mu.Lock()
				ids, errs = append(ids, id), append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

func waitBench(b *testing.B, eng *Engine, id string) *State {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := eng.Wait(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	if st.Status != StatusSuccess {
		b.Fatalf("execution %s ended %s: %s", id, st.Status, st.FailureMessage)
	}
	return st
}

// transitions appends the durable gaps between consecutive step starts: one
// gap is a whole transition (StepSucceeded committed, the next step resolved,
// its StepStarted committed, the no-op run). The event times are taken just
// before each append, so the gaps measure the engine and not the clock calls.
func transitions(st *State, into []time.Duration) []time.Duration {
	for i := 1; i < len(st.Steps); i++ {
		into = append(into, st.Steps[i].StartTime.Sub(st.Steps[i-1].StartTime))
	}
	return into
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(q*float64(len(d)-1))]
}

// BenchmarkStepTransition runs one execution of 50 no-op steps at a time on
// the durable store. ns/step spreads everything (start, the steps, the end,
// reading the final state back) over the steps; p50/p90 are the durable
// transitions themselves.
func BenchmarkStepTransition(b *testing.B) {
	const steps = 50
	eng := benchEngine(b, nil)
	doc, src := noopRunbook(b, steps)
	var gaps []time.Duration
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		st := waitBench(b, eng, startBench(b, eng, doc, src))
		gaps = transitions(st, gaps)
	}
	n := float64(b.N * steps)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/step")
	b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/step")
	b.ReportMetric(float64(quantile(gaps, 0.5).Nanoseconds()), "p50-ns/transition")
	b.ReportMetric(float64(quantile(gaps, 0.9).Nanoseconds()), "p90-ns/transition")
}

// BenchmarkAggregateTransitions runs 200 executions of 10 no-op steps at
// once and reports durable step transitions per second across all of them:
// the group commit gathers the appends of many executions into one
// transaction.
func BenchmarkAggregateTransitions(b *testing.B) {
	const execs, steps = 200, 10
	// The end of each execution is seen through OnChange rather than Wait,
	// whose reading back of every log would be counted as engine work.
	var ended, failed atomic.Int64
	var all chan struct{}
	eng := benchEngine(b, func(st *State, ev store.Event) {
		if ev.Type != evExecutionFinished {
			return
		}
		if st.Status != StatusSuccess {
			failed.Add(1)
		}
		if ended.Add(1) == execs {
			close(all)
		}
	})
	doc, src := noopRunbook(b, steps)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		ended.Store(0)
		all = make(chan struct{})
		startMany(b, eng, doc, src, execs)
		select {
		case <-all:
		case <-time.After(time.Minute):
			b.Fatalf("only %d of %d executions ended", ended.Load(), execs)
		}
	}
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d executions did not succeed", n)
	}
	n := float64(b.N * execs * steps)
	b.ReportMetric(n/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/step")
}

// BenchmarkSleepingMemory starts 1,000 executions that each sleep an hour
// in aws:sleep, waits until every one is durably recorded as waiting, and
// reports how much the process's resident memory grew. Run it with
// -benchtime=1x: a later iteration starts from the first one's high-water
// mark and reports less than the truth.
func BenchmarkSleepingMemory(b *testing.B) {
	const execs = 1000
	src := []byte("schemaVersion: \"0.3\"\nmainSteps:\n  - name: nap\n    action: aws:sleep\n    inputs: {Duration: PT1H}\n")
	doc, diags := document.Parse("sleep.yaml", src)
	if doc == nil || hasError(diags) {
		b.Fatalf("sleep runbook: %v", diags)
	}
	for b.Loop() {
		var waiting atomic.Int64
		all := make(chan struct{})
		eng := benchEngine(b, func(_ *State, ev store.Event) {
			if ev.Type == evStepWaiting && waiting.Add(1) == execs {
				close(all)
			}
		})
		runtime.GC()
		rss0, heap0 := rssBytes(b), heapBytes()
		startMany(b, eng, doc, src, execs)
		select {
		case <-all:
		case <-time.After(2 * time.Minute):
			b.Fatalf("only %d of %d executions reached their sleep", waiting.Load(), execs)
		}
		runtime.GC()
		rss, heap := rssBytes(b)-rss0, heapBytes()-heap0
		b.ReportMetric(float64(rss)/(1<<20), "MB-rss")
		b.ReportMetric(float64(rss0+rss)/(1<<20), "MB-rss-process")
		b.ReportMetric(float64(rss)/execs/1024, "KB-rss/exec")
		b.ReportMetric(float64(heap)/execs/1024, "KB-heap/exec")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		eng.Shutdown()
	}
}

// rssBytes reads the process's resident set size from /proc/self/status.
func rssBytes(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func heapBytes() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// cpuTime is the process's user+system CPU time. The machine is shared, so
// wall-clock figures swing with other load; CPU per step is the steadier one.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
