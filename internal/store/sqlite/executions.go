package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

const selectExecution = `SELECT id, document_name, document_version, status, mode, parent_id, executed_by,
	current_step, current_action, automation_type, failure_message, coalesce(client_token, ''),
	start_time, end_time, tags, outputs, done, seq, project, lease_owner, lease_until FROM executions`

const insertEvent = `INSERT INTO events (exec_n, seq, type, time, data) VALUES (?, ?, ?, ?, ?)`

// CreateExecution implements store.Store.
func (d *DB) CreateExecution(ctx context.Context, e store.Execution, events []store.Event) error {
	if e.ID == "" {
		return fmt.Errorf("create execution: empty id")
	}
	tags, outputs, err := encodeMaps(e)
	if err != nil {
		return fmt.Errorf("create execution %s: %w", e.ID, err)
	}
	now := time.Now()
	for i := range events {
		events[i].Seq = int64(i + 1)
		if events[i].Time.IsZero() {
			events[i].Time = now
		}
	}
	err = d.write(ctx, func(ctx context.Context, w *wconn) error {
		var token any
		if e.ClientToken != "" {
			token = e.ClientToken
		}
		s, err := w.stmt(ctx, `INSERT INTO executions (id, document_name, document_version, status, mode, parent_id,
			executed_by, current_step, current_action, automation_type, failure_message, client_token,
			start_time, end_time, tags, outputs, done, seq, project, lease_owner, lease_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		res, err := s.ExecContext(ctx, e.ID, e.DocumentName, e.DocumentVersion, e.Status, e.Mode, e.ParentID,
			e.ExecutedBy, e.CurrentStep, e.CurrentAction, e.AutomationType, e.FailureMessage, token,
			nanos(e.StartTime), nanos(e.EndTime), tags, outputs, e.Done, int64(len(events)), store.ProjectOf(e.Project),
			e.LeaseOwner, nanos(e.LeaseUntil))
		if err != nil {
			if isConstraint(err) {
				return clean(store.ErrExists)
			}
			return clean(err) // the first statement: nothing else to undo
		}
		n, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return insertEvents(ctx, w, n, events)
	})
	if err != nil {
		return fmt.Errorf("create execution %s: %w", e.ID, err)
	}
	return nil
}

// Append implements store.Store.
func (d *DB) Append(ctx context.Context, e store.Execution, events []store.Event, calls ...store.Call) error {
	tags, outputs, err := encodeMaps(e)
	if err != nil {
		return fmt.Errorf("append to execution %s: %w", e.ID, err)
	}
	now := time.Now()
	for i := range events {
		events[i].Seq = e.Seq + int64(i+1)
		if events[i].Time.IsZero() {
			events[i].Time = now
		}
	}
	newSeq := e.Seq + int64(len(events))
	err = d.write(ctx, func(ctx context.Context, w *wconn) error {
		// The optimistic check is part of the UPDATE: it matches only when the
		// stored seq is the one the caller saw.
		// StartTime and ParentID are fixed at creation, and done only ever
		// turns true: leaving indexed columns out of the SET spares SQLite
		// rewriting their index pages on every step.
		q := `UPDATE executions SET document_name = ?, document_version = ?, status = ?, mode = ?,
			executed_by = ?, current_step = ?, current_action = ?, automation_type = ?,
			failure_message = ?, end_time = ?, tags = ?, outputs = ?, seq = ?
			WHERE id = ? AND seq = ?`
		if e.Done {
			q = strings.Replace(q, "seq = ?\n", "seq = ?, done = 1\n", 1)
		}
		s, err := w.stmt(ctx, q)
		if err != nil {
			return err
		}
		res, err := s.ExecContext(ctx, e.DocumentName, e.DocumentVersion, e.Status, e.Mode,
			e.ExecutedBy, e.CurrentStep, e.CurrentAction, e.AutomationType, e.FailureMessage,
			nanos(e.EndTime), tags, outputs, newSeq, e.ID, e.Seq)
		if err != nil {
			return clean(err) // the first statement: nothing else to undo
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return clean(missOrConflict(ctx, w, e.ID, e.Seq))
		}
		if err := insertEventsByID(ctx, w, e.ID, events); err != nil {
			return err
		}
		return insertCalls(ctx, w, e.ID, calls)
	})
	if err != nil {
		return fmt.Errorf("append to execution %s: %w", e.ID, err)
	}
	return nil
}

func missOrConflict(ctx context.Context, w *wconn, id string, seq int64) error {
	s, err := w.stmt(ctx, `SELECT seq FROM executions WHERE id = ?`)
	if err != nil {
		return err
	}
	var have int64
	switch err := s.QueryRowContext(ctx, id).Scan(&have); {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: seq %d, stored %d", store.ErrConflict, seq, have)
}

// insertEventsByID is insertEvents for an execution known by its id: each
// INSERT looks the number up itself, which costs less than reading it back
// from the UPDATE (RETURNING makes the UPDATE a query).
func insertEventsByID(ctx context.Context, w *wconn, id string, events []store.Event) error {
	s, err := w.stmt(ctx, `INSERT INTO events (exec_n, seq, type, time, data)
		SELECT n, ?, ?, ?, ? FROM executions WHERE id = ?`)
	if err != nil {
		return err
	}
	for _, ev := range events {
		if _, err := s.ExecContext(ctx, ev.Seq, ev.Type, nanos(ev.Time), ev.Data, id); err != nil {
			return err
		}
	}
	return nil
}

func insertEvents(ctx context.Context, w *wconn, n int64, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	s, err := w.stmt(ctx, insertEvent)
	if err != nil {
		return err
	}
	for _, ev := range events {
		if _, err := s.ExecContext(ctx, n, ev.Seq, ev.Type, nanos(ev.Time), ev.Data); err != nil {
			return err
		}
	}
	return nil
}

func encodeMaps(e store.Execution) (tags, outputs string, err error) {
	tags, outputs = "{}", "{}"
	if len(e.Tags) > 0 {
		b, err := json.Marshal(e.Tags)
		if err != nil {
			return "", "", err
		}
		tags = string(b)
	}
	if len(e.Outputs) > 0 {
		b, err := json.Marshal(e.Outputs)
		if err != nil {
			return "", "", err
		}
		outputs = string(b)
	}
	return tags, outputs, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanExecution(r scanner) (store.Execution, error) {
	var e store.Execution
	var start, end, leaseUntil int64
	var tags, outputs string
	if err := r.Scan(&e.ID, &e.DocumentName, &e.DocumentVersion, &e.Status, &e.Mode, &e.ParentID, &e.ExecutedBy,
		&e.CurrentStep, &e.CurrentAction, &e.AutomationType, &e.FailureMessage, &e.ClientToken,
		&start, &end, &tags, &outputs, &e.Done, &e.Seq, &e.Project, &e.LeaseOwner, &leaseUntil); err != nil {
		return e, err
	}
	e.StartTime, e.EndTime = fromNanos(start), fromNanos(end)
	if e.LeaseOwner != "" {
		e.LeaseUntil = fromNanos(leaseUntil)
	}
	if tags != "{}" {
		if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil {
			return e, fmt.Errorf("tags: %w", err)
		}
	}
	if outputs != "{}" {
		if err := json.Unmarshal([]byte(outputs), &e.Outputs); err != nil {
			return e, fmt.Errorf("outputs: %w", err)
		}
	}
	return e, nil
}

// Execution implements store.Store.
func (d *DB) Execution(ctx context.Context, id string) (store.Execution, error) {
	e, err := scanExecution(d.stmtExecution.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Execution{}, fmt.Errorf("get execution %s: %w", id, err)
	}
	return e, nil
}

// Events implements store.Store.
func (d *DB) Events(ctx context.Context, id string, afterSeq int64) ([]store.Event, error) {
	rows, err := d.stmtEvents.QueryContext(ctx, id, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var ev store.Event
		var t int64
		if err := rows.Scan(&ev.Seq, &ev.Type, &t, &ev.Data); err != nil {
			return nil, fmt.Errorf("events of %s: %w", id, err)
		}
		ev.Time = fromNanos(t)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	if len(out) == 0 {
		// An execution always has a summary row; no events may mean no execution.
		var one int
		err := d.read.QueryRowContext(ctx, `SELECT 1 FROM executions WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("events of %s: %w", id, store.ErrNotFound)
		} else if err != nil {
			return nil, fmt.Errorf("events of %s: %w", id, err)
		}
	}
	return out, nil
}

// ListExecutions implements store.Store.
func (d *DB) ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, string, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if f.DocumentNamePrefix != "" {
		where = append(where, "substr(document_name, 1, ?) = ?")
		args = append(args, len(f.DocumentNamePrefix), f.DocumentNamePrefix)
	}
	if f.IDPrefix != "" {
		where = append(where, "substr(id, 1, ?) = ?")
		args = append(args, len(f.IDPrefix), f.IDPrefix)
	}
	in("document_name", f.DocumentNames)
	in("executed_by", f.ExecutedBy)
	in("status", f.Statuses)
	in("id", f.IDs)
	in("parent_id", f.ParentIDs)
	in("current_action", f.CurrentActions)
	in("automation_type", f.AutomationTypes)
	in("project", f.Projects)
	if !f.StartTimeBefore.IsZero() {
		where = append(where, "start_time < ?")
		args = append(args, nanos(f.StartTimeBefore))
	}
	if !f.StartTimeAfter.IsZero() {
		where = append(where, "start_time > ?")
		args = append(args, nanos(f.StartTimeAfter))
	}
	if len(f.TagKeys) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(executions.tags) WHERE key IN ("+placeholders(len(f.TagKeys))+"))")
		for _, k := range f.TagKeys {
			args = append(args, k)
		}
	}
	if f.PageToken != "" {
		start, id, err := decodeExecToken(f.PageToken)
		if err != nil {
			return nil, "", fmt.Errorf("list executions: %w", err)
		}
		where = append(where, "(start_time < ? OR (start_time = ? AND id < ?))")
		args = append(args, start, start, id)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := selectExecution
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY start_time DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	list, err := d.queryExecutions(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list executions: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = encodeExecToken(nanos(last.StartTime), last.ID)
	}
	return list, next, nil
}

