package service

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

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/password"
	"github.com/capstan-run/capstan/internal/store"
)

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// ErrUnknownKey: no user holds the access key.
var ErrUnknownKey = errors.New("unknown access key")

// secretCacheFor is how long an opened secret is kept in memory, so that
// signature checks do not decrypt on every request. A deleted user's key
// stops working within this time.
const secretCacheFor = 30 * time.Second

type userCache struct {
	mu      sync.Mutex
	secrets map[string]cachedSecret
}

type cachedSecret struct {
	who     Principal
	secret  string
	expires time.Time
}

// UserARN is the ARN capstan shows for a user, in IAM's user form.
func (s *Service) UserARN(name string) string {
	return "arn:aws:iam::" + s.account + ":user/" + name
}

// CreateUser issues a user with a new access key and returns the secret
// access key, which is shown only this once. Secrets are sealed with the key
// storage's master key before they reach the store.
func (s *Service) CreateUser(ctx context.Context, p Principal, name string) (_ store.User, _ string, err error) {
	defer func() { s.record(ctx, p, authz.CreateUser, s.scope().User(name), "", err) }()
	if err := s.authorize(ctx, p, authz.CreateUser, name); err != nil {
		return store.User{}, "", err
	}
	if !userNameRE.MatchString(name) {
		return store.User{}, "", newError(CodeValidation, "invalid user name %q: use 1 to 64 letters, digits and +=,.@_-", name)
	}
	if _, err := s.store.GetUser(ctx, name); err == nil {
		return store.User{}, "", newError(CodeUserExists, "user %s already exists (delete it first to issue a new key)", name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", fmt.Errorf("reading user %s: %w", name, err)
	}
	akid := "AKIA" + randomText(10)[:16]
	secret := randomSecret()
	sealed, err := s.seal(ctx, name, secret)
	if err != nil {
		return store.User{}, "", err
	}
	usr := store.User{Name: name, ARN: s.UserARN(name), AccessKeyID: akid, SealedSecret: sealed}
	if err := s.store.PutUser(ctx, usr); err != nil {
		return store.User{}, "", fmt.Errorf("storing user %s: %w", name, err)
	}
	return usr, secret, nil
}

// ListUsers lists the users, by name.
func (s *Service) ListUsers(ctx context.Context, p Principal) ([]store.User, error) {
	if err := s.authorize(ctx, p, authz.ListUsers, "*"); err != nil {
		return nil, err
	}
	list, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return list, nil
}

// DeleteUser deletes a user; a running server stops accepting its key
// within 30 seconds.
func (s *Service) DeleteUser(ctx context.Context, p Principal, name string) (err error) {
	defer func() { s.record(ctx, p, authz.DeleteUser, s.scope().User(name), "", err) }()
	if err := s.authorize(ctx, p, authz.DeleteUser, name); err != nil {
		return err
	}
	err = s.store.DeleteUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return newError(CodeUserNotFound, "no user %s", name)
	}
	if err != nil {
		return fmt.Errorf("deleting user %s: %w", name, err)
	}
	return nil
}

// AccessKeySecret returns the principal holding accessKeyID and its secret
// access key, for checking request signatures; an error wrapping
// ErrUnknownKey when no user holds it.
func (s *Service) AccessKeySecret(ctx context.Context, accessKeyID string) (Principal, string, error) {
	now := time.Now()
	c := &s.users
	c.mu.Lock()
	hit, ok := c.secrets[accessKeyID]
	c.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.who, hit.secret, nil
	}
	usr, err := s.store.GetUserByAccessKey(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, "", fmt.Errorf("access key %s: %w", accessKeyID, ErrUnknownKey)
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("looking up access key %s: %w", accessKeyID, err)
	}
	secret, err := s.open(ctx, usr.Name, usr.SealedSecret)
	if err != nil {
		return Principal{}, "", err
	}
	who := Principal{Name: usr.Name, ARN: usr.ARN}
	c.mu.Lock()
	if c.secrets == nil {
		c.secrets = map[string]cachedSecret{}
	}
	c.secrets[accessKeyID] = cachedSecret{who: who, secret: secret, expires: now.Add(secretCacheFor)}
	c.mu.Unlock()
	return who, secret, nil
}

func secretPath(name string) string { return keys.InternalPrefix + "users/" + name }

// seal runs the keyring over a one-value backend, so the sealed bytes land in
// the user's row rather than among the keys users manage.
func (s *Service) seal(ctx context.Context, name, secret string) ([]byte, error) {
	b := &oneSecret{}
	if err := keys.New(b, s.keys).Put(ctx, store.DefaultProject, secretPath(name), []byte(secret)); err != nil {
		return nil, fmt.Errorf("sealing the secret of user %s: %w", name, err)
	}
	return b.sealed, nil
}

func (s *Service) open(ctx context.Context, name string, sealed []byte) (string, error) {
	v, err := keys.New(&oneSecret{sealed: sealed}, s.keys).Get(ctx, secretPath(name))
	if err != nil {
		return "", fmt.Errorf("opening the secret of user %s: %w", name, err)
	}
	return v, nil
}

// oneSecret is a keys.Backend holding a single sealed value.
type oneSecret struct{ sealed []byte }

func (o *oneSecret) PutSecret(_ context.Context, s store.Secret) error {
	o.sealed = s.Sealed
	return nil
}

func (o *oneSecret) GetSecret(_ context.Context, path string) (store.Secret, error) {
	if o.sealed == nil {
		return store.Secret{}, fmt.Errorf("%s: %w", path, store.ErrNotFound)
	}
	return store.Secret{Path: path, Project: store.DefaultProject, Sealed: o.sealed}, nil
}

func (o *oneSecret) ListSecrets(context.Context, string) ([]store.Secret, error) { return nil, nil }

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

// SetPassword sets the password user signs in to the web UI with and ends
// the user's sessions, so a changed password locks out whoever held one.
func (s *Service) SetPassword(ctx context.Context, p Principal, user, pw string) (err error) {
	defer func() { s.record(ctx, p, authz.UpdateLoginProfile, s.scope().User(user), "", err) }()
	if err := s.authorize(ctx, p, authz.UpdateLoginProfile, user); err != nil {
		return err
	}
	logins, ok := s.store.(store.Logins)
	if !ok {
		return fmt.Errorf("setting the password of %s: this store keeps no passwords", user)
	}
	if _, err := s.store.GetUser(ctx, user); errors.Is(err, store.ErrNotFound) {
		return newError(CodeUserNotFound, "no user %s: create it with capstan users create %s --password-stdin", user, user)
	} else if err != nil {
		return fmt.Errorf("reading user %s: %w", user, err)
	}
	h, err := password.Hash(pw)
	if err != nil {
		return newError(CodeValidation, "%v", err)
	}
	if err := logins.SetPasswordHash(ctx, user, h); err != nil {
		return fmt.Errorf("storing the password of %s: %w", user, err)
	}
	if err := logins.DeleteUserSessions(ctx, user); err != nil {
		return fmt.Errorf("ending the sessions of %s after its new password: %w", user, err)
	}
	return nil
}
