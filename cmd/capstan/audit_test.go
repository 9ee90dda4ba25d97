package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

var anyRegion = regexp.MustCompile(`^arn:aws:ssm:[a-z0-9-]*:`)

func TestAuditShowsCLIChanges(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	hello := filepath.Join(dir, "Hello.yaml")
	if err := os.WriteFile(hello, []byte("schemaVersion: '0.3'\nmainSteps:\n  - name: nap\n    action: aws:sleep\n    inputs: {Duration: PT0S}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		exit int
	}{
		{[]string{"docs", "put", hello, "--db", db}, 0},
		{[]string{"users", "create", "carol", "--db", db}, 0},
		{[]string{"users", "set-password", "carol", "--db", db}, 0},
		{[]string{"users", "set-password", "nobody", "--db", db}, exitFailure},
		{[]string{"keys", "put", "app/token", "--db", db}, 0},
		{[]string{"keys", "rotate-master", "--db", db}, 0},
		{[]string{"users", "delete", "carol", "--db", db}, 0},
		{[]string{"users", "delete", "nobody", "--db", db}, exitFailure},
	}
	for _, st := range steps {
		if code, _, stderr := runKeys(t, "s3cret-value", st.args...); code != st.exit {
			t.Fatalf("%v: exit %d, want %d: %s", st.args, code, st.exit, stderr)
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
		// The document's ARN carries whatever region the environment has.
		got = append(got, r.Action+" "+anyRegion.ReplaceAllString(r.Resource, "arn:aws:ssm:REGION:")+" "+r.Result)
	}
	want := []string{
		"ssm:CreateDocument arn:aws:ssm:REGION:000000000000:document/Hello Success",
		"capstan:CreateUser arn:capstan:capstan::000000000000:user/carol Success",
		"capstan:UpdateUserPolicy arn:capstan:capstan::000000000000:user/carol Success",
		"capstan:UpdateLoginProfile arn:capstan:capstan::000000000000:user/carol Success",
		"capstan:UpdateLoginProfile arn:capstan:capstan::000000000000:user/nobody NoSuchEntity",
		"capstan:PutKey arn:capstan:capstan::000000000000:key/app/token Success",
		"capstan:RotateMasterKey arn:capstan:capstan::000000000000:key/* Success",
		"capstan:DeleteUser arn:capstan:capstan::000000000000:user/carol Success",
		"capstan:DeleteUser arn:capstan:capstan::000000000000:user/nobody NoSuchEntity",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	code, out, _ = runKeys(t, "", "audit", "--db", db, "--user", "nobody")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("audit --user nobody: exit %d, %q; want only the header", code, out)
	}
}

// auditCounts reads the audit log of db with `capstan audit` and counts its
// records by "USER ACTION RESOURCE RESULT SOURCE", the source's port cut.
func auditCounts(t *testing.T, db string) map[string]int {
	t.Helper()
	code, out, stderr := runKeys(t, "", "audit", "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	var recs []store.AuditRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("audit --output json: %v\n%s", err, out)
	}
	n := map[string]int{}
	for _, r := range recs {
		src, _, _ := strings.Cut(r.Source, ":")
		user := r.User
		if strings.HasPrefix(user, "local:") {
			user = "local:" // the person at the command line, whatever their name
		}
		n[strings.Join([]string{user, r.Action, r.Resource, r.Result, src}, " ")]++
	}
	return n
}

// wantAudit checks that each change shows up exactly once in counts.
func wantAudit(t *testing.T, counts map[string]int, want ...string) {
	t.Helper()
	for _, w := range want {
		if counts[w] != 1 {
			t.Errorf("audit log holds %d of %q, want 1; it holds %v", counts[w], w, counts)
		}
	}
}
