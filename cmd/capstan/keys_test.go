package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withStdin makes s the process's stdin for the duration of the test.
func withStdin(t *testing.T, s string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}

func runKeys(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	withStdin(t, stdin)
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// dirBytes is every file under dir concatenated: the database, its WAL and
// anything else capstan left beside it.
func dirBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
		}
		return nil
	})
	return all
}

func TestKeysCommands(t *testing.T) {
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"

	steps := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    string
		wantErr    []string
		wantNoText string // must appear in neither stdout nor stderr
	}{
		{"put creates the master key and says so", secret + "\n", []string{"keys", "put", "aws/prod/secret", "--db", db}, 0, "stored aws/prod/secret\n",
			[]string{"created master key", filepath.Join(dir, "master.key")}, secret},
		{"put a second value", "tok\r\n", []string{"keys", "put", "aws/prod/token", "--db", db}, 0, "stored aws/prod/token\n", nil, ""},
		{"value as an argument is refused", "", []string{"keys", "put", "aws/x", "hunter2", "--db", db}, 2, "", []string{"stdin, never from an argument"}, "hunter2x"},
		{"empty stdin is refused", "", []string{"keys", "put", "aws/x", "--db", db}, 2, "", []string{"no value on stdin for aws/x"}, ""},
		{"invalid path", "v", []string{"keys", "put", "../etc", "--db", db}, 2, "", []string{"invalid key path"}, ""},
		{"list", "", []string{"keys", "list", "--db", db}, 0, "aws/prod/secret\naws/prod/token\n", nil, secret},
		{"list with prefix", "", []string{"keys", "list", "aws/prod/t", "--db", db}, 0, "aws/prod/token\n", nil, ""},
		{"rotate", "", []string{"keys", "rotate-master", "--db", db}, 0, "re-sealed 2 values under a new master key in " + filepath.Join(dir, "master.key") + "\n", nil, secret},
		{"delete", "", []string{"keys", "delete", "aws/prod/token", "--db", db}, 0, "deleted aws/prod/token\n", nil, ""},
		{"delete missing", "", []string{"keys", "delete", "aws/prod/token", "--db", db}, 1, "", []string{"key aws/prod/token not found", "capstan keys put aws/prod/token"}, ""},
	}
	for _, s := range steps {
		code, out, errOut := runKeys(t, s.stdin, s.args...)
		if code != s.wantCode || out != s.wantOut {
			t.Errorf("%s: exit %d stdout %q stderr %q; want exit %d stdout %q", s.name, code, out, errOut, s.wantCode, s.wantOut)
		}
		for _, w := range s.wantErr {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q does not mention %q", s.name, errOut, w)
			}
		}
		if s.wantNoText != "" && strings.Contains(out+errOut, s.wantNoText) {
			t.Errorf("%s: output shows %q", s.name, s.wantNoText)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "master.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("master key file: %v, %v", st, err)
	}
	if bytes.Contains(dirBytes(t, dir), []byte(secret)) {
		t.Error("the secret's plaintext is in the database directory")
	}
	// The value survived rotation and is readable by a new process.
	code, out, errOut := runKeys(t, "", "keys", "list", "aws/prod/secret", "--db", db)
	if code != 0 || out != "aws/prod/secret\n" {
		t.Errorf("after rotation: exit %d %q %q", code, out, errOut)
	}
}

func TestKeysMasterKeyFileFlag(t *testing.T) {
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "capstan.db")
	keyFile := filepath.Join(dir, "etc", "master.key")
	if code, _, errOut := runKeys(t, "v\n", "keys", "put", "p", "--db", db, "--master-key-file", keyFile); code != 0 || !strings.Contains(errOut, keyFile) {
		t.Fatalf("put: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "master.key")); !os.IsNotExist(err) {
		t.Error("a key was created beside the database despite --master-key-file")
	}
	// Without the key file, the stored value cannot be replaced by a new key.
	code, _, errOut := runKeys(t, "w\n", "keys", "put", "q", "--db", db)
	if code != 1 || !strings.Contains(errOut, "missing but key storage holds 1 values") {
		t.Errorf("put without the key: exit %d, stderr %q", code, errOut)
	}
}
