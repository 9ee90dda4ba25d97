package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// AppendAudit implements store.AuditLog.
func (d *DB) AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	var seq int64
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		s, err := w.stmt(ctx, `INSERT INTO audit (time, user, action, resource, result, source, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`)
		if err != nil {
			return err
		}
		return clean(s.QueryRowContext(ctx, nanos(r.Time), r.User, r.Action, r.Resource, r.Result, r.Source, r.Detail).Scan(&seq))
	})
	if err != nil {
		return 0, fmt.Errorf("append audit record (%s %s by %s): %w", r.Action, r.Resource, r.User, err)
	}
	return seq, nil
}

// ListAudit implements store.AuditLog.
func (d *DB) ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	rows, err := d.read.QueryContext(ctx, `SELECT seq, time, user, action, resource, result, source, detail FROM audit
		WHERE seq > ? AND (? = '' OR user = ?) ORDER BY seq LIMIT ?`, q.AfterSeq, q.User, q.User, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var t int64
		if err := rows.Scan(&r.Seq, &t, &r.User, &r.Action, &r.Resource, &r.Result, &r.Source, &r.Detail); err != nil {
			return nil, fmt.Errorf("list audit records: %w", err)
		}
		r.Time = fromNanos(t)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	return out, nil
}

var _ store.AuditLog = (*DB)(nil)
