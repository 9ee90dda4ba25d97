package ssmapi

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

type startInput struct {
	DocumentName    string
	DocumentVersion string
	Parameters      map[string][]string
	ClientToken     string
	Mode            string
	Tags            []Tag
	// Rate control and multi-account runs (a fleet in the engine).
	TargetParameterName string
	Targets             []targets.Target
	TargetMaps          []map[string][]string
	MaxConcurrency      string
	MaxErrors           string
	TargetLocations     []engine.Location
	TargetLocationsURL  string
}

// fleet is the request's rate control, nil for a plain execution.
func (in *startInput) fleet() *engine.Fleet {
	if in.TargetParameterName == "" && len(in.Targets) == 0 && len(in.TargetMaps) == 0 && len(in.TargetLocations) == 0 {
		return nil
	}
	return &engine.Fleet{TargetParameterName: in.TargetParameterName, Targets: in.Targets, TargetMaps: in.TargetMaps,
		MaxConcurrency: in.MaxConcurrency, MaxErrors: in.MaxErrors, Locations: in.TargetLocations}
}

type startOutput struct {
	AutomationExecutionId string
}

func startAutomationExecution(s *Server, ctx context.Context, in *startInput) (*startOutput, error) {
	req := service.StartInput{
		DocumentName: in.DocumentName, DocumentVersion: in.DocumentVersion, Parameters: document.Inputs{Values: in.Parameters},
		Mode: engine.Mode(in.Mode), Tags: tagMap(in.Tags), ClientToken: in.ClientToken, Fleet: in.fleet(),
	}
	if in.TargetLocationsURL != "" {
		req.Unsupported = append(req.Unsupported, "TargetLocationsURL (give TargetLocations in the request)")
	}
	id, err := s.opts.Service.StartExecution(ctx, principal(ctx), req)
	if err != nil {
		return nil, err
	}
	return &startOutput{AutomationExecutionId: id}, nil
}

type executionIDInput struct {
	AutomationExecutionId string
}

// AutomationExecution is GetAutomationExecution's execution, with epoch
// timestamps.
type AutomationExecution struct {
	AutomationExecutionId       string
	DocumentName                string
	DocumentVersion             string `json:",omitempty"`
	ExecutionStartTime          *Epoch `json:",omitempty"`
	ExecutionEndTime            *Epoch `json:",omitempty"`
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
	AutomationType              string `json:",omitempty"`
	ProgressCounters            engine.ProgressCounters
	Target                      string                  `json:",omitempty"`
	TargetParameterName         string                  `json:",omitempty"`
	Targets                     []targets.Target        `json:",omitempty"`
	TargetMaps                  []map[string][]string   `json:",omitempty"`
	ResolvedTargets             *engine.ResolvedTargets `json:",omitempty"`
	MaxConcurrency              string                  `json:",omitempty"`
	MaxErrors                   string                  `json:",omitempty"`
	TargetLocations             []engine.Location       `json:",omitempty"`
}

// StepExecution is SSM's StepExecution with epoch timestamps.
type StepExecution struct {
	StepName           string
	Action             string
	StepExecutionId    string
	StepStatus         string
	ExecutionStartTime *Epoch                 `json:",omitempty"`
	ExecutionEndTime   *Epoch                 `json:",omitempty"`
	Inputs             map[string]string      `json:",omitempty"`
	Outputs            map[string][]string    `json:",omitempty"`
	FailureMessage     string                 `json:",omitempty"`
	FailureDetails     *engine.FailureDetails `json:",omitempty"`
	MaxAttempts        int                    `json:",omitempty"`
	OnFailure          string                 `json:",omitempty"`
	TimeoutSeconds     int64                  `json:",omitempty"`
	IsEnd              bool
	IsCritical         bool
	NextStep           string                    `json:",omitempty"`
	ParentStepDetails  *engine.ParentStepDetails `json:",omitempty"`
}

func stepView(se engine.StepExecution) StepExecution {
	return StepExecution{StepName: se.StepName, Action: se.Action, StepExecutionId: se.StepExecutionId, StepStatus: se.StepStatus,
		ExecutionStartTime: epochPtr(se.ExecutionStartTime), ExecutionEndTime: epochPtr(se.ExecutionEndTime), Inputs: se.Inputs,
		Outputs: se.Outputs, FailureMessage: se.FailureMessage, FailureDetails: se.FailureDetails, MaxAttempts: se.MaxAttempts,
		OnFailure: se.OnFailure, TimeoutSeconds: se.TimeoutSeconds, IsEnd: se.IsEnd, IsCritical: se.IsCritical, NextStep: se.NextStep,
		ParentStepDetails: se.ParentStepDetails}
}

type getExecutionOutput struct {
	AutomationExecution AutomationExecution
}

