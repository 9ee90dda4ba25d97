// Package storetest is the conformance suite every store.Store implementation
// passes: call Run from the implementation's tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// Run runs the suite against a whole store. open returns a new, empty
// store; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	RunExecutions(t, func(t *testing.T) store.ExecutionStore { return open(t) })
	RunCalls(t, func(t *testing.T) ExecutionCallStore { return open(t) })
	RunDocuments(t, func(t *testing.T) store.DocumentStore { return open(t) })
	RunSecrets(t, func(t *testing.T) store.SecretStore { return open(t) })
	RunUsers(t, func(t *testing.T) store.UserStore { return open(t) })
	RunSignals(t, func(t *testing.T) ExecutionSignalStore { return open(t) })
	RunProjects(t, func(t *testing.T) ProjectStore { return open(t) })
	RunLeases(t, func(t *testing.T) ExecutionLeaseStore { return open(t) })
}

// RunExecutions checks the executions and their event logs.
func RunExecutions(t *testing.T, open func(t *testing.T) store.ExecutionStore) {
	t.Run("executions", func(t *testing.T) { t.Parallel(); testExecutions(t, open) })
	t.Run("append-conflict", func(t *testing.T) { t.Parallel(); testAppendConflict(t, open) })
	t.Run("concurrent-appends", func(t *testing.T) { t.Parallel(); testConcurrentAppends(t, open) })
	t.Run("list-executions", func(t *testing.T) { t.Parallel(); testListExecutions(t, open) })
	t.Run("client-token", func(t *testing.T) { t.Parallel(); testClientToken(t, open) })
}

// ExecutionCallStore is what the calls suite needs: calls belong to
// executions.
type ExecutionCallStore interface {
	store.ExecutionStore
	store.CallStore
}

// RunCalls checks the record of AWS calls.
func RunCalls(t *testing.T, open func(t *testing.T) ExecutionCallStore) {
	t.Run("calls", func(t *testing.T) { t.Parallel(); testCalls(t, open) })
	t.Run("delete-finished", func(t *testing.T) { t.Parallel(); testDeleteFinished(t, open) })
}

// RunDocuments checks the versioned documents.
func RunDocuments(t *testing.T, open func(t *testing.T) store.DocumentStore) {
	t.Run("documents", func(t *testing.T) { t.Parallel(); testDocuments(t, open) })
	t.Run("document-delete", func(t *testing.T) { t.Parallel(); testDocumentDelete(t, open) })
	t.Run("list-documents", func(t *testing.T) { t.Parallel(); testListDocuments(t, open) })
}

// RunSecrets checks sealed key storage.
func RunSecrets(t *testing.T, open func(t *testing.T) store.SecretStore) {
	t.Run("secrets", func(t *testing.T) { t.Parallel(); testSecrets(t, open) })
}

// RunUsers checks the users of the API.
func RunUsers(t *testing.T, open func(t *testing.T) store.UserStore) {
	t.Run("users", func(t *testing.T) { t.Parallel(); testUsers(t, open) })
}

