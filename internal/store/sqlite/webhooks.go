package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/capstan-run/capstan/internal/store"
)

// CreateWebhook implements store.Webhooks.
func (d *DB) CreateWebhook(ctx context.Context, w store.Webhook) error {
	data, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("create webhook %s: %w", w.Name, err)
	}
	return d.insertNew(ctx, "create webhook "+w.Name, `INSERT INTO webhooks (name, data) VALUES (?, ?)`, w.Name, data)
}

// GetWebhook implements store.Webhooks.
func (d *DB) GetWebhook(ctx context.Context, name string) (store.Webhook, error) {
	return getJSON[store.Webhook](ctx, d, "webhook "+name, `SELECT data FROM webhooks WHERE name = ?`, name)
}

// ListWebhooks implements store.Webhooks.
func (d *DB) ListWebhooks(ctx context.Context) ([]store.Webhook, error) {
	return listJSON[store.Webhook](ctx, d, "list webhooks", `SELECT data FROM webhooks ORDER BY name`)
}

// DeleteWebhook implements store.Webhooks.
func (d *DB) DeleteWebhook(ctx context.Context, name string) error {
	return d.changeOne(ctx, "delete webhook "+name, `DELETE FROM webhooks WHERE name = ?`, name)
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
