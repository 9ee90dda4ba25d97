package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// BenchmarkWebhookStart measures webhook calls turned into started
// executions: the HTTP request on loopback, the token check, the payload's
// parameters, the service's start path and the execution's first durable
// write (the runbook only sleeps PT0S).
func BenchmarkWebhookStart(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, b.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := service.New(service.Options{Store: db, Engine: engine.Options{Actions: action.Builtin()}})
	defer svc.Engine().Shutdown()
	doc := "schemaVersion: \"0.3\"\nparameters:\n  Service: {type: String}\nmainSteps:\n  - name: nap\n    action: aws:sleep\n    inputs: {Duration: PT0S}\n"
	if _, err := svc.CreateDocument(ctx, service.Anonymous, service.DocumentInput{Name: "Deploy", Content: doc, DocumentType: "Automation", Format: "YAML"}); err != nil {
		b.Fatal(err)
	}
	token, hash := NewToken()
	if err := db.CreateWebhook(ctx, store.Webhook{Name: "deploy", Document: "Deploy", Map: map[string]string{"Service": "$.repository.name"}, TokenHash: hash}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(&Handler{Store: db, Service: svc, AccountID: "000000000000"})
	defer srv.Close()
	url := srv.URL + Path("deploy", token)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := http.Post(url, "application/json", strings.NewReader(`{"repository": {"name": "web"}}`))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("HTTP %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "starts/s")
}
