package authz

import (
	"context"
	"fmt"
	"strings"
)

// KeyReader reads key storage (keys.Keyring does).
type KeyReader interface {
	Get(ctx context.Context, path string) (string, error)
}

// KeyGuard is key storage as a shared server's runbooks see it: an execution
// reads key:PATH only when the policy of the user who started it allows
// capstan:ReadKey on the key's ARN. Executions started from the local CLI
// (ExecutedBy not a user ARN) read as before.
type KeyGuard struct {
	Keys   KeyReader
	Loader *Loader
	Scope  Scope
}

// Get reads a key with no execution to answer for: the local operator's.
func (g *KeyGuard) Get(ctx context.Context, path string) (string, error) {
	return g.Keys.Get(ctx, path)
}

// GetFor reads a key for an execution started by executedBy.
func (g *KeyGuard) GetFor(ctx context.Context, executedBy, path string) (string, error) {
	if _, name, ok := strings.Cut(executedBy, ":user/"); ok {
		p, err := g.Loader.Principal(ctx, name, executedBy)
		if err != nil {
			return "", err
		}
		if err := p.Authorize(Request{Action: ReadKey, Resource: g.Scope.Key(path)}); err != nil {
			return "", fmt.Errorf("{{ key:%s }}: %w", path, err)
		}
	}
	return g.Keys.Get(ctx, path)
}
