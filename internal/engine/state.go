package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// Execution and step status names, exactly as SSM spells them.
const (
	StatusPending    = "Pending"
	StatusInProgress = "InProgress"
	StatusWaiting    = "Waiting"
	StatusSuccess    = "Success"
	StatusTimedOut   = "TimedOut"
	StatusCancelling = "Cancelling"
	StatusCancelled  = "Cancelled"
	StatusFailed     = "Failed"
)

// executionStatuses is SSM's AutomationExecutionStatus enum: capstan
// reaches the first eight; the others exist in SSM and may be asked for.
var executionStatuses = []string{StatusPending, StatusInProgress, StatusWaiting, StatusSuccess, StatusTimedOut, StatusCancelling, StatusCancelled, StatusFailed,
	"PendingApproval", "Approved", "Rejected", "Scheduled", "RunbookInProgress", "PendingChangeCalendarOverride",
	"ChangeCalendarOverrideApproved", "ChangeCalendarOverrideRejected", "CompletedWithSuccess", "CompletedWithFailure", "Exited"}

// KnownStatus reports whether s is one of SSM's execution statuses.
func KnownStatus(s string) bool { return slices.Contains(executionStatuses, s) }

// StatusList names SSM's execution statuses, for messages.
func StatusList() string { return strings.Join(executionStatuses, ", ") }

// Terminal reports whether an execution or step status is final.
func Terminal(status string) bool {
	switch status {
	case StatusSuccess, StatusTimedOut, StatusCancelled, StatusFailed:
		return true
	}
	return false
}

// State is an execution as the fold of its events: what `executions get`
// and the SSM-compatible API show, and what a resumed run replays.
type State struct {
	ID             string
	Started        executionStarted
	Status         string
	StartTime      time.Time
	EndTime        time.Time
	FailureMessage string
	Outputs        map[string][]string
	outputOrder    []string
	Variables      map[string]any
	Steps          []*StepState // in the order they started
	Signals        []signalReceived
	Cancel         *cancelRequested
	// AwaitingStart is the step an Interactive execution waits to be told
	// to start; nil when it waits for nothing.
	AwaitingStart *awaitingStart
	// CompleteRequested: StopAutomationExecution Type Complete arrived.
	CompleteRequested bool
	// Resolved holds a fleet's children once they are resolved.
	Resolved *targetsResolved
	Seq      int64

	byIndex map[int]*StepState
	// requests holds the IDs of the signal requests the log records.
	requests map[int64]bool
}

// StepState is one step execution, with its attempts folded in.
type StepState struct {
	Index           int
	StepExecutionID string
	Name            string
	Action          string
	Status          string
	Attempts        int
	StartTime       time.Time
	EndTime         time.Time
	Inputs          map[string]any
	Outputs         map[string]any
	NextStep        string
	Variables       map[string]any
	FailureMessage  string
	FailureDetails  FailureDetails
	Loop            *loopRef
	// Props are the step's declared properties; nil in logs recorded before
	// they were kept.
	Props      *stepProps
	WaitUntil  time.Time
	WaitSignal bool
	Child      string // aws:executeAutomation's child execution id
	// open: an attempt started and has no outcome yet (in flight at a crash).
	open bool
	// final: the step execution has its outcome.
	final bool
}

