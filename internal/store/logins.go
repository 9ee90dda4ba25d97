package store

import (
	"context"
	"time"
)

// Session is a signed-in web UI session. ID is a digest of the cookie's
// token, never the token itself, so reading the store does not yield a
// session anyone could use.
type Session struct {
	ID      string
	User    string
	CSRF    string // the token every form of the session carries
	Created time.Time
	Expires time.Time
}

// Logins keeps the web UI's passwords (as KDF hashes) and sessions.
type Logins interface {
	// SetPasswordHash stores (or replaces) the password hash of user.
	SetPasswordHash(ctx context.Context, user string, hash []byte) error
	// PasswordHash returns the hash; ErrNotFound when the user has none.
	PasswordHash(ctx context.Context, user string) ([]byte, error)
	// CreateSession stores s; ErrExists when its ID is taken.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that ID; ErrNotFound when absent or
	// expired at now.
	Session(ctx context.Context, id string, now time.Time) (Session, error)
	// DeleteSession removes one session; absent is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of user (password changed,
	// user deleted).
	DeleteUserSessions(ctx context.Context, user string) error
	// DeleteExpiredSessions removes the sessions expired at now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
