package keys

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Rotation keeps two extra files beside the key file until it completes:
// FILE.new holds the new key while values are re-sealed, FILE.bak the old one.
// Both are tried when opening values, so a rotation cut short loses nothing.
const (
	newSuffix    = ".new"
	backupSuffix = ".bak"
)

// KeyFile is the master key file the options select (it may not exist yet).
func (k *Keyring) KeyFile() string {
	if k.opts.MasterKeyFile != "" {
		return k.opts.MasterKeyFile
	}
	dir := "."
	if k.opts.DBPath != "" {
		dir = filepath.Dir(k.opts.DBPath)
	}
	return filepath.Join(dir, "master.key")
}

func (k *Keyring) loadMaster(ctx context.Context, create bool) (*masterKey, error) {
	if env := k.opts.Getenv(EnvMasterKey); env != "" {
		key, err := decodeKey(env)
		if err != nil {
			return nil, fmt.Errorf("master key from %s: %w", EnvMasterKey, err)
		}
		a, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("master key from %s: %w", EnvMasterKey, err)
		}
		return &masterKey{source: EnvMasterKey, current: a}, nil
	}
	file := k.KeyFile()
	m, err := readKeyFiles(file)
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if !create {
		return nil, fmt.Errorf("no master key: %s does not exist and %s is not set", file, EnvMasterKey)
	}
	// Creating a key when values exist would orphan them; that means the
	// configured key file is the wrong one or was lost.
	if paths, lerr := k.b.ListSecrets(ctx, ""); lerr == nil && len(paths) > 0 {
		return nil, fmt.Errorf("master key file %s is missing but key storage holds %d values sealed with another key: set %s or --master-key-file to that key", file, len(paths), EnvMasterKey)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := writeKeyFile(file, key); err != nil {
		return nil, err
	}
	fmt.Fprintf(k.opts.Notice, "capstan: created master key %s (mode 0600); back it up: values in key storage cannot be read without it\n", file)
	a, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &masterKey{source: file, current: a}, nil
}

// readKeyFiles reads FILE and any FILE.new / FILE.bak of an unfinished rotation.
func readKeyFiles(file string) (*masterKey, error) {
	cur, err := readKeyFile(file)
	if err != nil {
		return nil, err
	}
	m := &masterKey{source: file, current: cur}
	for _, extra := range []string{file + newSuffix, file + backupSuffix} {
		a, err := readKeyFile(extra)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m.older = append(m.older, a)
	}
	return m, nil
}

func readKeyFile(file string) (cipher.AEAD, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("reading master key: %w", err)
	}
	// A key others can read unseals every stored secret and user key.
	if fi, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("reading master key: %w", err)
	} else if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s has mode %04o: it must be readable by its owner only (chmod 600 %s)", file, fi.Mode().Perm(), file)
	}
	key, err := decodeKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", file, err)
	}
	a, err := newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", file, err)
	}
	return a, nil
}

func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not base64 (make one with `head -c 32 /dev/urandom | base64`): %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("decodes to %d bytes, want 32 (make one with `head -c 32 /dev/urandom | base64`)", len(key))
	}
	return key, nil
}

// writeKeyFile writes key base64-encoded with mode 0600, atomically.
func writeKeyFile(file string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("creating master key %s: %w", file, err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return fmt.Errorf("creating master key %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("creating master key %s: %w", file, err)
	}
	return nil
}

// RotateMaster seals every value under a new master key. The new key is
// written to FILE.new and the old one copied to FILE.bak first; values are
// re-sealed one by one; then FILE.new replaces FILE and the backup is
// removed. A rotation cut short is finished by running it again. It returns
// how many values were re-sealed.
func (k *Keyring) RotateMaster(ctx context.Context) (int, error) {
	if k.opts.Getenv(EnvMasterKey) != "" {
		return 0, fmt.Errorf("rotating the master key: it comes from %s, which capstan cannot rewrite: unset it and rotate with --master-key-file, or re-seal by hand", EnvMasterKey)
	}
	m, err := k.key(ctx, true)
	if err != nil {
		return 0, err
	}
	file := k.KeyFile()
	oldData, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("rotating the master key: %w", err)
	}
	if err := os.WriteFile(file+backupSuffix, oldData, 0o600); err != nil {
		return 0, fmt.Errorf("rotating the master key: backing up %s: %w", file, err)
	}
	// An unfinished rotation's new key is reused: values may already be
	// sealed with it, and replacing it would orphan them.
	var newKey []byte
	if data, err := os.ReadFile(file + newSuffix); err == nil {
		if newKey, err = decodeKey(string(data)); err != nil {
			return 0, fmt.Errorf("rotating the master key: %s: %w", file+newSuffix, err)
		}
	} else {
		newKey = make([]byte, 32)
		if _, err := rand.Read(newKey); err != nil {
			return 0, err
		}
		if err := writeKeyFile(file+newSuffix, newKey); err != nil {
			return 0, err
		}
	}
	a, err := newAEAD(newKey)
	if err != nil {
		return 0, err
	}
	// Values sealed with any key we know still open while we work.
	next := &masterKey{source: file, current: a, older: append([]cipher.AEAD{m.current}, m.older...)}
	paths, err := k.b.ListSecrets(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("rotating the master key: %w", err)
	}
	for _, e := range paths {
		p := e.Path
		sec, err := k.b.GetSecret(ctx, p)
		if err != nil {
			return 0, fmt.Errorf("rotating the master key: reading %s: %w", p, err)
		}
		v, err := next.open(p, sec.Sealed)
		if err != nil {
			return 0, fmt.Errorf("rotating the master key: opening %s: %w", p, err)
		}
		resealed, err := next.seal(p, v)
		if err != nil {
			return 0, err
		}
		sec.Sealed = resealed
		if err := k.b.PutSecret(ctx, sec); err != nil {
			return 0, fmt.Errorf("rotating the master key: storing %s: %w", p, err)
		}
	}
	if err := os.Rename(file+newSuffix, file); err != nil {
		return 0, fmt.Errorf("rotating the master key: %w", err)
	}
	if err := os.Remove(file + backupSuffix); err != nil {
		return 0, fmt.Errorf("rotating the master key: removing backup: %w", err)
	}
	k.mu.Lock()
	k.master = &masterKey{source: file, current: a}
	k.mu.Unlock()
	return len(paths), nil
}
