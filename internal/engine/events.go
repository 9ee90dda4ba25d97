package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// Event types. Every change of an execution is one of these, appended to the
// store in the order it happened; the execution's state is a fold over them.
const (
	evExecutionStarted  = "ExecutionStarted"
	evStepStarted       = "StepStarted"
	evStepWaiting       = "StepWaiting"
	evStepSucceeded     = "StepSucceeded"
	evStepFailed        = "StepFailed"
	evSignalReceived    = "SignalReceived"
	evCancelRequested   = "CancelRequested"
	evExecutionFinished = "ExecutionFinished"
	// evAwaitingStart: an Interactive execution waits for StartStep before
	// the step execution numbered Index.
	evAwaitingStart = "AwaitingStart"
)

// executionStarted holds everything needed to run the execution again from
// its log alone: the document's source and the coerced parameters.
type executionStarted struct {
	DocumentName    string              `json:"documentName"`
	DocumentVersion string              `json:"documentVersion,omitempty"`
	File            string              `json:"file,omitempty"`
	Content         string              `json:"content"`
	Parameters      map[string]any      `json:"parameters"`
	ParameterText   map[string][]string `json:"parameterText"`
	Mode            Mode                `json:"mode"`
	ParentID        string              `json:"parentId,omitempty"`
	ExecutedBy      string              `json:"executedBy,omitempty"`
	AssumeRole      string              `json:"assumeRole,omitempty"`
	Tags            map[string]string   `json:"tags,omitempty"`
	// Project is recorded since 2026-12; older logs are of the default project.
	Project   string `json:"project,omitempty"`
	Region    string `json:"region,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	// Fleet: the execution is the parent of a rate-controlled run.
	Fleet *Fleet `json:"fleet,omitempty"`
	// Target is a fleet child's target value.
	Target string `json:"target,omitempty"`
	// SourceRole is the role AssumeRole is assumed from (a TargetLocations
	// child: its parent's role), "" for the engine's own credentials.
	SourceRole string `json:"sourceRole,omitempty"`
	// CrossAccount: a TargetLocations child, run in another account or Region.
	CrossAccount bool `json:"crossAccount,omitempty"`
	// Partition is recorded since 2026-12; older logs derive it from Region.
	Partition string `json:"partition,omitempty"`
	// KeyParameters: parameters read from key storage, by path (StartRequest).
	KeyParameters map[string]string `json:"keyParameters,omitempty"`
}

// loopRef places a step execution inside an iteration of an aws:loop.
type loopRef struct {
	ParentStepExecutionID string `json:"parentStepExecutionId"`
	Iteration             int    `json:"iteration"`
	IteratorValue         string `json:"iteratorValue,omitempty"`
}

// stepStarted opens one attempt of one step execution. Index numbers step
// executions in the order the interpreter reaches them; it is the key that
// lets a resumed run find what already happened.
type stepStarted struct {
	Index           int            `json:"index"`
	StepExecutionID string         `json:"stepExecutionId"`
	Step            string         `json:"step"`
	Action          string         `json:"action"`
	Attempt         int            `json:"attempt"`
	Inputs          map[string]any `json:"inputs,omitempty"` // masked
	Loop            *loopRef       `json:"loop,omitempty"`
	// The step's declared properties, as SSM's StepExecution shows them.
	Props *stepProps `json:"props,omitempty"`
}

// stepProps are a step's declared properties. NonCritical is stored
// rather than IsCritical so that SSM's default (critical) is the zero value.
type stepProps struct {
	MaxAttempts    int    `json:"maxAttempts,omitempty"`
	OnFailure      string `json:"onFailure,omitempty"`
	TimeoutSeconds int    `json:"timeoutSeconds,omitempty"`
	IsEnd          bool   `json:"isEnd,omitempty"`
	NonCritical    bool   `json:"nonCritical,omitempty"`
	NextStep       string `json:"nextStep,omitempty"`
}

// propsOf records a document step's properties.
func propsOf(st *document.Step) *stepProps {
	p := &stepProps{MaxAttempts: st.MaxAttempts, TimeoutSeconds: st.TimeoutSeconds, IsEnd: st.IsEnd, NonCritical: !st.IsCritical, NextStep: st.NextStep}
	switch st.OnFailure.Kind {
	case document.Abort, document.Continue:
		p.OnFailure = string(st.OnFailure.Kind)
	case document.GoToStep:
		p.OnFailure = "step:" + st.OnFailure.Step
	}
	return p
}

type stepWaiting struct {
	Index  int       `json:"index"`
	Until  time.Time `json:"until,omitzero"`
	Signal bool      `json:"signal,omitempty"`
	Child  string    `json:"child,omitempty"` // aws:executeAutomation's child execution
}

type stepSucceeded struct {
	Index     int            `json:"index"`
	Outputs   map[string]any `json:"outputs,omitempty"`
	NextStep  string         `json:"nextStep,omitempty"`
	Variables map[string]any `json:"variables,omitempty"`
}

// FailureDetails mirrors SSM's StepExecution.FailureDetails.
type FailureDetails struct {
	FailureStage FailureStage        `json:"FailureStage,omitempty"`
	FailureType  FailureType         `json:"FailureType,omitempty"`
	Details      map[string][]string `json:"Details,omitempty"`
}

// FailureStage is where in a step SSM places its failure.
type FailureStage string

// SSM's failure stages.
const (
	// StagePreVerification: the step could not start (an unknown or
	// unsupported action).
	StagePreVerification FailureStage = "PreVerification"
	// StageInputValidation: the step's inputs did not resolve or fit.
	StageInputValidation FailureStage = "InputValidation"
	// StageInvocation: the action ran and failed.
	StageInvocation FailureStage = "Invocation"
	// StagePostVerification: the action succeeded but its outputs did not
	// select or convert.
	StagePostVerification FailureStage = "PostVerification"
)

// FailureType is the kind of a step's failure, as SSM names it.
type FailureType string

// SSM's failure types.
const (
	FailureVerification FailureType = "Verification"
	FailureAction       FailureType = "Action"
	FailureInternal     FailureType = "Internal"
	FailurePermission   FailureType = "Permission"
	FailureThrottling   FailureType = "Throttling"
)

type stepFailed struct {
	Index   int            `json:"index"`
	Attempt int            `json:"attempt"`
	Status  string         `json:"status"` // Failed, TimedOut, Cancelled
	Message string         `json:"message"`
	Details FailureDetails `json:"details"`
	Final   bool           `json:"final"` // no attempt follows
	Outputs map[string]any `json:"outputs,omitempty"`
}

type signalReceived struct {
	Index   int                 `json:"index"` // the waiting step execution it was delivered to, -1 if none
	Type    SignalType          `json:"type"`
	Payload map[string][]string `json:"payload,omitempty"`
	User    string              `json:"user,omitempty"`
	// Request is the store's ID of the request it applied (0 in logs
	// recorded before signals went through the store).
	Request int64 `json:"request,omitempty"`
}

type awaitingStart struct {
	Index int    `json:"index"`
	Step  string `json:"step"`
}

type cancelRequested struct {
	Type    StopType `json:"type"` // StopCancel or StopComplete
	Abort   bool     `json:"abort,omitempty"`
	User    string   `json:"user,omitempty"`
	Request int64    `json:"request,omitempty"` // as signalReceived's
}

type executionFinished struct {
	Status         string              `json:"status"`
	FailureMessage string              `json:"failureMessage,omitempty"`
	Outputs        map[string][]string `json:"outputs,omitempty"`
	// OutputOrder is the document's order of Outputs, which a parent's
	// aws:executeAutomation Output keeps.
	OutputOrder []string `json:"outputOrder,omitempty"`
}

func newEvent(typ string, now time.Time, data any) store.Event {
	b, err := json.Marshal(data)
	if err != nil {
		// Event payloads are engine-built structs of JSON-safe values.
		panic(fmt.Sprintf("engine: encoding %s event: %v", typ, err))
	}
	return store.Event{Type: typ, Time: now, Data: b}
}

func decode[T any](ev store.Event) (T, error) {
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		return v, fmt.Errorf("decoding %s event %d: %w", ev.Type, ev.Seq, err)
	}
	return v, nil
}