// openStore opens a store and closes it when the test ends, if it can be
// closed.
func openStore[S any](t *testing.T, open func(t *testing.T) S) S {
	t.Helper()
	s := open(t)
	if c, ok := any(s).(io.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	return s
}

// base is 2026-01-02 at noon UTC; tests place executions relative to it.
var base = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func execution(id string, start time.Time) store.Execution {
	return store.Execution{
		ID: id, DocumentName: "AWS-RestartEC2Instance", DocumentVersion: "1", Status: "InProgress",
		Mode: "Auto", ExecutedBy: "arn:aws:iam::123456789012:user/alice", AutomationType: "Local",
		StartTime: start, Project: store.DefaultProject,
	}
}

func ev(typ, data string) store.Event {
	return store.Event{Type: typ, Time: base, Data: []byte(data)}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testExecutions(t *testing.T, open func(t *testing.T) store.ExecutionStore) {
	s, ctx := openStore(t, open), context.Background()
	e := execution("e1", base)
	e.Tags = map[string]string{"team": "infra"}
	evs := []store.Event{ev("ExecutionStarted", `{"params":{"InstanceId":["i-1"]}}`), ev("StepStarted", `{"step":"stop"}`)}
	must(t, "create", s.CreateExecution(ctx, e, evs))
	if evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("create assigned seqs %d, %d; want 1, 2", evs[0].Seq, evs[1].Seq)
	}
	wantErr(t, "create duplicate", s.CreateExecution(ctx, execution("e1", base), nil), store.ErrExists)

	got, err := s.Execution(ctx, "e1")
	must(t, "get", err)
	e.Seq = 2
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("get after create:\n got %+v\nwant %+v", got, e)
	}

	// Append the step's end and the execution's end; the summary follows.
	e.Status, e.Done, e.EndTime = "Success", true, base.Add(3*time.Second)
	e.CurrentStep, e.CurrentAction = "stop", "aws:changeInstanceState"
	e.Outputs = map[string][]string{"stop.Output": {"a", "b"}}
	e.FailureMessage = ""
	more := []store.Event{ev("StepSucceeded", `{"outputs":{"x":1}}`), ev("ExecutionFinished", `{}`)}
	must(t, "append", s.Append(ctx, e, more))
	if more[0].Seq != 3 || more[1].Seq != 4 {
		t.Fatalf("append assigned seqs %d, %d; want 3, 4", more[0].Seq, more[1].Seq)
	}
	got, err = s.Execution(ctx, "e1")
	must(t, "get", err)
	e.Seq = 4
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("get after append:\n got %+v\nwant %+v", got, e)
	}

	all := append(append([]store.Event{}, evs...), more...)
	for _, tc := range []struct {
		after int64
		want  []store.Event
	}{{0, all}, {2, all[2:]}, {3, all[3:]}, {4, nil}, {99, nil}} {
		got, err := s.Events(ctx, "e1", tc.after)
		must(t, "events", err)
		if len(got) != len(tc.want) {
			t.Fatalf("events after %d: %d events, want %d", tc.after, len(got), len(tc.want))
		}
		for i := range got {
			w := tc.want[i]
			if got[i].Seq != w.Seq || got[i].Type != w.Type || string(got[i].Data) != string(w.Data) || !got[i].Time.Equal(w.Time) {
				t.Fatalf("events after %d [%d] = %+v, want %+v", tc.after, i, got[i], w)
			}
		}
	}

	// Events without a Time get the store's clock.
	e2 := execution("e2", base)
	noTime := []store.Event{{Type: "ExecutionStarted"}}
	must(t, "create e2", s.CreateExecution(ctx, e2, noTime))
	got2, err := s.Events(ctx, "e2", 0)
	must(t, "events e2", err)
	if len(got2) != 1 || got2[0].Time.IsZero() {
		t.Fatalf("event without time: %+v, want the store's time", got2)
	}

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"get", func() error { _, err := s.Execution(ctx, "nope"); return err }()},
		{"events", func() error { _, err := s.Events(ctx, "nope", 0); return err }()},
		{"append", s.Append(ctx, execution("nope", base), []store.Event{ev("X", "{}")})},
	} {
		wantErr(t, tc.name+" unknown execution", tc.err, store.ErrNotFound)
	}

	un, err := s.Unfinished(ctx)
	must(t, "unfinished", err)
	if len(un) != 1 || un[0].ID != "e2" {
		t.Fatalf("unfinished = %v, want only e2", ids(un))
	}
}

