package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

var _ store.Logins = (*DB)(nil)

// SetPasswordHash implements store.Logins.
func (d *DB) SetPasswordHash(ctx context.Context, user string, hash []byte) error {
	if user == "" || len(hash) == 0 {
		return fmt.Errorf("set password of %q: user and hash are required", user)
	}
	return d.exec1(ctx, "set password of "+user, `INSERT INTO passwords (user, hash, changed) VALUES (?, ?, ?)
		ON CONFLICT (user) DO UPDATE SET hash = excluded.hash, changed = excluded.changed`, user, hash, nanos(time.Now()))
}

// PasswordHash implements store.Logins.
func (d *DB) PasswordHash(ctx context.Context, user string) ([]byte, error) {
	return d.getBlob(ctx, "password of "+user, `SELECT hash FROM passwords WHERE user = ?`, user)
}

// CreateSession implements store.Logins.
func (d *DB) CreateSession(ctx context.Context, s store.Session) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		err := w.exec(ctx, `INSERT INTO sessions (id, user, csrf, created, expires) VALUES (?, ?, ?, ?, ?)`,
			s.ID, s.User, s.CSRF, nanos(s.Created), nanos(s.Expires))
		if isConstraint(err) {
			return clean(store.ErrExists)
		}
		return clean(err)
	})
	if err != nil {
		return fmt.Errorf("create session of %s: %w", s.User, err)
	}
	return nil
}

// Session implements store.Logins.
func (d *DB) Session(ctx context.Context, id string, now time.Time) (store.Session, error) {
	s := store.Session{ID: id}
	var created, expires int64
	err := d.read.QueryRowContext(ctx, `SELECT user, csrf, created, expires FROM sessions WHERE id = ? AND expires > ?`, id, nanos(now)).
		Scan(&s.User, &s.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	s.Created, s.Expires = fromNanos(created), fromNanos(expires)
	return s, nil
}

// DeleteSession implements store.Logins.
func (d *DB) DeleteSession(ctx context.Context, id string) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		return w.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements store.Logins.
func (d *DB) DeleteUserSessions(ctx context.Context, user string) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		return w.exec(ctx, `DELETE FROM sessions WHERE user = ?`, user)
	})
	if err != nil {
		return fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return nil
}

// DeleteExpiredSessions implements store.Logins.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		res, err := w.conn.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, nanos(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}
