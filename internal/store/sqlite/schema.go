package sqlite

import (
	"context"
	"database/sql"
	"errors"
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

	// 2: events are keyed by an integer execution number (executions.n, an
	// alias of the rowid, so VACUUM keeps it) instead of the execution's
	// UUID text. New executions get increasing numbers, so the events of the
	// executions running at once sit together at the end of the events tree
	// (a few hot pages) instead of at random places in the whole of it, and
	// each key is a few bytes rather than 37.
	`CREATE TABLE executions2 (
		n INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
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
	INSERT INTO executions2 (id, document_name, document_version, status, mode, parent_id, executed_by,
		current_step, current_action, automation_type, failure_message, client_token,
		start_time, end_time, tags, outputs, done, seq)
	SELECT id, document_name, document_version, status, mode, parent_id, executed_by,
		current_step, current_action, automation_type, failure_message, client_token,
		start_time, end_time, tags, outputs, done, seq
	FROM executions ORDER BY start_time, id;
	CREATE TABLE events2 (
		exec_n INTEGER NOT NULL,
		seq INTEGER NOT NULL,
		type TEXT NOT NULL,
		time INTEGER NOT NULL,
		data BLOB,
		PRIMARY KEY (exec_n, seq)
	) WITHOUT ROWID;
	INSERT INTO events2 (exec_n, seq, type, time, data)
	SELECT x.n, e.seq, e.type, e.time, e.data FROM events e JOIN executions2 x ON x.id = e.exec_id
	ORDER BY x.n, e.seq;
	DROP TABLE events;
	DROP TABLE executions;
	ALTER TABLE executions2 RENAME TO executions;
	ALTER TABLE events2 RENAME TO events;
	CREATE INDEX executions_start ON executions (start_time DESC, id DESC);
	CREATE INDEX executions_unfinished ON executions (done, start_time) WHERE done = 0;
	CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id <> '';`,

	// 3: the web UI's passwords (KDF hashes) and sessions (keyed by a digest
	// of the cookie's token). History filtered by user or runbook reads its
	// newest page from an index instead of scanning every execution.
	`CREATE TABLE passwords (
		user TEXT PRIMARY KEY,
		hash BLOB NOT NULL,
		changed INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE sessions (
		id TEXT PRIMARY KEY,
		user TEXT NOT NULL,
		csrf TEXT NOT NULL,
		created INTEGER NOT NULL,
		expires INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX sessions_user ON sessions (user);
	CREATE INDEX sessions_expires ON sessions (expires);
	CREATE INDEX executions_by ON executions (executed_by, start_time DESC, id DESC);
	CREATE INDEX executions_document ON executions (document_name, start_time DESC, id DESC);`,

	// 4: a call's request, response and error message, kept when the run
	// asks for them (NULL and '' otherwise).
	`ALTER TABLE calls ADD COLUMN request BLOB;
	ALTER TABLE calls ADD COLUMN response BLOB;
	ALTER TABLE calls ADD COLUMN error_message TEXT NOT NULL DEFAULT '';`,

	// 5: the audit log, append-only: triggers refuse any UPDATE or DELETE,
	// so no code path (nor a user of the API) can rewrite it.
	`CREATE TABLE audit (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		time INTEGER NOT NULL,
		user TEXT NOT NULL,
		action TEXT NOT NULL,
		resource TEXT NOT NULL,
		result TEXT NOT NULL,
		source TEXT NOT NULL,
		detail TEXT NOT NULL
	);
	CREATE INDEX audit_user ON audit (user, seq);
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
	CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,

	// 6: the policy each user acts under. A user deleted and created again
	// under the same name gets a new policy with it, never the old one.
	`CREATE TABLE policies (
		user TEXT PRIMARY KEY,
		document BLOB NOT NULL,
		changed INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TRIGGER users_policy_gone AFTER DELETE ON users BEGIN DELETE FROM policies WHERE user = old.name; END;`,

	// 7: webhooks, each a JSON document (store.Webhook) by name.
	`CREATE TABLE webhooks (
		name TEXT PRIMARY KEY,
		data BLOB NOT NULL
	) WITHOUT ROWID;`,
	// 8: schedules: the definition as JSON (store.Schedule), the run due
	// next and the pause flag as columns for the atomic claim.
	`CREATE TABLE schedules (
		name TEXT PRIMARY KEY,
		data BLOB NOT NULL,
		paused INTEGER NOT NULL,
		next_run INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 9: signal requests, the inbox of the process running an execution.
	// A settled request keeps its outcome (refusal '' = applied) until
	// its execution is deleted; the partial index serves the runners'
	// poll of the pending ones.
	`CREATE TABLE signals (
		id INTEGER PRIMARY KEY,
		exec_id TEXT NOT NULL,
		type TEXT NOT NULL,
		payload TEXT NOT NULL,
		user TEXT NOT NULL,
		time INTEGER NOT NULL,
		settled INTEGER NOT NULL DEFAULT 0,
		refusal TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX signals_pending ON signals (exec_id, id) WHERE settled = 0;
	CREATE INDEX signals_exec ON signals (exec_id);`,
	// 10: projects. Executions, documents (by name) and key-storage paths
	// belong to one; what existed before belongs to default.
	`ALTER TABLE executions ADD COLUMN project TEXT NOT NULL DEFAULT 'default';
	ALTER TABLE document_names ADD COLUMN project TEXT NOT NULL DEFAULT 'default';
	ALTER TABLE secrets ADD COLUMN project TEXT NOT NULL DEFAULT 'default';
	CREATE INDEX executions_project ON executions (project, start_time DESC, id DESC);`,
	// 11: the runner lease of an execution: which process drives it, and
	// until when ('' and 0: nobody). Kept on the row, so it goes with the
	// execution and costs no join.
	`ALTER TABLE executions ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE executions ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;`,
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
		if _, rbErr := conn.ExecContext(ctx, "ROLLBACK"); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
