package web_test

import (
	"bytes"
	"context"
	"html"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/web"
)

const secretValue = "s3cr3t-Value-42"

// bobReadsDB is bobPolicy with capstan:ReadKey on db/* only.
const bobReadsDB = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["ssm:StartAutomationExecution", "ssm:ListDocuments", "ssm:GetDocument"], "Resource": "*"},
  {"Effect": "Allow",
   "Action": ["ssm:GetAutomationExecution", "ssm:DescribeAutomationExecutions"],
   "Resource": "arn:aws:ssm:*:*:automation-execution/*",
   "Condition": {"StringEquals": {"capstan:ExecutedBy": "${aws:username}"}}},
  {"Effect": "Allow", "Action": "capstan:ReadKey", "Resource": "arn:capstan:capstan::*:key/db/*"}
]}`

func secretsFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, web.Options{})
	ctx := context.Background()
	admin := service.Principal{Name: "admin"}
	for path, v := range map[string]string{"db/password": secretValue, "db/bad": "has space!", "team-b/token": "other-team-token"} {
		if err := f.svc.PutKey(ctx, admin, "", path, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.db.PutPolicy(ctx, "bob", []byte(bobReadsDB)); err != nil {
		t.Fatal(err)
	}
	return f
}

// keyOptions are the paths a field's key-storage select offers.
func keyOptions(page, param string) []string {
	sel := between(page, `<select id="k-`+param+`" name="`+param+`.key"`, `</select>`)
	var out []string
	for _, part := range strings.Split(sel, "<option")[1:] {
		_, text, _ := strings.Cut(part, ">")
		text, _, _ = strings.Cut(text, "<")
		if !strings.Contains(part, `value=""`) {
			out = append(out, text)
		}
	}
	return out
}

func TestSecretParametersFromKeyStorage(t *testing.T) {
	f := secretsFixture(t)
	ctx := context.Background()

	a := newClient(t, f)
	a.login("alice", password)
	_, page := a.do("GET", "/ui/runbooks/Connect", nil)
	if got := strings.Join(keyOptions(page, "DBPassword"), " "); got != "db/bad db/password team-b/token" {
		t.Errorf("alice is offered %q for DBPassword, want every path she may read", got)
	}
	pw := between(page, `data-param="DBPassword"`, `</fieldset>`)
	if !strings.Contains(pw, `<details class="keypick" open>`) || !strings.Contains(pw, `type="password"`) {
		t.Errorf("a password parameter should offer key storage from the start and hide what is typed:\n%s", pw)
	}
	note := between(page, `data-param="Note"`, `</fieldset>`)
	if !strings.Contains(note, `<details class="keypick">`) {
		t.Errorf("any String parameter may opt in to key storage:\n%s", note)
	}

	b := newClient(t, f)
	b.login("bob", password)
	_, page = b.do("GET", "/ui/runbooks/Connect", nil)
	if got := strings.Join(keyOptions(page, "DBPassword"), " "); got != "db/bad db/password" {
		t.Errorf("bob is offered %q, want only the db/ paths his policy lets him read", got)
	}

	// A path bob may not read is refused next to its field, and nothing runs.
	code, body := b.do("POST", "/ui/runbooks/Connect", url.Values{"csrf": {csrfOf(t, page)}, "DBPassword.key": {"team-b/token"}})
	fieldErr := html.UnescapeString(between(body, `id="err-DBPassword" role="alert">`, `</p>`))
	if code != 400 || !strings.Contains(fieldErr, "parameter DBPassword: key storage path team-b/token: not allowed") || !strings.Contains(fieldErr, "capstan:ReadKey") {
		t.Errorf("bob submitting team-b/token: %d, next to the field %q", code, fieldErr)
	}
	if strings.Contains(body, "other-team-token") {
		t.Error("the refusal shows the key's value")
	}
	if list, _, err := f.db.ListExecutions(ctx, store.ExecutionFilter{}); err != nil || len(list) != 0 {
		t.Errorf("a refused start left executions: %v %v", list, err)
	}

	// A value that breaks the runbook's rule is refused with the same
	// message, its value masked.
	code, body = b.do("POST", "/ui/runbooks/Connect", url.Values{"csrf": {csrfOf(t, page)}, "DBPassword.key": {"db/bad"}})
	fieldErr = html.UnescapeString(between(body, `id="err-DBPassword" role="alert">`, `</p>`))
	if code != 400 || fieldErr != `parameter DBPassword: value "****": does not match allowedPattern ^[A-Za-z0-9-]+$` || strings.Contains(body, "has space") {
		t.Errorf("a key value breaking allowedPattern: %d, %q", code, fieldErr)
	}

	// A path bob may read runs with the real value, which is shown nowhere.
	id := b.start("Connect", url.Values{"DBPassword.key": {"db/password"}, "DBPassword": {""}})
	st, err := f.svc.Engine().Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "Success" {
		t.Fatalf("the run ended %s: %s (the script fails unless the run got the key's value)", st.Status, st.FailureMessage)
	}
	_, execPage := b.do("GET", "/ui/executions/"+id, nil)
	execPage = html.UnescapeString(execPage)
	if strings.Contains(execPage, secretValue) || strings.Contains(execPage, "24-eulaV-t3rc3s") {
		t.Errorf("the execution page shows the secret:\n%s", execPage)
	}
	if !strings.Contains(execPage, "**** (from key storage: db/password)") {
		t.Errorf("the execution page does not say where DBPassword came from:\n%s", execPage)
	}
	if log := between(execPage, `<pre class="log">`, `</pre>`); log == "" || strings.Contains(log, "connecting with s3") {
		t.Errorf("script output %q: want it shown, masked", log)
	}
	// Nowhere in the store: not the events, the summaries, the calls.
	evs, _ := f.db.Events(ctx, id, 0)
	for _, e := range evs {
		if bytes.Contains(e.Data, []byte(secretValue)) || bytes.Contains(e.Data, []byte("24-eulaV-t3rc3s")) {
			t.Errorf("event %d %s holds it: %s", e.Seq, e.Type, e.Data)
		}
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{f.db.Path(), f.db.Path() + "-wal"} {
		data, err := os.ReadFile(file)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secretValue)) || bytes.Contains(data, []byte("24-eulaV-t3rc3s")) {
			t.Errorf("%s holds the secret in plain text", file)
		}
	}
}

// In Chromium: a password field offers key storage; with a path chosen the
// empty field passes the browser's checks and the run gets the value.
func TestBrowserSecretPicker(t *testing.T) {
	f := secretsFixture(t)
	base := f.srv.URL
	b := newBrowser(t)
	b.login(base, "bob")
	b.run("open Connect", chromedp.Navigate(base+"/ui/runbooks/Connect"), chromedp.WaitVisible(chromedp.CSS(`#k-DBPassword`)))
	b.run("pick db/password", chromedp.SetValue(chromedp.CSS(`#k-DBPassword`), "db/password"))
	b.screenshot("runbook-secret-picker")
	b.run("run",
		chromedp.Click(chromedp.CSS(`form.run button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-done]`)),
	)
	if got := b.text(`#status`); got != "Success" {
		t.Fatalf("status %q, want Success", got)
	}
	page := value(b, "the page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(page, secretValue) || !strings.Contains(page, "from key storage: db/password") {
		t.Errorf("the execution page shows the secret, or not where it came from:\n%s", page)
	}
	b.noErrors("secret picker")
}