func testAppendConflict(t *testing.T, open func(t *testing.T) store.ExecutionStore) {
	s, ctx := openStore(t, open), context.Background()
	e := execution("c1", base)
	must(t, "create", s.CreateExecution(ctx, e, []store.Event{ev("ExecutionStarted", "{}")}))
	e.Seq = 1
	must(t, "append", s.Append(ctx, e, []store.Event{ev("StepStarted", "{}")}))
	for _, stale := range []int64{0, 1, 5} {
		e.Seq = stale
		e.Status = "Failed"
		wantErr(t, fmt.Sprintf("append with seq %d", stale), s.Append(ctx, e, []store.Event{ev("Bogus", "{}")}), store.ErrConflict)
	}
	got, err := s.Execution(ctx, "c1")
	must(t, "get", err)
	if got.Seq != 2 || got.Status != "InProgress" {
		t.Fatalf("after refused appends: seq %d status %s, want 2 InProgress (nothing of a refused append is kept)", got.Seq, got.Status)
	}
	evs, err := s.Events(ctx, "c1", 0)
	must(t, "events", err)
	if len(evs) != 2 {
		t.Fatalf("after refused appends: %d events, want 2", len(evs))
	}
}

// testConcurrentAppends races writers on many executions and on one: every
// append either lands or is refused with ErrConflict, never both, never lost.
func testConcurrentAppends(t *testing.T, open func(t *testing.T) store.ExecutionStore) {
	s, ctx := openStore(t, open), context.Background()
	const execs, per = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, execs+8)
	for i := range execs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := execution(fmt.Sprintf("p%02d", i), base.Add(time.Duration(i)*time.Second))
			if err := s.CreateExecution(ctx, e, []store.Event{ev("ExecutionStarted", "{}")}); err != nil {
				errs <- err
				return
			}
			e.Seq = 1
			for j := range per {
				if err := s.Append(ctx, e, []store.Event{ev("Step", fmt.Sprintf(`{"j":%d}`, j))}); err != nil {
					errs <- err
					return
				}
				e.Seq++
			}
		}()
	}
	// Eight writers fight over one execution, each re-reading on conflict.
	must(t, "create shared", s.CreateExecution(ctx, execution("shared", base), nil))
	var landed sync.Map
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; {
				cur, err := s.Execution(ctx, "shared")
				if err != nil {
					errs <- err
					return
				}
				evs := []store.Event{ev("W", fmt.Sprintf(`"%d-%d"`, w, j))}
				switch err := s.Append(ctx, cur, evs); {
				case errors.Is(err, store.ErrConflict):
					continue
				case err != nil:
					errs <- err
					return
				}
				landed.Store(evs[0].Seq, string(evs[0].Data))
				j++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	for i := range execs {
		evs, err := s.Events(ctx, fmt.Sprintf("p%02d", i), 0)
		must(t, "events", err)
		if len(evs) != per+1 {
			t.Fatalf("p%02d: %d events, want %d", i, len(evs), per+1)
		}
		for k, e := range evs {
			if e.Seq != int64(k+1) {
				t.Fatalf("p%02d: event %d has seq %d", i, k, e.Seq)
			}
		}
	}
	evs, err := s.Events(ctx, "shared", 0)
	must(t, "events shared", err)
	if len(evs) != 80 {
		t.Fatalf("shared: %d events, want 80 (8 writers x 10 acknowledged appends)", len(evs))
	}
	for _, e := range evs {
		if want, ok := landed.Load(e.Seq); !ok || want != string(e.Data) {
			t.Fatalf("shared: stored seq %d = %s, acknowledged %v", e.Seq, e.Data, want)
		}
	}
}

func ids(list []store.Execution) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.ID
	}
	return out
}

