package keys

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func TestKeyringOverSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "capstan.db")
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := New(db, Options{DBPath: dbPath, Getenv: noEnv, Notice: &bytes.Buffer{}})
	const secret = "plaintext-must-not-reach-disk-0123456789"
	if err := k.Put(ctx, "", "aws/prod/secret", []byte(secret)); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get(ctx, "aws/prod/secret"); err != nil || v != secret {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if _, err := k.Get(ctx, "aws/none"); err == nil {
		t.Fatal("missing key read")
	} else if _, ok := err.(*NotFoundError); !ok {
		t.Fatalf("missing key error %T %v, want *NotFoundError", err, err)
	}
	if n, err := k.RotateMaster(ctx); err != nil || n != 1 {
		t.Fatalf("RotateMaster = %d, %v", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret's plaintext", e.Name())
		}
	}
}
