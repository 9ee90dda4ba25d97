package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/web"
)

// A script's printed output is its step's own section of the execution
// page, not one of its outputs; the API still has it as SSM's ExecutionLog.
func TestScriptOutputHasItsOwnSection(t *testing.T) {
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	id := c.start("Script", url.Values{"Who": {"ada"}})
	st, err := f.svc.Engine().Wait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "Success" {
		t.Fatalf("the script run ended %s: %s", st.Status, st.FailureMessage)
	}
	_, body := c.do("GET", "/ui/executions/"+id, nil)
	body = html.UnescapeString(body)
	section := between(body, `<section class="script-output">`, `</section>`)
	if !strings.Contains(section, "<h3>Script output</h3>") || !strings.Contains(section, "hello ada\nsecond line") {
		t.Fatalf("no script output section with the printed lines:\n%s", body)
	}
	details := between(body, `<h3>Outputs</h3>`, `</details>`)
	if strings.Contains(details, "ExecutionLog") || strings.Contains(details, "second line") {
		t.Errorf("the printed output is also listed among the step's outputs:\n%s", details)
	}
	if !strings.Contains(details, "Greeted") {
		t.Errorf("the step's own outputs are gone:\n%s", details)
	}
	if got := st.Steps[0].Outputs["ExecutionLog"]; got != "hello ada\nsecond line\n" {
		t.Errorf("the step's ExecutionLog output = %q", got)
	}
}

// between is the text of s after the first start and before the next end.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, end)
	return in
}

// liveScriptRunbook prints a line, then waits (bounded) until the test's
// loopback server says go, then prints another.
const liveScriptRunbook = `schemaVersion: '0.3'
description: Prints while it runs.
parameters:
  URL:
    type: String
mainSteps:
  - name: work
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: handler
      InputPayload:
        url: '{{ URL }}'
      Script: |
        import time, urllib.request
        def handler(events, context):
            print("first line")
            for _ in range(600):
                if urllib.request.urlopen(events["url"]).read() == b"go":
                    break
                time.sleep(0.05)
            print("second line")
            return {}
`

// In Chromium: what a script prints shows while it runs, without a reload.
func TestBrowserScriptOutputLive(t *testing.T) {
	var released atomic.Bool
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if released.Load() {
			fmt.Fprint(w, "go")
		}
	}))
	t.Cleanup(gate.Close)
	t.Cleanup(func() { released.Store(true) })
	f := newFixture(t, web.Options{Poll: 50 * time.Millisecond})
	if _, err := f.svc.CreateDocument(context.Background(), service.Principal{Name: "alice"}, service.DocumentInput{Name: "Live", Content: liveScriptRunbook, Format: "YAML", DocumentType: "Automation"}); err != nil {
		t.Fatal(err)
	}
	base := f.srv.URL
	b := newBrowser(t)
	b.login(base, "alice")
	b.run("start Live",
		chromedp.Navigate(base+"/ui/runbooks/Live"),
		chromedp.WaitVisible(chromedp.CSS(`#p-URL`)),
		chromedp.SendKeys(chromedp.CSS(`#p-URL`), gate.URL),
		chromedp.Click(chromedp.CSS(`form.run button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#status`)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[int](`window.capstanMark = 1`)(ctx, t)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS(`pre.log`)),
	)
	if got, status := b.text(`pre.log`), b.text(`#status`); got != "first line" || status != "InProgress" {
		t.Fatalf("while the script runs: output %q, status %s; want the first line, InProgress", got, status)
	}
	b.screenshot("execution-script-output")
	released.Store(true)
	b.run("wait for the end", chromedp.WaitVisible(chromedp.CSS(`#live[data-done]`)))
	if got := b.text(`pre.log`); got != "first line\nsecond line" {
		t.Errorf("after the step: output %q", got)
	}
	if mark := value(b, "no reload", chromedp.Evaluate[int](`window.capstanMark || 0`)); mark != 1 {
		t.Error("the page reloaded; it should update live")
	}
	b.noErrors("live script output")
}
