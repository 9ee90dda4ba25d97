package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func TestUsersPasswords(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	db := filepath.Join(t.TempDir(), "capstan.db")

	withStdin(t, "short\n")
	if code, _, stderr := cli(t, "users", "create", "alice", "--password-stdin", "--db", db); code != 2 || !strings.Contains(stderr, "password too short: at least 8 characters") {
		t.Fatalf("a short password: %d %s", code, stderr)
	}
	if code, out, _ := cli(t, "users", "list", "--db", db); code != 0 || strings.Contains(out, "alice") {
		t.Fatalf("a refused password left a user behind: %s", out)
	}
	withStdin(t, "correct horse battery\n")
	if code, _, stderr := cli(t, "users", "create", "alice", "--password-stdin", "--db", db); code != 0 {
		t.Fatalf("users create --password-stdin: %d %s", code, stderr)
	}
	hashOf := func() []byte {
		t.Helper()
		d, err := sqlite.Open(context.Background(), db, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		h, err := d.PasswordHash(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// One newline is the shell's, not the password's.
	if bcrypt.CompareHashAndPassword(hashOf(), []byte("correct horse battery")) != nil {
		t.Fatal("the stored hash is not the password's")
	}
	withStdin(t, "another long password")
	if code, _, stderr := cli(t, "users", "set-password", "alice", "--db", db); code != 0 {
		t.Fatalf("set-password: %d %s", code, stderr)
	}
	if bcrypt.CompareHashAndPassword(hashOf(), []byte("another long password")) != nil {
		t.Fatal("set-password did not change the hash")
	}
	withStdin(t, "another long password")
	if code, _, stderr := cli(t, "users", "set-password", "nobody", "--db", db); code != 1 || !strings.Contains(stderr, "no user nobody") {
		t.Fatalf("set-password of an unknown user: %d %s", code, stderr)
	}
}
