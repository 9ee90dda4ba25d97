package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// Audit checks an audit log: records come back in order with everything
// they were given, filtered by user and paged by sequence number.
func Audit(t *testing.T, log store.AuditLog) {
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	recs := []store.AuditRecord{
		{Time: at, User: "alice", Action: "ssm:StartAutomationExecution", Resource: "arn:aws:ssm:us-east-1:1:automation-definition/D:$DEFAULT", Result: "Success", Source: "127.0.0.1:5000", Detail: "exec-1"},
		{Time: at.Add(time.Second), User: "bob", Action: "ssm:StopAutomationExecution", Resource: "arn:aws:ssm:us-east-1:1:automation-execution/exec-1", Result: "AccessDeniedException", Source: "127.0.0.1:5001"},
		{User: "alice", Action: "ssm:DeleteDocument", Resource: "arn:aws:ssm:us-east-1:1:document/D", Result: "Success", Source: "cli"},
	}
	var last int64
	for _, r := range recs {
		seq, err := log.AppendAudit(ctx, r)
		if err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		if seq <= last {
			t.Fatalf("AppendAudit seq %d after %d, want increasing", seq, last)
		}
		last = seq
	}
	all, err := log.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(all) != 3 {
		t.Fatalf("ListAudit = %d records, %v; want 3", len(all), err)
	}
	got := all[1]
	want := recs[1]
	want.Seq = got.Seq
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("record\n got %+v\nwant %+v", got, want)
	}
	if all[2].Time.IsZero() {
		t.Error("a record without a time got none; want the store's current time")
	}
	alice, err := log.ListAudit(ctx, store.AuditQuery{User: "alice"})
	if err != nil || len(alice) != 2 || alice[0].User != "alice" || alice[1].Action != "ssm:DeleteDocument" {
		t.Errorf("alice's records: %+v, %v", alice, err)
	}
	page, err := log.ListAudit(ctx, store.AuditQuery{AfterSeq: all[0].Seq, Limit: 1})
	if err != nil || len(page) != 1 || page[0].Seq != all[1].Seq {
		t.Errorf("the page after the first: %+v, %v", page, err)
	}
}
