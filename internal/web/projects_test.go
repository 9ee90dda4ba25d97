package web_test

import (
	"html"
	"net/http"
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
