// Package health serves capstan's probes: /healthz (the process answers)
// and /readyz (the store takes writes and the engine runs executions). They
// need no authentication and tell nothing but ok or not: the reason a check
// failed goes to the log.
package health

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Check is one readiness condition.
type Check struct {
	Name string
	// Func returns nil when ready.
	Func func(ctx context.Context) error
}

// Timeout bounds one readiness check.
const Timeout = 2 * time.Second

// Handler serves GET /healthz and GET /readyz.
func Handler(logger *slog.Logger, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		ready := true
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), Timeout)
			err := c.Func(ctx)
			cancel()
			if err != nil {
				ready = false
				logger.Warn("readiness check failed", "check", c.Name, "err", err)
				fmt.Fprintf(&b, "%s: not ready\n", c.Name)
				continue
			}
			fmt.Fprintf(&b, "%s: ok\n", c.Name)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = w.Write([]byte(b.String()))
	})
	return mux
}
