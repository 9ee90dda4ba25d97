package ssmapi

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
)

// Users issues and checks the access keys of API users. Secrets are sealed
// with the key storage's master key before they reach the store.
type Users struct {
	Store store.Store
	// Keys are the options of the key storage (its master key).
	Keys keys.Options
	// AccountID goes into the users' ARNs; default DefaultAccountID.
	AccountID string
	// CacheFor is how long an opened secret is kept in memory, so that
	// signature checks do not decrypt on every request; default 30 s. A
	// deleted user's key stops working within this time.
	CacheFor time.Duration

	mu    sync.Mutex
	cache map[string]cachedSecret
}

type cachedSecret struct {
	ident   Identity
	secret  string
	expires time.Time
}

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// ARN returns the ARN capstan shows for user name, in IAM's user form.
func (u *Users) ARN(name string) string {
	acct := u.AccountID
	if acct == "" {
		acct = DefaultAccountID
	}
	return "arn:aws:iam::" + acct + ":user/" + name
}

// Create issues a user with a new access key and returns the secret access
// key, which is shown only this once. store.ErrExists when the name is taken.
func (u *Users) Create(ctx context.Context, name string) (store.User, string, error) {
	if !userNameRE.MatchString(name) {
		return store.User{}, "", fmt.Errorf("invalid user name %q: use 1 to 64 letters, digits and +=,.@_-", name)
	}
	if _, err := u.Store.GetUser(ctx, name); err == nil {
		return store.User{}, "", fmt.Errorf("user %s: %w", name, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", err
	}
	akid := "AKIA" + randomText(10)[:16]
	secret := randomSecret()
	sealed, err := u.seal(ctx, name, secret)
	if err != nil {
		return store.User{}, "", err
	}
	usr := store.User{Name: name, ARN: u.ARN(name), AccessKeyID: akid, SealedSecret: sealed}
	if err := u.Store.PutUser(ctx, usr); err != nil {
		return store.User{}, "", fmt.Errorf("storing user %s: %w", name, err)
	}
	return usr, secret, nil
}

// Secret implements Credentials.
func (u *Users) Secret(ctx context.Context, accessKeyID string) (Identity, string, error) {
	now := time.Now()
	u.mu.Lock()
	c, ok := u.cache[accessKeyID]
	u.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.ident, c.secret, nil
	}
	usr, err := u.Store.GetUserByAccessKey(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, "", fmt.Errorf("access key %s: %w", accessKeyID, ErrUnknownKey)
	}
	if err != nil {
		return Identity{}, "", fmt.Errorf("looking up access key %s: %w", accessKeyID, err)
	}
	secret, err := u.open(ctx, usr.Name, usr.SealedSecret)
	if err != nil {
		return Identity{}, "", err
	}
	ident := Identity{Name: usr.Name, ARN: usr.ARN}
	ttl := u.CacheFor
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	u.mu.Lock()
	if u.cache == nil {
		u.cache = map[string]cachedSecret{}
	}
	u.cache[accessKeyID] = cachedSecret{ident: ident, secret: secret, expires: now.Add(ttl)}
	u.mu.Unlock()
	return ident, secret, nil
}

func secretPath(name string) string { return "capstan/users/" + name }

// seal runs the keyring over a one-value backend, so the sealed bytes land in
// the user's row rather than among the keys users manage.
func (u *Users) seal(ctx context.Context, name, secret string) ([]byte, error) {
	b := &oneSecret{}
	if err := keys.New(b, u.Keys).Put(ctx, secretPath(name), []byte(secret)); err != nil {
		return nil, fmt.Errorf("sealing the secret of user %s: %w", name, err)
	}
	return b.sealed, nil
}

func (u *Users) open(ctx context.Context, name string, sealed []byte) (string, error) {
	s, err := keys.New(&oneSecret{sealed: sealed}, u.Keys).Get(ctx, secretPath(name))
	if err != nil {
		return "", fmt.Errorf("opening the secret of user %s: %w", name, err)
	}
	return s, nil
}

// oneSecret is a keys.Backend holding a single sealed value.
type oneSecret struct{ sealed []byte }

func (o *oneSecret) PutSecret(_ context.Context, _ string, sealed []byte) error {
	o.sealed = sealed
	return nil
}

func (o *oneSecret) GetSecret(_ context.Context, path string) ([]byte, error) {
	if o.sealed == nil {
		return nil, fmt.Errorf("%s: %w", path, store.ErrNotFound)
	}
	return o.sealed, nil
}

func (o *oneSecret) ListSecrets(context.Context, string) ([]string, error) { return nil, nil }

func (o *oneSecret) DeleteSecret(_ context.Context, path string) error {
	return fmt.Errorf("%s: %w", path, store.ErrNotFound)
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

func randomSecret() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b) // 40 characters, as AWS's
}
