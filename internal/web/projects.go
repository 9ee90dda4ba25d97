package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
)

type projectsData struct {
	Projects []service.Project
}

// projectsPage shows each project the user may see with the settings its
// executions run with. They come from the configuration file, so the page
// only reads them.
func (u *UI) projectsPage(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := u.opts.Service.Projects(r.Context(), s.user)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusOK, "projects", page{User: s.user, CSRF: s.csrf, Title: "Projects", Nav: "projects", Data: projectsData{Projects: list}})
}

// projectNames lists the projects user may see, default first, for the
// pages' project selectors; just default when they may see none (they may
// still run and find the default project's runbooks).
func (u *UI) projectNames(ctx context.Context, user string) []string {
	list, err := u.opts.Service.Projects(ctx, user)
	var denied *authz.DeniedError
	if err != nil && !errors.As(err, &denied) {
		u.opts.Logger.Warn("listing projects for a page", "user", user, "err", err)
	}
	names := make([]string, 0, len(list))
	for _, p := range list {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		names = []string{store.DefaultProject}
	}
	return names
}
