package sqlite_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

func TestSessionsExpireAndEndWithTheirUser(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	defer db.Close()
	now := time.Unix(1_800_000_000, 0)
	for _, s := range []store.Session{
		{ID: "a", User: "alice", CSRF: "ca", Created: now, Expires: now.Add(time.Hour)},
		{ID: "b", User: "alice", CSRF: "cb", Created: now, Expires: now.Add(time.Minute)},
		{ID: "c", User: "bob", CSRF: "cc", Created: now, Expires: now.Add(time.Hour)},
	} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateSession(ctx, store.Session{ID: "a", User: "mallory", Expires: now.Add(time.Hour)}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("reusing a session id: %v, want ErrExists", err)
	}
	s, err := db.Session(ctx, "a", now)
	if err != nil || s.User != "alice" || s.CSRF != "ca" || !s.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("Session(a) = %+v, %v", s, err)
	}
	if _, err := db.Session(ctx, "b", now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session: %v, want ErrNotFound", err)
	}
	if n, err := db.DeleteExpiredSessions(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if err := db.DeleteUserSessions(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "a", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a user whose sessions were deleted: %v", err)
	}
	if _, err := db.Session(ctx, "c", now); err != nil {
		t.Fatalf("another user's session went too: %v", err)
	}
	if err := db.DeleteSession(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "c", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestPasswordHashes(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	defer db.Close()
	if _, err := db.PasswordHash(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no password yet: %v", err)
	}
	for _, h := range []string{"h1", "h2"} {
		if err := db.SetPasswordHash(ctx, "alice", []byte(h)); err != nil {
			t.Fatal(err)
		}
		got, err := db.PasswordHash(ctx, "alice")
		if err != nil || string(got) != h {
			t.Fatalf("PasswordHash = %q, %v; want %q", got, err, h)
		}
	}
}

func TestListExecutionsByUserAndRunbook(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	defer db.Close()
	t0 := time.Unix(1_800_000_000, 0)
	for i, e := range []store.Execution{
		{ID: "1", DocumentName: "A", ExecutedBy: "alice"},
		{ID: "2", DocumentName: "B", ExecutedBy: "alice"},
		{ID: "3", DocumentName: "A", ExecutedBy: "bob"},
		{ID: "4", DocumentName: "AB", ExecutedBy: "bob"},
	} {
		e.Status, e.Mode, e.StartTime = "Success", "Auto", t0.Add(time.Duration(i)*time.Second)
		if err := db.CreateExecution(ctx, e, []store.Event{{Type: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		f    store.ExecutionFilter
		want []string
	}{
		{store.ExecutionFilter{ExecutedBy: []string{"alice"}}, []string{"2", "1"}},
		{store.ExecutionFilter{DocumentNames: []string{"A"}}, []string{"3", "1"}},
		{store.ExecutionFilter{DocumentNames: []string{"A"}, ExecutedBy: []string{"bob"}}, []string{"3"}},
	} {
		list, _, err := db.ListExecutions(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.f, got, tc.want)
		}
	}
}
