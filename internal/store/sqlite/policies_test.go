package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/store/storetest"
)

func TestPolicies(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "capstan.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Policies(t, db)

	// Deleting a user drops its policy: a new user of the same name starts
	// with none.
	if err := db.PutUser(ctx, store.User{Name: "carol", ARN: "arn:aws:iam::1:user/carol", AccessKeyID: "AKIACAROL", SealedSecret: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutPolicy(ctx, "carol", []byte("AdministratorAccess")); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetPolicy(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted user's policy: %v, want ErrNotFound", err)
	}
}
