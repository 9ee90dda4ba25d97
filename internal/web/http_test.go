package web_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/web"
)

// client is a browser without JavaScript: cookies, no redirects followed
// unless asked.
type client struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newClient(t testing.TB, f *fixture) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: f.srv.URL, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (c *client) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, html string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", html)
	}
	return m[1]
}

func (c *client) login(user, pw string) (int, string) {
	c.t.Helper()
	_, page := c.do("GET", "/ui/login", nil)
	return c.do("POST", "/ui/login", url.Values{"csrf": {csrfOf(c.t, page)}, "username": {user}, "password": {pw}})
}

func TestSignInOutAndSessions(t *testing.T) {
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	if code, body := c.do("GET", "/ui/runbooks", nil); code != 200 || !strings.Contains(body, `name="username"`) || !strings.Contains(body, `name="password"`) {
		t.Fatalf("signed out, /ui/runbooks = %d, want the sign-in form:\n%s", code, body)
	}
	if code, body := c.login("alice", "wrong password"); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
		t.Fatalf("wrong password: %d\n%s", code, body)
	}
	code, body := c.login("alice", password)
	if code != 200 || !strings.Contains(body, "Hello") || !strings.Contains(body, "Greets someone") {
		t.Fatalf("after sign-in: %d, want the runbooks page listing Hello with its description:\n%s", code, body)
	}
	// Every form carries the session's token; a POST without it is refused.
	if code, _ := c.do("POST", "/ui/logout", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF token: %d, want 403", code)
	}
	if code, _ := c.do("POST", "/ui/runbooks/Hello", url.Values{"csrf": {"forged"}, "Name": {"abc"}}); code != http.StatusForbidden {
		t.Fatalf("run with a forged CSRF token: %d, want 403", code)
	}
	_, body = c.do("GET", "/ui/runbooks", nil)
	if code, _ := c.do("POST", "/ui/logout", url.Values{"csrf": {csrfOf(t, body)}}); code != 200 {
		t.Fatalf("sign-out: %d", code)
	}
	if _, body := c.do("GET", "/ui/runbooks", nil); !strings.Contains(body, `name="password"`) {
		t.Fatalf("after sign-out the session still works:\n%s", body)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	f := newFixture(t, web.Options{SecureCookies: true})
	// By hand: a cookie jar keeps Secure cookies from a plain-HTTP server.
	resp, err := http.Get(f.srv.URL + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"csrf": {csrfOf(t, string(b))}, "username": {"alice"}, "password": {password}}
	req, _ := http.NewRequest("POST", f.srv.URL+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "capstan_session=") {
			set = h
		}
	}
	for _, want := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/ui/"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
}

func TestSessionsExpire(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := newFixture(t, web.Options{SessionTTL: time.Hour, Now: func() time.Time { return now }})
	c := newClient(t, f)
	if code, _ := c.login("alice", password); code != 200 {
		t.Fatal("sign-in failed")
	}
	now = now.Add(61 * time.Minute)
	if _, body := c.do("GET", "/ui/runbooks", nil); !strings.Contains(body, `name="password"`) {
		t.Fatalf("a session past its expiry still works:\n%s", body)
	}
}

func TestFailedSignInsAreRateLimited(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := newFixture(t, web.Options{LoginFailures: 3, LoginWindow: time.Minute, Now: func() time.Time { return now }})
	c := newClient(t, f)
	for i := range 3 {
		if code, _ := c.login("alice", "guess"+string(rune('a'+i))); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, code)
		}
	}
	// Blocked now, even with the right password.
	if code, body := c.login("alice", password); code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("4th attempt: %d, want 429\n%s", code, body)
	}
	now = now.Add(time.Minute)
	if code, _ := c.login("alice", password); code != 200 {
		t.Fatalf("after the window: %d, want to be signed in", code)
	}
}

