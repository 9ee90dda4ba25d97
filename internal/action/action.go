// Package action holds the declaration of every SSM Automation action capstan
// knows (its inputs, the outputs it always produces, the IAM actions it needs)
// and the implementations of those it executes. Validation, `capstan actions`
// and least-privilege policy derivation all read the same declarations.
package action

import (
	"context"
	"io"
	"time"

	"github.com/capstan-run/capstan/internal/clock"
	"github.com/capstan-run/capstan/internal/value"
)

// Type is an SSM value type; see package value.
type Type = value.Type

// The SSM value types, re-exported so declarations read naturally.
const (
	String     = value.String
	StringList = value.StringList
	Integer    = value.Integer
	Boolean    = value.Boolean
	StringMap  = value.StringMap
	MapList    = value.MapList
	Any        = value.Any
)

// Support says how far capstan goes with an action.
type Support int

const (
	// Executes: capstan runs the action.
	Executes Support = iota
	// Declared: the action is public SSM vocabulary and fully declared, but
	// capstan does not execute it yet; validation accepts it, a run fails the
	// step with a clear message.
	Declared
	// Internal: the action is known to SSM but not public (AWS-internal);
	// validation reports it as "known to SSM, not supported by capstan".
	Internal
)

func (s Support) String() string {
	switch s {
	case Executes:
		return "executes"
	case Declared:
		return "declared, not executable yet"
	case Internal:
		return "known to SSM, not supported by capstan"
	}
	return "unknown"
}

// Impact classifies what an action can change, as SSM's execution preview does.
type Impact string

const (
	Mutating     Impact = "Mutating"
	NonMutating  Impact = "NonMutating"
	Undetermined Impact = "Undetermined"
)

// Input declares one input of an action.
type Input struct {
	Name     string
	Type     Type
	Required bool
	// Unless names another input that, when given, makes this required
	// input optional (aws:approve's Approvers and EnhancedApprovals).
	Unless string
	// Default is the value SSM uses when the input is absent, nil if none;
	// shown in the docs only, the action applies it itself.
	Default any
	Doc     string
}

// Output declares an output an action always produces.
type Output struct {
	Name string
	Type Type
	Doc  string
}

// Spec is the single declaration of an action.
type Spec struct {
	Name    string // e.g. "aws:executeAwsApi"
	Summary string // one line
	Inputs  []Input
	Outputs []Output
	// OpenInputs: inputs beyond the declared ones are passed through as the
	// request of the operation the Service and Api inputs name
	// (aws:executeAwsApi and the wait/assert actions); lint checks them
	// against the service model.
	OpenInputs bool
	// UserOutputs: the step may declare its own outputs with selectors.
	UserOutputs bool
	// NestedSteps: the action carries a step list of its own (aws:loop).
	NestedSteps bool
	// RunsCode: the step runs the runbook's own code in a subprocess
	// (aws:executeScript), whose AWS calls go to the endpoint its
	// environment names and cannot be seen before they are made.
	RunsCode bool
	// LogOutput names the output holding what the step printed (a script's
	// print output), which the UI shows as the step's own output section
	// rather than among its values; "" when the action prints nothing.
	LogOutput string
	// ChildExecution: the engine runs the step as a child execution of
	// another runbook (aws:executeAutomation); the action has no Impl.
	ChildExecution bool
	// NoOnCancel: SSM rejects onCancel on this action, or rejects it as an
	// onCancel target.
	NoOnCancel bool
	// DefaultTimeout applies when the step sets no timeoutSeconds; zero means
	// no limit beyond the execution's.
	DefaultTimeout time.Duration
	// MaxTimeout is SSM's hard ceiling for one run of the action, zero if none.
	MaxTimeout time.Duration
	// RetrySafe: the action may be run again after a crash interrupted it
	// (reads, waits, idempotent calls).
	RetrySafe bool
	// RetrySafeFor, when set, says whether a step with these resolved inputs
	// may be run again although the action as a whole is not RetrySafe (an
	// aws:executeAwsApi step calling a read-only operation). Values may be
	// masked or still templated; it must then answer false.
	RetrySafeFor func(inputs map[string]any) bool
	Impact       Impact
	Support      Support
	// IAM returns the IAM actions (service:Action) a step with these resolved
	// or literal inputs needs, sorted. Values may still hold unresolved
	// templates. gap is "" when the list covers everything the step may call;
	// otherwise it says why it cannot (a templated Service or Api, a script's
	// own calls, a child runbook's needs), for the caller to report the
	// policy as incomplete with that reason.
	IAM func(inputs map[string]any) (actions []string, gap string)
}

// SafeToRetry reports whether a step of this action with these inputs may be
// run again after a crash interrupted it: RetrySafe, or RetrySafeFor says so.
func (s *Spec) SafeToRetry(inputs map[string]any) bool {
	return s.RetrySafe || s.RetrySafeFor != nil && s.RetrySafeFor(inputs)
}

// Input returns the declared input with that name.
func (s *Spec) Input(name string) (Input, bool) {
	for _, in := range s.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// Action executes one step. Implementations are stateless; everything an
// execution owns arrives in the Request.
type Action interface {
	Run(ctx context.Context, req *Request) (*Result, error)
}

// Invoker calls one AWS API operation by service and operation name, as SSM
// names them, with the request and response as JSON-like values using the API
// model's member names. internal/awsapi implements it.
type Invoker interface {
	Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error)
}

// Request is what one attempt of one step receives.
type Request struct {
	ExecutionID string
	Step        string
	// Inputs are the step inputs with every template already substituted.
	Inputs map[string]any
	AWS    Invoker
	// Clock is the engine's time, which waits and polls go by (real time
	// when nil).
	Clock clock.Clock
	// Env returns the standard AWS environment variables (credentials,
	// region, endpoint) of this execution's identity, for a subprocess such
	// as an aws:executeScript script; nil when the engine has no AWS access.
	Env func(ctx context.Context) ([]string, error)
	// Secret reads a value from capstan's key storage and masks it in
	// everything the engine records from then on.
	Secret func(ctx context.Context, path string) (string, error)
	// Print, when set, receives what the step prints while it runs, so it
	// can be watched live; the action's LogOutput holds the whole of it
	// when the step ends.
	Print io.Writer
}

func (r *Request) clock() clock.Clock {
	if r.Clock == nil {
		return clock.Real{}
	}
	return r.Clock
}

// sleep waits d on the request's clock or until ctx ends; it reports whether
// d passed.
func (r *Request) sleep(ctx context.Context, d time.Duration) bool {
	return clock.Sleep(ctx, r.clock(), d)
}

// Result is what a step attempt produced.
type Result struct {
	// Outputs are the action's own named outputs.
	Outputs map[string]any
	// Response is the value user-declared output selectors run against
	// (the API response; {"Payload": ...} for scripts and lambdas).
	Response any
	// NextStep overrides the step's successor (aws:branch).
	NextStep string
	// WaitUntil asks the engine to keep the step in progress until the time
	// (aws:sleep). The engine persists it so a restart keeps the deadline.
	WaitUntil time.Time
	// WaitSignal asks the engine to park the step until a signal arrives
	// (aws:pause, aws:approve).
	WaitSignal bool
	// Variables are runbook variables the step sets (aws:updateVariable).
	Variables map[string]any
	// Secrets are values in Response that are secret (a SecureString's
	// decrypted value): the engine keeps them out of everything it records.
	Secrets []string
}
