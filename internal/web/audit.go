package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
)

// record appends the audit record of a change made in the UI, whether it
// was made or refused, as the API records its calls. A record that cannot
// be stored is logged as an error: the change itself is already decided.
func (u *UI) record(r *http.Request, s *session, action, resource, detail string, callErr error) {
	if u.opts.Audit == nil {
		return
	}
	rec := store.AuditRecord{User: s.user, Action: action, Resource: resource, Result: "Success", Source: r.RemoteAddr, Detail: detail}
	if callErr != nil {
		rec.Result = resultOf(callErr)
	}
	if _, err := u.opts.Audit.AppendAudit(context.WithoutCancel(r.Context()), rec); err != nil {
		u.opts.Logger.Error("web: the audit record of a change was not stored", "user", s.user, "action", action, "resource", resource, "result", rec.Result, "err", err)
	}
}

// resultOf names a refusal as the API's audit records do: SSM's exception name.
func resultOf(err error) string {
	var denied *authz.DeniedError
	if errors.As(err, &denied) {
		return "AccessDeniedException"
	}
	if c := service.CodeOf(err); c != "" {
		return string(c)
	}
	return "InternalServerError"
}
