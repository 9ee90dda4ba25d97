package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	pw "github.com/capstan-run/capstan/internal/password"
	"github.com/capstan-run/capstan/internal/store"
)

const (
	sessionCookie = "capstan_session"
	// loginCookie carries the sign-in form's token before there is a
	// session (double-submit: the form and the cookie must agree).
	loginCookie = "capstan_login"
)

type session struct {
	id   string
	user string
	csrf string
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID is the store's key of a cookie token: its digest, so the store
// holds nothing a reader could sign in with.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (u *UI) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		Secure: u.opts.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

// auth wraps a handler needing a signed-in user: without a valid session it
// sends the browser to sign in; on POST it checks the form's CSRF token.
func (u *UI) auth(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := u.session(r)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				u.opts.Logger.Error("reading the session", "err", err)
				http.Error(w, "the session store failed; the error is in the server's log", http.StatusInternalServerError)
				return
			}
			if r.Method != http.MethodGet {
				http.Error(w, "not signed in, or the session expired: sign in again", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
				http.Error(w, "the form's CSRF token is missing or stale: reload the page and submit again", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	})
}

// session returns the request's session; an error wrapping
// store.ErrNotFound when there is none, it expired or its user is gone.
func (u *UI) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, store.ErrNotFound
	}
	id := sessionID(c.Value)
	st, err := u.opts.Logins.Session(r.Context(), id, u.opts.Now())
	if err != nil {
		return nil, err
	}
	if _, err := u.opts.Service.User(r.Context(), st.User); err != nil {
		return nil, err
	}
	return &session{id: id, user: st.User, csrf: st.CSRF}, nil
}

type loginData struct {
	Username string
	Next     string
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	u.showLogin(w, r, http.StatusOK, "", loginData{Next: r.URL.Query().Get("next")})
}

func (u *UI) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string, d loginData) {
	tok := randomToken()
	http.SetCookie(w, u.cookie(r, loginCookie, tok, 3600))
	u.render(w, r, status, "login", page{Title: "Sign in", CSRF: tok, Error: msg, Data: d})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	d := loginData{Username: name, Next: r.PostFormValue("next")}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		u.showLogin(w, r, http.StatusForbidden, "The sign-in form expired; please try again.", d)
		return
	}
	ip := clientIP(r)
	now := u.opts.Now()
	if wait := u.limiter.blocked(now, "user:"+name, "ip:"+ip); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		u.showLogin(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins; try again in %d seconds.", int(wait.Seconds())+1), d)
		return
	}
	ok, err := u.checkPassword(r.Context(), name, password)
	if err != nil {
		u.opts.Logger.Error("checking a password", "user", name, "err", err)
		u.showLogin(w, r, http.StatusInternalServerError, "The server could not check the password; the error is in its log.", d)
		return
	}
	if !ok {
		u.limiter.fail(now, "user:"+name, "ip:"+ip)
		u.opts.Logger.Warn("failed sign-in", "user", name, "addr", ip)
		u.showLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.", d)
		return
	}
	tok := randomToken()
	s := store.Session{ID: sessionID(tok), User: name, CSRF: randomToken(), Created: now, Expires: now.Add(u.opts.SessionTTL)}
	if err := u.opts.Logins.CreateSession(r.Context(), s); err != nil {
		u.opts.Logger.Error("creating a session", "user", name, "err", err)
		u.showLogin(w, r, http.StatusInternalServerError, "The server could not start a session; the error is in its log.", d)
		return
	}
	// Sweeping here keeps the table small without a timer of its own.
	if _, err := u.opts.Logins.DeleteExpiredSessions(r.Context(), now); err != nil {
		u.opts.Logger.Warn("deleting expired sessions", "err", err)
	}
	http.SetCookie(w, u.cookie(r, loginCookie, "", -1))
	http.SetCookie(w, u.cookie(r, sessionCookie, tok, int(u.opts.SessionTTL.Seconds())))
	http.Redirect(w, r, safeNext(d.Next), http.StatusSeeOther)
}

func (u *UI) checkPassword(ctx context.Context, name, password string) (bool, error) {
	h, err := u.opts.Logins.PasswordHash(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		pw.Waste(password)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := u.opts.Service.User(ctx, name); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return pw.Matches(h, password), nil
}

// safeNext keeps the redirect after sign-in inside the UI.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix + "runbooks"
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.opts.Logins.DeleteSession(r.Context(), s.id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	http.SetCookie(w, u.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// failureLimiter counts failed sign-ins per key (user name, client address)
// in a fixed window. It keeps at most maxKeys keys, so a flood of names
// cannot grow it without bound; when full it forgets the oldest windows.
type failureLimiter struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	entries map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

const maxKeys = 10000

func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, entries: map[string]*failures{}}
}

// blocked returns how long until any of keys may try again; 0 when none is blocked.
func (l *failureLimiter) blocked(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		f := l.entries[k]
		if f == nil || now.Sub(f.since) >= l.window {
			continue
		}
		if f.n >= l.max {
			wait = max(wait, f.since.Add(l.window).Sub(now))
		}
	}
	return wait
}

func (l *failureLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		f := l.entries[k]
		if f == nil || now.Sub(f.since) >= l.window {
			if f == nil && len(l.entries) >= maxKeys {
				l.sweep(now)
			}
			f = &failures{since: now}
			l.entries[k] = f
		}
		f.n++
	}
}

// sweep drops expired windows, and when that frees nothing, every entry
// but the blocked ones.
func (l *failureLimiter) sweep(now time.Time) {
	for k, f := range l.entries {
		if now.Sub(f.since) >= l.window {
			delete(l.entries, k)
		}
	}
	if len(l.entries) < maxKeys {
		return
	}
	for k, f := range l.entries {
		if f.n < l.max {
			delete(l.entries, k)
		}
	}
}
