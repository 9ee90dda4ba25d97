package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/targets"
)

// Fleet makes an execution the parent of a rate-controlled run (SSM's
// Targets, TargetMaps, MaxConcurrency, MaxErrors, TargetLocations): instead
// of running the runbook's steps itself, it runs one child execution of the
// runbook per target, at most MaxConcurrency at once, and stops starting
// children once more than MaxErrors have failed.
type Fleet struct {
	TargetParameterName string                `json:"targetParameterName,omitempty"`
	Targets             []targets.Target      `json:"targets,omitempty"`
	TargetMaps          []map[string][]string `json:"targetMaps,omitempty"`
	MaxConcurrency      string                `json:"maxConcurrency,omitempty"`
	MaxErrors           string                `json:"maxErrors,omitempty"`
	Locations           []Location            `json:"targetLocations,omitempty"`
}

// Location is one of SSM's TargetLocations: the runbook runs in each of its
// accounts and Regions, as ExecutionRoleName in that account.
type Location struct {
	Accounts                     []string         `json:"Accounts,omitempty"`
	Regions                      []string         `json:"Regions,omitempty"`
	ExecutionRoleName            string           `json:"ExecutionRoleName,omitempty"`
	TargetLocationMaxConcurrency string           `json:"TargetLocationMaxConcurrency,omitempty"`
	TargetLocationMaxErrors      string           `json:"TargetLocationMaxErrors,omitempty"`
	Targets                      []targets.Target `json:"Targets,omitempty"`
	TargetsMaxConcurrency        string           `json:"TargetsMaxConcurrency,omitempty"`
	TargetsMaxErrors             string           `json:"TargetsMaxErrors,omitempty"`
}

// SSM's defaults and limits for TargetLocations (API_TargetLocation).
const (
	DefaultExecutionRoleName = "AWS-SystemsManager-AutomationExecutionRole"
	maxLocations             = 100
	maxLocationAccounts      = 50
	maxLocationRegions       = 50
	defaultLocationMaxConcur = "1"
	defaultLocationMaxErrors = "0"
	fleetStepAction          = "aws:executeAutomation"
)

// FleetChild is one child a fleet runs: a target value, the parameters it
// sets, and for TargetLocations where it runs.
type FleetChild struct {
	// Target is the value given to TargetParameterName ("" for a TargetMaps
	// child or a location without targets).
	Target string `json:"target,omitempty"`
	// Parameters override the parent's for this child.
	Parameters map[string][]string `json:"parameters,omitempty"`
	// Group numbers the TargetLocation the child belongs to; limits apply
	// per group.
	Group     int    `json:"group,omitempty"`
	Account   string `json:"account,omitempty"`
	Region    string `json:"region,omitempty"`
	Role      string `json:"role,omitempty"`
	SubFleet  *Fleet `json:"fleet,omitempty"`
	StepLabel string `json:"step"`
}

// evTargetsResolved records the children of a fleet, once, before the first
// starts: a resumed fleet runs exactly these.
const evTargetsResolved = "TargetsResolved"

type targetsResolved struct {
	Children []FleetChild `json:"children"`
	// Limits per group: how many run at once, how many failures are
	// tolerated.
	Concurrency []int `json:"concurrency"`
	Errors      []int `json:"errors"`
}

