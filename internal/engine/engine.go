// Package engine runs SSM Automation executions: it interprets a runbook's
// steps with SSM's semantics and makes every change durable as an event in the
// store before moving on, so that a crashed run resumes where it stopped.
//
// The interpreter is ordinary sequential code (interp.go). Durability comes
// from numbering step executions in the order the interpreter reaches them:
// a resumed run replays the same document over the recorded outcomes and only
// executes what the log does not already hold.
package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/clock"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/template"
)

// Options configure an Engine. Zero values take the documented defaults.
type Options struct {
	Store   store.Store
	Actions *action.Registry
	// NewInvoker returns the AWS caller for one execution, signed with that
	// execution's credentials (its assume role, if any). It must report each
	// call through req.Record. Nil means no AWS access: AWS-backed steps fail.
	NewInvoker func(ctx context.Context, req InvokerRequest) (action.Invoker, error)
	// Children prepares the child executions aws:executeAutomation starts,
	// through the start path every front end uses. Nil means child
	// executions cannot start.
	Children Children
	// Secrets resolves {{ key:PATH }} references. Nil means key storage is
	// not configured and such references fail their step.
	Secrets SecretSource
	// Region, AccountID and Partition feed the global: system variables;
	// they are recorded with each execution when it starts. Partition is
	// derived from Region when empty.
	Region, AccountID, Partition string
	// Clock is the time executions read and wait on (sleeps, timeouts,
	// retry delays, polling); real time by default. capstan test gives a
	// virtual clock.
	Clock clock.Clock
	// RetryDelay is the wait before the second attempt of a step with
	// maxAttempts > 1; it doubles for each further attempt up to 30 s.
	// Default 1 s.
	RetryDelay time.Duration
	// MaxStepExecutions bounds the step executions of one execution, so a
	// runbook that jumps in circles ends with a clear failure. Default 10,000.
	MaxStepExecutions int
	// OnChange is called after every durable change of an execution, with
	// the event and the state it produced. It must not block.
	OnChange func(st *State, ev store.Event)
	// SignalPoll is how often the engine looks in the store for the signal
	// and stop requests other processes made for the executions it runs.
	// Default 500 ms (see defaultSignalPoll).
	SignalPoll time.Duration
	// LeaseDuration is how long this engine's claim to run an execution
	// (its lease in the store) lasts unrenewed; it renews the leases of all
	// its executions every third of it. Another process resumes an
	// execution only once its lease has ended, so this is also the longest
	// the executions of a process that died wait for another to take them
	// over. Default 30 s.
	LeaseDuration time.Duration
	Logger        *slog.Logger
}

// InvokerRequest describes the execution an Invoker is made for.
type InvokerRequest struct {
	ExecutionID string
	// AssumeRole is the runbook's resolved assumeRole, "" for none.
	AssumeRole string
	// SourceRole, when set, is assumed first and AssumeRole from it.
	SourceRole string
	// Region is the execution's Region; "" for the engine's.
	Region string
	// Project is the execution's project, whose credentials, assumed roles
	// and retries its calls use; "" for the default project.
	Project string
	// Record stores one call on the execution.
	Record func(store.Call)
}

// SecretSource reads key storage.
type SecretSource interface {
	Get(ctx context.Context, path string) (string, error)
}

// Engine starts, resumes, signals and stops executions.
type Engine struct {
	opts Options
	// owner names this engine in the leases of the executions it runs.
	owner   string
	mu      sync.Mutex
	running map[string]*run
	wg      sync.WaitGroup
	closing bool // Shutdown began
	polling bool // pollSignals runs
	quit    chan struct{}
}

// New returns an engine.
func New(opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = time.Second
	}
	if opts.MaxStepExecutions == 0 {
		opts.MaxStepExecutions = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SignalPoll <= 0 {
		opts.SignalPoll = defaultSignalPoll
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = defaultLeaseDuration
	}
	if opts.Partition == "" && opts.Region != "" {
		opts.Partition = template.PartitionOf(opts.Region)
	}
	return &Engine{opts: opts, owner: newOwner(), running: map[string]*run{}, quit: make(chan struct{})}
}

