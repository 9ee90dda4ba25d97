// Package keys is capstan's key storage: secret values sealed with
// AES-256-GCM under a master key and kept in a Backend (the store), and the
// Masker that keeps resolved secrets out of everything an execution writes.
//
// Each value is sealed with its own random nonce and with its path as
// associated data, so a sealed value copied to another path does not open.
package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/capstan-run/capstan/internal/store"
)

// Backend keeps sealed values by path, each with its project. The SQLite
// store implements it.
type Backend interface {
	PutSecret(ctx context.Context, s store.Secret) error
	// GetSecret returns an error wrapping store.ErrNotFound for an unknown path.
	GetSecret(ctx context.Context, path string) (store.Secret, error)
	ListSecrets(ctx context.Context, prefix string) ([]store.Secret, error)
	// DeleteSecret returns an error wrapping store.ErrNotFound for an unknown path.
	DeleteSecret(ctx context.Context, path string) error
}

// EnvMasterKey names the environment variable holding a base64 master key.
const EnvMasterKey = "CAPSTAN_MASTER_KEY"

// ErrNotFound is wrapped by the error for a path that holds no value.
var ErrNotFound = store.ErrNotFound

// NotFoundError names a missing key and how to store it.
type NotFoundError struct{ Path string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("key %s not found in key storage: store it with `capstan keys put %s`", e.Path, e.Path)
}

// Unwrap lets errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// Options say where the master key comes from.
type Options struct {
	// MasterKeyFile holds the base64 master key. Default: master.key in the
	// directory of DBPath.
	MasterKeyFile string
	// DBPath is the database file; it only places the default key file.
	DBPath string
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Notice receives the one-line notice when a key file is created; default os.Stderr.
	Notice io.Writer
}

// Keyring seals and opens values in a Backend. It is safe for concurrent use.
type Keyring struct {
	b    Backend
	opts Options

	mu     sync.Mutex
	master *masterKey // nil until first needed
}

// New returns a Keyring over b. The master key is loaded (or created) on
// first use, so listing or deleting never creates a key file.
func New(b Backend, opts Options) *Keyring {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Notice == nil {
		opts.Notice = os.Stderr
	}
	return &Keyring{b: b, opts: opts}
}

var pathRE = regexp.MustCompile(`^[A-Za-z0-9_.+=@-]+(/[A-Za-z0-9_.+=@-]+)*$`)

// CheckPath rejects paths that are empty, absolute, contain "..", or use
// characters other than letters, digits, "/" and _.+=@-.
func CheckPath(path string) error {
	if !pathRE.MatchString(path) || strings.Contains(path, "..") {
		return fmt.Errorf("invalid key path %q: use segments of letters, digits and _.+=@- separated by /, e.g. aws/prod/secret", path)
	}
	return nil
}

// InternalPrefix begins the paths of capstan's own secrets (users' secret
// access keys): listings for people and pickers leave them out.
const InternalPrefix = "capstan/"

// Internal reports whether path holds one of capstan's own secrets.
func Internal(path string) bool { return strings.HasPrefix(path, InternalPrefix) }

// ProjectError is a key an execution may not read: it belongs to another
// project.
type ProjectError struct {
	Path string
	// Project is the key's; Reader the execution's.
	Project, Reader string
}

func (e *ProjectError) Error() string {
	return fmt.Sprintf("key %s belongs to project %s: an execution of project %s reads only its own project's keys (store the key with `capstan keys put %s --project %s`)",
		e.Path, e.Project, e.Reader, e.Path, e.Reader)
}

// Put seals value and stores it at path in project ("" for default),
// replacing any previous value and project.
func (k *Keyring) Put(ctx context.Context, project, path string, value []byte) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	m, err := k.key(ctx, true)
	if err != nil {
		return err
	}
	sealed, err := m.seal(path, value)
	if err != nil {
		return fmt.Errorf("sealing key %s: %w", path, err)
	}
	if err := k.b.PutSecret(ctx, store.Secret{Path: path, Project: project, Sealed: sealed}); err != nil {
		return fmt.Errorf("storing key %s: %w", path, err)
	}
	return nil
}

