package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "capstan.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A write makes SQLite create the WAL and shared-memory files.
	if err := db.PutUser(ctx, store.User{Name: "alice", ARN: "arn:aws:iam::1:user/alice", AccessKeyID: "AKIAALICE", SealedSecret: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", p, fi.Mode().Perm())
		}
	}
	db.Close()

	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Stat(p); err != nil {
			continue // a clean close may remove the WAL
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := sqlite.Open(ctx, path, sqlite.Options{})
		var loose *sqlite.LooseModeError
		if !errors.As(err, &loose) || !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("opening with %s at 0644: %v, want a LooseModeError naming it", p, err)
		}
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopening at 0600: %v", err)
	}
	db.Close()
}
