package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// RunWebhooks checks a store.Webhooks implementation.
func RunWebhooks(t *testing.T, s store.Webhooks) {
	ctx := context.Background()
	w := store.Webhook{Name: "deploy", Document: "Deploy", Map: map[string]string{"Service": "$.repo"}, Defaults: map[string]string{"Version": "1"},
		TokenHash: []byte("hash-1"), SignatureKey: "hooks/gh", Created: base}
	must(t, "create", s.CreateWebhook(ctx, w))
	wantErr(t, "create again", s.CreateWebhook(ctx, w), store.ErrExists)
	must(t, "create second", s.CreateWebhook(ctx, store.Webhook{Name: "alerts", Document: "Page", TokenHash: []byte("h"), Created: base.Add(time.Hour)}))
	got, err := s.GetWebhook(ctx, "deploy")
	must(t, "get", err)
	if got.Document != "Deploy" || got.Map["Service"] != "$.repo" || got.Defaults["Version"] != "1" || got.SignatureKey != "hooks/gh" || !bytes.Equal(got.TokenHash, []byte("hash-1")) || !got.Created.Equal(base) {
		t.Errorf("get = %+v", got)
	}
	_, err = s.GetWebhook(ctx, "nope")
	wantErr(t, "get unknown", err, store.ErrNotFound)
	must(t, "rotate", s.SetWebhookToken(ctx, "deploy", []byte("hash-2")))
	if got, _ := s.GetWebhook(ctx, "deploy"); !bytes.Equal(got.TokenHash, []byte("hash-2")) || got.Document != "Deploy" {
		t.Errorf("after rotate = %+v", got)
	}
	wantErr(t, "rotate unknown", s.SetWebhookToken(ctx, "nope", nil), store.ErrNotFound)
	list, err := s.ListWebhooks(ctx)
	must(t, "list", err)
	if len(list) != 2 || list[0].Name != "alerts" || list[1].Name != "deploy" {
		t.Errorf("list = %+v", list)
	}
	must(t, "delete", s.DeleteWebhook(ctx, "deploy"))
	wantErr(t, "delete again", s.DeleteWebhook(ctx, "deploy"), store.ErrNotFound)
	_, err = s.GetWebhook(ctx, "deploy")
	wantErr(t, "get deleted", err, store.ErrNotFound)
}