// ValidateFleet checks a fleet request as SSM does before anything starts.
func ValidateFleet(doc *document.Document, f *Fleet) error {
	if err := targets.Validate(f.TargetParameterName, f.Targets, f.TargetMaps); err != nil {
		return err
	}
	if len(f.Targets) == 0 && len(f.TargetMaps) == 0 && len(f.Locations) == 0 {
		return &targets.InvalidError{Message: "TargetParameterName needs Targets or TargetMaps"}
	}
	if _, err := targets.ParseConcurrency("MaxConcurrency", f.MaxConcurrency); err != nil {
		return err
	}
	if _, err := targets.ParseErrors("MaxErrors", f.MaxErrors); err != nil {
		return err
	}
	declared := map[string]bool{}
	for _, p := range doc.Parameters {
		declared[p.Name] = true
	}
	if f.TargetParameterName != "" && !declared[f.TargetParameterName] {
		return &targets.InvalidError{Message: fmt.Sprintf("TargetParameterName %s is not a parameter of the runbook", f.TargetParameterName)}
	}
	for i, m := range f.TargetMaps {
		for k := range m {
			if !declared[k] {
				return &targets.InvalidError{Message: fmt.Sprintf("TargetMaps[%d]: %s is not a parameter of the runbook", i, k)}
			}
		}
	}
	if len(f.Locations) > maxLocations {
		return &targets.InvalidError{Message: fmt.Sprintf("TargetLocations has %d entries; at most %d are allowed", len(f.Locations), maxLocations)}
	}
	for i, l := range f.Locations {
		if len(l.Accounts) == 0 || len(l.Accounts) > maxLocationAccounts || len(l.Regions) == 0 || len(l.Regions) > maxLocationRegions {
			return &targets.InvalidError{Message: fmt.Sprintf("TargetLocations[%d] needs 1 to %d Accounts and 1 to %d Regions", i, maxLocationAccounts, maxLocationRegions)}
		}
		for _, a := range l.Accounts {
			if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
				return &targets.InvalidError{Message: fmt.Sprintf("TargetLocations[%d]: account %q is not a 12-digit account id (organizational units are not supported by capstan)", i, a)}
			}
		}
		if len(l.Targets) > 0 {
			if err := targets.Validate(f.TargetParameterName, l.Targets, nil); err != nil {
				return fmt.Errorf("TargetLocations[%d]: %w", i, err)
			}
		}
		for field, v := range map[string]string{"TargetLocationMaxConcurrency": l.TargetLocationMaxConcurrency, "TargetsMaxConcurrency": l.TargetsMaxConcurrency} {
			if _, err := targets.ParseConcurrency(fmt.Sprintf("TargetLocations[%d].%s", i, field), v); err != nil {
				return err
			}
		}
		for field, v := range map[string]string{"TargetLocationMaxErrors": l.TargetLocationMaxErrors, "TargetsMaxErrors": l.TargetsMaxErrors} {
			if _, err := targets.ParseErrors(fmt.Sprintf("TargetLocations[%d].%s", i, field), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// FleetParameters coerces a fleet parent's parameters: the target parameter
// and the TargetMaps' parameters are given per child, so they may be absent
// here even when required.
func FleetParameters(doc *document.Document, in document.Inputs, f *Fleet) (map[string]any, error) {
	perChild := map[string]bool{f.TargetParameterName: true}
	for _, m := range f.TargetMaps {
		for k := range m {
			perChild[k] = true
		}
	}
	cp := *doc
	cp.Parameters = make([]*document.Parameter, len(doc.Parameters))
	for i, p := range doc.Parameters {
		q := *p
		if perChild[p.Name] && !p.HasDefault {
			q.HasDefault, q.Default = true, nil
		}
		cp.Parameters[i] = &q
	}
	out, err := cp.Coerce(in)
	if err != nil {
		return nil, err
	}
	for k, v := range out {
		if v == nil {
			delete(out, k)
		}
	}
	return out, nil
}

// resolveFleet lists the children of a fleet and their limits.
func (r *run) resolveFleet(ctx context.Context, f *Fleet) (targetsResolved, error) {
	var res targetsResolved
	if len(f.Locations) > 0 {
		for g, l := range f.Locations {
			conc, _ := targets.ParseConcurrency("TargetLocationMaxConcurrency", or(l.TargetLocationMaxConcurrency, defaultLocationMaxConcur))
			errs, _ := targets.ParseErrors("TargetLocationMaxErrors", or(l.TargetLocationMaxErrors, defaultLocationMaxErrors))
			n := len(l.Accounts) * len(l.Regions)
			res.Concurrency = append(res.Concurrency, conc.Concurrency(n))
			res.Errors = append(res.Errors, errs.Errors(n))
			var sub *Fleet
			if ts := orTargets(l.Targets, f.Targets); len(ts) > 0 || len(f.TargetMaps) > 0 {
				sub = &Fleet{TargetParameterName: f.TargetParameterName, Targets: ts, TargetMaps: f.TargetMaps,
					MaxConcurrency: or(l.TargetsMaxConcurrency, f.MaxConcurrency), MaxErrors: or(l.TargetsMaxErrors, f.MaxErrors)}
			}
			role := or(l.ExecutionRoleName, DefaultExecutionRoleName)
			for _, acct := range l.Accounts {
				for _, region := range l.Regions {
					res.Children = append(res.Children, FleetChild{Group: g, Account: acct, Region: region, SubFleet: sub,
						Role:      fmt.Sprintf("arn:%s:iam::%s:role/%s", r.e.opts.Partition, acct, role),
						StepLabel: acct + "/" + region})
				}
			}
		}
		return res, nil
	}
	if len(f.TargetMaps) > 0 {
		for _, m := range f.TargetMaps {
			res.Children = append(res.Children, FleetChild{Parameters: m, StepLabel: mapLabel(m)})
		}
	} else {
		values, err := targets.Resolve(ctx, r.invoker, f.Targets)
		if err != nil {
			return res, err
		}
		for _, v := range values {
			res.Children = append(res.Children, FleetChild{Target: v, Parameters: map[string][]string{f.TargetParameterName: {v}}, StepLabel: v})
		}
	}
	conc, _ := targets.ParseConcurrency("MaxConcurrency", f.MaxConcurrency)
	errs, _ := targets.ParseErrors("MaxErrors", f.MaxErrors)
	res.Concurrency = []int{conc.Concurrency(len(res.Children))}
	res.Errors = []int{errs.Errors(len(res.Children))}
	return res, nil
}

func mapLabel(m map[string][]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+strings.Join(m[k], ","))
	}
	return strings.Join(parts, ";")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orTargets(a, b []targets.Target) []targets.Target {
	if len(a) > 0 {
		return a
	}
	return b
}

// childParameters merges a child's parameters over its parent's and coerces
// them with the runbook's declarations.
func (r *run) childParameters(c FleetChild) (map[string]any, error) {
	typed := maps.Clone(r.params)
	for k, v := range c.Parameters {
		typed[k] = v
	}
	return r.doc.Coerce(document.Inputs{Typed: typed})
}

// FleetInputs reads aws:executeAutomation's rate-control inputs; nil when
// the step gives none.
func FleetInputs(inputs map[string]any) (*Fleet, error) {
	sub := map[string]any{}
	for in, field := range map[string]string{"TargetParameterName": "targetParameterName", "Targets": "targets", "TargetMaps": "targetMaps",
		"MaxConcurrency": "maxConcurrency", "MaxErrors": "maxErrors", "TargetLocations": "targetLocations"} {
		v, ok := inputs[in]
		if !ok || v == nil {
			continue
		}
		switch n := v.(type) {
		case int, int64, float64:
			// MaxConcurrency: 2 in YAML is the text "2" to SSM.
			v = fmt.Sprint(n)
		}
		sub[field] = v
	}
	if len(sub) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(sub)
	if err != nil {
		return nil, err
	}
	var f Fleet
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("rate-control inputs (Targets, TargetMaps, TargetLocations, MaxConcurrency, MaxErrors): %w", err)
	}
	return &f, nil
}
