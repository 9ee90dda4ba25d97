package ssmapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/targets"
)

// maxPreviews bounds the previews kept for GetExecutionPreview; the oldest
// goes first.
const maxPreviews = 1000

type startPreviewInput struct {
	DocumentName    string
	DocumentVersion string
	ExecutionInputs struct {
		Automation *struct {
			Parameters          map[string][]string
			TargetParameterName string
			Targets             []targets.Target
			TargetMaps          []map[string][]string
			TargetLocations     []engine.Location
			TargetLocationsURL  string
		}
	}
}

type startPreviewOutput struct {
	ExecutionPreviewId string
}

type previewIDInput struct {
	ExecutionPreviewId string
}

type automationPreview struct {
	Automation engine.Preview
}

type getPreviewOutput struct {
	ExecutionPreviewId string
	EndedAt            *ssmshape.Time `json:",omitempty"`
	Status             string
	StatusMessage      string             `json:",omitempty"`
	ExecutionPreview   *automationPreview `json:",omitempty"`
}

// previews holds the finished previews by id, with the caller that asked.
type previews struct {
	mu    sync.Mutex
	byID  map[string]previewEntry
	order []string
}

type previewEntry struct {
	owner string
	out   getPreviewOutput
}

func (p *previews) put(id, owner string, out getPreviewOutput) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID == nil {
		p.byID = map[string]previewEntry{}
	}
	if len(p.order) == maxPreviews {
		delete(p.byID, p.order[0])
		p.order = p.order[1:]
	}
	p.byID[id] = previewEntry{owner: owner, out: out}
	p.order = append(p.order, id)
}

func (p *previews) get(id, owner string) (getPreviewOutput, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.byID[id]
	if !ok || e.owner != owner {
		return getPreviewOutput{}, false
	}
	return e.out, true
}

// startExecutionPreview computes the preview at once (resolving targets
// takes a few calls) and keeps it for GetExecutionPreview.
func startExecutionPreview(s *Server, ctx context.Context, in *startPreviewInput) (*startPreviewOutput, error) {
	a := in.ExecutionInputs.Automation
	if a == nil {
		return nil, validationError("ExecutionInputs takes Automation; no other execution type is previewed")
	}
	if a.TargetLocationsURL != "" {
		return nil, validationError("capstan does not read TargetLocationsURL; give TargetLocations")
	}
	start := startInput{TargetParameterName: a.TargetParameterName, Targets: a.Targets, TargetMaps: a.TargetMaps, TargetLocations: a.TargetLocations}
	p, err := s.opts.Service.PreviewExecution(ctx, principal(ctx), service.StartInput{DocumentName: in.DocumentName, DocumentVersion: in.DocumentVersion,
		Parameters: document.Inputs{Values: a.Parameters}, Fleet: start.fleet()})
	var svcErr *service.Error
	if errors.As(err, &svcErr) {
		// The request itself is wrong: SSM refuses it at once.
		return nil, err
	}
	id := engine.NewID()
	out := getPreviewOutput{ExecutionPreviewId: id, Status: "Success"}
	if err != nil {
		out.Status, out.StatusMessage = "Failed", err.Error()
	} else {
		out.ExecutionPreview = &automationPreview{Automation: p}
	}
	out.EndedAt = epochOf(time.Now())
	s.previews.put(id, CallerIdentity(ctx).ARN, out)
	return &startPreviewOutput{ExecutionPreviewId: id}, nil
}

func getExecutionPreview(s *Server, ctx context.Context, in *previewIDInput) (*getPreviewOutput, error) {
	out, ok := s.previews.get(in.ExecutionPreviewId, CallerIdentity(ctx).ARN)
	if !ok {
		return nil, clientError("ResourceNotFoundException", "Execution preview %s was not found", in.ExecutionPreviewId)
	}
	return &out, nil
}
