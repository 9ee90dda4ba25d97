package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// PolicyStore reads the policy document a user acts under (store.Policies
// does); an error satisfying NotFound when the user has none.
type PolicyStore interface {
	GetPolicy(ctx context.Context, user string) ([]byte, error)
}

// Loader builds the Principal of a caller from its stored policy, keeping
// parsed policies for a short while so that a decision does not parse JSON.
// A user without a policy gets a Principal with none: denied everything.
type Loader struct {
	Store PolicyStore
	// NotFound tells a missing policy from a failure (errors.Is with the
	// store's sentinel).
	NotFound error
	// CacheFor is how long a parsed policy is kept; default 5 s, so a changed
	// policy applies within that time.
	CacheFor time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedPolicy
}

type cachedPolicy struct {
	policies []*Policy
	expires  time.Time
}

// Principal returns the caller name (whose ARN is arn) with its policies.
// A stored policy that no longer parses is an error naming the user: the
// caller is refused rather than judged by part of a policy.
func (l *Loader) Principal(ctx context.Context, name, arn string) (*Principal, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	t := now()
	l.mu.Lock()
	c, ok := l.cache[name]
	l.mu.Unlock()
	if ok && t.Before(c.expires) {
		return &Principal{Name: name, ARN: arn, Policies: c.policies}, nil
	}
	var policies []*Policy
	doc, err := l.Store.GetPolicy(ctx, name)
	switch {
	case err == nil:
		p, perr := ParsePolicyArg("the policy of user "+name, doc)
		if perr != nil {
			return nil, fmt.Errorf("user %s: stored policy: %w", name, perr)
		}
		policies = []*Policy{p}
	case l.NotFound != nil && errors.Is(err, l.NotFound):
	default:
		return nil, fmt.Errorf("reading the policy of user %s: %w", name, err)
	}
	ttl := l.CacheFor
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	l.mu.Lock()
	if l.cache == nil {
		l.cache = map[string]cachedPolicy{}
	}
	l.cache[name] = cachedPolicy{policies: policies, expires: t.Add(ttl)}
	l.mu.Unlock()
	return &Principal{Name: name, ARN: arn, Policies: policies}, nil
}

// Forget drops a user's cached policy, after it was changed in this process.
func (l *Loader) Forget(name string) {
	l.mu.Lock()
	delete(l.cache, name)
	l.mu.Unlock()
}
