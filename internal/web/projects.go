package web

import (
	"net/http"

	"github.com/capstan-run/capstan/internal/service"
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
