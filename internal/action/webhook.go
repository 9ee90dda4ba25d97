package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func registerWebhook(r *Registry) {
	r.Register(Spec{
		Name:    "aws:invokeWebhook",
		Summary: "Call the webhook of an Automation integration stored as an SSM parameter (or, as key:PATH, in capstan's key storage).",
		Inputs: []Input{
			req("IntegrationName", String, "Name of the Automation integration holding the webhook URL and settings; key:PATH reads it from capstan's key storage."),
			opt("Body", String, "Request body; the integration's payload when absent."),
		},
		Outputs: []Output{
			{Name: "Response", Type: String, Doc: "Response body."},
			{Name: "ResponseCode", Type: Integer, Doc: "HTTP status code."},
		},
		Impact:  Undetermined,
		Support: Executes,
		IAM:     fixedIAM("kms:Decrypt", "ssm:GetParameter"),
	}, invokeWebhook{client: webhookClient()})
}

// IntegrationPrefix is the Parameter Store namespace SSM reserves for
// Automation's webhook integrations; the integration's name follows it.
const IntegrationPrefix = "/d9d01087-4a3f-49e0-b0b4-d568d7826553/ssm/integrations/webhook/"

const (
	webhookTimeout     = 30 * time.Second
	webhookMaxResponse = 1 << 20
	webhookAttempts    = 3 // a throttled (429) call is tried this often
	webhookMaxBackoff  = 10 * time.Second
)

// WebhookError says the webhook answered with a status other than 2xx.
type WebhookError struct {
	Integration string
	Code        int
	Body        string
}

func (e *WebhookError) Error() string {
	return fmt.Sprintf("webhook of integration %s answered %d %s: %s", e.Integration, e.Code, http.StatusText(e.Code), truncate(e.Body, stderrExcerpt))
}

// integration is the JSON an integration is stored as (SSM's fields).
type integration struct {
	Description string          `json:"description"`
	URL         string          `json:"url"`
	Headers     json.RawMessage `json:"headers"`
	Payload     json.RawMessage `json:"payload"`
}

type invokeWebhook struct{ client *http.Client }

func webhookClient() *http.Client {
	return &http.Client{
		Timeout: webhookTimeout,
		// A redirect could lead the server's request anywhere; the
		// integration's URL is the one destination.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (w invokeWebhook) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:invokeWebhook"
	integName, err := stringInput(name, req.Inputs, "IntegrationName")
	if err != nil {
		return nil, err
	}
	raw, err := loadIntegration(ctx, req, integName)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var in integration
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return nil, fmt.Errorf("%s: integration %s is not the JSON of an integration ({\"url\": ..., \"headers\": ..., \"payload\": ...}): %w", name, integName, err)
	}
	target, err := webhookURL(in.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: integration %s: %w", name, integName, err)
	}
	headers, err := integrationHeaders(in.Headers)
	if err != nil {
		return nil, fmt.Errorf("%s: integration %s: headers: %w", name, integName, err)
	}
	body := payloadText(in.Payload)
	if present(req.Inputs, "Body") {
		if body, err = stringInput(name, req.Inputs, "Body"); err != nil {
			return nil, err
		}
	}
	code, resp, err := w.post(ctx, req, target, headers, body)
	if err != nil {
		return nil, fmt.Errorf("%s: integration %s: %w", name, integName, err)
	}
	if code < 200 || code > 299 {
		return nil, fmt.Errorf("%s: %w", name, &WebhookError{Integration: integName, Code: code, Body: resp})
	}
	// The URL (Slack's and Teams' carry their token) and header values are
	// secrets: the engine keeps them out of the record. Errors above name
	// the host only.
	secrets := []string{in.URL}
	for _, h := range headers {
		secrets = append(secrets, h[1])
	}
	out := map[string]any{"Response": resp, "ResponseCode": code}
	return &Result{Outputs: out, Response: out, Secrets: secrets}, nil
}

// loadIntegration reads the integration's JSON from key storage (key:PATH)
// or, as SSM does, from its SecureString parameter.
func loadIntegration(ctx context.Context, req *Request, name string) (string, error) {
	if path, ok := strings.CutPrefix(name, "key:"); ok {
		if req.Secret == nil {
			return "", fmt.Errorf("integration %s: key storage is not configured", name)
		}
		v, err := req.Secret(ctx, strings.TrimSpace(path))
		if err != nil {
			return "", fmt.Errorf("reading integration %s: %w", name, err)
		}
		return v, nil
	}
	if name == "" || strings.ContainsAny(name, "/ ") {
		return "", fmt.Errorf("integration name %q: expected a name such as mySlackIntegration, or key:PATH", name)
	}
	param := IntegrationPrefix + name
	if req.AWS == nil {
		return "", fmt.Errorf("reading integration %s (%s): no AWS invoker configured", name, param)
	}
	out, err := req.AWS.Invoke(ctx, "ssm", "GetParameter", map[string]any{"Name": param, "WithDecryption": true})
	if err != nil {
		return "", fmt.Errorf("reading integration %s: %w", name, callError("ssm", "GetParameter", err))
	}
	return digString(out, "Parameter", "Value"), nil
}

// webhookURL accepts https URLs, as SSM requires, and plain http to this
// machine's loopback addresses, for local receivers and tests.
func webhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return nil, errors.New("url: expected an https:// URL")
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return u, nil
		}
	}
	return nil, fmt.Errorf("url: scheme %s: expected https (plain http only to a loopback address)", u.Scheme)
}

// integrationHeaders reads the integration's headers, given as an object
// ({"Name": "value"}) or a list of {"key"|"name": ..., "value": ...}.
func integrationHeaders(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var out [][2]string
	var obj map[string]string
	if err := json.Unmarshal(raw, &obj); err == nil {
		for k, v := range obj {
			out = append(out, [2]string{k, v})
		}
		slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		return out, nil
	}
	var list []map[string]string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New(`expected {"Name": "value"} or [{"key": "Name", "value": "value"}]`)
	}
	for i, h := range list {
		k := h["key"]
		if k == "" {
			k = h["name"]
		}
		if k == "" {
			return nil, fmt.Errorf("header %d has no key", i)
		}
		out = append(out, [2]string{k, h["value"]})
	}
	return out, nil
}

// payloadText is the integration's default body: a string as is, any other
// JSON value as its JSON text.
func payloadText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// post sends the body, trying a throttled (429) call again after the
// Retry-After it names (capped) or a growing delay.
func (w invokeWebhook) post(ctx context.Context, req *Request, target *url.URL, headers [][2]string, body string) (int, string, error) {
	delay := time.Second
	for attempt := 1; ; attempt++ {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		if json.Valid([]byte(body)) {
			r.Header.Set("Content-Type", "application/json")
		} else {
			r.Header.Set("Content-Type", "text/plain; charset=utf-8")
		}
		r.Header.Set("User-Agent", "capstan")
		for _, h := range headers {
			r.Header.Set(h[0], h[1])
		}
		resp, err := w.client.Do(r)
		if err != nil {
			// The URL may hold a token: name the host only.
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			return 0, "", fmt.Errorf("POST to %s: %w", target.Host, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, webhookMaxResponse))
		resp.Body.Close()
		if err != nil {
			return 0, "", fmt.Errorf("reading the answer of %s: %w", target.Host, err)
		}
		if resp.StatusCode != http.StatusTooManyRequests || attempt == webhookAttempts {
			return resp.StatusCode, string(b), nil
		}
		wait := delay
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		wait = min(wait, webhookMaxBackoff)
		delay *= 2
		if !req.sleep(ctx, wait) {
			return 0, "", ctx.Err()
		}
	}
}
