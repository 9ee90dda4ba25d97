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

// RequestSignal implements store.SignalStore.
func (d *DB) RequestSignal(ctx context.Context, r store.SignalRequest) (int64, error) {
	payload, err := json.Marshal(r.Payload)
	if err != nil {
		return 0, fmt.Errorf("request signal %s for execution %s: %w", r.Type, r.ExecutionID, err)
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	var id int64
	err = d.write(ctx, func(ctx context.Context, w *wconn) error {
		// One statement: the execution must exist, and nothing is left to
		// undo when it does not.
		res, err := w.conn.ExecContext(ctx, `INSERT INTO signals (exec_id, type, payload, user, time)
			SELECT id, ?, ?, ?, ? FROM executions WHERE id = ?`, r.Type, string(payload), r.User, nanos(r.Time), r.ExecutionID)
		if err != nil {
			return clean(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(store.ErrNotFound)
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("request signal %s for execution %s: %w", r.Type, r.ExecutionID, err)
	}
	return id, nil
}

// PendingSignals implements store.SignalStore. The ids travel as one JSON
// array, so any number of executions takes one bound parameter.
func (d *DB) PendingSignals(ctx context.Context, executionIDs []string) ([]store.SignalRequest, error) {
	if len(executionIDs) == 0 {
		return nil, nil
	}
	ids, err := json.Marshal(executionIDs)
	if err != nil {
		return nil, fmt.Errorf("pending signals: %w", err)
	}
	rows, err := d.read.QueryContext(ctx, `SELECT id, exec_id, type, payload, user, time FROM signals
		WHERE settled = 0 AND exec_id IN (SELECT value FROM json_each(?)) ORDER BY id`, string(ids))
	if err != nil {
		return nil, fmt.Errorf("pending signals: %w", err)
	}
	defer rows.Close()
	var out []store.SignalRequest
	for rows.Next() {
		var r store.SignalRequest
		var payload string
		var t int64
		if err := rows.Scan(&r.ID, &r.ExecutionID, &r.Type, &payload, &r.User, &t); err != nil {
			return nil, fmt.Errorf("pending signals: %w", err)
		}
		if err := json.Unmarshal([]byte(payload), &r.Payload); err != nil {
			return nil, fmt.Errorf("pending signals: request %d: %w", r.ID, err)
		}
		r.Time = fromNanos(t)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending signals: %w", err)
	}
	return out, nil
}

// SettleSignal implements store.SignalStore.
func (d *DB) SettleSignal(ctx context.Context, id int64, refusal string) error {
	return d.changeOne(ctx, fmt.Sprintf("settle signal request %d", id), `UPDATE signals SET settled = 1, refusal = ? WHERE id = ? AND settled = 0`, refusal, id)
}

// SignalSettlement implements store.SignalStore.
func (d *DB) SignalSettlement(ctx context.Context, id int64) (store.SignalSettlement, error) {
	var out store.SignalSettlement
	err := d.read.QueryRowContext(ctx, `SELECT settled, refusal FROM signals WHERE id = ?`, id).Scan(&out.Settled, &out.Refusal)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.SignalSettlement{}, fmt.Errorf("signal request %d: %w", id, err)
	}
	return out, nil
}

var _ store.SignalStore = (*DB)(nil)