// Get opens the value at path, whatever its project: the operator's read
// (a project's static credentials). A missing path is a *NotFoundError.
func (k *Keyring) Get(ctx context.Context, path string) (string, error) {
	b, err := k.read(ctx, "", path)
	return string(b), err
}

// GetBytes is Get returning bytes.
func (k *Keyring) GetBytes(ctx context.Context, path string) ([]byte, error) {
	return k.read(ctx, "", path)
}

// GetIn opens the value at path for an execution of project ("" for
// default): a key of another project is a *ProjectError, and nothing of it
// is opened.
func (k *Keyring) GetIn(ctx context.Context, project, path string) (string, error) {
	b, err := k.read(ctx, store.ProjectOf(project), path)
	return string(b), err
}

// read opens the value at path; project, when set, must be the key's.
func (k *Keyring) read(ctx context.Context, project, path string) ([]byte, error) {
	if err := CheckPath(path); err != nil {
		return nil, err
	}
	sec, err := k.b.GetSecret(ctx, path)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &NotFoundError{Path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	if project != "" && store.ProjectOf(sec.Project) != project {
		return nil, &ProjectError{Path: path, Project: store.ProjectOf(sec.Project), Reader: project}
	}
	m, err := k.key(ctx, false)
	if err != nil {
		return nil, err
	}
	v, err := m.open(path, sec.Sealed)
	if err != nil {
		return nil, fmt.Errorf("opening key %s: %w", path, err)
	}
	return v, nil
}

// List returns the paths under prefix with their projects, sorted by path.
// Values are never read.
func (k *Keyring) List(ctx context.Context, prefix string) ([]store.Secret, error) {
	paths, err := k.b.ListSecrets(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing keys %q: %w", prefix, err)
	}
	return paths, nil
}

// Delete removes path. A missing path is a *NotFoundError.
func (k *Keyring) Delete(ctx context.Context, path string) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	err := k.b.DeleteSecret(ctx, path)
	if errors.Is(err, store.ErrNotFound) {
		return &NotFoundError{Path: path}
	}
	if err != nil {
		return fmt.Errorf("deleting key %s: %w", path, err)
	}
	return nil
}

// key returns the master key, loading it, or creating it when create is set
// and nothing is configured.
func (k *Keyring) key(ctx context.Context, create bool) (*masterKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master != nil {
		return k.master, nil
	}
	m, err := k.loadMaster(ctx, create)
	if err != nil {
		return nil, err
	}
	k.master = m
	return m, nil
}

// masterKey is the current AEAD plus the keys of an unfinished rotation,
// tried in turn when the current one does not open a value.
type masterKey struct {
	source  string // for messages: "CAPSTAN_MASTER_KEY" or the file
	current cipher.AEAD
	older   []cipher.AEAD
}

const sealVersion = 1

func aad(path string) []byte { return []byte("capstan/keys/v1:" + path) }

func (m *masterKey) seal(path string, value []byte) ([]byte, error) {
	nonce := make([]byte, m.current.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, nonce...)
	return m.current.Seal(out, nonce, value, aad(path)), nil
}

func (m *masterKey) open(path string, sealed []byte) ([]byte, error) {
	for _, a := range append([]cipher.AEAD{m.current}, m.older...) {
		if v, err := openWith(a, path, sealed); err == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("it does not open with the master key from %s: the key is not the one it was sealed with, or the value was moved or altered", m.source)
}

func openWith(a cipher.AEAD, path string, sealed []byte) ([]byte, error) {
	n := a.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("not a sealed value")
	}
	return a.Open(nil, sealed[1:1+n], sealed[1+n:], aad(path))
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("master key is %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
