package store

import (
	"context"
	"fmt"
	"time"
)

// Lease is a process's claim to run an execution: the one process that
// drives it (appends its events, applies its signal requests) while the
// lease lasts. Several processes on one database use it so that only one of
// them resumes an unfinished execution.
type Lease struct {
	ExecutionID string
	// Owner names the process holding the lease (random per process).
	Owner string
	// Until is when the lease ends unless renewed; a lease past its end is
	// free to take: its owner is taken to have died.
	Until time.Time
}

// LeasedError is AcquireLease's refusal: another owner holds a lease that
// has not ended.
type LeasedError struct {
	Lease Lease
}

func (e *LeasedError) Error() string {
	return fmt.Sprintf("execution %s is being run by another process (%s, lease until %s)",
		e.Lease.ExecutionID, e.Lease.Owner, e.Lease.Until.UTC().Format(time.RFC3339))
}

// LeaseStore holds the runner leases of executions. Times are the caller's:
// every process on a database must agree on the time within a fraction of
// the lease length.
type LeaseStore interface {
	// AcquireLease makes owner the runner of execution id until until, in
	// one atomic step, when the execution has no lease, its lease ended at
	// or before now, or owner holds it already. *LeasedError otherwise;
	// ErrNotFound for an unknown execution.
	AcquireLease(ctx context.Context, id, owner string, now, until time.Time) error
	// RenewLeases moves to until the end of every lease owner holds among
	// ids, in one write, and returns the ids among them that owner does not
	// hold (any more): another owner took them over, they were released or
	// the execution is gone.
	RenewLeases(ctx context.Context, owner string, ids []string, until time.Time) (lost []string, err error)
	// ReleaseLeases ends the leases owner holds among ids; the leases of
	// other owners are left as they are.
	ReleaseLeases(ctx context.Context, owner string, ids []string) error
}