// StartRequest is everything a new execution needs.
type StartRequest struct {
	Document *document.Document
	// Source is the document's text, kept in the log so a resume needs
	// nothing else.
	Source          []byte
	DocumentName    string
	DocumentVersion string
	// Parameters are the coerced parameter values (document.Coerce).
	Parameters map[string]any
	Mode       Mode // ModeAuto when empty
	ParentID   string
	ExecutedBy string
	Tags       map[string]string
	// Project is the project the execution runs in ("" for default);
	// Region is that project's Region, "" for the engine's. A child
	// execution runs in its parent's project and Region.
	Project, Region string
	// ClientToken makes the start idempotent.
	ClientToken string
	// ID is the execution id to use; generated when empty.
	ID string
	// Fleet makes the execution the parent of a rate-controlled run; its
	// Parameters come from FleetParameters.
	Fleet *Fleet
	// Target is a fleet child's target value.
	Target string
	// Location runs a TargetLocations child in another account and Region.
	Location *ChildLocation
	// KeyParameters names the parameters whose values the starter took from
	// key storage, with their paths. Only the paths are recorded (the
	// parameters' values in Parameters are masked): the run reads the keys
	// when it starts and again when it resumes, through Options.Secrets,
	// and masks their values everywhere.
	KeyParameters map[string]string

	// A child execution given its parent's secrets runs with these
	// parameters (the real values) and hides what parentMasker hides;
	// Parameters holds what is recorded (see run.keepSecretsOutOfChild).
	liveParameters map[string]any
	parentMasker   *masker
}

// ChildLocation is where a TargetLocations child runs: as Role in Account
// and Region, Role assumed from SourceRole ("" for the engine's own
// credentials).
type ChildLocation struct {
	Account, Region, Role, SourceRole string
}

// Mode is an execution's mode: SSM's Auto or Interactive.
type Mode string

// The modes of SSM's StartAutomationExecution.
const (
	ModeAuto        Mode = "Auto"
	ModeInteractive Mode = "Interactive"
)

// Valid reports whether m is one of SSM's modes.
func (m Mode) Valid() bool { return m == ModeAuto || m == ModeInteractive }

// Start records a new execution and runs it in the background. It returns
// once the execution is durable.
func (e *Engine) Start(ctx context.Context, req StartRequest) (string, error) {
	return e.start(ctx, req, "")
}

// start starts an execution; inheritedRole is the parent's role, used when
// the runbook names none of its own.
func (e *Engine) start(ctx context.Context, req StartRequest, inheritedRole string) (string, error) {
	id := req.ID
	if id == "" {
		id = NewID()
	}
	mode := req.Mode
	if mode == "" {
		mode = ModeAuto
	}
	started := executionStarted{
		DocumentName:    req.DocumentName,
		DocumentVersion: req.DocumentVersion,
		File:            req.Document.File,
		Content:         string(req.Source),
		Parameters:      req.Parameters,
		ParameterText:   ParameterText(req.Parameters),
		Mode:            mode,
		ParentID:        req.ParentID,
		ExecutedBy:      req.ExecutedBy,
		Tags:            req.Tags,
		Project:         req.Project,
		Region:          e.opts.Region,
		AccountID:       e.opts.AccountID,
		Fleet:           req.Fleet,
		Target:          req.Target,
		Partition:       e.opts.Partition,
		KeyParameters:   req.KeyParameters,
	}
	if req.Region != "" {
		started.Region, started.Partition = req.Region, template.PartitionOf(req.Region)
	}
	started.AssumeRole = startRole(req.Document, req.Parameters, systemOf(id, &started, e.opts.Clock.Now))
	if started.AssumeRole == "" {
		started.AssumeRole = inheritedRole
	}
	if l := req.Location; l != nil {
		started.Region, started.AccountID, started.AssumeRole, started.SourceRole, started.CrossAccount = l.Region, l.Account, l.Role, l.SourceRole, true
	}
	ev := newEvent(evExecutionStarted, e.opts.Clock.Now().UTC(), started)
	st := &State{ID: id, Status: StatusPending, Variables: map[string]any{}, byIndex: map[int]*StepState{}}
	if err := st.apply(ev); err != nil {
		return "", err
	}
	ev.Seq = 0
	sum := st.Summary()
	sum.ClientToken = req.ClientToken
	sum.LeaseOwner, sum.LeaseUntil = e.owner, e.leaseUntil(time.Now())
	if err := e.opts.Store.CreateExecution(ctx, sum, []store.Event{ev}); err != nil {
		return "", fmt.Errorf("recording execution %s: %w", id, err)
	}
	st.Seq = 1
	r, err := e.newRun(st, req.Document, nil)
	if err != nil {
		return "", err
	}
	if req.parentMasker != nil {
		r.masker.inherit(req.parentMasker)
		r.params = req.liveParameters
	}
	e.launch(r)
	if e.opts.OnChange != nil {
		e.opts.OnChange(st, ev)
	}
	return id, nil
}

