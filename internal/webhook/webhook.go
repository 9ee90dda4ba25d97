// Package webhook serves capstan's webhooks: POST /webhooks/NAME/TOKEN with
// a JSON payload starts the webhook's runbook with parameters taken from the
// payload by JSONPath, on the service's one start path, as the webhook's
// own principal (webhook/NAME).
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
)

// PathPrefix is where webhooks are served.
const PathPrefix = "/webhooks/"

// DefaultMaxPayload caps a payload (GitHub sends at most 25 MB; runbook
// parameters hold far less).
const DefaultMaxPayload = 256 << 10

// SignatureHeader carries the HMAC-SHA256 of the body as sha256=HEX, as
// GitHub sends it.
const SignatureHeader = "X-Hub-Signature-256"

// NewToken returns a new URL token and the hash to store.
func NewToken() (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, Hash(token)
}

// Hash is the stored form of a token.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Path is the URL path of a webhook with its token.
func Path(name, token string) string { return PathPrefix + name + "/" + token }

// CheckMap parses a Param=$.json.path mapping, naming what is wrong.
func CheckMap(m string) (param, path string, err error) {
	param, path, ok := strings.Cut(m, "=")
	param, path = strings.TrimSpace(param), strings.TrimSpace(path)
	if !ok || param == "" || path == "" {
		return "", "", fmt.Errorf("--map %q: expected Param=$.json.path", m)
	}
	if _, err := jp.ParseString(path); err != nil || !strings.HasPrefix(path, "$") {
		return "", "", fmt.Errorf("--map %q: %s is not a JSONPath starting with $ (%v)", m, path, err)
	}
	return param, path, nil
}

// Starter starts executions: the service layer.
type Starter interface {
	StartExecution(ctx context.Context, p service.Principal, in service.StartInput) (string, error)
}

// Secrets reads key storage (the HMAC secrets).
type Secrets interface {
	Get(ctx context.Context, path string) (string, error)
}

// Handler serves POST /webhooks/NAME/TOKEN.
type Handler struct {
	Store      store.Webhooks
	Service    Starter
	Secrets    Secrets
	AccountID  string
	MaxPayload int64 // DefaultMaxPayload when 0
	Logger     *slog.Logger
	// Fired, if set, is told each request's outcome: started, rejected
	// (bad token, payload or signature) or failed (the start failed).
	Fired func(webhook, outcome string)
}

type answer struct {
	AutomationExecutionId string `json:",omitempty"`
	Message               string `json:",omitempty"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, token, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, PathPrefix), "/")
	if r.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, answer{Message: "webhooks take POST"})
		return
	}
	wh, err := h.Store.GetWebhook(r.Context(), name)
	// A wrong name and a wrong token answer alike, so neither can be probed.
	if !ok || err != nil || subtle.ConstantTimeCompare(Hash(token), wh.TokenHash) != 1 {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.logger().Error("webhook: reading the store", "err", err)
			reply(w, http.StatusInternalServerError, answer{Message: "internal error"})
			return
		}
		reply(w, http.StatusNotFound, answer{Message: "no such webhook"})
		return
	}
	id, code, msg := h.fire(r, wh)
	outcome := "started"
	switch {
	case code >= 500:
		outcome = "failed"
	case code >= 400:
		outcome = "rejected"
	}
	if h.Fired != nil {
		h.Fired(wh.Name, outcome)
	}
	reply(w, code, answer{AutomationExecutionId: id, Message: msg})
}

func (h *Handler) fire(r *http.Request, wh store.Webhook) (id string, code int, msg string) {
	max := h.MaxPayload
	if max <= 0 {
		max = DefaultMaxPayload
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return "", http.StatusBadRequest, "reading the payload: " + err.Error()
	}
	if int64(len(body)) > max {
		return "", http.StatusRequestEntityTooLarge, "payload larger than " + strconv.FormatInt(max, 10) + " bytes"
	}
	if wh.SignatureKey != "" {
		if err := h.verify(r.Context(), wh, r.Header.Get(SignatureHeader), body); err != nil {
			return "", http.StatusUnauthorized, err.Error()
		}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", http.StatusBadRequest, "empty payload: expected a JSON object"
	}
	var payload any
	if err := json.Unmarshal(body, &payload); err != nil {
		return "", http.StatusBadRequest, "Unable to parse posted JSON data: " + err.Error()
	}
	values, err := Parameters(wh, payload)
	if err != nil {
		return "", http.StatusBadRequest, err.Error()
	}
	id, err = h.Service.StartExecution(service.WithSource(r.Context(), r.RemoteAddr), service.WebhookPrincipal(h.AccountID, wh.Name), service.StartInput{
		DocumentName: wh.Document, Parameters: document.Inputs{Values: values}, Project: wh.Project,
	})
	if err != nil {
		var se *service.Error
		if errors.As(err, &se) {
			if se.Code == service.CodeAccessDenied {
				// The webhook's own policy refuses this start.
				return "", http.StatusForbidden, se.Message
			}
			return "", http.StatusBadRequest, se.Message
		}
		h.logger().Error("webhook: starting", "webhook", wh.Name, "err", err)
		return "", http.StatusInternalServerError, "starting the execution failed"
	}
	return id, http.StatusAccepted, ""
}

// Parameters takes the webhook's parameters from the payload: each mapped
// JSONPath's first match (a list is a StringList), else the literal default.
func Parameters(wh store.Webhook, payload any) (map[string][]string, error) {
	values := map[string][]string{}
	for p, v := range wh.Defaults {
		values[p] = []string{v}
	}
	for p, path := range wh.Map {
		x, err := jp.ParseString(path)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: JSONPath %s: %w", p, path, err)
		}
		got := x.Get(payload)
		if len(got) == 0 || got[0] == nil {
			if _, ok := wh.Defaults[p]; ok {
				continue
			}
			return nil, fmt.Errorf("parameter %s: %s matched nothing in the payload, and the webhook has no default for it", p, path)
		}
		values[p] = stringsOf(got[0])
	}
	return values, nil
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, stringsOf(e)...)
		}
		return out
	case map[string]any:
		b, _ := json.Marshal(x)
		return []string{string(b)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case int64:
		return []string{strconv.FormatInt(x, 10)}
	}
	return []string{fmt.Sprint(v)}
}

func (h *Handler) verify(ctx context.Context, wh store.Webhook, header string, body []byte) error {
	if h.Secrets == nil {
		return errors.New("signature: key storage is not configured")
	}
	secret, err := h.Secrets.Get(ctx, wh.SignatureKey)
	if err != nil {
		h.logger().Error("webhook: reading the signature key", "webhook", wh.Name, "err", err)
		return errors.New("signature: the webhook's key cannot be read")
	}
	sig, ok := strings.CutPrefix(header, "sha256=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil {
		return fmt.Errorf("signature: expected header %s: sha256=HEX (HMAC-SHA256 of the body)", SignatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("signature: does not match the body")
	}
	return nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

func reply(w http.ResponseWriter, code int, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}
