package execlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

// ParseS3URL splits s3://BUCKET/PREFIX/ into the bucket and the key prefix
// (ending in "/" unless empty).
func ParseS3URL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("log bucket %q: expected s3://BUCKET/PREFIX/", s)
	}
	prefix = strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// Shipper copies what executions record to S3 (one object per finished
// execution, PREFIX/ID.json, the Record) and to CloudWatch Logs (one event
// per finished step, in a stream named by the execution id). The store stays
// the record: shipping only copies it, and a copy that fails after its
// attempts is reported in the log and the metrics, never lost locally.
type Shipper struct {
	Store store.Store
	// AWS returns the invoker of the server's own identity.
	AWS            func(ctx context.Context) (action.Invoker, error)
	Bucket, Prefix string // S3; Bucket "" ships nothing there
	LogGroup       string // CloudWatch Logs; "" ships nothing there
	Logger         *slog.Logger
	// Attempts per copy (default 4), Backoff before the second (default
	// 1 s, doubling), on top of awsapi's own retries of throttling.
	Attempts int
	Backoff  time.Duration
	// OnShipped, if set, is told about every copy's outcome: dest is "s3"
	// or "logs".
	OnShipped func(dest string, err error)
	// CatchUp is how far back Run looks at start for finished executions
	// whose object is missing (shipped when the server stopped before
	// shipping them); default 24 h.
	CatchUp time.Duration

	work chan job
}

type job struct {
	id   string
	step *ssmshape.StepExecution // nil: the execution finished
}

// queueSize bounds the copies waiting; beyond it a copy is dropped with an
// error in the log (the execution is shipped by the next start's catch-up).
const queueSize = 4096

// Start makes the queue; call before the engine runs anything.
func (s *Shipper) Start() { s.work = make(chan job, queueSize) }

// OnChange queues the copies an engine change calls for. It never blocks.
func (s *Shipper) OnChange(st *engine.State, ev store.Event) {
	c := engine.Observe(st, ev)
	var j job
	switch {
	case c.Finished && s.Bucket != "":
		j = job{id: st.ID}
	case c.Step != nil && s.LogGroup != "":
		for _, v := range ssmshape.Steps(st, ssmshape.RFC3339) {
			if v.StepExecutionId == c.Step.StepExecutionID {
				j = job{id: st.ID, step: &v}
				break
			}
		}
		if j.step == nil {
			return
		}
	default:
		return
	}
	select {
	case s.work <- j:
	default:
		s.logger().Error("log shipping: queue full, copy dropped", "execution", st.ID)
		s.report(j, errors.New("queue full"))
	}
}

func (s *Shipper) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Shipper) report(j job, err error) {
	if s.OnShipped == nil {
		return
	}
	dest := "s3"
	if j.step != nil {
		dest = "logs"
	}
	s.OnShipped(dest, err)
}

// Run ships queued copies until ctx ends, after catching up on executions
// that finished unshipped.
func (s *Shipper) Run(ctx context.Context) {
	if s.Bucket != "" {
		if err := s.catchUp(ctx); err != nil && ctx.Err() == nil {
			s.logger().Error("log shipping: catching up", "err", err)
		}
	}
	streams := map[string]bool{} // log streams known to exist
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.work:
			err := s.retry(ctx, func() error {
				if j.step != nil {
					return s.putStep(ctx, streams, j)
				}
				return s.putRecord(ctx, j.id)
			})
			if err != nil && ctx.Err() == nil {
				s.logger().Error("log shipping failed; the execution stays in the store", "execution", j.id, "err", err)
			}
			s.report(j, err)
		}
	}
}

func (s *Shipper) retry(ctx context.Context, fn func() error) error {
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 4
	}
	delay := s.Backoff
	if delay <= 0 {
		delay = time.Second
	}
	var err error
	for i := 1; ; i++ {
		if err = fn(); err == nil || i == attempts {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		delay *= 2
	}
}

// Key is the object key of an execution's record.
func (s *Shipper) Key(id string) string { return s.Prefix + id + ".json" }

func (s *Shipper) putRecord(ctx context.Context, id string) error {
	rec, err := Load(ctx, s.Store, id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	aws, err := s.AWS(ctx)
	if err != nil {
		return err
	}
	_, err = aws.Invoke(ctx, "s3", "PutObject", map[string]any{
		"Bucket": s.Bucket, "Key": s.Key(id), "Body": string(b), "ContentType": "application/json",
	})
	return err
}

func (s *Shipper) putStep(ctx context.Context, streams map[string]bool, j job) error {
	aws, err := s.AWS(ctx)
	if err != nil {
		return err
	}
	if !streams[j.id] {
		_, err := aws.Invoke(ctx, "logs", "CreateLogStream", map[string]any{"logGroupName": s.LogGroup, "logStreamName": j.id})
		if err != nil && awsapi.ErrorCode(err) != "ResourceAlreadyExistsException" {
			return err
		}
		streams[j.id] = true
	}
	msg, err := json.Marshal(j.step)
	if err != nil {
		return err
	}
	at := time.Now()
	if j.step.ExecutionEndTime != nil {
		at = j.step.ExecutionEndTime.Time
	}
	_, err = aws.Invoke(ctx, "logs", "PutLogEvents", map[string]any{
		"logGroupName": s.LogGroup, "logStreamName": j.id,
		"logEvents": []any{map[string]any{"timestamp": at.UnixMilli(), "message": string(msg)}},
	})
	return err
}

// catchUp ships executions that finished within CatchUp and have no
// object yet (the server stopped before shipping them).
func (s *Shipper) catchUp(ctx context.Context) error {
	window := s.CatchUp
	if window <= 0 {
		window = 24 * time.Hour
	}
	aws, err := s.AWS(ctx)
	if err != nil {
		return err
	}
	f := store.ExecutionFilter{StartTimeAfter: time.Now().Add(-window), Limit: 100}
	for {
		list, next, err := s.Store.ListExecutions(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range list {
			if !e.Done {
				continue
			}
			_, err := aws.Invoke(ctx, "s3", "HeadObject", map[string]any{"Bucket": s.Bucket, "Key": s.Key(e.ID)})
			if err == nil {
				continue
			}
			if code := awsapi.ErrorCode(err); code != "NotFound" && code != "NoSuchKey" && code != "404" {
				return fmt.Errorf("checking %s: %w", s.Key(e.ID), err)
			}
			err = s.retry(ctx, func() error { return s.putRecord(ctx, e.ID) })
			if err != nil && ctx.Err() == nil {
				s.logger().Error("log shipping failed; the execution stays in the store", "execution", e.ID, "err", err)
			}
			s.report(job{id: e.ID}, err)
		}
		if next == "" {
			return nil
		}
		f.PageToken = next
	}
}
