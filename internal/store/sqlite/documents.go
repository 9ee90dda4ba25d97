package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/store"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func isConstraint(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

const selectDocument = `SELECT d.name, d.version, d.content, d.format, d.document_type, d.version_name,
	d.display_name, d.owner, d.hash, d.created, n.default_version, n.latest_version, n.tags, n.project
	FROM documents d JOIN document_names n ON n.name = d.name`

// CreateDocument implements store.Store.
func (d *DB) CreateDocument(ctx context.Context, doc store.Document) (store.Document, error) {
	return d.putDocument(ctx, doc, true)
}

// PutDocument implements store.Store.
func (d *DB) PutDocument(ctx context.Context, doc store.Document) (store.Document, error) {
	return d.putDocument(ctx, doc, false)
}

func (d *DB) putDocument(ctx context.Context, doc store.Document, createOnly bool) (store.Document, error) {
	if doc.Name == "" {
		return store.Document{}, fmt.Errorf("put document: empty name")
	}
	sum := sha256.Sum256([]byte(doc.Content))
	doc.Hash = hex.EncodeToString(sum[:])
	if doc.CreatedDate.IsZero() {
		doc.CreatedDate = time.Now().UTC()
	}
	tags := "{}"
	if len(doc.Tags) > 0 {
		b, err := json.Marshal(doc.Tags)
		if err != nil {
			return store.Document{}, fmt.Errorf("put document %s: %w", doc.Name, err)
		}
		tags = string(b)
	}
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		var latest, def int
		var storedTags, storedProject string
		err := w.conn.QueryRowContext(ctx, `SELECT latest_version, default_version, tags, project FROM document_names WHERE name = ?`, doc.Name).
			Scan(&latest, &def, &storedTags, &storedProject)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			doc.Version, doc.DefaultVersion, doc.LatestVersion, doc.IsDefault = 1, 1, 1, true
			doc.Project = store.ProjectOf(doc.Project)
			if err := w.exec(ctx, `INSERT INTO document_names (name, default_version, latest_version, tags, project) VALUES (?, 1, 1, ?, ?)`, doc.Name, tags, doc.Project); err != nil {
				return err
			}
		case err != nil:
			return err
		case createOnly:
			return clean(store.ErrExists)
		default:
			var dup int
			if err := w.conn.QueryRowContext(ctx, `SELECT count(*) FROM documents WHERE name = ? AND hash = ?`, doc.Name, doc.Hash).Scan(&dup); err != nil {
				return err
			}
			if dup > 0 {
				return clean(store.ErrDuplicateContent)
			}
			doc.Version, doc.DefaultVersion, doc.LatestVersion, doc.IsDefault = latest+1, def, latest+1, false
			doc.Project = storedProject
			if err := json.Unmarshal([]byte(storedTags), &doc.Tags); err != nil {
				return fmt.Errorf("tags: %w", err)
			}
			if err := w.exec(ctx, `UPDATE document_names SET latest_version = ? WHERE name = ?`, doc.Version, doc.Name); err != nil {
				return err
			}
		}
		err = w.exec(ctx, `INSERT INTO documents (name, version, content, format, document_type, version_name, display_name, owner, hash, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, doc.Name, doc.Version, doc.Content, doc.Format, doc.DocumentType,
			doc.VersionName, doc.DisplayName, doc.Owner, doc.Hash, nanos(doc.CreatedDate))
		if isConstraint(err) {
			return store.ErrDuplicateVersionName
		}
		return err
	})
	if err != nil {
		return store.Document{}, fmt.Errorf("put document %s: %w", doc.Name, err)
	}
	if len(doc.Tags) == 0 {
		doc.Tags = nil
	}
	return doc, nil
}

func scanDocument(r scanner) (store.Document, error) {
	var doc store.Document
	var created int64
	var tags string
	if err := r.Scan(&doc.Name, &doc.Version, &doc.Content, &doc.Format, &doc.DocumentType, &doc.VersionName,
		&doc.DisplayName, &doc.Owner, &doc.Hash, &created, &doc.DefaultVersion, &doc.LatestVersion, &tags, &doc.Project); err != nil {
		return doc, err
	}
	doc.CreatedDate = fromNanos(created)
	doc.IsDefault = doc.Version == doc.DefaultVersion
	if tags != "{}" {
		if err := json.Unmarshal([]byte(tags), &doc.Tags); err != nil {
			return doc, fmt.Errorf("tags: %w", err)
		}
	}
	return doc, nil
}

// versionSelector turns a version selector into the SQL condition it names.
func versionSelector(version string) (string, []any, error) {
	switch version {
	case "", store.VersionDefault:
		return "d.version = n.default_version", nil, nil
	case store.VersionLatest:
		return "d.version = n.latest_version", nil, nil
	}
	v, err := strconv.Atoi(version)
	if err != nil || v < 1 {
		return "", nil, fmt.Errorf("version %q: %w", version, store.ErrNotFound)
	}
	return "d.version = ?", []any{v}, nil
}

// GetDocument implements store.Store.
func (d *DB) GetDocument(ctx context.Context, name, version string) (store.Document, error) {
	cond, args, err := versionSelector(version)
	if err != nil {
		return store.Document{}, fmt.Errorf("get document %s: %w", name, err)
	}
	doc, err := scanDocument(d.read.QueryRowContext(ctx, selectDocument+" WHERE d.name = ? AND "+cond, append([]any{name}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Document{}, fmt.Errorf("get document %s version %q: %w", name, version, err)
	}
	return doc, nil
}

// GetDocumentByVersionName implements store.Store.
func (d *DB) GetDocumentByVersionName(ctx context.Context, name, versionName string) (store.Document, error) {
	doc, err := scanDocument(d.read.QueryRowContext(ctx, selectDocument+" WHERE d.name = ? AND d.version_name = ? AND d.version_name <> ''", name, versionName))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Document{}, fmt.Errorf("get document %s version name %q: %w", name, versionName, err)
	}
	return doc, nil
}

// ListDocuments implements store.Store.
func (d *DB) ListDocuments(ctx context.Context, f store.DocumentFilter) ([]store.Document, string, error) {
	where := []string{"d.version = n.default_version"}
	var args []any
	if f.NamePrefix != "" {
		where = append(where, "substr(d.name, 1, ?) = ?")
		args = append(args, len(f.NamePrefix), f.NamePrefix)
	}
	if len(f.DocumentTypes) > 0 {
		where = append(where, "d.document_type IN ("+placeholders(len(f.DocumentTypes))+")")
		for _, v := range f.DocumentTypes {
			args = append(args, v)
		}
	}
	if len(f.Owners) > 0 {
		where = append(where, "d.owner IN ("+placeholders(len(f.Owners))+")")
		for _, v := range f.Owners {
			args = append(args, v)
		}
	}
	if len(f.Projects) > 0 {
		where = append(where, "n.project IN ("+placeholders(len(f.Projects))+")")
		for _, v := range f.Projects {
			args = append(args, v)
		}
	}
	keys := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals := f.Tags[k]
		if len(vals) == 0 {
			where = append(where, "json_type(n.tags, ?) IS NOT NULL")
			args = append(args, jsonKeyPath(k))
			continue
		}
		where = append(where, "json_extract(n.tags, ?) IN ("+placeholders(len(vals))+")")
		args = append(args, jsonKeyPath(k))
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if f.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		if err != nil || len(b) == 0 {
			return nil, "", fmt.Errorf("list documents: %w", store.ErrInvalidToken)
		}
		where = append(where, "d.name > ?")
		args = append(args, string(b))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := selectDocument + " WHERE " + strings.Join(where, " AND ") + " ORDER BY d.name LIMIT ?"
	args = append(args, limit+1)
	list, err := d.queryDocuments(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list documents: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(list[limit-1].Name))
	}
	return list, next, nil
}

// jsonKeyPath quotes a tag key for json_extract, whose path syntax would
// otherwise read dots and brackets in the key.
func jsonKeyPath(k string) string {
	return `$."` + strings.ReplaceAll(k, `"`, `\"`) + `"`
}

// ListDocumentVersions implements store.Store.
func (d *DB) ListDocumentVersions(ctx context.Context, name string, limit int, token string) ([]store.Document, string, error) {
	after := 0
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err == nil {
			after, err = strconv.Atoi(string(b))
		}
		if err != nil || after < 1 {
			return nil, "", fmt.Errorf("list versions of %s: %w", name, store.ErrInvalidToken)
		}
	}
	if limit <= 0 {
		limit = 50
	}
	list, err := d.queryDocuments(ctx, `SELECT d.name, d.version, '', d.format, d.document_type, d.version_name,
		d.display_name, d.owner, d.hash, d.created, n.default_version, n.latest_version, n.tags, n.project
		FROM documents d JOIN document_names n ON n.name = d.name
		WHERE d.name = ? AND d.version > ? ORDER BY d.version LIMIT ?`, name, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list versions of %s: %w", name, err)
	}
	if len(list) == 0 && after == 0 {
		return nil, "", fmt.Errorf("list versions of %s: %w", name, store.ErrNotFound)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(list[limit-1].Version)))
	}
	return list, next, nil
}

func (d *DB) queryDocuments(ctx context.Context, q string, args ...any) ([]store.Document, error) {
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Document
	for rows.Next() {
		doc, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, rows.Err()
}

// SetDefaultVersion implements store.Store.
func (d *DB) SetDefaultVersion(ctx context.Context, name string, version int) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		res, err := w.conn.ExecContext(ctx, `UPDATE document_names SET default_version = ?
			WHERE name = ? AND EXISTS (SELECT 1 FROM documents WHERE name = ? AND version = ?)`, version, name, name, version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set default version of %s to %d: %w", name, version, err)
	}
	return nil
}

// DeleteDocument implements store.Store.
func (d *DB) DeleteDocument(ctx context.Context, name, version string) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		var latest, def int
		err := w.conn.QueryRowContext(ctx, `SELECT latest_version, default_version FROM document_names WHERE name = ?`, name).Scan(&latest, &def)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if version == "" {
			_, err := w.conn.ExecContext(ctx, `DELETE FROM document_names WHERE name = ?`, name)
			return err
		}
		v := latest
		if version != store.VersionLatest {
			if v, err = strconv.Atoi(version); err != nil {
				return fmt.Errorf("version %q: %w", version, store.ErrNotFound)
			}
		}
		var count int
		if err := w.conn.QueryRowContext(ctx, `SELECT count(*) FROM documents WHERE name = ?`, name).Scan(&count); err != nil {
			return err
		}
		if v == def && count > 1 {
			return clean(fmt.Errorf("version %d is the default: %w", v, store.ErrConflict))
		}
		res, err := w.conn.ExecContext(ctx, `DELETE FROM documents WHERE name = ? AND version = ?`, name, v)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("version %d: %w", v, store.ErrNotFound)
		}
		if count == 1 {
			_, err := w.conn.ExecContext(ctx, `DELETE FROM document_names WHERE name = ?`, name)
			return err
		}
		// $LATEST names the highest remaining version; the next version takes
		// the number after it.
		_, err = w.conn.ExecContext(ctx, `UPDATE document_names SET latest_version = (SELECT max(version) FROM documents WHERE name = ?) WHERE name = ?`, name, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete document %s version %q: %w", name, version, err)
	}
	return nil
}
