package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"sync"
)

// Masked replaces a secret wherever it would be shown.
const Masked = "****"

// RefPrefix starts a key-storage reference: "key:PATH" in configuration and
// `{{ key:PATH }}` in runbook parameters and inputs.
const RefPrefix = "key:"

// ParseRef returns the path of a "key:PATH" reference.
func ParseRef(s string) (path string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, RefPrefix) {
		return "", false
	}
	path = strings.TrimSpace(strings.TrimPrefix(s, RefPrefix))
	return path, CheckPath(path) == nil
}

// Masker remembers every secret value resolved during an execution and
// replaces it in any string. It is safe for concurrent use; the zero value is
// ready.
type Masker struct {
	mu       sync.RWMutex
	secrets  map[string]struct{}
	replacer *strings.Replacer // rebuilt when secrets change
}

// Add records a secret. Besides the value itself it records the forms in
// which it shows up in JSON records and base64 blobs.
func (m *Masker) Add(secret string) {
	if secret == "" {
		return
	}
	forms := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))}
	if b, err := json.Marshal(secret); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addLocked(forms)
}

// AddFrom records every secret other holds, so that what one masker hides
// (a parent execution's) another (its child's) hides too.
func (m *Masker) AddFrom(other *Masker) {
	other.mu.RLock()
	forms := make([]string, 0, len(other.secrets))
	for s := range other.secrets {
		forms = append(forms, s)
	}
	other.mu.RUnlock()
	if len(forms) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addLocked(forms)
}

func (m *Masker) addLocked(forms []string) {
	if m.secrets == nil {
		m.secrets = map[string]struct{}{}
	}
	for _, f := range forms {
		m.secrets[f] = struct{}{}
	}
	// Longest first, so a secret containing another is masked whole.
	all := make([]string, 0, len(m.secrets))
	for s := range m.secrets {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, Masked)
	}
	m.replacer = strings.NewReplacer(pairs...)
}

// Mask returns s with every recorded secret replaced by Masked.
func (m *Masker) Mask(s string) string {
	m.mu.RLock()
	r := m.replacer
	m.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// MaskError returns an error whose message is masked, or nil for nil. The
// result still unwraps to err so callers can decide by kind.
func (m *Masker) MaskError(err error) error {
	if err == nil {
		return nil
	}
	msg := m.Mask(err.Error())
	if msg == err.Error() {
		return err
	}
	return &maskedError{msg: msg, err: err}
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// Reader is what resolution needs from a Keyring.
type Reader interface {
	Get(ctx context.Context, path string) (string, error)
}

// Resolve reads the value at path at the moment of use and records it in m
// so that everything written afterwards masks it.
func Resolve(ctx context.Context, r Reader, m *Masker, path string) (string, error) {
	v, err := r.Get(ctx, path)
	if err != nil {
		return "", err
	}
	m.Add(v)
	return v, nil
}
