package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DeleteFinished implements store.Store. The candidates are read on a read
// connection (WAL lets it run beside the writer); only the deletes go
// through the writer, as one short transaction per call, so running
// executions' writes wait for at most one batch.
func (d *DB) DeleteFinished(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("delete finished executions: limit %d: expected at least 1", limit)
	}
	rows, err := d.read.QueryContext(ctx, `SELECT n, id FROM executions WHERE done = 1 AND end_time < ? ORDER BY end_time LIMIT ?`, nanos(before), limit)
	if err != nil {
		return 0, fmt.Errorf("delete finished executions: %w", err)
	}
	var ns []any
	var ids []any
	for rows.Next() {
		var n int64
		var id string
		if err := rows.Scan(&n, &id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("delete finished executions: %w", err)
		}
		ns, ids = append(ns, n), append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("delete finished executions: %w", err)
	}
	if len(ns) == 0 {
		return 0, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(ns)), ",")
	deleted := 0
	err = d.write(ctx, func(ctx context.Context, w *wconn) error {
		// done = 1 again: a finished execution never becomes unfinished,
		// but the check keeps the delete safe if that ever changed.
		res, err := w.conn.ExecContext(ctx, `DELETE FROM executions WHERE done = 1 AND n IN (`+marks+`)`, ns...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		deleted = int(n)
		if _, err := w.conn.ExecContext(ctx, `DELETE FROM events WHERE exec_n IN (`+marks+`)`, ns...); err != nil {
			return err
		}
		if _, err := w.conn.ExecContext(ctx, `DELETE FROM calls WHERE exec_id IN (`+marks+`)`, ids...); err != nil {
			return err
		}
		_, err = w.conn.ExecContext(ctx, `DELETE FROM signals WHERE exec_id IN (`+marks+`)`, ids...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete finished executions: %w", err)
	}
	return deleted, nil
}
