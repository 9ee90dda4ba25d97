package web_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/capstan-run/capstan/internal/web"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the screenshots of the main pages to docs/ui/")

// chromium finds Debian's Chromium; without it the browser tests fail under
// CI (.ci/run installs it) and are skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: .ci/run installs Debian's chromium and chromium-driver")
	}
	t.Skip("chromium is not installed (apt-get install chromium chromium-driver); CI runs this test")
	return ""
}

// browser is one headless Chromium with a fresh profile, recording every
// JavaScript error, console error and browser-log error the pages raise.
type browser struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.errors = append(b.errors, string(m.Type)+": "+m.Text)
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// run runs the actions with a bound on how long they may take.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// noErrors fails the test if any page raised a JavaScript error so far.
func (b *browser) noErrors(page string) {
	b.t.Helper()
	time.Sleep(100 * time.Millisecond) // let the console's last messages arrive
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		b.t.Errorf("%s: JavaScript errors:\n%s", page, strings.Join(b.errors, "\n"))
		b.errors = nil
	}
}

// forget drops the errors recorded so far that contain s.
func (b *browser) forget(s string) {
	time.Sleep(100 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.errors[:0]
	for _, e := range b.errors {
		if !strings.Contains(e, s) {
			kept = append(kept, e)
		}
	}
	b.errors = kept
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	if !*updateScreenshots {
		return
	}
	png := value(b, "screenshot "+name, chromedp.CaptureScreenshot())
	dir := filepath.Join("..", "..", "docs", "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) login(base, user string) {
	b.t.Helper()
	b.run("sign in as "+user,
		chromedp.Navigate(base+"/ui/runbooks"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.search`)),
	)
	b.noErrors("sign-in")
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(value(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func TestBrowser(t *testing.T) {
	f := projectsFixture(t, web.Options{Poll: 50 * time.Millisecond})
	base := f.srv.URL
	b := newBrowser(t)

	b.run("the sign-in page", chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
	b.screenshot("login")
	b.login(base, "alice")
	b.screenshot("runbooks")

	// Bad input is refused next to its field, in the browser, with the
	// server's words.
	b.run("open Hello", chromedp.Navigate(base+"/ui/runbooks/Hello"), chromedp.WaitVisible(chromedp.CSS(`#p-Name`)))
	b.run("bad name", chromedp.SendKeys(chromedp.CSS(`#p-Name`), "Bad1"), chromedp.Click(chromedp.CSS(`form.run button.primary`)))
	if got, want := b.text(`#err-Name`), `parameter Name: value "Bad1": does not match allowedPattern ^[a-z]+$`; got != want {
		t.Fatalf("message next to Name = %q, want %q", got, want)
	}
	url := value(b, "location", chromedp.Location())
	if !strings.HasSuffix(url, "/ui/runbooks/Hello") {
		t.Fatalf("the bad form was sent: now at %s", url)
	}
	b.screenshot("runbook-form")
	b.noErrors("runbook form")

	// Run it and watch it succeed without reloading: a mark set on the
	// page survives only if the page is never reloaded.
	b.run("run Hello",
		chromedp.SetValue(chromedp.CSS(`#p-Name`), "world"),
		chromedp.Click(chromedp.CSS(`form.run button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#status`)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[int](`window.capstanMark = 1`)(ctx, t)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-done]`)),
	)
	if got := b.text(`#status`); got != "Success" {
		t.Fatalf("status = %q, want Success", got)
	}
	mark := value(b, "no reload", chromedp.Evaluate[int](`window.capstanMark || 0`))
	if mark != 1 {
		t.Fatal("the page reloaded to show the result; it should update live")
	}
	b.screenshot("execution")
	b.noErrors("execution")

	// Approve one.
	b.run("run NeedsApproval",
		chromedp.Navigate(base+"/ui/runbooks/NeedsApproval"),
		chromedp.WaitVisible(chromedp.CSS(`form.run button.primary`)),
		chromedp.Click(chromedp.CSS(`form.run button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#approval button[value="Approve"]`)),
	)
	b.screenshot("approval")
	b.run("approve",
		chromedp.SendKeys(chromedp.CSS(`#comment`), "looks fine"),
		chromedp.Click(chromedp.CSS(`#approval button[value="Approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-done]`)),
	)
	if got := b.text(`#status`); got != "Success" {
		t.Fatalf("after approving: status %q, want Success", got)
	}
	b.noErrors("approval")

	// Another user is refused alice's execution.
	aliceRun := value(b, "location", chromedp.Location())
	b.run("sign out", chromedp.Navigate(base+"/ui/runbooks"), chromedp.WaitVisible(chromedp.CSS(`form.logout button`)),
		chromedp.Click(chromedp.CSS(`form.logout button`)), chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	b.login(base, "bob")
	b.run("bob opens alice's execution", chromedp.Navigate(aliceRun), chromedp.WaitVisible(chromedp.CSS(`#page-error`)))
	if got := b.text(`#page-error`); !strings.Contains(got, "Not allowed") || !strings.Contains(got, "ssm:GetAutomationExecution") {
		t.Fatalf("bob on alice's execution: %q, want a refusal", got)
	}
	if got := b.text(`h1`); got != "Forbidden" {
		t.Fatalf("bob on alice's execution: page %q, want Forbidden", got)
	}
	b.screenshot("refused")
	// Chromium logs the page's own 403 as a failed load; nothing else may fail.
	b.forget("the server responded with a status of 403")
	b.noErrors("refused page")
	b.run("sign out bob", chromedp.Click(chromedp.CSS(`form.logout button`)), chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	b.login(base, "alice")

	for _, p := range []struct{ path, sel, shot string }{
		{"/ui/executions", "form.filters", "history"},
		{"/ui/keys", "form.keyput", "keys"},
		{"/ui/users", "table", "users"},
		{"/ui/audit", "table", "audit"},
		{"/ui/projects", "table.projects", "projects"},
	} {
		b.run("open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		b.screenshot(p.shot)
		b.noErrors(p.path)
	}
}
