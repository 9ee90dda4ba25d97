package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// AcquireLease implements store.LeaseStore: one conditional UPDATE, so two
// processes racing for the lease cannot both win.
func (d *DB) AcquireLease(ctx context.Context, id, owner string, now, until time.Time) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		res, err := w.conn.ExecContext(ctx, `UPDATE executions SET lease_owner = ?, lease_until = ?
			WHERE id = ? AND (lease_owner = '' OR lease_owner = ? OR lease_until <= ?)`,
			owner, nanos(until), id, owner, nanos(now))
		if err != nil {
			return clean(err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		l := store.Lease{ExecutionID: id}
		var t int64
		err = w.conn.QueryRowContext(ctx, `SELECT lease_owner, lease_until FROM executions WHERE id = ?`, id).Scan(&l.Owner, &t)
		if errors.Is(err, sql.ErrNoRows) {
			return clean(store.ErrNotFound)
		}
		if err != nil {
			return clean(err)
		}
		l.Until = fromNanos(t)
		return clean(&store.LeasedError{Lease: l})
	})
	if err != nil {
		return fmt.Errorf("lease execution %s: %w", id, err)
	}
	return nil
}

// RenewLeases implements store.LeaseStore. The ids travel as one JSON
// array, so renewing every execution of a process is one statement.
func (d *DB) RenewLeases(ctx context.Context, owner string, ids []string, until time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	held := map[string]bool{}
	err = d.write(ctx, func(ctx context.Context, w *wconn) error {
		rows, err := w.conn.QueryContext(ctx, `UPDATE executions SET lease_until = ?
			WHERE lease_owner = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id`,
			nanos(until), owner, string(list))
		if err != nil {
			return clean(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			held[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	var lost []string
	for _, id := range ids {
		if !held[id] {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// ReleaseLeases implements store.LeaseStore.
func (d *DB) ReleaseLeases(ctx context.Context, owner string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	err = d.write(ctx, func(ctx context.Context, w *wconn) error {
		return clean(w.exec(ctx, `UPDATE executions SET lease_owner = '', lease_until = 0
			WHERE lease_owner = ? AND id IN (SELECT value FROM json_each(?))`, owner, string(list)))
	})
	if err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}

var _ store.LeaseStore = (*DB)(nil)
