package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFileChoosesDatabaseAndMasterKey: with db and keys.masterKeyFile
// set in the configuration and no flag, keys, run and executions all use
// them, so a secret stored by one command is readable by the others.
func TestConfigFileChoosesDatabaseAndMasterKey(t *testing.T) {
	motoCLI(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "from-config.db")
	masterKey := filepath.Join(dir, "from-config.key")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("db: "+db+"\nkeys:\n  masterKeyFile: "+masterKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runKeys(t, "s3cr3t-from-config\n", "keys", "put", "app/token", "--config", cfg); code != 0 {
		t.Fatalf("keys put: exit %d %s", code, errOut)
	}
	for _, f := range []string{db, masterKey} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the configured file %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
		t.Error("a master.key was made beside the database although the configuration names one")
	}
	code, out, errOut := cli(t, "run", "testdata/run-secret.yaml", "--config", cfg, "--output", "json")
	if code != 0 {
		t.Fatalf("run with the configuration's database and key: exit %d %s %s", code, out, errOut)
	}
	id := decodeExecution(t, out).AutomationExecutionId
	if _, list, _ := cli(t, "executions", "list", "--config", cfg, "--output", "json"); !strings.Contains(list, id) {
		t.Errorf("executions list with the configuration does not show %s: %s", id, list)
	}
}
