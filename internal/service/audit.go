package service

import (
	"context"
	"errors"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/store"
)

// Sources of calls that do not come over the network.
const (
	SourceCLI      = "cli"
	SourceSchedule = "schedule"
)

type sourceKey struct{}

// WithSource returns ctx carrying where the calls made with it come from:
// a client's network address or SourceSchedule. The audit record of every
// change made with ctx names it; a local principal's changes without one
// are SourceCLI's.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// sourceOf is the source WithSource put in ctx, "" when none.
func sourceOf(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// auditName is how the audit log names p: an API user, webhook or
// schedule by name, the person at the command line as local:NAME.
func (p Principal) auditName() string {
	if p.ARN == "" {
		return "local:" + p.Name
	}
	return p.Name
}

// record appends the audit record of one call that changes something: p
// asked for act on resource (an ARN) and err is how the call ended, nil,
// a refusal or a failure; detail identifies what the call made (a new
// execution's id). Every service method that changes something calls it
// once, whichever way it returns, so each front end's change is one record.
// The change has been made or refused by then: a record the store does not
// take is logged as an error, never dropped silently.
func (s *Service) record(ctx context.Context, p Principal, act, resource, detail string, err error) {
	if s.audit == nil {
		return
	}
	source := sourceOf(ctx)
	if source == "" && p.ARN == "" {
		source = SourceCLI // a local principal is the person at the command line
	}
	rec := store.AuditRecord{User: p.auditName(), Action: act, Resource: resource, Result: resultOf(err), Source: source, Detail: detail}
	if _, aerr := s.audit.AppendAudit(context.WithoutCancel(ctx), rec); aerr != nil {
		s.logger.Error("the audit record of a change was not stored", "user", rec.User, "action", act, "resource", resource, "result", rec.Result, "err", aerr)
	}
}

// resultOf is an audit record's Result: Success, the refusal's SSM
// exception name, or Failed.
func resultOf(err error) string {
	var denied *authz.DeniedError
	switch {
	case err == nil:
		return "Success"
	case CodeOf(err) != "":
		return string(CodeOf(err))
	case errors.As(err, &denied):
		return string(CodeAccessDenied)
	}
	return "Failed"
}
