// Package ssmshape holds SSM's wire shapes of automation executions
// (GetAutomationExecution, DescribeAutomationExecutions,
// DescribeAutomationStepExecutions) and builds them from the engine's
// state, for the SSM API and capstan's --output json alike.
package ssmshape

import (
	"cmp"
	"encoding/json"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

// AutomationExecution is SSM's GetAutomationExecution execution.
type AutomationExecution struct {
	AutomationExecutionId       string
	DocumentName                string
	DocumentVersion             string `json:",omitempty"`
	ExecutionStartTime          *Time  `json:",omitempty"`
	ExecutionEndTime            *Time  `json:",omitempty"`
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
	TargetLocations     []engine.Location     `json:",omitempty"`
}

// ResolvedTargets is SSM's: the target values a fleet resolved.
type ResolvedTargets struct {
	ParameterValues []string
	Truncated       bool
}

// maxResolvedShown bounds ResolvedTargets, as SSM truncates it.
const maxResolvedShown = 100

// ProgressCounters is SSM's count of step outcomes.
type ProgressCounters struct {
	TotalSteps, SuccessSteps, FailedSteps, CancelledSteps, TimedOutSteps int
}

// StepExecution is SSM's StepExecution.
type StepExecution struct {
	StepName           string
	Action             string
	StepExecutionId    string
	StepStatus         string
	ExecutionStartTime *Time                  `json:",omitempty"`
	ExecutionEndTime   *Time                  `json:",omitempty"`
	Inputs             map[string]string      `json:",omitempty"`
	Outputs            map[string][]string    `json:",omitempty"`
	FailureMessage     string                 `json:",omitempty"`
	FailureDetails     *engine.FailureDetails `json:",omitempty"`
	MaxAttempts        int                    `json:",omitempty"`
	OnFailure          string                 `json:",omitempty"`
	TimeoutSeconds     int64                  `json:",omitempty"`
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

// AutomationExecutionMetadata is SSM's DescribeAutomationExecutions entry.
type AutomationExecutionMetadata struct {
	AutomationExecutionId       string
	DocumentName                string
	DocumentVersion             string `json:",omitempty"`
	AutomationExecutionStatus   string
	ExecutionStartTime          *Time  `json:",omitempty"`
	ExecutionEndTime            *Time  `json:",omitempty"`
	ExecutedBy                  string `json:",omitempty"`
	LogFile                     string `json:",omitempty"`
	Outputs                     map[string][]string
	Mode                        string
	ParentAutomationExecutionId string `json:",omitempty"`
	CurrentStepName             string `json:",omitempty"`
	CurrentAction               string `json:",omitempty"`
	FailureMessage              string `json:",omitempty"`
	AutomationType              string
}

// Execution is the state as SSM's AutomationExecution, timestamps in f.
// Steps the execution has not reached are listed as Pending, as SSM does.
func Execution(s *engine.State, f TimeFormat) AutomationExecution {
	v := AutomationExecution{
		AutomationExecutionId:       s.ID,
		DocumentName:                s.Started.DocumentName,
		DocumentVersion:             s.Started.DocumentVersion,
		ExecutionStartTime:          At(s.StartTime, f),
		ExecutionEndTime:            At(s.EndTime, f),
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
		Target:                      s.Started.Target,
	}
	if v.Parameters == nil {
		v.Parameters = map[string][]string{}
	}
	if v.Outputs == nil {
		v.Outputs = map[string][]string{}
	}
	if len(s.Variables) > 0 {
		v.Variables = engine.ParameterText(s.Variables)
	}
	sum := s.Summary()
	v.CurrentStepName, v.CurrentAction = sum.CurrentStep, sum.CurrentAction
	if fl := s.Started.Fleet; fl != nil {
		conc, _ := targets.ParseConcurrency("MaxConcurrency", fl.MaxConcurrency)
		errs, _ := targets.ParseErrors("MaxErrors", fl.MaxErrors)
		v.TargetParameterName, v.Targets, v.TargetMaps, v.TargetLocations = fl.TargetParameterName, fl.Targets, fl.TargetMaps, fl.Locations
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
	v.StepExecutions = Steps(s, f)
	for _, st := range s.Steps {
		v.ProgressCounters.TotalSteps++
		switch st.Status {
		case engine.StatusSuccess:
			v.ProgressCounters.SuccessSteps++
		case engine.StatusFailed:
			v.ProgressCounters.FailedSteps++
		case engine.StatusCancelled:
			v.ProgressCounters.CancelledSteps++
		case engine.StatusTimedOut:
			v.ProgressCounters.TimedOutSteps++
		}
	}
	return v
}

// Steps is the state's steps as SSM's StepExecutions, timestamps in f.
func Steps(s *engine.State, f TimeFormat) []StepExecution {
	byID := map[string]*engine.StepState{}
	for _, st := range s.Steps {
		byID[st.StepExecutionID] = st
	}
	out := make([]StepExecution, 0, len(s.Steps))
	for _, st := range s.Steps {
		se := Step(st, f)
		if p := se.ParentStepDetails; p != nil {
			if parent := byID[p.StepExecutionId]; parent != nil {
				p.StepName, p.Action = parent.Name, parent.Action
			}
		}
		out = append(out, se)
	}
	return out
}

// Step is one step's state as SSM's StepExecution, timestamps in f. Its
// ParentStepDetails names only the parent's id (Steps fills in the rest).
func Step(st *engine.StepState, f TimeFormat) StepExecution {
	se := StepExecution{
		StepName:           st.Name,
		Action:             st.Action,
		StepExecutionId:    st.StepExecutionID,
		StepStatus:         st.Status,
		ExecutionStartTime: At(st.StartTime, f),
		ExecutionEndTime:   At(st.EndTime, f),
		FailureMessage:     st.FailureMessage,
		NextStep:           st.NextStep,
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
			se.Outputs[k] = engine.StringList(out)
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

// Metadata is a stored execution as SSM's listing entry, timestamps in f.
func Metadata(x store.Execution, f TimeFormat) AutomationExecutionMetadata {
	outputs := x.Outputs
	if outputs == nil {
		outputs = map[string][]string{}
	}
	return AutomationExecutionMetadata{
		AutomationExecutionId: x.ID, DocumentName: x.DocumentName, DocumentVersion: x.DocumentVersion, AutomationExecutionStatus: x.Status,
		ExecutionStartTime: At(x.StartTime, f), ExecutionEndTime: At(x.EndTime, f), ExecutedBy: x.ExecutedBy, Outputs: outputs,
		Mode: x.Mode, ParentAutomationExecutionId: x.ParentID, CurrentStepName: x.CurrentStep, CurrentAction: x.CurrentAction,
		FailureMessage: x.FailureMessage, AutomationType: cmp.Or(x.AutomationType, "Local"),
	}
}
