package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// countingInvoker counts the calls of each operation; with block set, every
// call waits for the end of its context instead of answering.
type countingInvoker struct {
	mu    *sync.Mutex
	calls map[string]int
	block bool
}

func (c countingInvoker) Invoke(ctx context.Context, service, operation string, _ map[string]any) (map[string]any, error) {
	c.mu.Lock()
	c.calls[awsservice.OperationName(operation)]++
	c.mu.Unlock()
	if c.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return map[string]any{}, nil
}

func newCountingEngine(t *testing.T, st store.Store, block bool) (*Engine, func(op string) int) {
	var mu sync.Mutex
	calls := map[string]int{}
	eng := New(Options{Store: st, Actions: action.Builtin(), Region: "us-east-1", AccountID: "123456789012",
		NewInvoker: func(ctx context.Context, req InvokerRequest) (action.Invoker, error) {
			return countingInvoker{mu: &mu, calls: calls, block: block}, nil
		}})
	t.Cleanup(eng.Shutdown)
	return eng, func(op string) int {
		mu.Lock()
		defer mu.Unlock()
		return calls[op]
	}
}

func startSrc(t *testing.T, eng *Engine, src string) string {
	t.Helper()
	doc, diags := document.Parse("test.yaml", []byte(src))
	if doc == nil || hasError(diags) {
		t.Fatalf("parse: %v", diags)
	}
	id, err := eng.Start(context.Background(), StartRequest{Document: doc, Source: []byte(src), DocumentName: "test", Parameters: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestResumeInFlightReadOnlyAPIStep: an aws:executeAwsApi step calling a
// read-only operation (here in boto3's snake_case) that a crash interrupted
// is called again at the resume; one calling a mutating operation still
// fails as not safe to run again.
func TestResumeInFlightReadOnlyAPIStep(t *testing.T) {
	for _, tc := range []struct {
		api, op   string
		reruns    bool
		statuses  string
		failureIn string
	}{
		{"describe_instances", "DescribeInstances", true, "call=Success report=Success", ""},
		{"GetCallerIdentity", "GetCallerIdentity", true, "call=Success report=Success", ""},
		{"PutParameter", "PutParameter", false, "call=Failed report=Success", "not safe to run again"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			db, err := sqlite.Open(context.Background(), t.TempDir()+"/capstan.db", sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			first, _ := newCountingEngine(t, db, true)
			id := startSrc(t, first, `
schemaVersion: "0.3"
mainSteps:
  - name: call
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: `+tc.api+`, Name: x, Value: y}
    onFailure: "step:report"
  - {name: report, action: aws:sleep, inputs: {Duration: PT0S}}
`)
			h := &harness{t: t, eng: first}
			waitFor(t, h, id, func(st *State) bool { return len(st.Steps) == 1 })
			first.Shutdown()

			second, calls := newCountingEngine(t, db, false)
			if err := second.Resume(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			st, err := second.Wait(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := calls(tc.op), map[bool]int{true: 1, false: 0}[tc.reruns]; got != want {
				t.Errorf("%s called %d times at the resume; want %d", tc.op, got, want)
			}
			if got := statuses(st); got != tc.statuses {
				t.Errorf("steps %q; want %q", got, tc.statuses)
			}
			if tc.failureIn != "" && !strings.Contains(st.Steps[0].FailureMessage, tc.failureIn) {
				t.Errorf("failure %q does not say %q", st.Steps[0].FailureMessage, tc.failureIn)
			}
		})
	}
}
