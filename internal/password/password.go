// Package password holds the rules and the hashing of the passwords users
// sign in to the web UI with: one copy, for the CLI that sets them, the
// service that stores them and the UI that checks them.
package password

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// MinLength and MaxLength bound passwords; bcrypt reads at most 72 bytes,
// and a longer password must not pass for its prefix.
const (
	MinLength = 8
	MaxLength = 72
)

// Check says what is wrong with a password, if anything.
func Check(password string) error {
	switch {
	case len(password) < MinLength:
		return fmt.Errorf("password too short: at least %d characters", MinLength)
	case len(password) > MaxLength:
		return fmt.Errorf("password too long: at most %d bytes", MaxLength)
	}
	return nil
}

// Hash returns the bcrypt hash of password, after checking it.
func Hash(password string) ([]byte, error) {
	if err := Check(password); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hashing the password: %w", err)
	}
	return h, nil
}

// Matches reports whether password is the one hash was made from.
func Matches(hash []byte, password string) bool {
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// dummyHash is compared against when a user has no password, so that an
// unknown name takes as long to refuse as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("capstan-no-such-user"), bcrypt.DefaultCost)

// Waste takes as long as Matches and matches nothing.
func Waste(password string) { Matches(dummyHash, password) }
