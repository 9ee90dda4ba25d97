package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/capstan-run/capstan/internal/store"
)

// The one way each simple statement of the small tables (secrets,
// passwords, policies, webhooks, schedules, signals) is run; what names the
// change or read in errors ("put secret x").

// exec1 runs one statement that may touch any number of rows (an upsert).
func (d *DB) exec1(ctx context.Context, what, query string, args ...any) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		return clean(w.exec(ctx, query, args...))
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// insertNew runs the INSERT of a named record: store.ErrExists when the
// name is taken.
func (d *DB) insertNew(ctx context.Context, what, query string, args ...any) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		err := w.exec(ctx, query, args...)
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return clean(store.ErrExists)
		}
		return clean(err)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// changeOne runs an UPDATE or DELETE that must touch a row:
// store.ErrNotFound when it touched none.
func (d *DB) changeOne(ctx context.Context, what, query string, args ...any) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		res, err := w.conn.ExecContext(ctx, query, args...)
		if err != nil {
			return clean(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// getBlob reads the one column of one row: store.ErrNotFound when there
// is no row, never nil when there is.
func (d *DB) getBlob(ctx context.Context, what, query string, args ...any) ([]byte, error) {
	var b []byte
	err := d.read.QueryRowContext(ctx, query, args...).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// getJSON reads one record kept as JSON in one column.
func getJSON[T any](ctx context.Context, d *DB, what, query string, args ...any) (T, error) {
	var v T
	b, err := d.getBlob(ctx, what, query, args...)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// listJSON reads the records kept as JSON in the one column of each row.
func listJSON[T any](ctx context.Context, d *DB, what, query string, args ...any) ([]T, error) {
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
