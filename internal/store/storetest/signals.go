package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// ExecutionSignalStore is what the signals suite needs: requests belong to
// executions.
type ExecutionSignalStore interface {
	store.ExecutionStore
	store.SignalStore
}

// RunSignals checks the inbox of signal requests: a request is pending until
// settled, exactly one of concurrent settlements wins, and deleting an
// execution deletes its requests.
func RunSignals(t *testing.T, open func(t *testing.T) ExecutionSignalStore) {
	t.Run("signals", func(t *testing.T) { t.Parallel(); testSignals(t, open) })
}

func testSignals(t *testing.T, open func(t *testing.T) ExecutionSignalStore) {
	s, ctx := openStore(t, open), context.Background()
	for _, id := range []string{"s1", "s2"} {
		must(t, "create "+id, s.CreateExecution(ctx, execution(id, base), []store.Event{ev("ExecutionStarted", "{}")}))
	}
	_, err := s.RequestSignal(ctx, store.SignalRequest{ExecutionID: "nope", Type: "Approve"})
	wantErr(t, "request for an unknown execution", err, store.ErrNotFound)

	approve := store.SignalRequest{ExecutionID: "s1", Type: "Approve", Payload: map[string][]string{"Comment": {"looks good"}}, User: "arn:aws:iam::123456789012:user/alice", Time: base}
	a, err := s.RequestSignal(ctx, approve)
	must(t, "request approve", err)
	b, err := s.RequestSignal(ctx, store.SignalRequest{ExecutionID: "s2", Type: "Cancel"})
	must(t, "request cancel", err)
	c, err := s.RequestSignal(ctx, store.SignalRequest{ExecutionID: "s1", Type: "Reject", Time: base.Add(time.Second)})
	must(t, "request reject", err)
	if !(a < b && b < c) {
		t.Fatalf("request ids %d, %d, %d: want increasing", a, b, c)
	}

	got, err := s.PendingSignals(ctx, []string{"s1"})
	must(t, "pending s1", err)
	approve.ID = a
	if len(got) != 2 || !reflect.DeepEqual(got[0], approve) || got[1].ID != c || got[1].Type != "Reject" {
		t.Fatalf("pending of s1 = %+v, want the approve (%+v) then the reject", got, approve)
	}
	if got, err := s.PendingSignals(ctx, []string{"s1", "s2", "unknown"}); err != nil || len(got) != 3 || got[1].ID != b || got[1].Time.IsZero() {
		t.Fatalf("pending of s1, s2 = %+v, %v: want 3 in request order, the store's time where none was given", got, err)
	}
	if got, err := s.PendingSignals(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("pending of no execution = %+v, %v", got, err)
	}

	// Of several processes settling one request, exactly one does.
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := s.SettleSignal(ctx, a, ""); {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("settle: %v", err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 8 concurrent settlements of one request won, want 1", won.Load())
	}
	if got, err := s.SignalSettlement(ctx, c); err != nil || got != (store.SignalSettlement{}) {
		t.Fatalf("settlement of a pending request = %+v, %v; want not settled", got, err)
	}
	must(t, "refuse", s.SettleSignal(ctx, c, "no step is waiting for a signal"))
	wantErr(t, "settle unknown", s.SettleSignal(ctx, 9999, ""), store.ErrNotFound)
	// The sender learns the verdict: applied, or refused and why.
	if got, err := s.SignalSettlement(ctx, a); err != nil || got != (store.SignalSettlement{Settled: true}) {
		t.Fatalf("settlement of an applied request = %+v, %v; want settled, no refusal", got, err)
	}
	if got, err := s.SignalSettlement(ctx, c); err != nil || got != (store.SignalSettlement{Settled: true, Refusal: "no step is waiting for a signal"}) {
		t.Fatalf("settlement of a refused request = %+v, %v; want settled with the refusal", got, err)
	}
	_, err = s.SignalSettlement(ctx, 9999)
	wantErr(t, "settlement of an unknown request", err, store.ErrNotFound)
	if got, err := s.PendingSignals(ctx, []string{"s1", "s2"}); err != nil || len(got) != 1 || got[0].ID != b {
		t.Fatalf("pending after settling = %+v, %v; want only the cancel", got, err)
	}

	// Deleting a finished execution deletes its requests.
	e := execution("s2", base)
	e.Seq, e.Status, e.Done, e.EndTime = 1, "Success", true, base.Add(time.Minute)
	must(t, "finish s2", s.Append(ctx, e, []store.Event{ev("ExecutionFinished", "{}")}))
	n, err := s.DeleteFinished(ctx, base.Add(time.Hour), 10)
	must(t, "delete finished", err)
	if n != 1 {
		t.Fatalf("deleted %d executions, want 1", n)
	}
	if got, err := s.PendingSignals(ctx, []string{"s2"}); err != nil || len(got) != 0 {
		t.Fatalf("pending of a deleted execution = %+v, %v", got, err)
	}
	wantErr(t, "settle a deleted request", s.SettleSignal(ctx, b, ""), store.ErrNotFound)
	_, err = s.SignalSettlement(ctx, b)
	wantErr(t, "settlement of a deleted request", err, store.ErrNotFound)
}
