package web

import (
	"context"
	"errors"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

// Backend is Service over capstan's service layer: the UI acts as the
// signed-in user, authorized there as the API's callers are.
type Backend struct {
	Service *service.Service
	// Identities answers whether a signed-in user still exists
	// (authentication, as the API's signature check reads access keys).
	Identities interface {
		GetUser(ctx context.Context, name string) (store.User, error)
	}
}

var _ Service = (*Backend)(nil)

func (b *Backend) principal(user string) service.Principal {
	return service.Principal{Name: user, ARN: b.Service.UserARN(user)}
}

// notFound makes the service's "does not exist" answers store.ErrNotFound,
// which the UI shows as 404.
func notFound(err error) error {
	switch service.CodeOf(err) {
	case service.CodeExecutionNotFound, service.CodeInvalidDocument, service.CodeDefinitionNotFound, service.CodeUserNotFound:
		return errors.Join(err, store.ErrNotFound)
	}
	return err
}

// Runbooks implements Service.
func (b *Backend) Runbooks(ctx context.Context, user string) ([]store.Document, error) {
	return b.Service.AllDocuments(ctx, b.principal(user), store.DocumentFilter{DocumentTypes: []string{"Automation"}})
}

// Runbook implements Service.
func (b *Backend) Runbook(ctx context.Context, user, name string) (store.Document, error) {
	d, err := b.Service.GetDocument(ctx, b.principal(user), name, "", "")
	return d, notFound(err)
}

// Start implements Service.
func (b *Backend) Start(ctx context.Context, user string, in StartInput) (string, error) {
	return b.Service.StartExecution(ctx, b.principal(user), service.StartInput{
		DocumentName: in.Runbook, DocumentVersion: in.Version,
		Parameters: document.Inputs{Values: in.Parameters}, KeyParameters: in.KeyParameters, Project: in.Project, Mode: engine.Mode(in.Mode)})
}

// Execution implements Service.
func (b *Backend) Execution(ctx context.Context, user, id string) (*engine.State, error) {
	st, err := b.Service.GetExecution(ctx, b.principal(user), id)
	return st, notFound(err)
}

// Calls implements Service.
func (b *Backend) Calls(ctx context.Context, user, id string) ([]store.Call, error) {
	c, err := b.Service.ExecutionCalls(ctx, b.principal(user), id)
	return c, notFound(err)
}

// Executions implements Service.
func (b *Backend) Executions(ctx context.Context, user string, f store.ExecutionFilter) ([]store.Execution, string, error) {
	return b.Service.ListExecutions(ctx, b.principal(user), f)
}

// Stop implements Service.
func (b *Backend) Stop(ctx context.Context, user, id string) error {
	_, err := b.Service.StopExecution(ctx, b.principal(user), id, service.StopCancel)
	return notFound(err)
}

// Signal implements Service.
func (b *Backend) Signal(ctx context.Context, user, id, signal string, payload map[string][]string) error {
	_, err := b.Service.SignalExecution(ctx, b.principal(user), id, engine.SignalType(signal), payload)
	return notFound(err)
}

// UserARN implements Service.
func (b *Backend) UserARN(name string) string { return b.Service.UserARN(name) }

// User implements Service.
func (b *Backend) User(ctx context.Context, name string) (store.User, error) {
	return b.Identities.GetUser(ctx, name)
}

// Users implements Service.
func (b *Backend) Users(ctx context.Context, user string) ([]store.User, error) {
	return b.Service.ListUsers(ctx, b.principal(user))
}

// Keys implements Service.
func (b *Backend) Keys(ctx context.Context, user, prefix string) ([]store.Secret, error) {
	return b.Service.ListKeys(ctx, b.principal(user), prefix)
}

// PutKey implements Service.
func (b *Backend) PutKey(ctx context.Context, user, project, path string, value []byte) error {
	return b.Service.PutKey(ctx, b.principal(user), project, path, value)
}

// DeleteKey implements Service.
func (b *Backend) DeleteKey(ctx context.Context, user, path string) error {
	return notFound(b.Service.DeleteKey(ctx, b.principal(user), path))
}

// Policy implements Service.
func (b *Backend) Policy(ctx context.Context, user, name string) ([]byte, error) {
	return b.Service.UserPolicy(ctx, b.principal(user), name)
}

// Audit implements Service.
func (b *Backend) Audit(ctx context.Context, user string, q store.AuditQuery) ([]store.AuditRecord, error) {
	return b.Service.ListAudit(ctx, b.principal(user), q)
}

// Nodes implements Service.
func (b *Backend) Nodes(ctx context.Context, user, project string) ([]targets.Node, error) {
	return b.Service.Nodes(ctx, b.principal(user), project)
}

// KeyChoices implements Service.
func (b *Backend) KeyChoices(ctx context.Context, user string) ([]store.Secret, error) {
	return b.Service.KeyChoices(ctx, b.principal(user))
}

// Projects implements Service.
func (b *Backend) Projects(ctx context.Context, user string) ([]service.Project, error) {
	return b.Service.ListProjects(ctx, b.principal(user))
}

// Printing implements Service.
func (b *Backend) Printing(ctx context.Context, user, id string) (map[string]string, error) {
	return b.Service.ExecutionPrinting(ctx, b.principal(user), id)
}
