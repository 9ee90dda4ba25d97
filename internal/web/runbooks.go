package web

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

type runbookRow struct {
	Name        string
	Description string
	Owner       string
	Version     int
	Project     string
}

type runbooksData struct {
	Query    string
	Runbooks []runbookRow
	// Project is the project chosen ("" for all): its runbooks and the
	// default project's, which run in any project.
	Project  string
	Projects []string
}

// summary is the first line of a description, for listings.
func summary(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "# ")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func (u *UI) runbooksPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	docs, err := u.opts.Service.Runbooks(r.Context(), s.user)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d := runbooksData{Query: q, Project: r.URL.Query().Get("project"), Projects: u.projectNames(r.Context(), s.user)}
	needle := strings.ToLower(q)
	for _, doc := range docs {
		project := store.ProjectOf(doc.Project)
		if d.Project != "" && project != d.Project && project != store.DefaultProject {
			continue
		}
		desc := u.summaries.of(doc)
		if needle != "" && !strings.Contains(strings.ToLower(doc.Name+" "+desc), needle) {
			continue
		}
		d.Runbooks = append(d.Runbooks, runbookRow{Name: doc.Name, Description: desc, Owner: doc.Owner, Version: doc.Version, Project: project})
	}
	slices.SortFunc(d.Runbooks, func(a, b runbookRow) int { return strings.Compare(a.Name, b.Name) })
	u.render(w, r, http.StatusOK, "runbooks", page{User: s.user, CSRF: s.csrf, Title: "Runbooks", Nav: "runbooks", Data: d})
}

type runbookData struct {
	Name        string
	Description string
	Fields      []field
	// Project is the runbook's project. One of the default project runs in
	// any project: Projects are those offered, Chosen the one selected.
	Project  string
	Projects []string
	Chosen   string
	// Reload: the form's choices depend on the project chosen.
	Reload bool
}

// runbook loads and parses the runbook of the request for its form, and
// names its project.
func (u *UI) runbook(r *http.Request, s *session) (*document.Document, string, error) {
	doc, err := u.opts.Service.Runbook(r.Context(), s.user, r.PathValue("name"))
	if err != nil {
		return nil, "", err
	}
	parsed, diags := document.Load(doc.Name, []byte(doc.Content), u.opts.Actions)
	if parsed == nil || document.HasErrors(diags) {
		return nil, "", &invalidRunbook{name: doc.Name, diags: diags}
	}
	return parsed, store.ProjectOf(doc.Project), nil
}

// form is a runbook's form data: its fields (filled from the submitted
// form when there is one) and where it may run.
func (u *UI) form(r *http.Request, s *session, doc *document.Document, project string, submitted url.Values) runbookData {
	d := runbookData{Name: doc.File, Description: doc.Description, Project: project}
	if project == store.DefaultProject {
		d.Projects = u.projectNames(r.Context(), s.user)
		d.Chosen = r.FormValue("project")
	}
	runIn := project
	if d.Chosen != "" {
		runIn = d.Chosen
	}
	d.Fields = fields(doc, submitted, u.choices(r.Context(), s.user, doc, project, runIn))
	d.Reload = slices.ContainsFunc(doc.Parameters, instanceParam)
	return d
}

type invalidRunbook struct {
	name  string
	diags []document.Diagnostic
}

func (e *invalidRunbook) Error() string {
	var b strings.Builder
	b.WriteString("the runbook " + e.name + " is not valid:")
	for _, d := range e.diags {
		if d.Severity == document.Error {
			b.WriteString("\n" + d.String())
		}
	}
	return b.String()
}

func (u *UI) runbookPage(w http.ResponseWriter, r *http.Request, s *session) {
	doc, project, err := u.runbook(r, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d := u.form(r, s, doc, project, nil)
	u.render(w, r, http.StatusOK, "runbook", page{User: s.user, CSRF: s.csrf, Title: doc.File, Nav: "runbooks", Data: d})
}

func (u *UI) startRunbook(w http.ResponseWriter, r *http.Request, s *session) {
	doc, project, err := u.runbook(r, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	mode := engine.ModeAuto
	if r.PostFormValue("mode") == string(engine.ModeInteractive) {
		mode = engine.ModeInteractive
	}
	id, err := u.opts.Service.Start(r.Context(), s.user, StartInput{Runbook: doc.File, Parameters: parameters(doc, r.PostForm),
		KeyParameters: keyParameters(doc, r.PostForm), Project: r.PostFormValue("project"), Mode: string(mode)})
	if err != nil {
		byField, rest := fieldErrors(err)
		if len(byField) == 0 && !isUsage(err) {
			u.fail(w, r, s, err)
			return
		}
		d := u.form(r, s, doc, project, r.PostForm)
		for i := range d.Fields {
			d.Fields[i].Error = byField[d.Fields[i].Name]
		}
		u.render(w, r, http.StatusBadRequest, "runbook", page{User: s.user, CSRF: s.csrf, Title: doc.File, Nav: "runbooks", Error: rest, Data: d})
		return
	}
	http.Redirect(w, r, Prefix+"executions/"+url.PathEscape(id), http.StatusSeeOther)
}

// isUsage reports whether err is the caller's bad input (the service's
// errors say so).
func isUsage(err error) bool {
	var c interface{ Usage() bool }
	return errors.As(err, &c) && c.Usage()
}

// summaries keeps the first line of each runbook version's description, by
// content digest, so that listing the runbooks does not parse every one of
// them on every request. Bounded: it starts over when full.
type summaries struct {
	mu sync.Mutex
	m  map[[32]byte]string
}

const maxSummaries = 4096

func (c *summaries) of(doc store.Document) string {
	key := sha256.Sum256([]byte(doc.Name + "\x00" + doc.Content))
	c.mu.Lock()
	desc, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return desc
	}
	if parsed, _ := document.Parse(doc.Name, []byte(doc.Content)); parsed != nil {
		desc = summary(parsed.Description)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxSummaries {
		c.m = map[[32]byte]string{}
	}
	c.m[key] = desc
	c.mu.Unlock()
	return desc
}