// Resume continues an unfinished execution from its log, taking its lease
// first. It returns ErrAlreadyDone for a finished one and a
// *store.LeasedError for one another live process runs.
func (e *Engine) Resume(ctx context.Context, id string) error {
	e.mu.Lock()
	_, busy := e.running[id]
	e.mu.Unlock()
	if busy {
		return nil
	}
	if err := e.acquire(ctx, id); err != nil {
		return err
	}
	if err := e.resume(ctx, id); err != nil {
		if rerr := e.opts.Store.ReleaseLeases(context.WithoutCancel(ctx), e.owner, []string{id}); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	return nil
}

// resume is Resume once the lease is held.
func (e *Engine) resume(ctx context.Context, id string) error {
	events, err := e.opts.Store.Events(ctx, id, 0)
	if err != nil {
		return fmt.Errorf("reading execution %s: %w", id, err)
	}
	st, err := Fold(id, events)
	if err != nil {
		return fmt.Errorf("execution %s: %w", id, err)
	}
	if st.Done() {
		return fmt.Errorf("execution %s: %w", id, ErrAlreadyDone)
	}
	doc, diags := document.Parse(st.Started.File, []byte(st.Started.Content))
	if doc == nil || hasError(diags) {
		return fmt.Errorf("execution %s: its recorded document no longer parses: %v", id, diags)
	}
	replay, err := Fold(id, events)
	if err != nil {
		return err
	}
	// The live state starts from the log; replayed steps are not appended again.
	r, err := e.newRun(st, doc, replay)
	if err != nil {
		return err
	}
	e.launch(r)
	return nil
}

// ErrAlreadyDone: the execution has finished; there is nothing to resume.
var ErrAlreadyDone = errors.New("execution already finished")

// ResumeAll resumes every unfinished execution in the store that no live
// other process runs (its lease has not ended) and returns how many it
// resumed.
func (e *Engine) ResumeAll(ctx context.Context) (int, error) {
	list, err := e.opts.Store.Unfinished(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing unfinished executions: %w", err)
	}
	n := 0
	var errs []error
	for _, x := range list {
		// A fleet parent resumed first may have finished this child already.
		err := e.Resume(ctx, x.ID)
		var leased *store.LeasedError
		if errors.As(err, &leased) {
			e.opts.Logger.Info("not resuming an execution another process runs", "execution", x.ID, "owner", leased.Lease.Owner, "until", leased.Lease.Until)
			continue
		}
		if err != nil && !errors.Is(err, ErrAlreadyDone) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// launch runs r unless the execution already runs here: a fleet parent
// re-attaching to its children and ResumeAll may resume the same child at
// once.
func (e *Engine) launch(r *run) {
	e.mu.Lock()
	if _, busy := e.running[r.id]; busy {
		e.mu.Unlock()
		return
	}
	e.running[r.id] = r
	if !e.polling && !e.closing {
		e.polling = true
		e.wg.Add(1)
		go e.pollSignals()
	}
	e.mu.Unlock()
	e.wg.Add(1)
	// Counted before it starts, so a parent waiting for this child never
	// looks like the last execution left waiting.
	leave := e.opts.Clock.Enter()
	go func() {
		defer e.wg.Done()
		if r.replay != nil {
			// Requests made while nobody ran the execution apply now.
			if err := r.applyPending(context.WithoutCancel(r.hardCtx)); err != nil && !errors.Is(err, errInterrupted) {
				e.opts.Logger.Error("applying signal requests", "execution", r.id, "error", err)
			}
		}
		r.execute()
		e.mu.Lock()
		delete(e.running, r.id)
		e.mu.Unlock()
		e.release(r)
		close(r.done)
		leave()
	}()
}

// Wait blocks until the execution finishes in this engine (or ctx ends) and
// returns its final state.
func (e *Engine) Wait(ctx context.Context, id string) (*State, error) {
	return e.wait(ctx, id, false)
}

// wait is Wait; an execution waiting for another (its child) says so with
// idle, as a wait on the clock without a deadline of its own.
func (e *Engine) wait(ctx context.Context, id string, idle bool) (*State, error) {
	e.mu.Lock()
	r := e.running[id]
	e.mu.Unlock()
	if r != nil {
		busy := func() {}
		if idle {
			_, busy = e.opts.Clock.Wait(ctx, -1)
		}
		select {
		case <-r.done:
			busy()
		case <-ctx.Done():
			busy()
			return nil, ctx.Err()
		}
	}
	return e.Get(ctx, id)
}

// Get folds an execution's log into its current state.
func (e *Engine) Get(ctx context.Context, id string) (*State, error) {
	events, err := e.opts.Store.Events(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	return Fold(id, events)
}

// Shutdown waits for every running execution to stop after ctx is done. Runs
// interrupted this way stay unfinished in the store and resume later.
func (e *Engine) Shutdown() {
	e.mu.Lock()
	if !e.closing {
		close(e.quit)
	}
	e.closing = true
	for _, r := range e.running {
		r.interrupt()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// NewID returns a random execution id in SSM's 36-character UUID form.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func hasError(diags []document.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == document.Error {
			return true
		}
	}
	return false
}
