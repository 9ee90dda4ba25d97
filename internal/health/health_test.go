package health

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadyzNamesTheFailingCheckOnly(t *testing.T) {
	var logged strings.Builder
	h := Handler(slog.New(slog.NewTextHandler(&logged, nil)),
		Check{Name: "store", Func: func(context.Context) error { return errors.New("disk I/O error at /var/lib/capstan/capstan.db") }},
		Check{Name: "engine", Func: func(context.Context) error { return nil }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 503 || string(body) != "store: not ready\nengine: ok\n" {
		t.Errorf("/readyz: %d %q", rec.Code, body)
	}
	// The reason goes to the log, not to whoever asked.
	if !strings.Contains(logged.String(), "disk I/O error") {
		t.Errorf("log %q lacks the reason", logged.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("/healthz: %d while a readiness check fails", rec.Code)
	}
}