func testListExecutions(t *testing.T, open func(t *testing.T) store.ExecutionStore) {
	s, ctx := openStore(t, open), context.Background()
	mk := func(id, doc, status, parent, action, typ string, minute int, tags map[string]string) {
		e := execution(id, base.Add(time.Duration(minute)*time.Minute))
		e.DocumentName, e.Status, e.ParentID, e.CurrentAction, e.AutomationType, e.Tags = doc, status, parent, action, typ, tags
		e.Done = status == "Success" || status == "Failed"
		must(t, "create "+id, s.CreateExecution(ctx, e, nil))
	}
	mk("a", "AWS-StopEC2Instance", "Success", "", "aws:changeInstanceState", "Local", 1, map[string]string{"env": "prod"})
	mk("b", "AWS-StartEC2Instance", "InProgress", "", "aws:executeAwsApi", "Local", 2, nil)
	mk("c", "Custom-Thing", "Failed", "a", "aws:sleep", "CrossAccount", 3, map[string]string{"owner": "bob"})
	mk("d", "AWS-StopEC2Instance", "InProgress", "a", "aws:sleep", "Local", 4, map[string]string{"env": "dev", "owner": "x"})
	mk("e", "Custom_Thing", "Failed", "", "aws:sleep", "Local", 4, nil) // same start as d: id breaks the tie

	for _, tc := range []struct {
		name string
		f    store.ExecutionFilter
		want []string
	}{
		{"all newest first", store.ExecutionFilter{}, []string{"e", "d", "c", "b", "a"}},
		{"name prefix", store.ExecutionFilter{DocumentNamePrefix: "AWS-Stop"}, []string{"d", "a"}},
		{"prefix is literal", store.ExecutionFilter{DocumentNamePrefix: "Custom_"}, []string{"e"}},
		{"statuses", store.ExecutionFilter{Statuses: []string{"Failed", "Success"}}, []string{"e", "c", "a"}},
		{"ids", store.ExecutionFilter{IDs: []string{"b", "d", "zz"}}, []string{"d", "b"}},
		{"parents", store.ExecutionFilter{ParentIDs: []string{"a"}}, []string{"d", "c"}},
		{"current action", store.ExecutionFilter{CurrentActions: []string{"aws:sleep"}}, []string{"e", "d", "c"}},
		{"automation type", store.ExecutionFilter{AutomationTypes: []string{"CrossAccount"}}, []string{"c"}},
		{"tag keys", store.ExecutionFilter{TagKeys: []string{"owner"}}, []string{"d", "c"}},
		{"tag keys any", store.ExecutionFilter{TagKeys: []string{"env", "owner"}}, []string{"d", "c", "a"}},
		{"before", store.ExecutionFilter{StartTimeBefore: base.Add(3 * time.Minute)}, []string{"b", "a"}},
		{"after", store.ExecutionFilter{StartTimeAfter: base.Add(3 * time.Minute)}, []string{"e", "d"}},
		{"combined", store.ExecutionFilter{DocumentNamePrefix: "AWS-", Statuses: []string{"InProgress"}, ParentIDs: []string{"a"}}, []string{"d"}},
		{"none", store.ExecutionFilter{Statuses: []string{"Cancelled"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListExecutions(ctx, tc.f)
			must(t, "list", err)
			if !reflect.DeepEqual(ids(got), append([]string{}, tc.want...)) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("list = %v, want %v", ids(got), tc.want)
			}
			if next != "" {
				t.Fatalf("single page returned next token %q", next)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		for _, size := range []int{1, 2, 3, 5} {
			var all []string
			tok := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("page size %d: no end", size)
				}
				got, next, err := s.ListExecutions(ctx, store.ExecutionFilter{Limit: size, PageToken: tok})
				must(t, "list page", err)
				if len(got) > size {
					t.Fatalf("page size %d: got %d", size, len(got))
				}
				all = append(all, ids(got)...)
				if next == "" {
					break
				}
				tok = next
			}
			if !reflect.DeepEqual(all, []string{"e", "d", "c", "b", "a"}) {
				t.Fatalf("page size %d: paged through %v", size, all)
			}
		}
		_, _, err := s.ListExecutions(ctx, store.ExecutionFilter{PageToken: "%%garbage"})
		wantErr(t, "bad token", err, store.ErrInvalidToken)
	})
}

