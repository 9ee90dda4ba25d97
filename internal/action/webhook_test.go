package action_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/mototest"
)

// received is one request a loopback webhook receiver got.
type received struct {
	method, contentType, auth, body string
}

// receiver answers each request with the next status of codes (the last
// one repeated) and records what it got.
func receiver(t *testing.T, codes ...int) (*httptest.Server, func() []received) {
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)})
		code := codes[min(len(got), len(codes))-1]
		mu.Unlock()
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "ok from receiver")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// integration stores an Automation integration as SSM does: a SecureString
// parameter in the reserved namespace.
func integration(t *testing.T, aws action.Invoker, name, value string) {
	t.Helper()
	call(t, aws, "ssm", "PutParameter", map[string]any{"Name": action.IntegrationPrefix + name, "Type": "SecureString", "Value": value})
}

func TestInvokeWebhookFromParameterStore(t *testing.T) {
	s := mototest.Start(t)
	s.SetEnv(t)
	aws := clientFor(t, s.URL)
	srv, got := receiver(t, 200)
	integration(t, aws, "deploys", `{"description": "deploy channel", "url": "`+srv.URL+`/hooks/T000/B000/secret-token", "headers": [{"key": "Authorization", "value": "Bearer hook-secret"}], "payload": {"text": "default"}}`)

	res, err := run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "deploys", "Body": `{"text": "deployed 1.4"}`})
	if err != nil {
		t.Fatal(err)
	}
	r := got()
	if len(r) != 1 || r[0].method != "POST" || r[0].body != `{"text": "deployed 1.4"}` || r[0].auth != "Bearer hook-secret" || r[0].contentType != "application/json" {
		t.Fatalf("receiver got %+v", r)
	}
	if res.Outputs["ResponseCode"] != 200 || res.Outputs["Response"] != "ok from receiver" {
		t.Errorf("outputs %v", res.Outputs)
	}
	// The URL (with its token) and the header value are masked by the engine.
	if !slices.Contains(res.Secrets, srv.URL+"/hooks/T000/B000/secret-token") || !slices.Contains(res.Secrets, "Bearer hook-secret") {
		t.Errorf("secrets %v, want the URL and the header value", res.Secrets)
	}

	// Without Body the integration's payload is sent.
	if _, err := run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "deploys"}); err != nil {
		t.Fatal(err)
	}
	if r := got(); r[1].body != `{"text": "default"}` {
		t.Errorf("default body %q", r[1].body)
	}

	// An integration that does not exist names itself and SSM's error.
	_, err = run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "nope"})
	if err == nil || !strings.Contains(err.Error(), "integration nope") || !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("missing integration: %v", err)
	}
}

func TestInvokeWebhookAnswers(t *testing.T) {
	s := mototest.Start(t)
	s.SetEnv(t)
	aws := clientFor(t, s.URL)

	// A throttled call is tried again.
	srv, got := receiver(t, 429, 429, 202)
	integration(t, aws, "throttled", `{"url": "`+srv.URL+`"}`)
	res, err := run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "throttled", "Body": "plain text"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got()); n != 3 || res.Outputs["ResponseCode"] != 202 {
		t.Errorf("%d requests, code %v; want 3 requests ending 202", n, res.Outputs["ResponseCode"])
	}
	if ct := got()[0].contentType; ct != "text/plain; charset=utf-8" {
		t.Errorf("content type of a text body %q", ct)
	}

	// A refusal fails the step with the code and the receiver's answer.
	srv, _ = receiver(t, 403)
	integration(t, aws, "refused", `{"url": "`+srv.URL+`"}`)
	_, err = run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "refused"})
	var werr *action.WebhookError
	if !errors.As(err, &werr) || werr.Code != 403 || !strings.Contains(err.Error(), "ok from receiver") {
		t.Errorf("403: %v", err)
	}

	// Plain http is refused except to loopback; a bad integration is named.
	integration(t, aws, "cleartext", `{"url": "http://hooks.example.com/x"}`)
	if _, err := run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "cleartext"}); err == nil || !strings.Contains(err.Error(), "expected https") {
		t.Errorf("http to a remote host: %v", err)
	}
	integration(t, aws, "broken", `url=https://x`)
	if _, err := run(t, aws, "aws:invokeWebhook", map[string]any{"IntegrationName": "broken"}); err == nil || !strings.Contains(err.Error(), "integration broken is not the JSON of an integration") {
		t.Errorf("broken integration: %v", err)
	}
}

func TestInvokeWebhookFromKeyStorage(t *testing.T) {
	srv, got := receiver(t, 200)
	e, _ := action.Builtin().Lookup("aws:invokeWebhook")
	stored := map[string]string{"hooks/pager": `{"url": "` + srv.URL + `/p", "headers": {"X-Token": "t0k"}}`}
	req := &action.Request{ExecutionID: "exec-1", Step: "notify",
		Inputs: map[string]any{"IntegrationName": "key:hooks/pager", "Body": `{"severity": "high"}`},
		Secret: func(_ context.Context, path string) (string, error) {
			v, ok := stored[path]
			if !ok {
				return "", errors.New("no key " + path)
			}
			return v, nil
		}}
	res, err := e.Impl.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if r := got(); len(r) != 1 || r[0].body != `{"severity": "high"}` || res.Outputs["ResponseCode"] != 200 {
		t.Errorf("got %+v, outputs %v", r, res.Outputs)
	}
	req.Inputs["IntegrationName"] = "key:hooks/none"
	if _, err := e.Impl.Run(context.Background(), req); err == nil || !strings.Contains(err.Error(), "no key hooks/none") {
		t.Errorf("missing key: %v", err)
	}
}
