package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

func TestPing(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir()+"/capstan.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping of an open store: %v", err)
	}
	db.Close()
	if err := db.Ping(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ping of a closed store: %v, want ErrClosed", err)
	}
}
