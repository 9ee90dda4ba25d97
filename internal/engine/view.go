package engine

import (
	"encoding/json"
	"time"

	"github.com/capstan-run/capstan/internal/targets"
)

// AutomationExecution is an execution in the shape and with the field names
// of SSM's GetAutomationExecution response.
type AutomationExecution struct {
	AutomationExecutionId       string
	DocumentName                string
	DocumentVersion             string     `json:",omitempty"`
	ExecutionStartTime          *time.Time `json:",omitempty"`
	ExecutionEndTime            *time.Time `json:",omitempty"`
	AutomationExecutionStatus   string
	StepExecutions              []StepExecution
	StepExecutionsTruncated     bool
	Parameters                  map[string][]string
	Outputs                     map[string][]string
	Variables                   map[string][]string `json:",omitempty"`
	FailureMessage              string              `json:",omitempty"`
	Mode                        string
	ParentAutomationExecutionId string `json:",omitempty"`
	ExecutedBy                  string `json:",omitempty"`
	CurrentStepName             string `json:",omitempty"`
	CurrentAction               string `json:",omitempty"`
	AutomationType              string
	AssumeRole                  string `json:",omitempty"`
	ProgressCounters            ProgressCounters
	// Rate control: a fleet parent's request and resolved targets; a
	// child's Target.
	Target              string                `json:",omitempty"`
	TargetParameterName string                `json:",omitempty"`
	Targets             []targets.Target      `json:",omitempty"`
	TargetMaps          []map[string][]string `json:",omitempty"`
	ResolvedTargets     *ResolvedTargets      `json:",omitempty"`
	MaxConcurrency      string                `json:",omitempty"`
	MaxErrors           string                `json:",omitempty"`
	TargetLocations     []Location            `json:",omitempty"`
}

// ResolvedTargets mirrors SSM's: the target values a fleet resolved.
type ResolvedTargets struct {
	ParameterValues []string
	Truncated       bool
}

// maxResolvedShown bounds ResolvedTargets in a view, as SSM truncates it.
const maxResolvedShown = 100

// ProgressCounters mirrors SSM's counters of step outcomes.
type ProgressCounters struct {
	TotalSteps, SuccessSteps, FailedSteps, CancelledSteps, TimedOutSteps int
}

// StepExecution mirrors SSM's StepExecution.
type StepExecution struct {
	StepName           string
	Action             string
	StepExecutionId    string
	StepStatus         string
	ExecutionStartTime *time.Time          `json:",omitempty"`
	ExecutionEndTime   *time.Time          `json:",omitempty"`
	Inputs             map[string]string   `json:",omitempty"`
	Outputs            map[string][]string `json:",omitempty"`
	FailureMessage     string              `json:",omitempty"`
	FailureDetails     *FailureDetails     `json:",omitempty"`
	MaxAttempts        int                 `json:",omitempty"`
	Attempts           int                 `json:"-"`
	OnFailure          string              `json:",omitempty"`
	TimeoutSeconds     int64               `json:",omitempty"`
	IsEnd              bool
	IsCritical         bool
	NextStep           string             `json:",omitempty"`
	ParentStepDetails  *ParentStepDetails `json:",omitempty"`
}

// ParentStepDetails places a step execution inside an aws:loop iteration.
type ParentStepDetails struct {
	StepExecutionId string
	StepName        string `json:",omitempty"`
	Action          string `json:",omitempty"`
	Iteration       int
	IteratorValue   string `json:",omitempty"`
}