// Unfinished implements store.Store.
func (d *DB) Unfinished(ctx context.Context) ([]store.Execution, error) {
	list, err := d.queryExecutions(ctx, selectExecution+" WHERE done = 0 ORDER BY start_time, id")
	if err != nil {
		return nil, fmt.Errorf("unfinished executions: %w", err)
	}
	return list, nil
}

func (d *DB) queryExecutions(ctx context.Context, q string, args ...any) ([]store.Execution, error) {
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Execution
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ClientToken implements store.Store.
func (d *DB) ClientToken(ctx context.Context, token string) (string, error) {
	var id string
	err := d.read.QueryRowContext(ctx, `SELECT id FROM executions WHERE client_token = ?`, token).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("client token %q: %w", token, err)
	}
	return id, nil
}

// AppendCalls implements store.Store.
func (d *DB) AppendCalls(ctx context.Context, id string, calls []store.Call) error {
	err := d.write(ctx, func(ctx context.Context, w *wconn) error {
		s, err := w.stmt(ctx, `SELECT 1 FROM executions WHERE id = ?`)
		if err != nil {
			return err
		}
		var one int
		if err := s.QueryRowContext(ctx, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return clean(store.ErrNotFound)
		} else if err != nil {
			return clean(err)
		}
		return insertCalls(ctx, w, id, calls)
	})
	if err != nil {
		return fmt.Errorf("append calls of %s: %w", id, err)
	}
	return nil
}

