package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// run is one execution being interpreted in this process.
type run struct {
	e      *Engine
	id     string
	doc    *document.Document
	replay *State // the log found at resume; nil for a fresh run

	// mu guards state and the append sequence: signals and cancels arrive
	// from other goroutines.
	mu    sync.Mutex
	state *State

	params    map[string]any
	outputs   map[string]map[string]any // step name → its latest outputs
	loops     []*loopFrame
	nextIndex int
	invoker   action.Invoker
	masker    *masker
	// keyPaths maps each value read from key storage to its path, so a
	// child handed the value records the path instead (secrets.go).
	keyPaths sync.Map

	// callMu guards calls: the AWS calls made since the last append, recorded
	// with the next one (the event ending the step that made them) instead
	// of in a commit of their own. A call is lost on a crash only if that
	// step's end was not recorded either.
	callMu sync.Mutex
	calls  []store.Call

	// accountMu guards account, the global:ACCOUNT_ID asked of STS once
	// per execution (per process, after a resume).
	accountMu sync.Mutex
	account   string

	// critical holds the first critical failure: it decides the final status.
	critical struct {
		status  string
		message string
	}

	// ctx is cancelled by StopAutomationExecution (Cancel); hardCtx by a
	// second cancel (abort) or a shutdown of this process.
	ctx        context.Context
	cancel     context.CancelFunc
	hardCtx    context.Context
	hardCancel context.CancelFunc
	// interrupted: the process is shutting down; nothing more is recorded.
	interrupted atomic.Bool
	// lost: another process took over the execution's lease; this one
	// stopped driving it and leaves the lease alone.
	lost atomic.Bool
	// complete: StopAutomationExecution Type Complete was requested; the
	// run ends Success once the step in progress ends.
	complete atomic.Bool

	// stopStep cancels the step in progress of an Interactive execution
	// (StopStep); nil when no step runs. Guarded by mu.
	stopStep context.CancelCauseFunc

	// signals wakes a step waiting for a signal after one is recorded.
	signals chan signalReceived
	// inboxMu serializes applying this execution's signal requests (the
	// delivering call in this process and the poll for other processes').
	inboxMu sync.Mutex
	done    chan struct{}

	// printing holds what each running step of a printing action has
	// printed so far (printing.go), by step name.
	printing sync.Map
}

type loopFrame struct {
	name      string
	stepExec  string
	iteration int
	value     any
	hasValue  bool
}

func (e *Engine) newRun(st *State, doc *document.Document, replay *State) (*run, error) {
	r := &run{
		e:       e,
		id:      st.ID,
		doc:     doc,
		replay:  replay,
		state:   st,
		params:  st.Started.Parameters,
		outputs: map[string]map[string]any{},
		masker:  &masker{},
		signals: make(chan signalReceived, 16),
		done:    make(chan struct{}),
	}
	if r.params == nil {
		r.params = map[string]any{}
	}
	r.hardCtx, r.hardCancel = context.WithCancel(context.Background())
	r.ctx, r.cancel = context.WithCancel(r.hardCtx)
	if replay != nil && replay.CompleteRequested {
		r.complete.Store(true)
	}
	if replay != nil && replay.Cancel != nil {
		r.cancel()
		if replay.Cancel.Abort {
			r.hardCancel()
		}
	}
	return r, nil
}

// append makes events durable and folds them into the live state.
func (r *run) append(events ...store.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.appendLocked(events...)
}

func (r *run) appendLocked(events ...store.Event) error {
	if r.interrupted.Load() {
		return errInterrupted
	}
	prev := r.state.Seq
	for i := range events {
		events[i].Seq = prev + int64(i) + 1
		if err := r.state.apply(events[i]); err != nil {
			return err
		}
	}
	sum := r.state.Summary()
	sum.Seq = prev
	r.callMu.Lock()
	calls := r.calls
	r.calls = nil
	r.callMu.Unlock()
	// The store numbers the events itself; they carry the same numbers.
	err := r.e.opts.Store.Append(context.WithoutCancel(r.hardCtx), sum, events, calls...)
	if err != nil {
		if len(calls) > 0 {
			r.callMu.Lock()
			r.calls = append(calls, r.calls...)
			r.callMu.Unlock()
		}
		return fmt.Errorf("recording execution %s: %w", r.id, err)
	}
	if r.e.opts.OnChange != nil {
		for _, ev := range events {
			r.e.opts.OnChange(r.state, ev)
		}
	}
	return nil
}

var errInterrupted = errors.New("capstan is shutting down; the execution resumes at the next start")

func (r *run) now() time.Time { return r.e.opts.Clock.Now().UTC() }

func (r *run) interrupt() {
	r.mu.Lock()
	r.interrupted.Store(true)
	r.mu.Unlock()
	r.hardCancel()
}
