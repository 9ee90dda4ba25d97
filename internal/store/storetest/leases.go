package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// ExecutionLeaseStore is what the leases suite needs: leases belong to
// executions.
type ExecutionLeaseStore interface {
	store.ExecutionStore
	store.LeaseStore
}

// RunLeases checks the runner leases: one owner at a time, a lease past its
// end is taken over, renewal reports what was lost, release frees only the
// owner's own leases.
func RunLeases(t *testing.T, open func(t *testing.T) ExecutionLeaseStore) {
	t.Run("leases", func(t *testing.T) { t.Parallel(); testLeases(t, open) })
	t.Run("lease-race", func(t *testing.T) { t.Parallel(); testLeaseRace(t, open) })
}

func testLeases(t *testing.T, open func(t *testing.T) ExecutionLeaseStore) {
	s, ctx := openStore(t, open), context.Background()
	for _, id := range []string{"l1", "l2"} {
		must(t, "create "+id, s.CreateExecution(ctx, execution(id, base), []store.Event{ev("ExecutionStarted", "{}")}))
	}
	wantErr(t, "lease of an unknown execution", s.AcquireLease(ctx, "nope", "a", base, base.Add(time.Minute)), store.ErrNotFound)

	must(t, "a takes l1", s.AcquireLease(ctx, "l1", "a", base, base.Add(time.Minute)))
	must(t, "a takes l1 again", s.AcquireLease(ctx, "l1", "a", base, base.Add(time.Minute)))
	err := s.AcquireLease(ctx, "l1", "b", base.Add(30*time.Second), base.Add(90*time.Second))
	var leased *store.LeasedError
	if !errors.As(err, &leased) {
		t.Fatalf("b takes l1 while a's lease lasts: %v, want a *store.LeasedError", err)
	}
	if want := (store.Lease{ExecutionID: "l1", Owner: "a", Until: base.Add(time.Minute)}); leased.Lease.ExecutionID != want.ExecutionID ||
		leased.Lease.Owner != want.Owner || !leased.Lease.Until.Equal(want.Until) {
		t.Fatalf("refusal names %+v, want %+v", leased.Lease, want)
	}

	// Renewal moves the end, so b's later try is still refused.
	lost, err := s.RenewLeases(ctx, "a", []string{"l1", "l2", "unknown"}, base.Add(2*time.Minute))
	must(t, "a renews", err)
	if !reflect.DeepEqual(lost, []string{"l2", "unknown"}) {
		t.Fatalf("a's renewal lost %q, want l2 and unknown (never held)", lost)
	}
	if err := s.AcquireLease(ctx, "l1", "b", base.Add(90*time.Second), base.Add(3*time.Minute)); !errors.As(err, &leased) {
		t.Fatalf("b takes l1 after a renewed: %v, want refused", err)
	}

	// a dies: past the end, b takes over and a's renewal learns it lost.
	must(t, "b takes the expired l1", s.AcquireLease(ctx, "l1", "b", base.Add(2*time.Minute), base.Add(3*time.Minute)))
	lost, err = s.RenewLeases(ctx, "a", []string{"l1"}, base.Add(4*time.Minute))
	must(t, "a renews after the takeover", err)
	if !reflect.DeepEqual(lost, []string{"l1"}) {
		t.Fatalf("a's renewal after b took l1 lost %q, want l1", lost)
	}

	// Release frees only the owner's leases.
	must(t, "a releases l1 (b's)", s.ReleaseLeases(ctx, "a", []string{"l1"}))
	if err := s.AcquireLease(ctx, "l1", "c", base.Add(150*time.Second), base.Add(5*time.Minute)); !errors.As(err, &leased) || leased.Lease.Owner != "b" {
		t.Fatalf("c takes l1 after a released what it did not hold: %v, want refused by b", err)
	}
	must(t, "b releases l1", s.ReleaseLeases(ctx, "b", []string{"l1"}))
	must(t, "c takes the released l1", s.AcquireLease(ctx, "l1", "c", base.Add(150*time.Second), base.Add(5*time.Minute)))
	if lost, err := s.RenewLeases(ctx, "b", nil, base); err != nil || len(lost) != 0 {
		t.Fatalf("renewing nothing = %q, %v", lost, err)
	}
	must(t, "releasing nothing", s.ReleaseLeases(ctx, "b", nil))

	// An execution created with a lease is leased from its first moment.
	x := execution("l3", base)
	x.LeaseOwner, x.LeaseUntil = "a", base.Add(time.Minute)
	must(t, "create l3 leased to a", s.CreateExecution(ctx, x, []store.Event{ev("ExecutionStarted", "{}")}))
	if err := s.AcquireLease(ctx, "l3", "b", base, base.Add(time.Minute)); !errors.As(err, &leased) || leased.Lease.Owner != "a" {
		t.Fatalf("b takes l3, created leased to a: %v, want refused by a", err)
	}
	if lost, err := s.RenewLeases(ctx, "a", []string{"l3"}, base.Add(2*time.Minute)); err != nil || len(lost) != 0 {
		t.Fatalf("a renews l3 = lost %q, %v; want held", lost, err)
	}
	// A read of the execution shows who runs it, until when.
	if got, err := s.Execution(ctx, "l3"); err != nil || got.LeaseOwner != "a" || !got.LeaseUntil.Equal(base.Add(2*time.Minute)) {
		t.Fatalf("read of l3 = lease %q until %v, %v; want a until %v", got.LeaseOwner, got.LeaseUntil, err, base.Add(2*time.Minute))
	}
	must(t, "a releases l3", s.ReleaseLeases(ctx, "a", []string{"l3"}))
	if got, err := s.Execution(ctx, "l3"); err != nil || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
		t.Fatalf("read of released l3 = lease %q until %v, %v; want none", got.LeaseOwner, got.LeaseUntil, err)
	}
}

// testLeaseRace: of owners racing for one free lease, exactly one wins.
func testLeaseRace(t *testing.T, open func(t *testing.T) ExecutionLeaseStore) {
	s, ctx := openStore(t, open), context.Background()
	must(t, "create", s.CreateExecution(ctx, execution("race", base), []store.Event{ev("ExecutionStarted", "{}")}))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AcquireLease(ctx, "race", string(rune('a'+i)), base, base.Add(time.Minute))
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		var leased *store.LeasedError
		switch {
		case err == nil:
			won++
		case !errors.As(err, &leased):
			t.Fatalf("owner %d: %v, want won or *store.LeasedError", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d owners won the lease, want exactly 1", won)
	}
}
