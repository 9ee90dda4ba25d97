package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

// Preview is what an execution would touch, in the shape of SSM's
// AutomationExecutionPreview: its steps by impact, the Regions and accounts
// it runs in, and its targets counted by type. Nothing runs to make it.
type Preview struct {
	StepPreviews   map[string]int
	Regions        []string
	TargetPreviews []TargetPreview
	TotalAccounts  int
}

var errNoAWS = errors.New("no AWS access is configured for this engine")

// TargetPreview counts the targets of one type.
type TargetPreview struct {
	Count      int
	TargetType string
}

// Preview resolves what running doc (as a fleet when f is not nil) would
// do: the step counts come from the action declarations, the targets from
// the caller's account (the engine's own credentials). Targets of a
// TargetLocation's own are not resolved (they would need each account's
// role) and are not counted.
func (e *Engine) Preview(ctx context.Context, doc *document.Document, f *Fleet) (Preview, error) {
	p := Preview{StepPreviews: map[string]int{string(action.Mutating): 0, string(action.NonMutating): 0, string(action.Undetermined): 0},
		TargetPreviews: []TargetPreview{}}
	e.countImpact(doc.MainSteps, p.StepPreviews)
	if f != nil && len(f.Locations) > 0 {
		accounts := map[string]bool{}
		for _, l := range f.Locations {
			for _, a := range l.Accounts {
				accounts[a] = true
			}
			for _, r := range l.Regions {
				if !slices.Contains(p.Regions, r) {
					p.Regions = append(p.Regions, r)
				}
			}
		}
		p.TotalAccounts = len(accounts)
	} else {
		p.Regions, p.TotalAccounts = []string{e.opts.Region}, 1
	}
	if f == nil {
		return p, nil
	}
	if len(f.TargetMaps) > 0 {
		p.TargetPreviews = append(p.TargetPreviews, TargetPreview{Count: len(f.TargetMaps), TargetType: "TargetMaps"})
		return p, nil
	}
	if len(f.Targets) == 0 || len(f.Locations) > 0 {
		return p, nil
	}
	if e.opts.NewInvoker == nil {
		return p, errNoAWS
	}
	inv, err := e.opts.NewInvoker(ctx, InvokerRequest{ExecutionID: "preview", Region: e.opts.Region, Record: func(store.Call) {}})
	if err != nil {
		return p, err
	}
	resolved, err := targets.ResolveTyped(ctx, inv, f.Targets)
	if err != nil {
		return p, err
	}
	counts := map[string]int{}
	var order []string
	for _, r := range resolved {
		if counts[r.Type] == 0 {
			order = append(order, r.Type)
		}
		counts[r.Type]++
	}
	for _, t := range order {
		p.TargetPreviews = append(p.TargetPreviews, TargetPreview{Count: counts[t], TargetType: t})
	}
	return p, nil
}

func (e *Engine) countImpact(steps []*document.Step, into map[string]int) {
	for _, st := range steps {
		impact := action.Undetermined
		if entry, ok := e.opts.Actions.Lookup(st.Action); ok && entry.Spec.Impact != "" {
			impact = entry.Spec.Impact
		}
		into[string(impact)]++
		e.countImpact(st.Steps, into)
	}
}