func insertCalls(ctx context.Context, w *wconn, id string, calls []store.Call) error {
	if len(calls) == 0 {
		return nil
	}
	ins, err := w.stmt(ctx, `INSERT INTO calls (exec_id, step, service, operation, iam_action, start, duration, error_code, error_message, request, response)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if _, err := ins.ExecContext(ctx, id, c.Step, c.Service, c.Operation, c.IAMAction, nanos(c.Start), int64(c.Duration), c.ErrorCode, c.ErrorMessage, c.Request, c.Response); err != nil {
			return err
		}
	}
	return nil
}

// Calls implements store.Store.
func (d *DB) Calls(ctx context.Context, id string) ([]store.Call, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT step, service, operation, iam_action, start, duration, error_code, error_message, request, response
		FROM calls WHERE exec_id = ? ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("calls of %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.Call
	for rows.Next() {
		var c store.Call
		var start, dur int64
		if err := rows.Scan(&c.Step, &c.Service, &c.Operation, &c.IAMAction, &start, &dur, &c.ErrorCode, &c.ErrorMessage, &c.Request, &c.Response); err != nil {
			return nil, fmt.Errorf("calls of %s: %w", id, err)
		}
		c.Start, c.Duration = fromNanos(start), time.Duration(dur)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("calls of %s: %w", id, err)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Page tokens are opaque to callers; they hold the sort key of the last item.
func encodeExecToken(start int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(start, 10) + "/" + id))
}

func decodeExecToken(tok string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", store.ErrInvalidToken
	}
	s, id, ok := strings.Cut(string(b), "/")
	if !ok {
		return 0, "", store.ErrInvalidToken
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, "", store.ErrInvalidToken
	}
	return start, id, nil
}
