package ssmapi

import (
	"context"
	"encoding/base64"
	"strconv"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/ssmshape"
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

type getExecutionOutput struct {
	AutomationExecution ssmshape.AutomationExecution
}

func getAutomationExecution(s *Server, ctx context.Context, in *executionIDInput) (*getExecutionOutput, error) {
	st, err := s.opts.Service.GetExecution(ctx, principal(ctx), in.AutomationExecutionId)
	if err != nil {
		return nil, err
	}
	return &getExecutionOutput{AutomationExecution: ssmshape.Execution(st, ssmshape.EpochSeconds)}, nil
}

type describeExecutionsInput struct {
	Filters    []ssmshape.Filter
	MaxResults int
	NextToken  string
}

type describeExecutionsOutput struct {
	AutomationExecutionMetadataList []ssmshape.AutomationExecutionMetadata
	NextToken                       string `json:",omitempty"`
}

func describeAutomationExecutions(s *Server, ctx context.Context, in *describeExecutionsInput) (*describeExecutionsOutput, error) {
	limit, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	f, err := ssmshape.ExecutionFilter(in.Filters)
	if err != nil {
		return nil, err
	}
	f.Limit, f.PageToken = limit, in.NextToken
	list, next, err := s.opts.Service.ListExecutions(ctx, principal(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &describeExecutionsOutput{AutomationExecutionMetadataList: []ssmshape.AutomationExecutionMetadata{}, NextToken: next}
	for _, x := range list {
		out.AutomationExecutionMetadataList = append(out.AutomationExecutionMetadataList, ssmshape.Metadata(x, ssmshape.EpochSeconds))
	}
	return out, nil
}

type describeStepsInput struct {
	AutomationExecutionId string
	Filters               []ssmshape.Filter
	MaxResults            int
	NextToken             string
	ReverseOrder          bool
}

type describeStepsOutput struct {
	StepExecutions []ssmshape.StepExecution
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
	match, err := ssmshape.StepFilter(in.Filters)
	if err != nil {
		return nil, err
	}
	var steps []ssmshape.StepExecution
	for _, se := range ssmshape.Steps(st, ssmshape.EpochSeconds) {
		if match(se) {
			steps = append(steps, se)
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
	out := &describeStepsOutput{StepExecutions: []ssmshape.StepExecution{}}
	end := min(start+limit, len(steps))
	out.StepExecutions = append(out.StepExecutions, steps[start:end]...)
	if end < len(steps) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, nil
}

type stopInput struct {
	AutomationExecutionId string
	Type                  string
}

func stopAutomationExecution(s *Server, ctx context.Context, in *stopInput) (*empty, error) {
	// SSM's StopAutomationExecution returns once the stop is taken; it
	// does not wait for the runner.
	if _, err := s.opts.Service.StopExecution(ctx, principal(ctx), in.AutomationExecutionId, service.StopType(in.Type)); err != nil {
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
	// As SSM's, the call returns once the signal is taken, without
	// waiting for the runner to apply it.
	if _, err := s.opts.Service.SignalExecution(ctx, principal(ctx), in.AutomationExecutionId, engine.SignalType(in.SignalType), in.Payload); err != nil {
		return nil, err
	}
	return &empty{}, nil
}
