package store

import (
	"context"
	"time"
)

// AuditRecord is one call that changed something: an execution started,
// stopped or signalled, a document created, updated or deleted, a user, a
// policy or a key changed. Refused calls are recorded too, with their
// refusal as Result.
type AuditRecord struct {
	Seq      int64     // 1, 2, 3 ... assigned by the store
	Time     time.Time // set to the current time by the store when zero
	User     string    // the caller: a user name, or local:NAME for the CLI
	Action   string    // what was asked, e.g. ssm:StartAutomationExecution
	Resource string    // the ARN acted on
	Result   string    // "Success", or the error's kind (AccessDeniedException)
	Source   string    // the caller's network address, or "cli"
	Detail   string    // what else identifies the change (a new execution id)
}

// AuditQuery selects audit records, oldest first.
type AuditQuery struct {
	AfterSeq int64  // records after this one
	User     string // only this caller's; "" for all
	Limit    int    // at most this many; 0 for 1000
}

// AuditLog is the append-only record of changes. It has no way to change or
// delete a record: readers are admins, writers are the front ends.
type AuditLog interface {
	AppendAudit(ctx context.Context, r AuditRecord) (seq int64, err error)
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
}
