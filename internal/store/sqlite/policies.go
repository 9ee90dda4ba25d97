package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// PutPolicy implements store.Policies.
func (d *DB) PutPolicy(ctx context.Context, user string, document []byte) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		return clean(w.exec(ctx, `INSERT INTO policies (user, document, changed) VALUES (?, ?, ?)
			ON CONFLICT (user) DO UPDATE SET document = excluded.document, changed = excluded.changed`,
			user, document, nanos(time.Now())))
	})
	if err != nil {
		return fmt.Errorf("put policy of %s: %w", user, err)
	}
	return nil
}

// GetPolicy implements store.Policies.
func (d *DB) GetPolicy(ctx context.Context, user string) ([]byte, error) {
	var doc []byte
	err := d.read.QueryRowContext(ctx, `SELECT document FROM policies WHERE user = ?`, user).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("policy of %s: %w", user, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get policy of %s: %w", user, err)
	}
	return doc, nil
}

var _ store.Policies = (*DB)(nil)