func getAutomationExecution(s *Server, ctx context.Context, in *executionIDInput) (*getExecutionOutput, error) {
	st, err := s.opts.Service.GetExecution(ctx, principal(ctx), in.AutomationExecutionId)
	if err != nil {
		return nil, err
	}
	v := st.View()
	out := AutomationExecution{AutomationExecutionId: v.AutomationExecutionId, DocumentName: v.DocumentName, DocumentVersion: v.DocumentVersion,
		ExecutionStartTime: epochPtr(v.ExecutionStartTime), ExecutionEndTime: epochPtr(v.ExecutionEndTime),
		AutomationExecutionStatus: v.AutomationExecutionStatus, StepExecutions: []StepExecution{}, StepExecutionsTruncated: v.StepExecutionsTruncated,
		Parameters: v.Parameters, Outputs: v.Outputs, Variables: v.Variables, FailureMessage: v.FailureMessage, Mode: v.Mode,
		ParentAutomationExecutionId: v.ParentAutomationExecutionId, ExecutedBy: v.ExecutedBy, CurrentStepName: v.CurrentStepName,
		CurrentAction: v.CurrentAction, AutomationType: v.AutomationType, ProgressCounters: v.ProgressCounters,
		Target: v.Target, TargetParameterName: v.TargetParameterName, Targets: v.Targets, TargetMaps: v.TargetMaps, ResolvedTargets: v.ResolvedTargets,
		MaxConcurrency: v.MaxConcurrency, MaxErrors: v.MaxErrors, TargetLocations: v.TargetLocations}
	for _, se := range v.StepExecutions {
		out.StepExecutions = append(out.StepExecutions, stepView(se))
	}
	return &getExecutionOutput{AutomationExecution: out}, nil
}

type describeExecutionsInput struct {
	Filters    []keyValues
	MaxResults int
	NextToken  string
}

// AutomationExecutionMetadata is SSM's listing entry.
type AutomationExecutionMetadata struct {
	AutomationExecutionId       string
	DocumentName                string
	DocumentVersion             string `json:",omitempty"`
	AutomationExecutionStatus   string
	ExecutionStartTime          *Epoch `json:",omitempty"`
	ExecutionEndTime            *Epoch `json:",omitempty"`
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

type describeExecutionsOutput struct {
	AutomationExecutionMetadataList []AutomationExecutionMetadata
	NextToken                       string `json:",omitempty"`
}

var executionFilterKeys = map[string]bool{
	"DocumentNamePrefix": true, "ExecutionStatus": true, "ExecutionId": true, "ParentExecutionId": true, "CurrentAction": true,
	"StartTimeBefore": true, "StartTimeAfter": true, "AutomationType": true, "TagKey": true,
}

func describeAutomationExecutions(s *Server, ctx context.Context, in *describeExecutionsInput) (*describeExecutionsOutput, error) {
	limit, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	f := store.ExecutionFilter{Limit: limit, PageToken: in.NextToken}
	for _, kv := range in.Filters {
		if !executionFilterKeys[kv.Key] {
			return nil, clientError("InvalidFilterKey", "The filter key %s is not valid", kv.Key)
		}
		if len(kv.Values) < 1 || len(kv.Values) > 10 {
			return nil, clientError("InvalidFilterValue", "The filter %s takes 1 to 10 values", kv.Key)
		}
		switch kv.Key {
		case "DocumentNamePrefix":
			f.DocumentNamePrefix = kv.Values[0]
		case "ExecutionStatus":
			f.Statuses = append(f.Statuses, kv.Values...)
		case "ExecutionId":
			f.IDs = append(f.IDs, kv.Values...)
		case "ParentExecutionId":
			f.ParentIDs = append(f.ParentIDs, kv.Values...)
		case "CurrentAction":
			f.CurrentActions = append(f.CurrentActions, kv.Values...)
		case "AutomationType":
			f.AutomationTypes = append(f.AutomationTypes, kv.Values...)
		case "TagKey":
			f.TagKeys = append(f.TagKeys, kv.Values...)
		case "StartTimeBefore", "StartTimeAfter":
			t, err := parseFilterTime(kv.Values[0])
			if err != nil {
				return nil, clientError("InvalidFilterValue", "The filter value %s of %s is not a valid time: %v", kv.Values[0], kv.Key, err)
			}
			if kv.Key == "StartTimeBefore" {
				f.StartTimeBefore = t
			} else {
				f.StartTimeAfter = t
			}
		}
	}
	list, next, err := s.opts.Service.ListExecutions(ctx, principal(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &describeExecutionsOutput{AutomationExecutionMetadataList: []AutomationExecutionMetadata{}, NextToken: next}
	for _, x := range list {
		outputs := x.Outputs
		if outputs == nil {
			outputs = map[string][]string{}
		}
		out.AutomationExecutionMetadataList = append(out.AutomationExecutionMetadataList, AutomationExecutionMetadata{
			AutomationExecutionId: x.ID, DocumentName: x.DocumentName, DocumentVersion: x.DocumentVersion, AutomationExecutionStatus: x.Status,
			ExecutionStartTime: epochOf(x.StartTime), ExecutionEndTime: epochOf(x.EndTime), ExecutedBy: x.ExecutedBy, Outputs: outputs,
			Mode: x.Mode, ParentAutomationExecutionId: x.ParentID, CurrentStepName: x.CurrentStep, CurrentAction: x.CurrentAction,
			FailureMessage: x.FailureMessage, AutomationType: cmp.Or(x.AutomationType, "Local"),
		})
	}
	return out, nil
}

// parseFilterTime accepts the forms the aws CLI users type: RFC 3339, a
// date, or epoch seconds.
func parseFilterTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)), nil
	}
	return time.Time{}, fmt.Errorf("expected RFC 3339 (2024-01-02T15:04:05Z) or epoch seconds")
}

