package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}

func openTemp(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "capstan.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "capstan.db") // parent directories are created
	db, err := sqlite.Open(ctx, path, sqlite.Options{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	e := store.Execution{ID: "r1", DocumentName: "D", Status: "InProgress"}
	if err := db.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutDocument(ctx, store.Document{Name: "D", Content: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSecret(ctx, store.Secret{Path: "/k", Sealed: []byte("sealed")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSecret(ctx, store.Secret{Path: "/k2"}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}

	// Opening again runs no migration twice and finds every row.
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	un, err := db.Unfinished(ctx)
	if err != nil || len(un) != 1 || un[0].ID != "r1" || un[0].Seq != 1 {
		t.Fatalf("unfinished after reopen: %+v, %v", un, err)
	}
	if d, err := db.GetDocument(ctx, "D", ""); err != nil || d.Content != "x" {
		t.Fatalf("document after reopen: %+v, %v", d, err)
	}
	if b, err := db.GetSecret(ctx, "/k"); err != nil || string(b.Sealed) != "sealed" {
		t.Fatalf("secret after reopen: %q, %v", b, err)
	}
}

func TestDefaultPath(t *testing.T) {
	for _, tc := range []struct {
		name, xdg, home, want string
	}{
		{"xdg", "/data", "/home/u", "/data/capstan/capstan.db"},
		{"home", "", "/home/u", "/home/u/.local/share/capstan/capstan.db"},
		{"relative xdg is ignored", "rel", "/home/u", "/home/u/.local/share/capstan/capstan.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			if got := sqlite.DefaultPath(); got != tc.want {
				t.Fatalf("DefaultPath() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckpointer checks that the checkpointer, not Close, copies committed
// pages into the database file while the store is open, and that the WAL is
// reset rather than left to grow.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "capstan.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{CheckpointDelay: time.Millisecond, CheckpointRestartFrames: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size(path)
	data := []byte(strings.Repeat("x", 1000))
	for i := range 20 {
		e := store.Execution{ID: fmt.Sprintf("c%d", i), DocumentName: "D", Status: "InProgress"}
		if err := db.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted", Data: data}}); err != nil {
			t.Fatal(err)
		}
		e.Seq = 1
		for range 50 {
			if err := db.Append(ctx, e, []store.Event{{Type: "StepSucceeded", Data: data}}); err != nil {
				t.Fatal(err)
			}
			e.Seq++
		}
	}
	// 1,000 events of 1 KB: about 1 MB of pages, so over 250 frames went
	// through the WAL.
	deadline := time.Now().Add(10 * time.Second)
	for size(path) < before+500_000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after 1 MB of commits (was %d): nothing checkpointed", size(path), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if wal := size(path + "-wal"); wal > 64<<20 {
		t.Fatalf("WAL is %d bytes", wal)
	}
}

func TestWebhooksConformance(t *testing.T) {
	storetest.RunWebhooks(t, openTemp(t))
}

func TestSchedulesConformance(t *testing.T) {
	storetest.RunSchedules(t, openTemp(t))
}
