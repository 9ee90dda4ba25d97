package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

func TestAuditShowsCLIChanges(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	steps := [][]string{
		{"users", "create", "carol", "--db", db},
		{"keys", "put", "app/token", "--db", db},
		{"users", "delete", "carol", "--db", db},
		{"users", "delete", "nobody", "--db", db},
	}
	for i, args := range steps {
		code, _, stderr := runKeys(t, "s3cret", args...)
		if want := 0; i == 3 {
			if code != exitFailure {
				t.Fatalf("%v: exit %d, want %d", args, code, exitFailure)
			}
		} else if code != want {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	code, out, stderr := runKeys(t, "", "audit", "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	var recs []store.AuditRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("audit --output json: %v\n%s", err, out)
	}
	var got []string
	for _, r := range recs {
		if !strings.HasPrefix(r.User, "local") || r.Source != "cli" {
			t.Errorf("record %+v: want a local user from the cli", r)
		}
		got = append(got, r.Action+" "+r.Resource+" "+r.Result)
	}
	want := []string{
		"capstan:CreateUser arn:capstan:capstan::000000000000:user/carol Success",
		"capstan:PutKey arn:capstan:capstan::000000000000:key/app/token Success",
		"capstan:DeleteUser arn:capstan:capstan::000000000000:user/carol Success",
		"capstan:DeleteUser arn:capstan:capstan::000000000000:user/nobody Failed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	code, out, _ = runKeys(t, "", "audit", "--db", db, "--user", "nobody")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("audit --user nobody: exit %d, %q; want only the header", code, out)
	}
}
