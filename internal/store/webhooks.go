package store

import (
	"context"
	"time"
)

// Webhook is an HTTP trigger: a POST to its URL with its token starts
// Document with parameters taken from the JSON payload.
type Webhook struct {
	Name     string
	Document string
	// Map takes parameters from the payload: parameter name → JSONPath.
	Map map[string]string
	// Defaults are literal parameter values, used where Map finds nothing.
	Defaults map[string]string
	// TokenHash is the SHA-256 of the URL token; the token itself is shown
	// once and never stored.
	TokenHash []byte
	// SignatureKey is the key-storage path of the HMAC secret requests must
	// be signed with; "" accepts unsigned requests.
	SignatureKey string
	// Project is the project its executions run in; "" for the document's.
	Project string `json:",omitempty"`
	Created time.Time
}

// Webhooks holds the webhooks.
type Webhooks interface {
	// CreateWebhook stores a new webhook; ErrExists when the name is taken.
	CreateWebhook(ctx context.Context, w Webhook) error
	// GetWebhook returns a webhook; ErrNotFound when none has the name.
	GetWebhook(ctx context.Context, name string) (Webhook, error)
	// ListWebhooks returns every webhook by name.
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook removes a webhook; ErrNotFound when none has the name.
	DeleteWebhook(ctx context.Context, name string) error
	// SetWebhookToken replaces a webhook's token hash (rotation);
	// ErrNotFound when none has the name.
	SetWebhookToken(ctx context.Context, name string, hash []byte) error
}