// View renders the state as SSM's AutomationExecution. Steps the execution
// has not reached are listed as Pending, as SSM does.
func (s *State) View() AutomationExecution {
	v := AutomationExecution{
		AutomationExecutionId:       s.ID,
		DocumentName:                s.Started.DocumentName,
		DocumentVersion:             s.Started.DocumentVersion,
		AutomationExecutionStatus:   s.Status,
		StepExecutions:              []StepExecution{},
		Parameters:                  s.Started.ParameterText,
		Outputs:                     s.Outputs,
		FailureMessage:              s.FailureMessage,
		Mode:                        string(s.Started.Mode),
		ParentAutomationExecutionId: s.Started.ParentID,
		ExecutedBy:                  s.Started.ExecutedBy,
		AutomationType:              s.AutomationType(),
		AssumeRole:                  s.Started.AssumeRole,
	}
	if v.Parameters == nil {
		v.Parameters = map[string][]string{}
	}
	if v.Outputs == nil {
		v.Outputs = map[string][]string{}
	}
	if !s.StartTime.IsZero() {
		t := s.StartTime
		v.ExecutionStartTime = &t
	}
	if !s.EndTime.IsZero() {
		t := s.EndTime
		v.ExecutionEndTime = &t
	}
	if len(s.Variables) > 0 {
		v.Variables = ParameterText(s.Variables)
	}
	sum := s.Summary()
	v.CurrentStepName, v.CurrentAction = sum.CurrentStep, sum.CurrentAction
	v.Target = s.Started.Target
	if f := s.Started.Fleet; f != nil {
		conc, _ := targets.ParseConcurrency("MaxConcurrency", f.MaxConcurrency)
		errs, _ := targets.ParseErrors("MaxErrors", f.MaxErrors)
		v.TargetParameterName, v.Targets, v.TargetMaps, v.TargetLocations = f.TargetParameterName, f.Targets, f.TargetMaps, f.Locations
		v.MaxConcurrency, v.MaxErrors = conc.Text, errs.Text
		if s.Resolved != nil {
			rt := &ResolvedTargets{ParameterValues: []string{}}
			for _, c := range s.Resolved.Children {
				if c.Target == "" {
					continue
				}
				if len(rt.ParameterValues) == maxResolvedShown {
					rt.Truncated = true
					break
				}
				rt.ParameterValues = append(rt.ParameterValues, c.Target)
			}
			v.ResolvedTargets = rt
		}
	}
	names := map[string]string{}
	for _, st := range s.Steps {
		names[st.StepExecutionID] = st.Name
	}
	for _, st := range s.Steps {
		se := st.view()
		if se.ParentStepDetails != nil {
			se.ParentStepDetails.StepName = names[se.ParentStepDetails.StepExecutionId]
			if se.ParentStepDetails.StepName != "" {
				se.ParentStepDetails.Action = "aws:loop"
			}
		}
		v.StepExecutions = append(v.StepExecutions, se)
		v.ProgressCounters.TotalSteps++
		switch st.Status {
		case StatusSuccess:
			v.ProgressCounters.SuccessSteps++
		case StatusFailed:
			v.ProgressCounters.FailedSteps++
		case StatusCancelled:
			v.ProgressCounters.CancelledSteps++
		case StatusTimedOut:
			v.ProgressCounters.TimedOutSteps++
		}
	}
	return v
}

func (st *StepState) view() StepExecution {
	se := StepExecution{
		StepName:        st.Name,
		Action:          st.Action,
		StepExecutionId: st.StepExecutionID,
		StepStatus:      st.Status,
		FailureMessage:  st.FailureMessage,
		Attempts:        st.Attempts,
		NextStep:        st.NextStep,
	}
	if !st.StartTime.IsZero() {
		t := st.StartTime
		se.ExecutionStartTime = &t
	}
	if !st.EndTime.IsZero() {
		t := st.EndTime
		se.ExecutionEndTime = &t
	}
	if st.FailureDetails.FailureStage != "" || st.FailureDetails.FailureType != "" {
		d := st.FailureDetails
		se.FailureDetails = &d
	}
	// SSM returns step inputs as JSON-encoded strings and outputs as string lists.
	if len(st.Inputs) > 0 {
		se.Inputs = make(map[string]string, len(st.Inputs))
		for k, in := range st.Inputs {
			b, _ := json.Marshal(in)
			se.Inputs[k] = string(b)
		}
	}
	if len(st.Outputs) > 0 {
		se.Outputs = make(map[string][]string, len(st.Outputs))
		for k, out := range st.Outputs {
			se.Outputs[k] = StringList(out)
		}
	}
	// SSM's default: a step is critical unless it says otherwise.
	se.IsCritical = true
	if p := st.Props; p != nil {
		se.MaxAttempts, se.OnFailure, se.TimeoutSeconds = p.MaxAttempts, p.OnFailure, int64(p.TimeoutSeconds)
		se.IsEnd, se.IsCritical = p.IsEnd, !p.NonCritical
		if se.NextStep == "" {
			se.NextStep = p.NextStep
		}
	}
	if st.Loop != nil {
		se.ParentStepDetails = &ParentStepDetails{StepExecutionId: st.Loop.ParentStepExecutionID, Iteration: st.Loop.Iteration, IteratorValue: st.Loop.IteratorValue}
	}
	return se
}
