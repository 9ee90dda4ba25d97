package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// PutSecret implements store.Store.
func (d *DB) PutSecret(ctx context.Context, s store.Secret) error {
	if s.Path == "" {
		return fmt.Errorf("put secret: empty path")
	}
	sealed := s.Sealed
	if sealed == nil {
		sealed = []byte{} // the column is NOT NULL; an empty value is still a value
	}
	return d.exec1(ctx, "put secret "+s.Path, `INSERT INTO secrets (path, sealed, project) VALUES (?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET sealed = excluded.sealed, project = excluded.project`, s.Path, sealed, store.ProjectOf(s.Project))
}

// GetSecret implements store.Store.
func (d *DB) GetSecret(ctx context.Context, path string) (store.Secret, error) {
	s := store.Secret{Path: path}
	err := d.read.QueryRowContext(ctx, `SELECT sealed, project FROM secrets WHERE path = ?`, path).Scan(&s.Sealed, &s.Project)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Secret{}, fmt.Errorf("get secret %s: %w", path, err)
	}
	if s.Sealed == nil {
		s.Sealed = []byte{}
	}
	return s, nil
}

// ListSecrets implements store.Store.
func (d *DB) ListSecrets(ctx context.Context, prefix string) ([]store.Secret, error) {
	// substr compares bytes exactly; LIKE would read % and _ in paths as wildcards.
	rows, err := d.read.QueryContext(ctx, `SELECT path, project FROM secrets WHERE substr(path, 1, ?) = ? ORDER BY path`, len(prefix), prefix)
	if err != nil {
		return nil, fmt.Errorf("list secrets %q: %w", prefix, err)
	}
	defer rows.Close()
	var out []store.Secret
	for rows.Next() {
		var s store.Secret
		if err := rows.Scan(&s.Path, &s.Project); err != nil {
			return nil, fmt.Errorf("list secrets %q: %w", prefix, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list secrets %q: %w", prefix, err)
	}
	return out, nil
}

// DeleteSecret implements store.Store.
func (d *DB) DeleteSecret(ctx context.Context, path string) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		return deleteOne(ctx, w, `DELETE FROM secrets WHERE path = ?`, path)
	})
	if err != nil {
		return fmt.Errorf("delete secret %s: %w", path, err)
	}
	return nil
}

func deleteOne(ctx context.Context, w *wconn, query string, arg any) error {
	res, err := w.conn.ExecContext(ctx, query, arg)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return clean(store.ErrNotFound)
	}
	return nil
}

// PutUser implements store.Store.
func (d *DB) PutUser(ctx context.Context, u store.User) error {
	if u.Name == "" || u.AccessKeyID == "" {
		return fmt.Errorf("put user %q: name and access key id are required", u.Name)
	}
	if u.Created.IsZero() {
		u.Created = time.Now()
	}
	if u.SealedSecret == nil {
		u.SealedSecret = []byte{}
	}
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		err := w.exec(ctx, `INSERT INTO users (name, arn, access_key_id, sealed_secret, created) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET arn = excluded.arn, access_key_id = excluded.access_key_id,
			sealed_secret = excluded.sealed_secret, created = excluded.created`,
			u.Name, u.ARN, u.AccessKeyID, u.SealedSecret, nanos(u.Created))
		if isConstraint(err) {
			return clean(fmt.Errorf("access key id %s: %w", u.AccessKeyID, store.ErrExists))
		}
		return clean(err) // one statement: SQLite undid it
	})
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.Name, err)
	}
	return nil
}

const selectUser = `SELECT name, arn, access_key_id, sealed_secret, created FROM users`

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var created int64
	if err := r.Scan(&u.Name, &u.ARN, &u.AccessKeyID, &u.SealedSecret, &created); err != nil {
		return u, err
	}
	u.Created = fromNanos(created)
	return u, nil
}

// GetUser implements store.Store.
func (d *DB) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(d.read.QueryRowContext(ctx, selectUser+` WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", name, err)
	}
	return u, nil
}

// GetUserByAccessKey implements store.Store.
func (d *DB) GetUserByAccessKey(ctx context.Context, accessKeyID string) (store.User, error) {
	u, err := scanUser(d.read.QueryRowContext(ctx, selectUser+` WHERE access_key_id = ?`, accessKeyID))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user by access key %s: %w", accessKeyID, err)
	}
	return u, nil
}

// ListUsers implements store.Store.
func (d *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := d.read.QueryContext(ctx, selectUser+` ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// DeleteUser implements store.Store.
func (d *DB) DeleteUser(ctx context.Context, name string) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		return deleteOne(ctx, w, `DELETE FROM users WHERE name = ?`, name)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	return nil
}