type describeStepsInput struct {
	AutomationExecutionId string
	Filters               []keyValues
	MaxResults            int
	NextToken             string
	ReverseOrder          bool
}

type describeStepsOutput struct {
	StepExecutions []StepExecution
	NextToken      string `json:",omitempty"`
}

func describeAutomationStepExecutions(s *Server, ctx context.Context, in *describeStepsInput) (*describeStepsOutput, error) {
	limit, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	st, err := s.opts.Service.GetExecution(ctx, principal(ctx), in.AutomationExecutionId)
	if err != nil {
		return nil, err
	}
	match, err := stepFilter(in.Filters)
	if err != nil {
		return nil, err
	}
	var steps []StepExecution
	for _, se := range st.View().StepExecutions {
		if match(se) {
			steps = append(steps, stepView(se))
		}
	}
	if in.ReverseOrder {
		for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
			steps[i], steps[j] = steps[j], steps[i]
		}
	}
	start := 0
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, aerr := strconv.Atoi(string(b))
		if err != nil || aerr != nil || n < 0 || n > len(steps) {
			return nil, clientError("InvalidNextToken", "The specified token is not valid.")
		}
		start = n
	}
	out := &describeStepsOutput{StepExecutions: []StepExecution{}}
	end := min(start+limit, len(steps))
	out.StepExecutions = append(out.StepExecutions, steps[start:end]...)
	if end < len(steps) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, nil
}

func stepFilter(filters []keyValues) (func(engine.StepExecution) bool, error) {
	var preds []func(engine.StepExecution) bool
	for _, kv := range filters {
		vals := map[string]bool{}
		for _, v := range kv.Values {
			vals[v] = true
		}
		switch kv.Key {
		case "StepExecutionStatus":
			preds = append(preds, func(se engine.StepExecution) bool { return vals[se.StepStatus] })
		case "StepExecutionId":
			preds = append(preds, func(se engine.StepExecution) bool { return vals[se.StepExecutionId] })
		case "StepName":
			preds = append(preds, func(se engine.StepExecution) bool { return vals[se.StepName] })
		case "Action":
			preds = append(preds, func(se engine.StepExecution) bool { return vals[se.Action] })
		case "ParentStepExecutionId":
			preds = append(preds, func(se engine.StepExecution) bool {
				return se.ParentStepDetails != nil && vals[se.ParentStepDetails.StepExecutionId]
			})
		case "StartTimeBefore", "StartTimeAfter":
			if len(kv.Values) == 0 {
				return nil, clientError("InvalidFilterValue", "The filter %s needs a value", kv.Key)
			}
			t, err := parseFilterTime(kv.Values[0])
			if err != nil {
				return nil, clientError("InvalidFilterValue", "The filter value %s of %s is not a valid time: %v", kv.Values[0], kv.Key, err)
			}
			before := kv.Key == "StartTimeBefore"
			preds = append(preds, func(se engine.StepExecution) bool {
				if se.ExecutionStartTime == nil {
					return false
				}
				if before {
					return se.ExecutionStartTime.Before(t)
				}
				return se.ExecutionStartTime.After(t)
			})
		default:
			return nil, clientError("InvalidFilterKey", "The filter key %s is not valid", kv.Key)
		}
	}
	return func(se engine.StepExecution) bool {
		for _, p := range preds {
			if !p(se) {
				return false
			}
		}
		return true
	}, nil
}

type stopInput struct {
	AutomationExecutionId string
	Type                  string
}

func stopAutomationExecution(s *Server, ctx context.Context, in *stopInput) (*empty, error) {
	if err := s.opts.Service.StopExecution(ctx, principal(ctx), in.AutomationExecutionId, service.StopType(in.Type)); err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type signalInput struct {
	AutomationExecutionId string
	SignalType            string
	Payload               map[string][]string
}

func sendAutomationSignal(s *Server, ctx context.Context, in *signalInput) (*empty, error) {
	if err := s.opts.Service.SignalExecution(ctx, principal(ctx), in.AutomationExecutionId, engine.SignalType(in.SignalType), in.Payload); err != nil {
		return nil, err
	}
	return &empty{}, nil
}
