package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/web"
)

const projectsConfig = `
region: us-east-1
projects:
  audit:
    region: eu-west-1
    credentials:
      provider: static
      accessKeyId: AKIAAUDITEXAMPLE
      secretKey: key:aws/audit/secret
    assumeRoles:
      - arn: arn:aws:iam::111111111111:role/AuditReader
      - arn: arn:aws:iam::222222222222:role/AuditTarget
  sandbox:
    endpointURL: http://127.0.0.1:5000
`

// withProjects gives the service the projects of projectsConfig.
func withProjects(t testing.TB) func(*service.Options) {
	t.Helper()
	cfg, err := config.Parse("capstan.yaml", []byte(projectsConfig))
	if err != nil {
		t.Fatal(err)
	}
	return func(o *service.Options) { o.Projects = config.Projects{Config: cfg} }
}

func TestProjectSettingsPage(t *testing.T) {
	f := newFixture(t, web.Options{}, withProjects(t))
	a := newClient(t, f)
	a.login("alice", password)
	code, body := a.do("GET", "/ui/projects", nil)
	body = html.UnescapeString(body)
	if code != 200 {
		t.Fatalf("/ui/projects: %d\n%s", code, body)
	}
	audit := between(body, `<tr id="project-audit">`, `</tr>`)
	for _, want := range []string{"static", "AKIAAUDITEXAMPLE", "<li><code>arn:aws:iam::111111111111:role/AuditReader</code></li><li><code>arn:aws:iam::222222222222:role/AuditTarget</code></li>", "eu-west-1"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit project's row lacks %q:\n%s", want, audit)
		}
	}
	if strings.Contains(body, "aws/audit/secret") {
		t.Error("the page names where the secret key is kept")
	}
	if def := between(body, `<tr id="project-default">`, `</tr>`); !strings.Contains(def, "us-east-1") {
		t.Errorf("the default project's row lacks the system region:\n%s", def)
	}
	if sb := between(body, `<tr id="project-sandbox">`, `</tr>`); !strings.Contains(sb, "http://127.0.0.1:5000") || !strings.Contains(sb, "us-east-1") {
		t.Errorf("the sandbox project's row lacks its endpoint or inherited region:\n%s", sb)
	}

	// bob's policy grants no project: he sees none of their settings.
	b := newClient(t, f)
	b.login("bob", password)
	code, body = b.do("GET", "/ui/projects", nil)
	if strings.Contains(body, "AKIAAUDITEXAMPLE") || strings.Contains(body, "AuditReader") || (code != http.StatusForbidden && !strings.Contains(body, "No projects you may see")) {
		t.Errorf("bob on /ui/projects: %d\n%s", code, body)
	}
}

