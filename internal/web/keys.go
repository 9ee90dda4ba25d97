package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
)

type keysData struct {
	Keys []store.Secret // paths and projects only
	Path string
	// Project is the project a new value goes to; Projects those offered.
	Project  string
	Projects []string
}

func (u *UI) keysPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.showKeys(w, r, s, http.StatusOK, "", "")
}

func (u *UI) showKeys(w http.ResponseWriter, r *http.Request, s *session, status int, path, msg string) {
	list, err := u.opts.Service.Keys(r.Context(), s.user, "")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	list = slices.DeleteFunc(list, func(k store.Secret) bool { return keys.Internal(k.Path) })
	for i := range list {
		list[i].Project = store.ProjectOf(list[i].Project)
	}
	d := keysData{Keys: list, Path: path, Project: r.FormValue("project"), Projects: u.projectNames(r.Context(), s.user)}
	u.render(w, r, status, "keys", page{User: s.user, CSRF: s.csrf, Title: "Key storage", Nav: "keys", Error: msg, Data: d})
}

// putKey stores a value; the page never shows one back.
func (u *UI) putKey(w http.ResponseWriter, r *http.Request, s *session) {
	path := strings.TrimSpace(r.PostFormValue("path"))
	value := r.PostFormValue("value")
	switch {
	case keys.Internal(path):
		u.showKeys(w, r, s, http.StatusBadRequest, path, "path: capstan/ is reserved for capstan's own keys")
		return
	case value == "":
		u.showKeys(w, r, s, http.StatusBadRequest, path, "value: empty; type the secret to store at "+path)
		return
	}
	err := u.opts.Service.PutKey(r.Context(), s.user, r.PostFormValue("project"), path, []byte(value))
	if err != nil {
		if isUsage(err) {
			u.showKeys(w, r, s, http.StatusBadRequest, path, "path: "+err.Error())
			return
		}
		u.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, Prefix+"keys", http.StatusSeeOther)
}

func (u *UI) deleteKey(w http.ResponseWriter, r *http.Request, s *session) {
	path := r.PostFormValue("path")
	if keys.Internal(path) {
		u.showKeys(w, r, s, http.StatusBadRequest, "", "path: capstan/ is reserved for capstan's own keys")
		return
	}
	err := u.opts.Service.DeleteKey(r.Context(), s.user, path)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, Prefix+"keys", http.StatusSeeOther)
}
