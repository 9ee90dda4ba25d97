package authz

import (
	"context"
	"fmt"
	"strings"
)

// KeyReader reads key storage (keys.Keyring does).
type KeyReader interface {
	// Get reads a key whatever its project.
	Get(ctx context.Context, path string) (string, error)
	// GetIn reads a key for an execution of project, refusing a key of
	// another project.
	GetIn(ctx context.Context, project, path string) (string, error)
}

// KeyGuard is key storage as runbooks see it: an execution reads key:PATH
// only when the key belongs to the execution's project and, on a shared
// server (Loader set), the policy of the user who started it allows
// capstan:ReadKey on the key's ARN with the project as capstan:Project.
// Executions started from the local CLI (ExecutedBy not a user ARN) answer
// to no policy, but to their project all the same.
type KeyGuard struct {
	Keys KeyReader
	// Loader gives users' policies; nil on a single-user setup.
	Loader *Loader
	Scope  Scope
}

// Get reads a key with no execution to answer for: the local operator's.
func (g *KeyGuard) Get(ctx context.Context, path string) (string, error) {
	return g.Keys.Get(ctx, path)
}

// GetFor reads a key for an execution of project started by executedBy.
func (g *KeyGuard) GetFor(ctx context.Context, executedBy, project, path string) (string, error) {
	if _, name, ok := strings.Cut(executedBy, ":user/"); ok && g.Loader != nil {
		p, err := g.Loader.Principal(ctx, name, executedBy)
		if err != nil {
			return "", err
		}
		if project == "" {
			project = "default"
		}
		if err := p.Authorize(Request{Action: ReadKey, Resource: g.Scope.Key(path), Project: project}); err != nil {
			return "", fmt.Errorf("{{ key:%s }}: %w", path, err)
		}
	}
	return g.Keys.GetIn(ctx, project, path)
}
