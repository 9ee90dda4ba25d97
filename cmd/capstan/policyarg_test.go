package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func TestUsersUpdatePolicy(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	code, _, stderr := runKeys(t, "", "users", "create", "dana", "--db", db)
	if code != 0 || !strings.Contains(stderr, "User dana acts under AdministratorAccess") {
		t.Fatalf("users create: %d %s", code, stderr)
	}
	good := filepath.Join(dir, "p.json")
	if err := os.WriteFile(good, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:Get*","Resource":"*"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\"Version\":\"2012-10-17\",\n \"Statement\":[{\"Effect\":\"Permit\",\"Action\":\"*\"}]}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--policy", "file://" + bad}, exitUsage, bad + `:2:25: Statement[0].Effect: expected "Allow" or "Deny", got "Permit"`},
		{[]string{"--policy", "Admin"}, exitUsage, `expected file://PATH, a JSON policy document or AdministratorAccess`},
		{[]string{"--policy", "file://" + filepath.Join(dir, "missing.json")}, exitUsage, "no such file"},
		{[]string{"--policy", "file://" + good}, 0, ""},
	}
	for _, tt := range tests {
		code, _, stderr := runKeys(t, "", append([]string{"users", "update-policy", "dana", "--db", db}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
	}
	if code, _, stderr := runKeys(t, "", "users", "update-policy", "nobody", "--policy", "AdministratorAccess", "--db", db); code != exitFailure || !strings.Contains(stderr, "nobody") {
		t.Errorf("update-policy of an unknown user: %d %q", code, stderr)
	}
	if code, _, stderr := runKeys(t, "", "users", "create", "erin", "--policy", "file://"+bad, "--db", db); code != exitUsage || !strings.Contains(stderr, "Permit") {
		t.Errorf("users create with a bad policy: %d %q", code, stderr)
	}
	if code, _, stderr := runKeys(t, "", "users", "create", "erin", "--policy", "file://"+good, "--db", db); code != 0 || strings.Contains(stderr, "AdministratorAccess") {
		t.Errorf("users create --policy: %d %q", code, stderr)
	}
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"dana", "erin"} {
		if p, err := s.GetPolicy(context.Background(), name); err != nil || !strings.Contains(string(p), "ssm:Get*") {
			t.Errorf("%s's stored policy: %q, %v", name, p, err)
		}
	}
}

func TestServeWarnsOfUsersWithoutPolicy(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "capstan.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"old", "new"} {
		if err := s.PutUser(ctx, store.User{Name: name, ARN: "arn:aws:iam::000000000000:user/" + name, AccessKeyID: "AKIA" + strings.ToUpper(name), SealedSecret: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutPolicy(ctx, "new", []byte("AdministratorAccess")); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := warnNoPolicy(ctx, s, &b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "without a policy may do nothing: old (") || strings.Contains(got, "new") {
		t.Errorf("warning %q, want it to name old only", got)
	}
}
