package store

import (
	"context"
	"time"
)

// SignalRequest is a signal or a stop asked of an execution: the front end
// that takes it (any process on the database) records it after checking it
// against the execution's stored state, and the process running the
// execution applies it, once, recording it in the execution's events.
type SignalRequest struct {
	ID          int64 // assigned by the store, increasing
	ExecutionID string
	// Type is the engine's name of the request: an SSM signal type
	// (Approve, StartStep, ...) or a stop (Cancel, Abort, Complete).
	Type    string
	Payload map[string][]string
	User    string    // the caller's ARN or name; "" for anonymous
	Time    time.Time // set to the current time by the store when zero
}

// SignalStore holds the signal requests not yet applied: the inbox through
// which a process that does not run an execution signals or stops it.
type SignalStore interface {
	// RequestSignal records a pending request and returns its ID.
	// ErrNotFound when the execution does not exist.
	RequestSignal(ctx context.Context, r SignalRequest) (int64, error)
	// PendingSignals returns the pending requests of the executions named,
	// oldest first.
	PendingSignals(ctx context.Context, executionIDs []string) ([]SignalRequest, error)
	// SettleSignal ends a pending request: applied when refusal is "",
	// refused (and why) otherwise; it is pending no more. ErrNotFound when
	// no pending request has the ID.
	SettleSignal(ctx context.Context, id int64, refusal string) error
	// SignalSettlement tells what became of request id: still pending, or
	// settled and how. ErrNotFound when no request has the ID (it never
	// existed, or its execution was deleted).
	SignalSettlement(ctx context.Context, id int64) (SignalSettlement, error)
}

// SignalSettlement is where one request stands: pending until Settled;
// then applied when Refusal is "", refused for that reason otherwise.
type SignalSettlement struct {
	Settled bool
	Refusal string
}
