package sqlite

import (
	"context"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// PutPolicy implements store.Policies.
func (d *DB) PutPolicy(ctx context.Context, user string, document []byte) error {
	return d.exec1(ctx, "put policy of "+user, `INSERT INTO policies (user, document, changed) VALUES (?, ?, ?)
		ON CONFLICT (user) DO UPDATE SET document = excluded.document, changed = excluded.changed`,
		user, document, nanos(time.Now()))
}

// GetPolicy implements store.Policies.
func (d *DB) GetPolicy(ctx context.Context, user string) ([]byte, error) {
	return d.getBlob(ctx, "policy of "+user, `SELECT document FROM policies WHERE user = ?`, user)
}

var _ store.Policies = (*DB)(nil)
