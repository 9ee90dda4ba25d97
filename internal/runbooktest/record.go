package runbooktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/policy"
	"github.com/capstan-run/capstan/internal/store"
)

// Recorder keeps each call's request and response (or error) with the
// record awsapi makes of it, for capstan record. Wrap the awsapi client
// with Wrap and send awsapi's records to Meta.
type Recorder struct {
	// Record receives each call, complete.
	Record func(store.Call)

	mu      sync.Mutex
	pending *store.Call
}

// Meta takes awsapi's record of the call in flight; awsapi reports it
// before Invoke returns.
func (r *Recorder) Meta(c store.Call) { r.pending = &c }

// Wrap returns an invoker recording the requests and responses of inner.
// The calls of one execution run one at a time through it.
func (r *Recorder) Wrap(inner action.Invoker) action.Invoker {
	return recording{r: r, inner: inner}
}

type recording struct {
	r     *Recorder
	inner action.Invoker
}

func (x recording) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	x.r.mu.Lock()
	x.r.pending = nil
	out, err := x.inner.Invoke(ctx, service, operation, input)
	c := x.r.pending
	x.r.pending = nil
	x.r.mu.Unlock()
	if c == nil {
		return out, err
	}
	c.Request, _ = json.Marshal(input)
	if err == nil {
		c.Response, _ = json.Marshal(out)
	} else {
		var ae *awsapi.Error
		if errors.As(err, &ae) {
			c.ErrorMessage = ae.Message
		} else {
			c.ErrorMessage = err.Error()
		}
	}
	x.r.Record(*c)
	return out, err
}

// Executions is the part of the store a recording reads.
type Executions interface {
	Events(ctx context.Context, id string, after int64) ([]store.Event, error)
	Calls(ctx context.Context, id string) ([]store.Call, error)
	ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, string, error)
}

// Recording is a test made from an execution.
type Recording struct {
	// Test is the test file's text.
	Test []byte
	// Runbook is the runbook's source when it must be written beside the
	// test (it is not the library's); nil otherwise.
	Runbook []byte
}

// Record makes a test from execution id: its calls and those of its child
// executions become mocks, in the order they were made; its parameters the
// test's; its status, outputs and step statuses the expectation. runbookRef
// is what the test names as its runbook when the runbook is not the
// library's.
func Record(ctx context.Context, db Executions, id string, lib Library, runbookRef string) (*Recording, error) {
	events, err := db.Events(ctx, id, 0)
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", id, err)
	}
	st, err := engine.Fold(id, events)
	if err != nil {
		return nil, err
	}
	if !isDone(st.Status) {
		return nil, fmt.Errorf("execution %s is %s: record it once it has ended", id, st.Status)
	}
	calls, err := policy.ExecutionCalls(ctx, db, id)
	if err != nil {
		return nil, err
	}
	type mockOut struct {
		Service  string         `yaml:"service"`
		API      string         `yaml:"api"`
		Response map[string]any `yaml:"response,omitempty"`
		Error    map[string]any `yaml:"error,omitempty"`
	}
	mocks := []mockOut{}
	for _, c := range calls {
		if c.Request == nil {
			return nil, fmt.Errorf("execution %s kept no requests and responses of its calls (run it with --record-calls)", id)
		}
		m := mockOut{Service: c.Service, API: c.Operation}
		if c.ErrorCode != "" {
			m.Error = map[string]any{"code": c.ErrorCode, "message": c.ErrorMessage}
		} else if err := json.Unmarshal(c.Response, &m.Response); err != nil {
			return nil, fmt.Errorf("response of %s %s: %w", c.Service, c.Operation, err)
		}
		if m.Response == nil && m.Error == nil {
			m.Response = map[string]any{}
		}
		mocks = append(mocks, m)
	}
	rec := &Recording{}
	ref := st.Started.DocumentName
	if src, ok := lib.Lookup(ref); !ok || !bytes.Equal(src, []byte(st.Started.Content)) {
		ref = runbookRef
		rec.Runbook = []byte(st.Started.Content)
	}
	outputs := map[string]any{}
	for k, v := range st.Outputs {
		outputs[k] = v
	}
	steps := map[string]string{}
	for _, s := range st.Steps {
		steps[s.Name] = s.Status
	}
	type expectOut struct {
		Status  string            `yaml:"status"`
		Outputs map[string]any    `yaml:"outputs,omitempty"`
		Steps   map[string]string `yaml:"steps,omitempty"`
	}
	test := struct {
		Runbook    string         `yaml:"runbook"`
		Parameters map[string]any `yaml:"parameters,omitempty"`
		Mocks      []mockOut      `yaml:"mocks"`
		Expect     expectOut      `yaml:"expect"`
	}{ref, st.Started.Parameters, mocks, expectOut{st.Status, outputs, steps}}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Recorded from execution %s by capstan record.\n", id)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(test); err != nil {
		return nil, err
	}
	rec.Test = buf.Bytes()
	return rec, nil
}

func isDone(status string) bool {
	return slices.Contains([]string{engine.StatusSuccess, engine.StatusFailed, engine.StatusCancelled, engine.StatusTimedOut}, status)
}

// AWSEnv passes the wrapped invoker's environment on to scripts.
func (x recording) AWSEnv(ctx context.Context) ([]string, error) {
	if e, ok := x.inner.(interface {
		AWSEnv(ctx context.Context) ([]string, error)
	}); ok {
		return e.AWSEnv(ctx)
	}
	return nil, nil
}
