package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocsPutListShowRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	v1 := "schemaVersion: \"0.3\"\nmainSteps:\n  - {name: one, action: aws:sleep, inputs: {Duration: PT0S}}\n"
	v2 := strings.Replace(v1, "name: one", "name: two", 1)
	bad := "schemaVersion: \"0.3\"\nmainSteps:\n  - {name: v, action: aws:nope}\n"
	for name, src := range map[string]string{"v1.yaml": v1, "v2.yaml": v2, "bad.yaml": bad} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := cli(t, "docs", "put", filepath.Join(dir, "v1.yaml"), "--name", "Team-Thing", "--db", db); code != 0 || !strings.Contains(out, "version 1") {
		t.Fatalf("put v1: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "docs", "put", filepath.Join(dir, "v2.yaml"), "--name", "Team-Thing", "--db", db); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("put v2: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, "docs", "put", filepath.Join(dir, "bad.yaml"), "--name", "Bad", "--db", db); code != 1 || !strings.Contains(errOut, "bad.yaml:3") {
		t.Errorf("put of an invalid runbook: exit %d, %s", code, errOut)
	}
	code, out, _ := cli(t, "docs", "list", "--output", "json", "--db", db)
	if code != 0 {
		t.Fatalf("list: %d", code)
	}
	var list struct {
		DocumentIdentifiers []struct{ Name, DocumentVersion, Source string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.DocumentIdentifiers) == 0 || list.DocumentIdentifiers[0].Name != "Team-Thing" || list.DocumentIdentifiers[0].Source != "store" {
		t.Errorf("list: %s", out)
	}
	if _, out, _ := cli(t, "docs", "show", "Team-Thing", "--version", "$LATEST", "--db", db); out != v2 {
		t.Errorf("show $LATEST printed %q", out)
	}
	// The default version is still 1; --version picks another.
	for version, want := range map[string]string{"": "one", "2": "two", "$LATEST": "two"} {
		args := []string{"run", "Team-Thing", "--db", db}
		if version != "" {
			args = append(args, "--version", version)
		}
		code, out, errOut := cli(t, args...)
		if code != 0 || !strings.Contains(out, "✓ "+want) {
			t.Errorf("run --version %q: exit %d, want output %s:\n%s%s", version, code, want, out, errOut)
		}
	}
	if code, _, errOut := cli(t, "run", "No-Such-Runbook", "--db", db, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1"); code != 1 || !strings.Contains(errOut, "No-Such-Runbook") {
		t.Errorf("run of an unknown name: exit %d, %s", code, errOut)
	}
}
