package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

// TestMigrateFromVersion1 opens a database written with the first schema
// (events keyed by the execution's UUID text) and checks that migration 2
// carries every execution and event over and that appends go on from there.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`,
		migrations[0],
		`INSERT INTO schema_migrations VALUES (1, 1)`,
		`INSERT INTO executions VALUES ('b-exec', 'D', '1', 'InProgress', 'Auto', '', 'me', 's2', 'aws:sleep', 'Local', '', 'tok', 200, 0, '{"k":"v"}', '{}', 0, 3)`,
		`INSERT INTO executions VALUES ('a-exec', 'D', '1', 'Success', 'Auto', 'b-exec', 'me', '', '', 'Local', '', NULL, 100, 150, '{}', '{"o":["1"]}', 1, 2)`,
		`INSERT INTO events VALUES ('b-exec', 1, 'ExecutionStarted', 201, '{"b":1}'), ('b-exec', 2, 'StepStarted', 202, NULL), ('b-exec', 3, 'StepSucceeded', 203, '{"b":3}')`,
		`INSERT INTO events VALUES ('a-exec', 1, 'ExecutionStarted', 101, '{"a":1}'), ('a-exec', 2, 'ExecutionFinished', 102, '{"a":2}')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	// Databases of earlier versions were created 0644; Open refuses them
	// until the operator restricts them.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[string][]string{"a-exec": {"ExecutionStarted", "ExecutionFinished"}, "b-exec": {"ExecutionStarted", "StepStarted", "StepSucceeded"}} {
		evs, err := db.Events(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(want) {
			t.Fatalf("%s: %d events after migration, want %d", id, len(evs), len(want))
		}
		for i, ev := range evs {
			if ev.Type != want[i] || ev.Seq != int64(i+1) {
				t.Fatalf("%s: event %d is %s seq %d", id, i, ev.Type, ev.Seq)
			}
		}
	}
	b, err := db.Execution(ctx, "b-exec")
	if err != nil || b.Seq != 3 || b.ClientToken != "tok" || b.Tags["k"] != "v" || b.CurrentAction != "aws:sleep" || b.Project != store.DefaultProject {
		// Executions from before projects belong to the default project.
		t.Fatalf("b-exec after migration: %+v, %v", b, err)
	}
	if id, err := db.ClientToken(ctx, "tok"); err != nil || id != "b-exec" {
		t.Fatalf("client token after migration: %q, %v", id, err)
	}
	list, _, err := db.ListExecutions(ctx, store.ExecutionFilter{ParentIDs: []string{"b-exec"}})
	if err != nil || len(list) != 1 || list[0].ID != "a-exec" || list[0].Outputs["o"][0] != "1" {
		t.Fatalf("list by parent after migration: %+v, %v", list, err)
	}
	if un, err := db.Unfinished(ctx); err != nil || len(un) != 1 || un[0].ID != "b-exec" {
		t.Fatalf("unfinished after migration: %+v, %v", un, err)
	}
	if err := db.Append(ctx, b, []store.Event{{Type: "StepStarted"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateExecution(ctx, store.Execution{ID: "c-exec", DocumentName: "D", Status: "Pending", ClientToken: "tok"}, nil); err == nil {
		t.Fatal("client token reused after migration")
	}
	if err := db.CreateExecution(ctx, store.Execution{ID: "c-exec", DocumentName: "D", Status: "Pending"}, []store.Event{{Type: "ExecutionStarted"}}); err != nil {
		t.Fatal(err)
	}
	for id, n := range map[string]int{"a-exec": 2, "b-exec": 4, "c-exec": 1} {
		if evs, err := db.Events(ctx, id, 0); err != nil || len(evs) != n {
			t.Fatalf("%s: %d events, %v; want %d", id, len(evs), err, n)
		}
	}
	var version int
	if err := db.read.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("schema version %d, %v", version, err)
	}
}
