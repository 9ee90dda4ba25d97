package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

// fleetFlags make `capstan run` a rate-controlled run over targets.
type fleetFlags struct {
	parameterName  string
	targets        []string
	maxConcurrency string
	maxErrors      string
}

func (f *fleetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.parameterName, "target-parameter-name", "", "run one child execution per target, with the target in this parameter")
	fl.StringArrayVar(&f.targets, "targets", nil, "targets as Key=KEY,Values=V1,V2 (keys: tag:NAME, ResourceGroup, ParameterValues, AWS::EC2::Instance, InstanceIds); repeatable")
	fl.StringVar(&f.maxConcurrency, "max-concurrency", "", "children running at once: a number or a percentage of the targets (default 10)")
	fl.StringVar(&f.maxErrors, "max-errors", "", "failed children after which no new child starts: a number or a percentage (default 0)")
}

// fleet is the requested rate control, nil when no fleet flag is given.
func (f *fleetFlags) fleet() (*engine.Fleet, error) {
	if f.parameterName == "" && len(f.targets) == 0 && f.maxConcurrency == "" && f.maxErrors == "" {
		return nil, nil
	}
	fl := &engine.Fleet{TargetParameterName: f.parameterName, MaxConcurrency: f.maxConcurrency, MaxErrors: f.maxErrors}
	for _, s := range f.targets {
		t, err := parseTargetFlag(s)
		if err != nil {
			return nil, err
		}
		fl.Targets = append(fl.Targets, t)
	}
	return fl, nil
}

// parseTargetFlag reads the aws CLI's shorthand Key=tag:Env,Values=prod,dev.
func parseTargetFlag(s string) (targets.Target, error) {
	key, vals, ok := strings.Cut(s, ",Values=")
	key, hasKey := strings.CutPrefix(key, "Key=")
	if !ok || !hasKey || key == "" || vals == "" {
		return targets.Target{}, fmt.Errorf("--targets %q: expected Key=KEY,Values=V1[,V2...], e.g. Key=tag:Env,Values=prod", s)
	}
	return targets.Target{Key: key, Values: strings.Split(vals, ",")}, nil
}

// previewTargets resolves a fleet's Targets once to show them before the
// run starts, and refuses a fleet no target matches.
func previewTargets(ctx context.Context, w io.Writer, f runFlags, fl *engine.Fleet) error {
	if len(fl.Targets) == 0 {
		return nil
	}
	inv, err := f.aws.account(ctx)
	if err != nil {
		return failed(err)
	}
	values, err := targets.Resolve(ctx, inv, fl.Targets)
	if err != nil {
		return failed(err)
	}
	if f.output == "text" {
		fmt.Fprintln(w, targetsPreview(values))
	}
	if len(values) == 0 {
		return failed(fmt.Errorf("no target matched %s", describeTargetFlags(fl.Targets)))
	}
	return nil
}

func targetsPreview(values []string) string {
	shown := values
	if len(shown) > 10 {
		shown = shown[:10]
	}
	line := fmt.Sprintf("targets: %d", len(values))
	if len(values) > 0 {
		line += " (" + strings.Join(shown, ", ")
		if len(values) > len(shown) {
			line += fmt.Sprintf(", … %d more", len(values)-len(shown))
		}
		line += ")"
	}
	return line
}

func describeTargetFlags(list []targets.Target) string {
	var parts []string
	for _, t := range list {
		parts = append(parts, t.Key+"="+strings.Join(t.Values, ","))
	}
	return strings.Join(parts, "; ")
}

// fleetEvent renders a fleet parent's changes as counts of its children and
// keeps its children's steps out of the output. It reports whether the
// event was a fleet's.
func (p *progress) fleetEvent(st *engine.State, ev store.Event) bool {
	if st.Started.Fleet == nil {
		// A fleet's child: its own steps would drown the counts.
		return st.Started.Target != "" || st.Started.CrossAccount
	}
	if st.Started.ParentID != "" || st.Resolved == nil {
		return true
	}
	switch ev.Type {
	case "TargetsResolved", "StepStarted", "StepSucceeded", "StepFailed":
	default:
		return true
	}
	total := len(st.Resolved.Children)
	var running, ok, bad int
	for _, s := range st.Steps {
		switch {
		case s.Status == engine.StatusSuccess:
			ok++
		case engine.Terminal(s.Status):
			bad++
		default:
			running++
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.println(fmt.Sprintf("  children: %d pending, %d running, %d succeeded, %d failed (of %d)", total-len(st.Steps), running, ok, bad, total))
	return true
}