// Fold builds the state of an execution from its events.
func Fold(id string, events []store.Event) (*State, error) {
	s := &State{ID: id, Status: StatusPending, Variables: map[string]any{}, byIndex: map[int]*StepState{}}
	for _, ev := range events {
		if err := s.apply(ev); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *State) apply(ev store.Event) error {
	s.Seq = ev.Seq
	switch ev.Type {
	case evExecutionStarted:
		d, err := decode[executionStarted](ev)
		if err != nil {
			return err
		}
		s.Started = d
		s.Status = StatusInProgress
		s.StartTime = ev.Time
	case evStepStarted:
		d, err := decode[stepStarted](ev)
		if err != nil {
			return err
		}
		st := s.byIndex[d.Index]
		if st == nil {
			st = &StepState{Index: d.Index, StepExecutionID: d.StepExecutionID, Name: d.Step, Action: d.Action, StartTime: ev.Time, Loop: d.Loop}
			s.byIndex[d.Index] = st
			s.Steps = append(s.Steps, st)
		}
		s.AwaitingStart = nil
		st.Attempts = d.Attempt
		st.Inputs = d.Inputs
		if d.Props != nil {
			st.Props = d.Props
		}
		st.Status = StatusInProgress
		st.open = true
		st.WaitUntil, st.WaitSignal = time.Time{}, false
		if s.Status == StatusWaiting {
			s.Status = StatusInProgress
		}
	case evStepWaiting:
		d, err := decode[stepWaiting](ev)
		if err != nil {
			return err
		}
		st, err := s.step(d.Index, ev)
		if err != nil {
			return err
		}
		st.WaitUntil, st.WaitSignal = d.Until, d.Signal
		if d.Child != "" {
			st.Child = d.Child
		}
		if d.Signal {
			st.Status = StatusWaiting
			if s.Status == StatusInProgress {
				s.Status = StatusWaiting
			}
		}
	case evStepSucceeded:
		d, err := decode[stepSucceeded](ev)
		if err != nil {
			return err
		}
		st, err := s.step(d.Index, ev)
		if err != nil {
			return err
		}
		st.Status, st.EndTime, st.open, st.final = StatusSuccess, ev.Time, false, true
		st.Outputs, st.NextStep, st.Variables = d.Outputs, d.NextStep, d.Variables
		st.WaitSignal = false
		for k, v := range d.Variables {
			s.Variables[k] = v
		}
		if s.Status == StatusWaiting {
			s.Status = StatusInProgress
		}
	case evStepFailed:
		d, err := decode[stepFailed](ev)
		if err != nil {
			return err
		}
		st, err := s.step(d.Index, ev)
		if err != nil {
			return err
		}
		st.open = false
		st.FailureMessage, st.FailureDetails = d.Message, d.Details
		st.WaitSignal = false
		if d.Outputs != nil {
			st.Outputs = d.Outputs
		}
		if d.Final {
			st.Status, st.EndTime, st.final = d.Status, ev.Time, true
		}
		if s.Status == StatusWaiting {
			s.Status = StatusInProgress
		}
	case evAwaitingStart:
		d, err := decode[awaitingStart](ev)
		if err != nil {
			return err
		}
		s.AwaitingStart = &d
		if s.Status == StatusInProgress || s.Status == StatusPending {
			s.Status = StatusWaiting
		}
	case evSignalReceived:
		d, err := decode[signalReceived](ev)
		if err != nil {
			return err
		}
		s.Signals = append(s.Signals, d)
		s.noteRequest(d.Request)
	case evCancelRequested:
		d, err := decode[cancelRequested](ev)
		if err != nil {
			return err
		}
		s.noteRequest(d.Request)
		if d.Type == StopComplete {
			s.CompleteRequested = true
			break
		}
		s.Cancel = &d
		if !Terminal(s.Status) {
			s.Status = StatusCancelling
		}
	case evTargetsResolved:
		d, err := decode[targetsResolved](ev)
		if err != nil {
			return err
		}
		s.Resolved = &d
	case evExecutionFinished:
		d, err := decode[executionFinished](ev)
		if err != nil {
			return err
		}
		s.Status, s.FailureMessage, s.Outputs, s.EndTime = d.Status, d.FailureMessage, d.Outputs, ev.Time
		s.outputOrder = d.OutputOrder
	default:
		return fmt.Errorf("unknown event type %q at seq %d", ev.Type, ev.Seq)
	}
	return nil
}

func (s *State) step(index int, ev store.Event) (*StepState, error) {
	st := s.byIndex[index]
	if st == nil {
		return nil, fmt.Errorf("%s event %d names step execution %d, which never started", ev.Type, ev.Seq, index)
	}
	return st, nil
}

func (s *State) noteRequest(id int64) {
	if id == 0 {
		return
	}
	if s.requests == nil {
		s.requests = map[int64]bool{}
	}
	s.requests[id] = true
}

// Done reports whether the execution has finished.
func (s *State) Done() bool { return Terminal(s.Status) && !s.EndTime.IsZero() }

// signalsFor returns the signals delivered to a waiting step execution.
func (s *State) signalsFor(index int) []signalReceived {
	var out []signalReceived
	for _, sig := range s.Signals {
		if sig.Index == index {
			out = append(out, sig)
		}
	}
	return out
}

// Summary is the store's summary row for this state.
func (s *State) Summary() store.Execution {
	e := store.Execution{
		ID:              s.ID,
		DocumentName:    s.Started.DocumentName,
		DocumentVersion: s.Started.DocumentVersion,
		Status:          s.Status,
		Mode:            string(s.Started.Mode),
		ParentID:        s.Started.ParentID,
		ExecutedBy:      s.Started.ExecutedBy,
		AutomationType:  s.AutomationType(),
		FailureMessage:  s.FailureMessage,
		StartTime:       s.StartTime,
		EndTime:         s.EndTime,
		Tags:            s.Started.Tags,
		Project:         store.ProjectOf(s.Started.Project),
		Outputs:         s.Outputs,
		Done:            s.Done(),
		Seq:             s.Seq,
	}
	for i := len(s.Steps) - 1; i >= 0; i-- {
		if st := s.Steps[i]; !st.final {
			e.CurrentStep, e.CurrentAction = st.Name, st.Action
			break
		}
	}
	return e
}

// EventStep returns the step execution an event is about, or nil for events
// about the execution as a whole.
func (s *State) EventStep(ev store.Event) *StepState {
	switch ev.Type {
	case evStepStarted, evStepWaiting, evStepSucceeded, evStepFailed, evSignalReceived:
	default:
		return nil
	}
	var d struct {
		Index int `json:"index"`
	}
	if json.Unmarshal(ev.Data, &d) != nil {
		return nil
	}
	return s.byIndex[d.Index]
}

// outputKeys lists the execution's outputs in the document's order.
func (s *State) outputKeys() []string {
	if len(s.outputOrder) > 0 {
		return s.outputOrder
	}
	return slices.Sorted(maps.Keys(s.Outputs))
}

// AutomationType is SSM's CrossAccount for a run over TargetLocations and
// for its children, Local otherwise.
func (s *State) AutomationType() string {
	if s.Started.CrossAccount || (s.Started.Fleet != nil && len(s.Started.Fleet.Locations) > 0) {
		return "CrossAccount"
	}
	return "Local"
}
