// Package web is capstan's self-service UI: server-rendered pages under
// /ui/ for signing in, running runbooks from forms generated from their
// parameters, watching executions live, approving, and looking back at
// history. Templates and assets are embedded; scripts only enhance pages
// that work without them.
//
// Every page and action goes through Service, the service layer, which
// authorizes the signed-in user as it does for the API.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the UI is mounted.
const Prefix = "/ui/"

// maxFormBytes bounds a request body: parameters, a key's value.
const maxFormBytes = 1 << 20

// StartInput starts an execution from the UI.
type StartInput struct {
	Runbook    string
	Version    string // "" for the default
	Parameters map[string][]string
	// KeyParameters take parameters' values from key storage: parameter
	// name to path. Only the path leaves the browser.
	KeyParameters map[string]string
	// Project is the project to run in; "" for the runbook's.
	Project string
	Mode    string // Auto or Interactive
}

// Service is what the UI asks of the service layer. Every method acts as
// user (a capstan user name) and is authorized there; a refusal is an error
// wrapping *authz.DeniedError.
type Service interface {
	// Runbooks lists the default version of every runbook user may see:
	// the store's and the built-in library's.
	Runbooks(ctx context.Context, user string) ([]store.Document, error)
	// Runbook returns one runbook (default version).
	Runbook(ctx context.Context, user, name string) (store.Document, error)
	Start(ctx context.Context, user string, in StartInput) (string, error)
	Execution(ctx context.Context, user, id string) (*engine.State, error)
	Calls(ctx context.Context, user, id string) ([]store.Call, error)
	// Printing is what the running steps of an execution have printed so
	// far, by step name; empty when none prints in this process.
	Printing(ctx context.Context, user, id string) (map[string]string, error)
	Executions(ctx context.Context, user string, f store.ExecutionFilter) ([]store.Execution, string, error)
	Stop(ctx context.Context, user, id string) error
	Signal(ctx context.Context, user, id, signal string, payload map[string][]string) error
	// UserARN is how executions record user (ExecutedBy) and approvers name it.
	UserARN(name string) string
	// User returns the user; an error wrapping store.ErrNotFound when it
	// was deleted.
	User(ctx context.Context, name string) (store.User, error)
	Users(ctx context.Context, user string) ([]store.User, error)
	// Policy is the policy document name acts under; nil for none.
	Policy(ctx context.Context, user, name string) ([]byte, error)
	// Audit reads the audit log, oldest first.
	Audit(ctx context.Context, user string, q store.AuditQuery) ([]store.AuditRecord, error)
	// Keys lists key-storage paths under prefix with their projects;
	// values are never read.
	Keys(ctx context.Context, user, prefix string) ([]store.Secret, error)
	// PutKey stores a value at path in project ("" for default).
	PutKey(ctx context.Context, user, project, path string, value []byte) error
	DeleteKey(ctx context.Context, user, path string) error
	// Nodes lists the EC2 instances of a project's node inventory, for
	// pickers.
	Nodes(ctx context.Context, user, project string) ([]targets.Node, error)
	// KeyChoices lists the key-storage paths user may read, with their
	// projects, for pickers.
	KeyChoices(ctx context.Context, user string) ([]store.Secret, error)
	// Projects lists the projects user may see, with their settings.
	Projects(ctx context.Context, user string) ([]service.Project, error)
}

// Options configure the UI.
type Options struct {
	Service Service
	Logins  store.Logins
	// Actions parse runbooks into forms.
	Actions *action.Registry
	// SecureCookies marks cookies Secure. Requests that arrive over TLS get
	// Secure cookies regardless.
	SecureCookies bool
	// SessionTTL is how long a session lasts after sign-in; default 12 h.
	SessionTTL time.Duration
	// LoginFailures failed sign-ins are allowed per user name and per client
	// address in LoginWindow before further attempts are refused until the
	// window passes; defaults 5 and 15 minutes.
	LoginFailures int
	LoginWindow   time.Duration
	// Poll is how often a live execution page checks for changes; default 300 ms.
	Poll   time.Duration
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// UI is the web UI's handler.
type UI struct {
	opts      Options
	mux       *http.ServeMux
	pages     map[string]*template.Template
	limiter   *failureLimiter
	summaries summaries
}

// New returns the UI; mount it at Prefix.
func New(opts Options) (*UI, error) {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.LoginFailures <= 0 {
		opts.LoginFailures = 5
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = 15 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 300 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	u := &UI{opts: opts, mux: http.NewServeMux(), pages: pages,
		limiter: newFailureLimiter(opts.LoginFailures, opts.LoginWindow)}
	u.routes()
	return u, nil
}

func (u *UI) routes() {
	static, _ := fs.Sub(staticFS, "static")
	u.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	u.mux.HandleFunc("GET /ui/login", u.loginPage)
	u.mux.HandleFunc("POST /ui/login", u.login)
	u.mux.Handle("POST /ui/logout", u.auth(u.logout))
	u.mux.Handle("GET /ui/{$}", u.auth(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, Prefix+"runbooks", http.StatusSeeOther)
	}))
	u.mux.Handle("GET /ui/runbooks", u.auth(u.runbooksPage))
	u.mux.Handle("GET /ui/runbooks/{name}", u.auth(u.runbookPage))
	u.mux.Handle("POST /ui/runbooks/{name}", u.auth(u.startRunbook))
	u.mux.Handle("GET /ui/executions", u.auth(u.historyPage))
	u.mux.Handle("GET /ui/executions/{id}", u.auth(u.executionPage))
	u.mux.Handle("GET /ui/executions/{id}/live", u.auth(u.executionLive))
	u.mux.Handle("POST /ui/executions/{id}/stop", u.auth(u.stopExecution))
	u.mux.Handle("POST /ui/executions/{id}/signal", u.auth(u.signalExecution))
	u.mux.Handle("GET /ui/keys", u.auth(u.keysPage))
	u.mux.Handle("POST /ui/keys", u.auth(u.putKey))
	u.mux.Handle("POST /ui/keys/delete", u.auth(u.deleteKey))
	u.mux.Handle("GET /ui/users", u.auth(u.usersPage))
	u.mux.Handle("GET /ui/audit", u.auth(u.auditPage))
	u.mux.Handle("GET /ui/projects", u.auth(u.projectsPage))
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages load only their own scripts and styles, are never framed, and
	// carry nothing worth caching.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		h.Set("Cache-Control", "no-store")
	}
	// Forms are small; a bigger body is someone else's business.
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	// The service's audit records name where each change came from.
	r = r.WithContext(service.WithSource(r.Context(), r.RemoteAddr))
	u.mux.ServeHTTP(w, r)
}

func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		short := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if short == "layout" || short == "parts" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		pages[short] = t
	}
	return pages, nil
}

// page is what every template gets: the signed-in user, the form token,
// the page's title and its own data.
type page struct {
	User  string
	CSRF  string
	Title string
	Nav   string
	Error string
	Data  any
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t := u.pages[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		u.opts.Logger.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail answers an error: a refusal by the authorizer as 403, a missing
// thing as 404, anything else as 500 with the detail in the log only.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on the server; the error is in its log."
	var denied *authz.DeniedError
	switch {
	case errors.As(err, &denied):
		status, msg = http.StatusForbidden, "Not allowed: "+denied.Error()
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found: "+err.Error()
	default:
		u.opts.Logger.Error("web UI request failed", "path", r.URL.Path, "user", s.user, "err", err)
	}
	u.render(w, r, status, "error", page{User: s.user, CSRF: s.csrf, Title: http.StatusText(status), Error: msg})
}
