package service

import (
	"context"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/keys"
)

func (s *Service) keyring() *keys.Keyring { return keys.New(s.store, s.keys) }

// ListKeys lists the key-storage paths under prefix; values are never read.
func (s *Service) ListKeys(ctx context.Context, p Principal, prefix string) ([]string, error) {
	if err := s.authorize(ctx, p, authz.ListKeys, prefix+"*"); err != nil {
		return nil, err
	}
	return s.keyring().List(ctx, prefix)
}

// PutKey seals value and stores it at path.
func (s *Service) PutKey(ctx context.Context, p Principal, path string, value []byte) (err error) {
	defer func() { s.record(ctx, p, authz.PutKey, s.scope().Key(path), "", err) }()
	if err := keys.CheckPath(path); err != nil {
		return newError(CodeValidation, "%v", err)
	}
	if err := s.authorize(ctx, p, authz.PutKey, path); err != nil {
		return err
	}
	return s.keyring().Put(ctx, path, value)
}

// DeleteKey removes the value at path.
func (s *Service) DeleteKey(ctx context.Context, p Principal, path string) (err error) {
	defer func() { s.record(ctx, p, authz.DeleteKey, s.scope().Key(path), "", err) }()
	if err := s.authorize(ctx, p, authz.DeleteKey, path); err != nil {
		return err
	}
	return s.keyring().Delete(ctx, path)
}
