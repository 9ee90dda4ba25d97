package main

import (
	"log/slog"
	"net/http"

	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/web"
)

// mountUI serves the web UI at /ui/ on serve's address.
func mountUI(mux *http.ServeMux, svc *service.Service, db *sqlite.DB, logger *slog.Logger, secureCookies bool) error {
	ui, err := web.New(web.Options{
		Service:       &web.Backend{Service: svc, Identities: db},
		Logins:        db,
		Actions:       registry(),
		SecureCookies: secureCookies,
		Logger:        logger,
	})
	if err != nil {
		return err
	}
	mux.Handle(web.Prefix, ui)
	return nil
}
