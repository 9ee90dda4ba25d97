package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/store"
)

// ListAudit reads the audit log (capstan:ReadAudit).
func (s *Service) ListAudit(ctx context.Context, p Principal, q store.AuditQuery) ([]store.AuditRecord, error) {
	if err := s.authorize(ctx, p, authz.ReadAudit, "audit"); err != nil {
		return nil, err
	}
	if s.audit == nil {
		return nil, fmt.Errorf("listing the audit log: this store keeps none")
	}
	return s.audit.ListAudit(ctx, q)
}

// UserPolicy returns the policy document user acts under (read with the
// users, capstan:ListUsers); nil when the user has none.
func (s *Service) UserPolicy(ctx context.Context, p Principal, user string) ([]byte, error) {
	if err := s.authorize(ctx, p, authz.ListUsers, user); err != nil {
		return nil, err
	}
	ps, ok := s.store.(store.Policies)
	if !ok {
		return nil, fmt.Errorf("reading the policy of %s: this store keeps no policies", user)
	}
	doc, err := ps.GetPolicy(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return doc, err
}