func TestServerRefusesBadParametersNextToTheirField(t *testing.T) {
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	_, page := c.do("GET", "/ui/runbooks/Hello", nil)
	for _, want := range []string{`name="Name"`, `name="Count"`, `type="checkbox" name="Loud"`, `name="Items"`, `name="Labels.k"`, `<select id="p-Color" name="Color"`, "Who to greet", `>Run</button>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	// The message is the one the command line gives for the same value.
	doc, _ := document.Load("Hello", []byte(helloRunbook), action.Builtin())
	_, cliErr := doc.Coerce(document.Inputs{Flags: []string{"Name=Bad1", "Count=9"}})
	var msgs []string
	for _, e := range cliErr.(interface{ Unwrap() []error }).Unwrap() {
		var pe *document.ParameterError
		if errors.As(e, &pe) {
			msgs = append(msgs, pe.Error())
		}
	}
	if len(msgs) != 2 {
		t.Fatalf("the CLI's errors: %v", cliErr)
	}
	code, body := c.do("POST", "/ui/runbooks/Hello", url.Values{"csrf": {csrfOf(t, page)}, "Name": {"Bad1"}, "Count": {"9"}})
	if code != http.StatusBadRequest {
		t.Fatalf("bad input: %d, want 400", code)
	}
	body = html.UnescapeString(body)
	for _, m := range msgs {
		if !strings.Contains(body, m) {
			t.Errorf("the page lacks %q next to its field:\n%s", m, body)
		}
	}
	if !regexp.MustCompile(`id="err-Name" role="alert">parameter Name`).MatchString(body) {
		t.Errorf("the Name error is not in Name's field")
	}
	// A required field left empty reads as on the command line.
	_, body = c.do("POST", "/ui/runbooks/Hello", url.Values{"csrf": {csrfOf(t, page)}, "Name": {""}})
	if !strings.Contains(body, "parameter Name: required (it has no default)") {
		t.Errorf("empty required field: %s", body)
	}
}

func TestBrowserRulesMatchTheServer(t *testing.T) {
	// The browser's messages are built from these rules; each must read as
	// document.Coerce's message for a value breaking it.
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	_, page := c.do("GET", "/ui/runbooks/Hello", nil)
	m := regexp.MustCompile(`data-msg-pattern="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no pattern rule on the Name field")
	}
	doc, _ := document.Load("Hello", []byte(helloRunbook), action.Builtin())
	_, err := doc.Coerce(document.Inputs{Flags: []string{"Name=Bad1"}})
	got := strings.ReplaceAll(html.UnescapeString(m[1]), "%v", "Bad1")
	if err == nil || got != err.Error() {
		t.Fatalf("browser message %q, server message %v", got, err)
	}
}

