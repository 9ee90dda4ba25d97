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

// CreateWebhook implements store.Webhooks.
func (d *DB) CreateWebhook(ctx context.Context, w store.Webhook) error {
	data, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("create webhook %s: %w", w.Name, err)
	}
	err = d.write(ctx, func(ctx context.Context, c *wconn) error {
		err := c.exec(ctx, `INSERT INTO webhooks (name, data) VALUES (?, ?)`, w.Name, data)
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return clean(store.ErrExists)
		}
		return clean(err)
	})
	if err != nil {
		return fmt.Errorf("create webhook %s: %w", w.Name, err)
	}
	return nil
}

// GetWebhook implements store.Webhooks.
func (d *DB) GetWebhook(ctx context.Context, name string) (store.Webhook, error) {
	var data []byte
	err := d.read.QueryRowContext(ctx, `SELECT data FROM webhooks WHERE name = ?`, name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Webhook{}, fmt.Errorf("webhook %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Webhook{}, fmt.Errorf("get webhook %s: %w", name, err)
	}
	var w store.Webhook
	if err := json.Unmarshal(data, &w); err != nil {
		return store.Webhook{}, fmt.Errorf("get webhook %s: %w", name, err)
	}
	return w, nil
}

// ListWebhooks implements store.Webhooks.
func (d *DB) ListWebhooks(ctx context.Context) ([]store.Webhook, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT data FROM webhooks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		var w store.Webhook
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// DeleteWebhook implements store.Webhooks.
func (d *DB) DeleteWebhook(ctx context.Context, name string) error {
	err := d.write(ctx, func(ctx context.Context, c *wconn) error {
		res, err := c.conn.ExecContext(ctx, `DELETE FROM webhooks WHERE name = ?`, name)
		if err != nil {
			return clean(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", name, err)
	}
	return nil
}

// SetWebhookToken implements store.Webhooks.
func (d *DB) SetWebhookToken(ctx context.Context, name string, hash []byte) error {
	err := d.write(ctx, func(ctx context.Context, c *wconn) error {
		var data []byte
		if err := c.conn.QueryRowContext(ctx, `SELECT data FROM webhooks WHERE name = ?`, name).Scan(&data); errors.Is(err, sql.ErrNoRows) {
			return clean(store.ErrNotFound)
		} else if err != nil {
			return clean(err)
		}
		var w store.Webhook
		if err := json.Unmarshal(data, &w); err != nil {
			return clean(err)
		}
		w.TokenHash = hash
		b, err := json.Marshal(w)
		if err != nil {
			return clean(err)
		}
		return clean(c.exec(ctx, `UPDATE webhooks SET data = ? WHERE name = ?`, b, name))
	})
	if err != nil {
		return fmt.Errorf("rotate token of webhook %s: %w", name, err)
	}
	return nil
}

var _ store.Webhooks = (*DB)(nil)
