package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

// Policies checks a policy store: a user's policy is set, replaced and read
// back; a user without one has none.
func Policies(t *testing.T, s store.Policies) {
	ctx := context.Background()
	if _, err := s.GetPolicy(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetPolicy of a user without one: %v, want ErrNotFound", err)
	}
	for _, doc := range []string{`AdministratorAccess`, `{"Version":"2012-10-17","Statement":[]}`} {
		if err := s.PutPolicy(ctx, "alice", []byte(doc)); err != nil {
			t.Fatalf("PutPolicy: %v", err)
		}
		got, err := s.GetPolicy(ctx, "alice")
		if err != nil || string(got) != doc {
			t.Fatalf("GetPolicy = %q, %v; want %q", got, err, doc)
		}
	}
	if _, err := s.GetPolicy(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob has alice's policy: %v", err)
	}
}
