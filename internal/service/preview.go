package service

import (
	"context"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
)

// PreviewExecution checks a start request as StartExecution does and says
// what it would touch (SSM's StartExecutionPreview) without running
// anything: the runbook's steps by impact, its Regions and accounts, its
// targets counted by type. A bad request is a *Error; a failure to resolve
// the targets is returned as it is.
func (s *Service) PreviewExecution(ctx context.Context, p Principal, in StartInput) (engine.Preview, error) {
	if err := s.authorize(ctx, p, authz.StartExecutionPreview, in.DocumentName); err != nil {
		return engine.Preview{}, err
	}
	req, err := s.prepare(ctx, p, in)
	if err != nil {
		return engine.Preview{}, err
	}
	return s.engine.Preview(ctx, req.Document, req.Fleet)
}