func testClientToken(t *testing.T, open func(t *testing.T) store.ExecutionStore) {
	s, ctx := openStore(t, open), context.Background()
	_, err := s.ClientToken(ctx, "tok-1")
	wantErr(t, "unused token", err, store.ErrNotFound)
	e := execution("x1", base)
	e.ClientToken = "tok-1"
	must(t, "create", s.CreateExecution(ctx, e, nil))
	id, err := s.ClientToken(ctx, "tok-1")
	must(t, "token", err)
	if id != "x1" {
		t.Fatalf("token names %q, want x1", id)
	}
	e2 := execution("x2", base)
	e2.ClientToken = "tok-1"
	wantErr(t, "reused token", s.CreateExecution(ctx, e2, nil), store.ErrExists)
	if _, err := s.Execution(ctx, "x2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("execution refused for its token was stored anyway: %v", err)
	}
	// Executions without a token never collide.
	must(t, "no token a", s.CreateExecution(ctx, execution("n1", base), nil))
	must(t, "no token b", s.CreateExecution(ctx, execution("n2", base), nil))
}

func testCalls(t *testing.T, open func(t *testing.T) ExecutionCallStore) {
	s, ctx := openStore(t, open), context.Background()
	wantErr(t, "calls of unknown execution", s.AppendCalls(ctx, "nope", []store.Call{{Service: "ec2"}}), store.ErrNotFound)
	must(t, "create", s.CreateExecution(ctx, execution("k1", base), nil))
	first := []store.Call{
		{Step: "describe", Service: "ec2", Operation: "DescribeInstances", IAMAction: "ec2:DescribeInstances", Start: base, Duration: 1500 * time.Microsecond},
		{Step: "stop", Service: "ec2", Operation: "StopInstances", IAMAction: "ec2:StopInstances", Start: base.Add(time.Second), Duration: time.Millisecond, ErrorCode: "UnauthorizedOperation",
			ErrorMessage: "not authorized", Request: []byte(`{"InstanceIds":["i-1"]}`)},
		{Step: "look", Service: "ec2", Operation: "DescribeInstances", IAMAction: "ec2:DescribeInstances", Start: base.Add(time.Second), Duration: time.Millisecond,
			Request: []byte(`{}`), Response: []byte(`{"Reservations":[]}`)},
	}
	second := []store.Call{{Step: "logs", Service: "logs", Operation: "PutLogEvents", IAMAction: "logs:PutLogEvents", Start: base.Add(2 * time.Second), Duration: 3 * time.Millisecond}}
	must(t, "append calls", s.AppendCalls(ctx, "k1", first))
	must(t, "append calls", s.AppendCalls(ctx, "k1", second))
	got, err := s.Calls(ctx, "k1")
	must(t, "calls", err)
	want := append(append([]store.Call{}, first...), second...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n got %+v\nwant %+v", got, want)
	}

	// Calls handed to Append are recorded with its events, after the others;
	// a refused Append records none of them.
	third := []store.Call{{Step: "start", Service: "ec2", Operation: "StartInstances", IAMAction: "ec2:StartInstances", Start: base.Add(3 * time.Second), Duration: 2 * time.Millisecond}}
	e := execution("k1", base)
	stale := e
	stale.Seq = 7
	wantErr(t, "append with stale seq and calls", s.Append(ctx, stale, []store.Event{ev("StepSucceeded", "{}")}, third...), store.ErrConflict)
	wantErr(t, "append to unknown execution with calls", s.Append(ctx, execution("nope", base), []store.Event{ev("StepSucceeded", "{}")}, third...), store.ErrNotFound)
	must(t, "append with calls", s.Append(ctx, e, []store.Event{ev("StepSucceeded", "{}")}, third...))
	got, err = s.Calls(ctx, "k1")
	must(t, "calls", err)
	want = append(want, third...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("calls after Append:\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.Calls(ctx, "nope"); err != nil || len(got) != 0 {
		t.Fatalf("calls of unknown execution after a refused Append: %+v, %v", got, err)
	}
}
