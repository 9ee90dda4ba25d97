package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/store"
)

type usersData struct {
	Users []userRow
}

type userRow struct{ Name, ARN, AccessKeyID, Created, Policy string }

// usersPage lists the users with the policy each acts under.
func (u *UI) usersPage(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := u.opts.Service.Users(r.Context(), s.user)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var d usersData
	for _, x := range list {
		doc, err := u.opts.Service.Policy(r.Context(), s.user, x.Name)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		c := x.Created
		d.Users = append(d.Users, userRow{Name: x.Name, ARN: x.ARN, AccessKeyID: x.AccessKeyID, Created: when(&c), Policy: showPolicy(doc)})
	}
	u.render(w, r, http.StatusOK, "users", page{User: s.user, CSRF: s.csrf, Title: "Users", Nav: "users", Data: d})
}

// showPolicy indents a JSON policy for reading; a built-in policy's name
// stays as it is.
func showPolicy(doc []byte) string {
	if len(doc) == 0 {
		return "none: denied everything"
	}
	var b bytes.Buffer
	if json.Indent(&b, doc, "", "  ") == nil {
		return b.String()
	}
	return string(doc)
}

type auditData struct {
	User    string
	Records []auditRow
	Next    string
}

type auditRow struct {
	Seq                                                  int64
	Time, User, Action, Resource, Result, Source, Detail string
}

const auditPageSize = 100

// auditPage shows the audit log, oldest first, a page at a time.
func (u *UI) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := auditData{User: strings.TrimSpace(q.Get("user"))}
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") != "" && (err != nil || after < 0) {
		u.render(w, r, http.StatusBadRequest, "audit", page{User: s.user, CSRF: s.csrf, Title: "Audit log", Nav: "audit",
			Error: "after: " + q.Get("after") + " is not a record number", Data: d})
		return
	}
	recs, err := u.opts.Service.Audit(r.Context(), s.user, store.AuditQuery{User: d.User, AfterSeq: after, Limit: auditPageSize})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, x := range recs {
		t := x.Time
		d.Records = append(d.Records, auditRow{Seq: x.Seq, Time: when(&t), User: x.User, Action: x.Action, Resource: x.Resource,
			Result: x.Result, Source: x.Source, Detail: x.Detail})
	}
	if len(recs) == auditPageSize {
		d.Next = url.Values{"user": {d.User}, "after": {strconv.FormatInt(recs[len(recs)-1].Seq, 10)}}.Encode()
	}
	u.render(w, r, http.StatusOK, "audit", page{User: s.user, CSRF: s.csrf, Title: "Audit log", Nav: "audit", Data: d})
}
