package service

import (
	"context"
	"errors"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
)

func (s *Service) keyring() *keys.Keyring { return keys.New(s.store, s.keys) }

// ListKeys lists the key-storage paths under prefix with their projects;
// values are never read. The caller sees the paths its policy allows
// capstan:ListKeys on, each decided with the key's project.
func (s *Service) ListKeys(ctx context.Context, p Principal, prefix string) ([]store.Secret, error) {
	if err := s.authorize(ctx, p, authz.ListKeys, prefix+"*"); err != nil {
		return nil, err
	}
	list, err := s.keyring().List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return s.visibleKeys(ctx, p, list)
}

// PutKey seals value and stores it at path in project ("" for default);
// a path already stored moves to project.
func (s *Service) PutKey(ctx context.Context, p Principal, project, path string, value []byte) (err error) {
	defer func() { s.record(ctx, p, authz.PutKey, s.scope().Key(path), "", err) }()
	if err := keys.CheckPath(path); err != nil {
		return newError(CodeValidation, "%v", err)
	}
	project = store.ProjectOf(project)
	if err := s.checkProject(project); err != nil {
		return err
	}
	// The caller must be allowed both on the project it stores into and on
	// the one the path belongs to now, so no one takes over another
	// project's key.
	if err := s.authorizeIn(ctx, p, authz.PutKey, path, project); err != nil {
		return err
	}
	if err := s.authorize(ctx, p, authz.PutKey, path); err != nil {
		return err
	}
	return s.keyring().Put(ctx, project, path, value)
}

// RotateMasterKey re-seals every value in key storage under a new master
// key; it returns how many and the key file now in use.
func (s *Service) RotateMasterKey(ctx context.Context, p Principal) (n int, keyFile string, err error) {
	defer func() { s.record(ctx, p, authz.RotateMasterKey, s.scope().Key("*"), "", err) }()
	if err := s.authorize(ctx, p, authz.RotateMasterKey, "*"); err != nil {
		return 0, "", err
	}
	k := s.keyring()
	n, err = k.RotateMaster(ctx)
	return n, k.KeyFile(), err
}

// DeleteKey removes the value at path.
func (s *Service) DeleteKey(ctx context.Context, p Principal, path string) (err error) {
	defer func() { s.record(ctx, p, authz.DeleteKey, s.scope().Key(path), "", err) }()
	if err := s.authorize(ctx, p, authz.DeleteKey, path); err != nil {
		return err
	}
	return s.keyring().Delete(ctx, path)
}

// keyProject is the project of the key at path; "" when there is none.
func (s *Service) keyProject(ctx context.Context, path string) (string, error) {
	sec, err := s.store.GetSecret(ctx, path)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return store.ProjectOf(sec.Project), nil
}
