package ssmapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

// SSM's limits on StartAutomationExecution.
const (
	maxParameterValue = 512
	maxExecutionTags  = 5
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
	if in.DocumentName == "" {
		return nil, validationError("1 validation error detected: Value null at 'documentName' failed to satisfy constraint: Member must not be null")
	}
	if in.TargetLocationsURL != "" {
		return nil, clientError("InvalidAutomationExecutionParametersException", "capstan does not read TargetLocationsURL; give TargetLocations in the request")
	}
	fleet := in.fleet()
	mode := in.Mode
	if mode == "" {
		mode = "Auto"
	}
	if mode != "Auto" && mode != "Interactive" {
		return nil, validationError("1 validation error detected: Value '%s' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [Auto, Interactive]", in.Mode)
	}
	if len(in.Tags) > maxExecutionTags {
		return nil, validationError("an execution takes at most %d tags", maxExecutionTags)
	}
	for name, vals := range in.Parameters {
		for _, v := range vals {
			if len(v) > maxParameterValue {
				return nil, clientError("InvalidAutomationExecutionParametersException", "Parameter %s has a value longer than %d characters", name, maxParameterValue)
			}
		}
	}
	token := userClientToken(ctx, in.ClientToken)
	if token != "" {
		if id, err := s.opts.Store.ClientToken(ctx, token); err == nil {
			return s.sameStart(ctx, id, in)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	d, docType, err := s.resolveRunbook(ctx, in.DocumentName, in.DocumentVersion)
	if err != nil {
		return nil, err
	}
	if docType != "Automation" {
		return nil, clientError("InvalidAutomationExecutionParametersException", "Document %s is a %s document, not an Automation runbook", d.Name, docType)
	}
	doc, diags := document.Load(d.Name, d.Source, s.opts.Actions)
	if doc == nil || document.HasErrors(diags) {
		return nil, clientError("InvalidAutomationExecutionParametersException", "Document %s version %s is not a valid runbook", d.Name, d.Version)
	}
	var params map[string]any
	if fleet != nil {
		if err := engine.ValidateFleet(doc, fleet); err != nil {
			return nil, clientError("InvalidAutomationExecutionParametersException", "%v", err)
		}
		params, err = engine.FleetParameters(doc, document.Inputs{Values: in.Parameters}, fleet)
	} else {
		params, err = doc.Coerce(document.Inputs{Values: in.Parameters})
	}
	if err != nil {
		return nil, clientError("InvalidAutomationExecutionParametersException", "%v", err)
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[t.Key] = t.Value
	}
	if len(tags) == 0 {
		tags = nil
	}
	id, err := s.opts.Engine.Start(ctx, engine.StartRequest{
		Document: doc, Source: d.Source, DocumentName: d.Name, DocumentVersion: d.Version,
		Parameters: params, Mode: mode, ExecutedBy: CallerIdentity(ctx).ARN, Tags: tags, ClientToken: token, Fleet: fleet,
	})
	if errors.Is(err, store.ErrExists) && token != "" {
		// Another request with the same token won the race.
		if prev, terr := s.opts.Store.ClientToken(ctx, token); terr == nil {
			return s.sameStart(ctx, prev, in)
		}
	}
	if err != nil {
		return nil, err
	}
	return &startOutput{AutomationExecutionId: id}, nil
}

// userClientToken scopes a ClientToken to its caller, so that one user's
// token neither finds nor blocks another's execution.
func userClientToken(ctx context.Context, token string) string {
	if token == "" {
		return ""
	}
	return CallerIdentity(ctx).ARN + " " + token
}

// sameStart answers a repeated ClientToken: the earlier execution when the
// request matches it, IdempotentParameterMismatch when it does not.
func (s *Server) sameStart(ctx context.Context, id string, in *startInput) (*startOutput, error) {
	st, err := s.opts.Engine.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	same := st.Started.DocumentName == in.DocumentName &&
		(in.DocumentVersion == "" || in.DocumentVersion == st.Started.DocumentVersion || strings.HasPrefix(in.DocumentVersion, "$"))
	if same && len(in.Parameters) > 0 {
		for k, v := range in.Parameters {
			if !reflect.DeepEqual(st.Started.ParameterText[k], v) {
				same = false
			}
		}
	}
	if !same {
		return nil, clientError("IdempotentParameterMismatch", "Error occurred during operation 'StartAutomationExecution': the ClientToken was used by a different request.")
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
	ExecutionStartTime *Epoch                    `json:",omitempty"`
	ExecutionEndTime   *Epoch                    `json:",omitempty"`
	Inputs             map[string]string         `json:",omitempty"`
	Outputs            map[string][]string       `json:",omitempty"`
	FailureMessage     string                    `json:",omitempty"`
	FailureDetails     *engine.FailureDetails    `json:",omitempty"`
	MaxAttempts        int                       `json:",omitempty"`
	OnFailure          string                    `json:",omitempty"`
	TimeoutSeconds     int64                     `json:",omitempty"`
	IsEnd              bool                      `json:",omitempty"`
	IsCritical         bool                      `json:",omitempty"`
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

func (s *Server) execution(ctx context.Context, id string) (*engine.State, error) {
	if id == "" {
		return nil, validationError("1 validation error detected: Value null at 'automationExecutionId' failed to satisfy constraint: Member must not be null")
	}
	st, err := s.opts.Engine.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.Started.DocumentName == "" && len(st.Steps) == 0) {
		return nil, clientError("AutomationExecutionNotFoundException", "Automation Execution %s was not found", id)
	}
	return st, err
}

type getExecutionOutput struct {
	AutomationExecution AutomationExecution
}

func getAutomationExecution(s *Server, ctx context.Context, in *executionIDInput) (*getExecutionOutput, error) {
	st, err := s.execution(ctx, in.AutomationExecutionId)
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
	list, next, err := s.opts.Store.ListExecutions(ctx, f)
	if errors.Is(err, store.ErrInvalidToken) {
		return nil, clientError("InvalidNextToken", "The specified token is not valid.")
	}
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
			FailureMessage: x.FailureMessage, AutomationType: firstNonEmpty(x.AutomationType, "Local"),
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
	st, err := s.execution(ctx, in.AutomationExecutionId)
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
	st, err := s.execution(ctx, in.AutomationExecutionId)
	if err != nil {
		return nil, err
	}
	complete := false
	switch in.Type {
	case "", "Cancel":
	case "Complete":
		complete = true
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [Complete, Cancel]", in.Type)
	}
	if engine.Terminal(st.Status) {
		return nil, clientError("InvalidAutomationStatusUpdateException", "The execution %s has already ended %s", st.ID, st.Status)
	}
	stop := func() error { return s.opts.Engine.Stop(ctx, st.ID, false) }
	if complete {
		// capstan's meaning, as SSM documents none: the step in progress
		// ends normally, no further step starts, the execution ends Success.
		stop = func() error { return s.opts.Engine.Complete(ctx, st.ID) }
	}
	if err := stop(); err != nil {
		if errors.Is(err, engine.ErrNotRunning) {
			return nil, clientError("InvalidAutomationStatusUpdateException", "The execution %s is not running on this server", st.ID)
		}
		return nil, err
	}
	return &empty{}, nil
}

type signalInput struct {
	AutomationExecutionId string
	SignalType            string
	Payload               map[string][]string
}

var signalTypes = map[string]bool{"Approve": true, "Reject": true, "StartStep": true, "StopStep": true, "Resume": true, "Revoke": true}

func sendAutomationSignal(s *Server, ctx context.Context, in *signalInput) (*empty, error) {
	if !signalTypes[in.SignalType] {
		return nil, validationError("1 validation error detected: Value '%s' at 'signalType' failed to satisfy constraint: Member must satisfy enum value set: [Approve, Reject, StartStep, StopStep, Resume, Revoke]", in.SignalType)
	}
	st, err := s.execution(ctx, in.AutomationExecutionId)
	if err != nil {
		return nil, err
	}
	if engine.Terminal(st.Status) {
		return nil, clientError("InvalidAutomationSignalException", "The execution %s has already ended %s", st.ID, st.Status)
	}
	err = s.opts.Engine.Signal(ctx, st.ID, in.SignalType, in.Payload, CallerIdentity(ctx).ARN)
	var se *engine.SignalError
	switch {
	case errors.As(err, &se):
		return nil, clientError("InvalidAutomationSignalException", "%s", se.Error())
	case errors.Is(err, engine.ErrNotRunning):
		return nil, clientError("InvalidAutomationSignalException", "The execution %s is not running on this server", st.ID)
	case err != nil:
		return nil, err
	}
	return &empty{}, nil
}