// projectsFixture has Hello (default project), AuditOnly (audit) and
// SandboxOnly (sandbox), and a key in default and one in audit.
func projectsFixture(t *testing.T, opts web.Options) *fixture {
	t.Helper()
	f := newFixture(t, opts, withProjects(t))
	ctx := context.Background()
	admin := service.Principal{Name: "admin"}
	for name, project := range map[string]string{"AuditOnly": "audit", "SandboxOnly": "sandbox"} {
		if _, err := f.svc.CreateDocument(ctx, admin, service.DocumentInput{Name: name, Content: connectRunbook, Format: "YAML", DocumentType: "Automation", Project: project}); err != nil {
			t.Fatal(err)
		}
	}
	for path, project := range map[string]string{"db/default-pw": "", "db/audit-pw": "audit"} {
		if err := f.svc.PutKey(ctx, admin, project, path, []byte(secretValue)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestRunbooksHistoryAndKeysByProject(t *testing.T) {
	f := projectsFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)

	// The runbooks page filtered by project: its own and the default
	// project's, which run anywhere; each row names its project.
	_, page := c.do("GET", "/ui/runbooks?project=audit", nil)
	if !strings.Contains(page, `<a href="/ui/runbooks/AuditOnly?project=audit">AuditOnly</a></td><td>Connects to the database.</td><td>audit</td>`) ||
		!strings.Contains(page, `>Hello</a>`) || strings.Contains(page, "SandboxOnly") {
		t.Errorf("runbooks of project audit:\n%s", page)
	}
	if !strings.Contains(page, `<option selected>audit</option>`) {
		t.Errorf("the project selector does not show audit chosen")
	}

	// A runbook of a project runs there only; one of default offers the
	// projects, and runs in the one chosen.
	if _, page := c.do("GET", "/ui/runbooks/AuditOnly", nil); !strings.Contains(page, "Runs in project") || strings.Contains(page, `id="project"`) {
		t.Errorf("AuditOnly's form should say it runs in audit:\n%s", page)
	}
	_, page = c.do("GET", "/ui/runbooks/Hello?project=sandbox", nil)
	if sel := between(page, `<select id="project" name="project">`, `</select>`); sel != "<option>default</option><option>audit</option><option selected>sandbox</option>" {
		t.Errorf("Hello's project choice: %q", sel)
	}
	inSandbox := c.start("Hello", url.Values{"Name": {"ada"}, "project": {"sandbox"}})
	inDefault := c.start("Hello", url.Values{"Name": {"bob"}})
	for _, id := range []string{inSandbox, inDefault} {
		if _, err := f.svc.Engine().Wait(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, page := c.do("GET", "/ui/executions/"+inSandbox, nil); !strings.Contains(page, `<dt>Project</dt><dd><a href="/ui/projects#project-sandbox">sandbox</a></dd>`) {
		t.Errorf("the execution page does not name its project:\n%s", page)
	}
	_, hist := c.do("GET", "/ui/executions?project=sandbox", nil)
	if !strings.Contains(hist, inSandbox) || strings.Contains(hist, inDefault) || !strings.Contains(hist, "<td>Hello</td><td>sandbox</td>") {
		t.Errorf("history of project sandbox:\n%s", hist)
	}

	// Keys: each with its project; a form offers a key-storage value of
	// the runbook's own project, or of any for a default runbook, where a
	// key of another project than the run's is refused next to its field.
	_, keysPage := c.do("GET", "/ui/keys", nil)
	if !strings.Contains(keysPage, "<td><code>db/audit-pw</code></td><td>audit</td>") || !strings.Contains(keysPage, "<td><code>db/default-pw</code></td><td>default</td>") {
		t.Errorf("keys page:\n%s", keysPage)
	}
	code, _ := c.do("POST", "/ui/keys", url.Values{"csrf": {csrfOf(t, keysPage)}, "path": {"ops/token"}, "value": {"v"}, "project": {"sandbox"}})
	if _, keysPage = c.do("GET", "/ui/keys", nil); code != 200 || !strings.Contains(keysPage, "<td><code>ops/token</code></td><td>sandbox</td>") {
		t.Errorf("storing a key in project sandbox: %d\n%s", code, keysPage)
	}
	_, page = c.do("GET", "/ui/runbooks/AuditOnly", nil)
	if got := strings.Join(keyOptions(page, "DBPassword"), " "); got != "db/audit-pw" {
		t.Errorf("AuditOnly offers keys %q, want its project's only", got)
	}
	_, page = c.do("GET", "/ui/runbooks/Connect", nil)
	if got := strings.Join(keyOptions(page, "DBPassword"), " | "); got != "db/audit-pw (project audit) | db/default-pw | ops/token (project sandbox)" {
		t.Errorf("Connect (default) offers keys %q", got)
	}
	code, body := c.do("POST", "/ui/runbooks/Connect", url.Values{"csrf": {csrfOf(t, page)}, "DBPassword.key": {"db/audit-pw"}, "project": {"default"}})
	if fieldErr := html.UnescapeString(between(body, `id="err-DBPassword" role="alert">`, `</p>`)); code != 400 || !strings.Contains(fieldErr, "belongs to project audit") {
		t.Errorf("a key of project audit for a run in default: %d, next to the field %q", code, fieldErr)
	}
}
