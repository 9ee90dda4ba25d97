package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/store/storetest"
)

func TestAudit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "capstan.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Audit(t, db)
}

// No statement, whatever code issues it, rewrites or deletes a record.
func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "capstan.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Audit(t, db)
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`DELETE FROM audit`, `UPDATE audit SET user = 'mallory'`} {
		if _, err := raw.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want it refused as append-only", q, err)
		}
	}
}
