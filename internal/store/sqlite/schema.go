package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations are applied in order, each once, recorded in schema_migrations.
// Append new ones; never edit an applied one.
var migrations = []string{
	// 1: the initial schema. Times are Unix nanoseconds (0 = unset); tags and
	// outputs are JSON objects.
	`CREATE TABLE executions (
		id TEXT PRIMARY KEY,
		document_name TEXT NOT NULL,
		document_version TEXT NOT NULL,
		status TEXT NOT NULL,
		mode TEXT NOT NULL,
		parent_id TEXT NOT NULL,
		executed_by TEXT NOT NULL,
		current_step TEXT NOT NULL,
		current_action TEXT NOT NULL,
		automation_type TEXT NOT NULL,
		failure_message TEXT NOT NULL,
		client_token TEXT UNIQUE,
		start_time INTEGER NOT NULL,
		end_time INTEGER NOT NULL,
		tags TEXT NOT NULL,
		outputs TEXT NOT NULL,
		done INTEGER NOT NULL,
		seq INTEGER NOT NULL
	);
	CREATE INDEX executions_start ON executions (start_time DESC, id DESC);
	CREATE INDEX executions_unfinished ON executions (done, start_time) WHERE done = 0;
	CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id <> '';
	CREATE TABLE events (
		exec_id TEXT NOT NULL,
		seq INTEGER NOT NULL,
		type TEXT NOT NULL,
		time INTEGER NOT NULL,
		data BLOB,
		PRIMARY KEY (exec_id, seq)
	) WITHOUT ROWID;
	CREATE TABLE calls (
		n INTEGER PRIMARY KEY,
		exec_id TEXT NOT NULL,
		step TEXT NOT NULL,
		service TEXT NOT NULL,
		operation TEXT NOT NULL,
		iam_action TEXT NOT NULL,
		start INTEGER NOT NULL,
		duration INTEGER NOT NULL,
		error_code TEXT NOT NULL
	);
	CREATE INDEX calls_exec ON calls (exec_id, n);
	CREATE TABLE document_names (
		name TEXT PRIMARY KEY,
		default_version INTEGER NOT NULL,
		latest_version INTEGER NOT NULL,
		tags TEXT NOT NULL
	);
	CREATE TABLE documents (
		name TEXT NOT NULL REFERENCES document_names (name) ON DELETE CASCADE,
		version INTEGER NOT NULL,
		content TEXT NOT NULL,
		format TEXT NOT NULL,
		document_type TEXT NOT NULL,
		version_name TEXT NOT NULL,
		display_name TEXT NOT NULL,
		owner TEXT NOT NULL,
		hash TEXT NOT NULL,
		created INTEGER NOT NULL,
		PRIMARY KEY (name, version)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX documents_version_name ON documents (name, version_name) WHERE version_name <> '';
	CREATE TABLE secrets (
		path TEXT PRIMARY KEY,
		sealed BLOB NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE users (
		name TEXT PRIMARY KEY,
		arn TEXT NOT NULL,
		access_key_id TEXT NOT NULL UNIQUE,
		sealed_secret BLOB NOT NULL,
		created INTEGER NOT NULL
	);`,
}

// migrate brings the schema up to date in one transaction, so a crash
// mid-migration leaves the previous version intact.
func migrate(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err := func() error {
		var have int
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this capstan (%d)", have, len(migrations))
		}
		for v := have + 1; v <= len(migrations); v++ {
			if _, err := conn.ExecContext(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("version %d: %w", v, err)
			}
			if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("version %d: %w", v, err)
			}
		}
		return nil
	}()
	if err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