func TestRunFromTheFormAndHistory(t *testing.T) {
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	_, page := c.do("GET", "/ui/runbooks/Hello", nil)
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("POST", f.srv.URL+"/ui/runbooks/Hello", strings.NewReader(url.Values{
		"csrf": {csrfOf(t, page)}, "Name": {"world"}, "Count": {"3"}, "Loud": {"true"},
		"Items": {"a", "", "b"}, "Labels.k": {"team", ""}, "Labels.v": {"ops", ""}, "Color": {"green"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/executions/") {
		t.Fatalf("run: %d to %q", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/ui/executions/")
	st, err := f.svc.Engine().Wait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Name": "[world]", "Count": "[3]", "Loud": "[true]", "Items": "[a b]", "Labels": `[{"team":"ops"}]`, "Color": "[green]"}
	for k, v := range want {
		if got := strings.Join(st.Started.ParameterText[k], " "); "["+got+"]" != v {
			t.Errorf("parameter %s = [%s], want %s", k, got, v)
		}
	}
	recs, err := f.db.ListAudit(context.Background(), store.AuditQuery{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Action != "ssm:StartAutomationExecution" || recs[0].Detail != id || recs[0].Result != "Success" ||
		recs[0].Resource != "arn:aws:ssm::"+f.svc.AccountID()+":automation-definition/Hello:$DEFAULT" {
		t.Errorf("audit records of the run: %+v", recs)
	}
	if _, audit := c.do("GET", "/ui/audit?user=alice", nil); !strings.Contains(audit, "ssm:StartAutomationExecution") || !strings.Contains(audit, id) {
		t.Errorf("the audit page lacks the run:\n%s", audit)
	}
	if _, users := c.do("GET", "/ui/users", nil); !strings.Contains(users, "AdministratorAccess") || !strings.Contains(users, "capstan:ExecutedBy") {
		t.Errorf("the users page lacks their policies:\n%s", users)
	}
	_, body := c.do("GET", loc, nil)
	if !strings.Contains(body, `id="status">Success`) {
		t.Errorf("execution page: %s", body)
	}
	_, hist := c.do("GET", "/ui/executions?runbook=Hello&user=alice&status=Success", nil)
	if !strings.Contains(hist, id) {
		t.Errorf("history filtered by runbook, user and status lacks %s", id)
	}
	_, hist = c.do("GET", "/ui/executions?user=bob", nil)
	if strings.Contains(hist, id) {
		t.Errorf("history filtered by bob shows alice's execution")
	}
	if code, body := c.do("GET", "/ui/executions?after=yesterday", nil); code != 400 || !strings.Contains(body, "started after: yesterday is not a time") {
		t.Errorf("bad time filter: %d %s", code, body)
	}
}

// startForm posts a runbook's form and returns the new execution's id.
func (c *client) start(runbook string, form url.Values) string {
	c.t.Helper()
	_, page := c.do("GET", "/ui/runbooks/"+runbook, nil)
	form.Set("csrf", csrfOf(c.t, page))
	saved := c.c.CheckRedirect
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { c.c.CheckRedirect = saved }()
	req, _ := http.NewRequest("POST", c.base+"/ui/runbooks/"+runbook, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/executions/") {
		c.t.Fatalf("run %s: %d to %q", runbook, resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, "/ui/executions/")
}

func TestApproveButtonsOnlyForApprovers(t *testing.T) {
	f := newFixture(t, web.Options{})
	// bob may read every execution here, so that he sees alice's.
	if err := f.db.PutPolicy(context.Background(), "bob", []byte(authz.AdministratorAccessName)); err != nil {
		t.Fatal(err)
	}
	alice, bob := newClient(t, f), newClient(t, f)
	alice.login("alice", password)
	bob.login("bob", password)
	id := alice.start("NeedsApproval", url.Values{})
	var page string
	for range 100 {
		if _, page = alice.do("GET", "/ui/executions/"+id, nil); strings.Contains(page, `value="Approve"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(page, `value="Approve"`) || !strings.Contains(page, `value="Reject"`) || !strings.Contains(page, "Go ahead?") {
		t.Fatalf("alice, an approver, sees no Approve/Reject:\n%s", page)
	}
	_, bobPage := bob.do("GET", "/ui/executions/"+id, nil)
	if strings.Contains(bobPage, `value="Approve"`) || !strings.Contains(bobPage, "You are not one of its approvers") {
		t.Fatalf("bob, not an approver, is offered the decision:\n%s", bobPage)
	}
	// Sent anyway, bob's approval is refused by the engine's rule.
	code, body := bob.do("POST", "/ui/executions/"+id+"/signal", url.Values{"csrf": {csrfOf(t, bobPage)}, "signal": {"Approve"}})
	if code != http.StatusConflict || !strings.Contains(html.UnescapeString(body), "is not one of the step's approvers (alice)") {
		t.Fatalf("bob's approval: %d\n%s", code, body)
	}
	code, _ = alice.do("POST", "/ui/executions/"+id+"/signal", url.Values{"csrf": {csrfOf(t, page)}, "signal": {"Reject"}, "comment": {"not today"}})
	if code != 200 {
		t.Fatalf("alice's rejection: %d", code)
	}
	st, err := f.svc.Engine().Wait(context.Background(), id)
	if err != nil || st.Status != "Failed" {
		t.Fatalf("after the rejection: %v %v, want Failed", st.Status, err)
	}
	if _, page = alice.do("GET", "/ui/executions/"+id, nil); !strings.Contains(page, "not today") {
		t.Errorf("the rejection's comment is not on the page")
	}
}

func TestInteractiveStepsAndStop(t *testing.T) {
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	id := c.start("Hello", url.Values{"Name": {"world"}, "mode": {"Interactive"}})
	var page string
	for range 100 {
		if _, page = c.do("GET", "/ui/executions/"+id, nil); strings.Contains(page, "Start step pause") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(page, "Start step pause") {
		t.Fatalf("an Interactive run offers no step control:\n%s", page)
	}
	if code, _ := c.do("POST", "/ui/executions/"+id+"/signal", url.Values{"csrf": {csrfOf(t, page)}, "signal": {"StartStep"}, "step": {"pause"}}); code != 200 {
		t.Fatalf("StartStep: %d", code)
	}
	if st, err := f.svc.Engine().Wait(context.Background(), id); err != nil || st.Status != "Success" {
		t.Fatalf("after StartStep: %v %v", st.Status, err)
	}
	// Stop a run waiting for its approval.
	id = c.start("NeedsApproval", url.Values{})
	_, page = c.do("GET", "/ui/executions/"+id, nil)
	if code, _ := c.do("POST", "/ui/executions/"+id+"/stop", url.Values{"csrf": {csrfOf(t, page)}}); code != 200 {
		t.Fatalf("Stop: %d", code)
	}
	if st, err := f.svc.Engine().Wait(context.Background(), id); err != nil || st.Status != "Cancelled" {
		t.Fatalf("after Stop: %v %v, want Cancelled", st.Status, err)
	}
}

func TestPoliciesDecideWhatAUserSees(t *testing.T) {
	f := newFixture(t, web.Options{})
	alice, bob := newClient(t, f), newClient(t, f)
	alice.login("alice", password)
	bob.login("bob", password)
	aliceRun := alice.start("NeedsApproval", url.Values{})
	bobRun := bob.start("Hello", url.Values{"Name": {"bob"}})
	if code, body := bob.do("GET", "/ui/executions/"+aliceRun, nil); code != http.StatusForbidden || !strings.Contains(body, "Not allowed") {
		t.Fatalf("bob opening alice's execution: %d\n%s", code, body)
	}
	if code, _ := bob.do("GET", "/ui/executions/"+bobRun, nil); code != 200 {
		t.Fatalf("bob opening his own execution: %d", code)
	}
	_, hist := bob.do("GET", "/ui/executions", nil)
	if strings.Contains(hist, aliceRun) || !strings.Contains(hist, bobRun) {
		t.Fatalf("bob's history shows %s (alice's) or lacks %s (his):\n%s", aliceRun, bobRun, hist)
	}
	if code, _ := bob.do("GET", "/ui/keys", nil); code != http.StatusForbidden {
		t.Fatalf("bob on key storage: %d, want 403", code)
	}
	if code, _ := bob.do("GET", "/ui/audit", nil); code != http.StatusForbidden {
		t.Fatalf("bob on the audit log: %d, want 403", code)
	}
	if code, _ := alice.do("GET", "/ui/keys", nil); code != 200 {
		t.Fatalf("alice on key storage: %d", code)
	}
}
