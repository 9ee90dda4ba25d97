package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// GetExecution returns an execution's state, folded from its log.
func (s *Service) GetExecution(ctx context.Context, p Principal, id string) (*engine.State, error) {
	if id == "" {
		return nil, newError(CodeValidation, "1 validation error detected: Value null at 'automationExecutionId' failed to satisfy constraint: Member must not be null")
	}
	if err := s.authorize(ctx, p, authz.GetAutomationExecution, id); err != nil {
		return nil, err
	}
	st, err := s.engine.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.Started.DocumentName == "" && len(st.Steps) == 0) {
		return nil, newError(CodeExecutionNotFound, "Automation Execution %s was not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading execution %s: %w", id, err)
	}
	return st, nil
}

// ExecutionPrinting returns what the running steps of execution id have
// printed so far, by step name, masked (engine.Printing): for watching a
// script live. It is empty when no step prints now or the execution runs in
// another process.
func (s *Service) ExecutionPrinting(ctx context.Context, p Principal, id string) (map[string]string, error) {
	if err := s.authorize(ctx, p, authz.GetAutomationExecution, id); err != nil {
		return nil, err
	}
	return s.engine.Printing(id), nil
}

// idLength is the length of an execution id (SSM's UUID form).
const idLength = 36

// CompleteID turns a unique prefix of an execution id into the id, so CLI
// users can type the first characters they see in a listing. (The API, as
// SSM's, takes whole ids only.)
func (s *Service) CompleteID(ctx context.Context, p Principal, prefix string) (string, error) {
	if err := s.authorize(ctx, p, authz.DescribeAutomationExecutions, "*"); err != nil {
		return "", err
	}
	if len(prefix) >= idLength || prefix == "" {
		return prefix, nil
	}
	list, _, err := s.store.ListExecutions(ctx, store.ExecutionFilter{IDPrefix: prefix, Limit: 2})
	if err != nil {
		return "", fmt.Errorf("looking up execution %s: %w", prefix, err)
	}
	switch len(list) {
	case 0:
		return "", newError(CodeExecutionNotFound, "Automation Execution %s was not found", prefix)
	case 1:
		return list[0].ID, nil
	}
	return "", newError(CodeValidation, "%s is the start of more than one execution id (%s, %s, ...); give more of it", prefix, list[0].ID, list[1].ID)
}

// ExecutionCalls returns the AWS calls an execution made, in order.
func (s *Service) ExecutionCalls(ctx context.Context, p Principal, id string) ([]store.Call, error) {
	if err := s.authorize(ctx, p, authz.GetAutomationExecution, id); err != nil {
		return nil, err
	}
	calls, err := s.store.Calls(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newError(CodeExecutionNotFound, "Automation Execution %s was not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the calls of execution %s: %w", id, err)
	}
	return calls, nil
}

// ListExecutions lists the summary rows of executions, newest first.
func (s *Service) ListExecutions(ctx context.Context, p Principal, f store.ExecutionFilter) ([]store.Execution, string, error) {
	if err := s.authorize(ctx, p, authz.DescribeAutomationExecutions, "*"); err != nil {
		return nil, "", err
	}
	for _, st := range f.Statuses {
		if !engine.KnownStatus(st) {
			return nil, "", newError(CodeInvalidFilterValue, "%q is not an execution status; use one of %s", st, engine.StatusList())
		}
	}
	list, next, err := s.store.ListExecutions(ctx, f)
	if errors.Is(err, store.ErrInvalidToken) {
		return nil, "", newError(CodeInvalidNextToken, "The specified token is not valid.")
	}
	if err != nil {
		return nil, "", fmt.Errorf("listing executions: %w", err)
	}
	if list, err = s.visibleExecutions(ctx, p, list); err != nil {
		return nil, "", err
	}
	return list, next, nil
}

// StopType is how StopAutomationExecution ends an execution: StopCancel or
// StopComplete (engine.StopType documents each).
type StopType = engine.StopType

// SSM's stop types.
const (
	StopCancel   = engine.StopCancel
	StopComplete = engine.StopComplete
)

// ResumeAll continues every unfinished execution in the store; one that
// cannot resume does not keep the others from running.
func (s *Service) ResumeAll(ctx context.Context) (int, error) {
	return s.engine.ResumeAll(ctx)
}

// ExecutionRunner says which process runs execution id now: its lease, or
// the zero Lease when no process holds a lease that has not ended (the
// execution resumes when capstan serve or run --resume picks it up).
func (s *Service) ExecutionRunner(ctx context.Context, p Principal, id string) (store.Lease, error) {
	if err := s.authorize(ctx, p, authz.GetAutomationExecution, id); err != nil {
		return store.Lease{}, err
	}
	return s.runner(ctx, id)
}

// runner is ExecutionRunner once the caller is authorized.
func (s *Service) runner(ctx context.Context, id string) (store.Lease, error) {
	x, err := s.store.Execution(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Lease{}, newError(CodeExecutionNotFound, "Automation Execution %s was not found", id)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("reading execution %s: %w", id, err)
	}
	if x.LeaseOwner == "" || !x.LeaseUntil.After(time.Now()) {
		return store.Lease{}, nil
	}
	return store.Lease{ExecutionID: id, Owner: x.LeaseOwner, Until: x.LeaseUntil}, nil
}
