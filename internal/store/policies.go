package store

import "context"

// Policies holds the policy document each user acts under (IAM's JSON, as
// package authz parses it, or a built-in policy's name). A user without one
// may do nothing.
type Policies interface {
	// PutPolicy sets a user's policy, replacing any earlier one.
	PutPolicy(ctx context.Context, user string, document []byte) error
	// GetPolicy returns a user's policy; an error wrapping ErrNotFound when
	// none was set.
	GetPolicy(ctx context.Context, user string) ([]byte, error)
}
