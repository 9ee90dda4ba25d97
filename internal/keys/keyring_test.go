package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

// mapBackend is the Backend contract in memory, for unit tests; the SQLite
// store is tested too in sqlite_test.go.
type mapBackend struct {
	mu sync.Mutex
	m  map[string]store.Secret
}

func newMapBackend() *mapBackend { return &mapBackend{m: map[string]store.Secret{}} }

func (b *mapBackend) PutSecret(_ context.Context, s store.Secret) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.Sealed = append([]byte(nil), s.Sealed...)
	s.Project = store.ProjectOf(s.Project)
	b.m[s.Path] = s
	return nil
}

func (b *mapBackend) GetSecret(_ context.Context, path string) (store.Secret, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[path]
	if !ok {
		return store.Secret{}, fmt.Errorf("secret %s: %w", path, store.ErrNotFound)
	}
	return v, nil
}

func (b *mapBackend) ListSecrets(_ context.Context, prefix string) ([]store.Secret, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []store.Secret
	for p, s := range b.m {
		if strings.HasPrefix(p, prefix) {
			out = append(out, store.Secret{Path: p, Project: s.Project})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (b *mapBackend) DeleteSecret(_ context.Context, path string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[path]; !ok {
		return fmt.Errorf("secret %s: %w", path, store.ErrNotFound)
	}
	delete(b.m, path)
	return nil
}

func noEnv(string) string { return "" }

func newTestKeyring(t *testing.T, b Backend) (*Keyring, *bytes.Buffer, string) {
	t.Helper()
	dir := t.TempDir()
	notice := &bytes.Buffer{}
	k := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv, Notice: notice})
	return k, notice, dir
}

func TestPutGetListDelete(t *testing.T) {
	ctx := context.Background()
	b := newMapBackend()
	k, notice, dir := newTestKeyring(t, b)

	if _, err := k.List(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !os.IsNotExist(err) {
		t.Fatalf("listing created a master key: %v", err)
	}
	secrets := map[string]string{"aws/prod/secret": "wJalrXUtnFEMI/K7MDENG", "aws/prod/token": "tok\nwith newline", "db/password": ""}
	for p, v := range secrets {
		if err := k.Put(ctx, "", p, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(dir, "master.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no master key beside the database: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("master key mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(notice.String(), keyFile) || strings.Count(notice.String(), "\n") != 1 {
		t.Errorf("notice = %q, want one line naming %s", notice, keyFile)
	}
	for p, v := range secrets {
		got, err := k.Get(ctx, p)
		if err != nil || got != v {
			t.Errorf("Get(%s) = %q, %v; want %q", p, got, err, v)
		}
		if v != "" && bytes.Contains(b.m[p].Sealed, []byte(v)) {
			t.Errorf("backend holds the plaintext of %s", p)
		}
	}
	got, err := k.List(ctx, "aws/")
	if err != nil || len(got) != 2 || got[0].Path != "aws/prod/secret" || got[1].Path != "aws/prod/token" || got[0].Project != store.DefaultProject {
		t.Errorf("List(aws/) = %v, %v", got, err)
	}
	if err := k.Delete(ctx, "aws/prod/token"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []func() error{
		func() error { _, err := k.Get(ctx, "aws/prod/token"); return err },
		func() error { return k.Delete(ctx, "aws/prod/token") },
	} {
		err := op()
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "capstan keys put aws/prod/token") {
			t.Errorf("missing key error = %v, want one naming the path and `capstan keys put`", err)
		}
	}
	// A second keyring on the same file reads the values and makes no new key.
	k2 := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv, Notice: notice})
	if v, err := k2.Get(ctx, "aws/prod/secret"); err != nil || v != secrets["aws/prod/secret"] {
		t.Errorf("reopened Get = %q, %v", v, err)
	}
	if strings.Count(notice.String(), "\n") != 1 {
		t.Errorf("a second notice: %q", notice)
	}
}

func TestSealedValuesAreBoundToPathAndKey(t *testing.T) {
	ctx := context.Background()
	b := newMapBackend()
	k, _, _ := newTestKeyring(t, b)
	if err := k.Put(ctx, "", "a/one", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := k.Put(ctx, "", "a/two", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b.m["a/one"].Sealed, b.m["a/two"].Sealed) {
		t.Error("two equal values sealed to equal bytes: nonces are reused")
	}
	b.m["a/moved"] = store.Secret{Path: "a/moved", Sealed: b.m["a/one"].Sealed}
	if _, err := k.Get(ctx, "a/moved"); err == nil {
		t.Error("a value moved to another path opened")
	}
	tampered := append([]byte(nil), b.m["a/one"].Sealed...)
	tampered[len(tampered)-1] ^= 1
	b.m["a/one"] = store.Secret{Path: "a/one", Sealed: tampered}
	if _, err := k.Get(ctx, "a/one"); err == nil || !strings.Contains(err.Error(), "a/one") {
		t.Errorf("tampered value: %v", err)
	}
	other := New(b, Options{DBPath: filepath.Join(t.TempDir(), "x.db"), Getenv: func(string) string {
		return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	}})
	if _, err := other.Get(ctx, "a/two"); err == nil || !strings.Contains(err.Error(), EnvMasterKey) {
		t.Errorf("wrong master key: %v, want an error naming its source", err)
	}
}

func TestMasterKeySources(t *testing.T) {
	ctx := context.Background()
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	tests := []struct {
		name     string
		env      string
		fileBody string // written to the configured key file when non-empty
		fileMode os.FileMode
		wantErr  string
	}{
		{"env key", good, "", 0, ""},
		{"key file", "", good + "\n", 0o600, ""},
		{"key file readable by others", "", good + "\n", 0o644, "has mode 0644: it must be readable by its owner only (chmod 600 "},
		{"key file writable by its group", "", good + "\n", 0o620, "has mode 0620"},
		{"env not base64", "%%%", "", 0, EnvMasterKey},
		{"env too short", base64.StdEncoding.EncodeToString([]byte("short")), "", 0, "want 32"},
		{"file too short", "", base64.StdEncoding.EncodeToString([]byte("short")), 0o600, "master.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "keys", "master.key")
			if tt.fileBody != "" {
				_ = os.MkdirAll(filepath.Dir(file), 0o700)
				if err := os.WriteFile(file, []byte(tt.fileBody), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(file, tt.fileMode); err != nil {
					t.Fatal(err)
				}
			}
			notice := &bytes.Buffer{}
			k := New(newMapBackend(), Options{MasterKeyFile: file, Getenv: func(string) string { return tt.env }, Notice: notice})
			err := k.Put(ctx, "", "x", []byte("v"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if notice.Len() != 0 {
				t.Errorf("a configured key printed a creation notice: %q", notice)
			}
			if v, err := k.Get(ctx, "x"); err != nil || v != "v" {
				t.Errorf("Get = %q, %v", v, err)
			}
		})
	}
}

func TestMissingKeyFileWithValuesIsAnError(t *testing.T) {
	ctx := context.Background()
	b := newMapBackend()
	k, _, dir := newTestKeyring(t, b)
	if err := k.Put(ctx, "", "x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	k2 := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv, Notice: &bytes.Buffer{}})
	err := k2.Put(ctx, "", "y", []byte("w"))
	if err == nil || !strings.Contains(err.Error(), "master.key") || !strings.Contains(err.Error(), "1 values") {
		t.Fatalf("err = %v, want a refusal naming the missing file", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !os.IsNotExist(err) {
		t.Error("a new key file replaced the lost one")
	}
}

func TestRotateMaster(t *testing.T) {
	ctx := context.Background()
	b := newMapBackend()
	k, _, dir := newTestKeyring(t, b)
	vals := map[string]string{"a": "alpha", "b/c": "beta"}
	for p, v := range vals {
		if err := k.Put(ctx, "", p, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "master.key")
	oldKey, _ := os.ReadFile(file)
	oldSealed := map[string][]byte{}
	for p := range vals {
		oldSealed[p] = b.m[p].Sealed
	}
	n, err := k.RotateMaster(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RotateMaster = %d, %v", n, err)
	}
	newKey, _ := os.ReadFile(file)
	if bytes.Equal(oldKey, newKey) {
		t.Fatal("key file unchanged")
	}
	for _, suffix := range []string{newSuffix, backupSuffix} {
		if _, err := os.Stat(file + suffix); !os.IsNotExist(err) {
			t.Errorf("%s left behind after rotation", file+suffix)
		}
	}
	fresh := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv})
	for p, v := range vals {
		if bytes.Equal(oldSealed[p], b.m[p].Sealed) {
			t.Errorf("%s not re-sealed", p)
		}
		if got, err := fresh.Get(ctx, p); err != nil || got != v {
			t.Errorf("after rotation Get(%s) = %q, %v", p, got, err)
		}
	}
	// The old key no longer opens anything.
	if err := os.WriteFile(file, oldKey, 0o600); err != nil {
		t.Fatal(err)
	}
	stale := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv})
	if _, err := stale.Get(ctx, "a"); err == nil {
		t.Error("the old key still opens a rotated value")
	}
}

func TestRotationCutShortLosesNothing(t *testing.T) {
	ctx := context.Background()
	b := &failingBackend{mapBackend: newMapBackend()}
	k, _, dir := newTestKeyring(t, b)
	for _, p := range []string{"a", "b", "c"} {
		if err := k.Put(ctx, "", p, []byte("value-"+p)); err != nil {
			t.Fatal(err)
		}
	}
	b.puts, b.failPutAfter = 0, 1 // re-seal one value, then the store fails
	if _, err := k.RotateMaster(ctx); err == nil {
		t.Fatal("rotation with a failing store succeeded")
	}
	b.failPutAfter = 0
	file := filepath.Join(dir, "master.key")
	if _, err := os.Stat(file + backupSuffix); err != nil {
		t.Fatalf("backup of the old key removed before rotation finished: %v", err)
	}
	reopened := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv})
	for _, p := range []string{"a", "b", "c"} {
		if v, err := reopened.Get(ctx, p); err != nil || v != "value-"+p {
			t.Errorf("mid-rotation Get(%s) = %q, %v", p, v, err)
		}
	}
	if n, err := reopened.RotateMaster(ctx); err != nil || n != 3 {
		t.Fatalf("finishing the rotation: %d, %v", n, err)
	}
	final := New(b, Options{DBPath: filepath.Join(dir, "capstan.db"), Getenv: noEnv})
	for _, p := range []string{"a", "b", "c"} {
		if v, err := final.Get(ctx, p); err != nil || v != "value-"+p {
			t.Errorf("after finishing Get(%s) = %q, %v", p, v, err)
		}
	}
}

type failingBackend struct {
	*mapBackend
	failPutAfter int // fail every put after this many; 0: never
	puts         int
}

func (f *failingBackend) PutSecret(ctx context.Context, s store.Secret) error {
	if f.failPutAfter > 0 && f.puts >= f.failPutAfter {
		return errors.New("disk full")
	}
	f.puts++
	return f.mapBackend.PutSecret(ctx, s)
}

func TestInvalidPaths(t *testing.T) {
	k, _, _ := newTestKeyring(t, newMapBackend())
	for _, p := range []string{"", "/abs", "a/../b", "a//b", "with space", "a/"} {
		if err := k.Put(context.Background(), "", p, []byte("v")); err == nil || !strings.Contains(err.Error(), "invalid key path") {
			t.Errorf("Put(%q) = %v, want an invalid path error", p, err)
		}
	}
}

func TestGetInProject(t *testing.T) {
	ctx := context.Background()
	k, _, _ := newTestKeyring(t, newMapBackend())
	if err := k.Put(ctx, "audit", "audit/token", []byte("audit-secret")); err != nil {
		t.Fatal(err)
	}
	if err := k.Put(ctx, "", "shared/token", []byte("shared-secret")); err != nil {
		t.Fatal(err)
	}
	if v, err := k.GetIn(ctx, "audit", "audit/token"); err != nil || v != "audit-secret" {
		t.Fatalf("audit reading its own key: %q, %v", v, err)
	}
	if v, err := k.GetIn(ctx, "", "shared/token"); err != nil || v != "shared-secret" {
		t.Fatalf("default reading its own key: %q, %v", v, err)
	}
	for _, tc := range []struct{ reader, path, owner string }{
		{"", "audit/token", "audit"},
		{"default", "audit/token", "audit"},
		{"audit", "shared/token", "default"},
	} {
		v, err := k.GetIn(ctx, tc.reader, tc.path)
		var pe *ProjectError
		if !errors.As(err, &pe) || v != "" || pe.Project != tc.owner ||
			!strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), "project "+tc.owner) {
			t.Errorf("project %q reading %s = %q, %v; want a ProjectError naming the key and project %s", tc.reader, tc.path, v, err, tc.owner)
		}
	}
}
