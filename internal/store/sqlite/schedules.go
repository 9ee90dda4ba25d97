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

// CreateSchedule implements store.Schedules.
func (d *DB) CreateSchedule(ctx context.Context, s store.Schedule) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", s.Name, err)
	}
	return d.insertNew(ctx, "create schedule "+s.Name, `INSERT INTO schedules (name, data, paused, next_run) VALUES (?, ?, ?, ?)`, s.Name, data, s.Paused, nanos(s.NextRun))
}

func scanSchedule(data []byte, paused bool, next int64) (store.Schedule, error) {
	var s store.Schedule
	if err := json.Unmarshal(data, &s); err != nil {
		return s, err
	}
	s.Paused, s.NextRun = paused, fromNanos(next)
	return s, nil
}

// GetSchedule implements store.Schedules.
func (d *DB) GetSchedule(ctx context.Context, name string) (store.Schedule, error) {
	var data []byte
	var paused bool
	var next int64
	err := d.read.QueryRowContext(ctx, `SELECT data, paused, next_run FROM schedules WHERE name = ?`, name).Scan(&data, &paused, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Schedule{}, fmt.Errorf("schedule %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Schedule{}, fmt.Errorf("get schedule %s: %w", name, err)
	}
	s, err := scanSchedule(data, paused, next)
	if err != nil {
		return store.Schedule{}, fmt.Errorf("get schedule %s: %w", name, err)
	}
	return s, nil
}

// ListSchedules implements store.Schedules.
func (d *DB) ListSchedules(ctx context.Context) ([]store.Schedule, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT data, paused, next_run FROM schedules ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	defer rows.Close()
	var out []store.Schedule
	for rows.Next() {
		var data []byte
		var paused bool
		var next int64
		if err := rows.Scan(&data, &paused, &next); err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		s, err := scanSchedule(data, paused, next)
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return out, nil
}

// changeSchedule runs an UPDATE or DELETE of one schedule by name,
// ErrNotFound when it touched none.
func (d *DB) changeSchedule(ctx context.Context, what, name, query string, args ...any) error {
	return d.changeOne(ctx, what+" schedule "+name, query, args...)
}

// DeleteSchedule implements store.Schedules.
func (d *DB) DeleteSchedule(ctx context.Context, name string) error {
	return d.changeSchedule(ctx, "delete", name, `DELETE FROM schedules WHERE name = ?`, name)
}

// PauseSchedule implements store.Schedules.
func (d *DB) PauseSchedule(ctx context.Context, name string, paused bool, next time.Time) error {
	if paused {
		return d.changeSchedule(ctx, "pause", name, `UPDATE schedules SET paused = 1 WHERE name = ?`, name)
	}
	return d.changeSchedule(ctx, "resume", name, `UPDATE schedules SET paused = 0, next_run = ? WHERE name = ?`, nanos(next), name)
}

// ClaimScheduleRun implements store.Schedules: a compare-and-swap of
// next_run in one statement, which SQLite's single writer serializes.
func (d *DB) ClaimScheduleRun(ctx context.Context, name string, due, next time.Time) (bool, error) {
	won := false
	err := d.write(ctx, func(ctx context.Context, c *wconn) error {
		res, err := c.conn.ExecContext(ctx, `UPDATE schedules SET next_run = ? WHERE name = ? AND next_run = ? AND paused = 0`, nanos(next), name, nanos(due))
		if err != nil {
			return clean(err)
		}
		n, _ := res.RowsAffected()
		won = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("claim run of schedule %s: %w", name, err)
	}
	return won, nil
}

var _ store.Schedules = (*DB)(nil)
