package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// historyStatuses are the statuses the history can be filtered by.
var historyStatuses = []string{engine.StatusPending, "InProgress", engine.StatusWaiting, "Success", "Failed", "Cancelled", "TimedOut", "Cancelling", "CompletedWithSuccess", "CompletedWithFailure"}

type historyRow struct {
	ID, Runbook, Status, ExecutedBy, Start, Duration, Project string
}

type historyData struct {
	Runbook, Status, User, After, Before, Project string
	Statuses, Projects                            []string
	Rows                                          []historyRow
	Next                                          string // the next page's query string, "" on the last
	Error                                         string
}

const pageSize = 50

// timeLayouts are what the history's time filters accept (datetime-local
// inputs send the first).
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (u *UI) historyPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := historyData{Runbook: strings.TrimSpace(q.Get("runbook")), Status: q.Get("status"), User: strings.TrimSpace(q.Get("user")),
		After: q.Get("after"), Before: q.Get("before"), Statuses: historyStatuses,
		Project: q.Get("project"), Projects: u.projectNames(r.Context(), s.user)}
	f := store.ExecutionFilter{Limit: pageSize, PageToken: q.Get("page")}
	if d.Runbook != "" {
		f.DocumentNames = []string{d.Runbook}
	}
	if d.Status != "" {
		f.Statuses = []string{d.Status}
	}
	if d.Project != "" {
		f.Projects = []string{d.Project}
	}
	if d.User != "" {
		f.ExecutedBy = []string{u.opts.Service.UserARN(d.User), d.User}
	}
	var bad []string
	for _, tf := range []struct {
		name, val string
		dst       *time.Time
	}{{"after", d.After, &f.StartTimeAfter}, {"before", d.Before, &f.StartTimeBefore}} {
		if tf.val == "" {
			continue
		}
		t, ok := parseTime(tf.val)
		if !ok {
			bad = append(bad, "started "+tf.name+": "+tf.val+" is not a time (expected YYYY-MM-DDTHH:MM, UTC)")
			continue
		}
		*tf.dst = t
	}
	status := http.StatusOK
	if len(bad) > 0 {
		d.Error = strings.Join(bad, "; ")
		u.render(w, r, http.StatusBadRequest, "history", page{User: s.user, CSRF: s.csrf, Title: "History", Nav: "executions", Error: d.Error, Data: d})
		return
	}
	list, next, err := u.opts.Service.Executions(r.Context(), s.user, f)
	if err != nil {
		if isUsage(err) {
			u.render(w, r, http.StatusBadRequest, "history", page{User: s.user, CSRF: s.csrf, Title: "History", Nav: "executions", Error: err.Error(), Data: d})
			return
		}
		u.fail(w, r, s, err)
		return
	}
	now := u.opts.Now()
	for _, e := range list {
		start, end := e.StartTime, e.EndTime
		d.Rows = append(d.Rows, historyRow{ID: e.ID, Runbook: e.DocumentName, Status: e.Status, ExecutedBy: e.ExecutedBy,
			Start: when(&start), Duration: duration(&start, &end, now), Project: store.ProjectOf(e.Project)})
	}
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "page" {
				nq[k] = v
			}
		}
		nq.Set("page", next)
		d.Next = nq.Encode()
	}
	u.render(w, r, status, "history", page{User: s.user, CSRF: s.csrf, Title: "History", Nav: "executions", Data: d})
}
