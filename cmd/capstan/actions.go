package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/suggest"
)

func newActionsCmd() *cobra.Command {
	var (
		output   outputFormat
		services bool
	)
	cmd := &cobra.Command{
		Use:   "actions [NAME] [--output text|json] [--services]",
		Short: "List the SSM Automation actions capstan knows, or show one's declaration",
		Long: "Without NAME, lists every aws:* action with its support status and summary.\n" +
			"With NAME, prints the action's declaration: inputs, outputs, timeouts, IAM actions,\n" +
			"impact and retry safety. The text is generated from the same declaration that\n" +
			"validation and policy derivation read.\n" +
			"--services (with aws:executeAwsApi and the other API actions) lists the service\n" +
			"names those actions accept.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := action.Builtin()
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				if services {
					return usageError("--services needs an API action name, e.g. capstan actions aws:executeAwsApi --services")
				}
				return listActions(out, reg, output)
			}
			e, err := lookupAction(reg, args[0])
			if err != nil {
				return failed(err)
			}
			if services {
				if !e.Spec.OpenInputs {
					return usageError("--services applies to the API actions (aws:executeAwsApi, aws:waitForAwsResourceProperty, aws:assertAwsResourceProperty), not %s", e.Spec.Name)
				}
				return listActionServices(out, output)
			}
			return showAction(out, e, output)
		},
	}
	addOutputFlag(cmd, &output, "text or json")
	cmd.Flags().BoolVar(&services, "services", false, "list the service names an API action accepts")
	return cmd
}

// lookupAction finds an action by exact name, then forgivingly (case, a
// missing aws: prefix), and otherwise suggests the closest name.
func lookupAction(reg *action.Registry, name string) (*action.Entry, error) {
	if e, ok := reg.Lookup(name); ok {
		return e, nil
	}
	want := strings.TrimPrefix(strings.ToLower(name), "aws:")
	short := map[string]string{} // name without aws:, lower case → name
	for _, n := range reg.Names() {
		short[strings.ToLower(strings.TrimPrefix(n, "aws:"))] = n
	}
	if n, ok := short[want]; ok {
		e, _ := reg.Lookup(n)
		return e, nil
	}
	if best, ok := suggest.Closest(want, slices.Sorted(maps.Keys(short))); ok {
		return nil, fmt.Errorf("unknown action %q; did you mean %s?", name, short[best])
	}
	return nil, fmt.Errorf("unknown action %q (see 'capstan actions' for the list)", name)
}

type actionSummary struct {
	Name    string `json:"name"`
	Support string `json:"support"`
	Summary string `json:"summary"`
}

func listActions(out io.Writer, reg *action.Registry, output outputFormat) error {
	var list []actionSummary
	for _, n := range reg.Names() {
		e, _ := reg.Lookup(n)
		list = append(list, actionSummary{Name: n, Support: e.Spec.Support.String(), Summary: e.Spec.Summary})
	}
	if output == "json" {
		return writeActionJSON(out, list)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tSUPPORT\tSUMMARY")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, actionSupportWord(a.Support), a.Summary)
	}
	return tw.Flush()
}

// actionSupportWord shortens the support status for the list's column.
func actionSupportWord(s string) string {
	switch s {
	case action.Executes.String():
		return "executes"
	case action.Declared.String():
		return "declared"
	case action.Internal.String():
		return "internal"
	}
	return s
}

type actionInputDoc struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	Default  any    `json:"default,omitempty"`
	Doc      string `json:"doc"`
}

type actionOutputDoc struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

type actionDoc struct {
	Name                  string            `json:"name"`
	Summary               string            `json:"summary"`
	Support               string            `json:"support"`
	Inputs                []actionInputDoc  `json:"inputs"`
	OpenInputs            bool              `json:"openInputs"`
	Outputs               []actionOutputDoc `json:"outputs"`
	UserOutputs           bool              `json:"userOutputs"`
	NestedSteps           bool              `json:"nestedSteps"`
	OnCancelAllowed       bool              `json:"onCancelAllowed"`
	DefaultTimeoutSeconds int64             `json:"defaultTimeoutSeconds,omitempty"`
	MaxTimeoutSeconds     int64             `json:"maxTimeoutSeconds,omitempty"`
	RetrySafe             bool              `json:"retrySafe"`
	// RetrySafeForSomeInputs: not RetrySafe as a whole, but a step with
	// some inputs is (aws:executeAwsApi calling a read-only operation).
	RetrySafeForSomeInputs bool   `json:"retrySafeForSomeInputs,omitempty"`
	Impact                 string `json:"impact"`
	// IAM is what a step with no optional inputs needs; IAMWithInputs adds
	// what inputs may bring in (every input set, to a value not yet known).
	IAM                   []string `json:"iamActions"`
	IAMComplete           bool     `json:"iamComplete"`
	IAMWithInputs         []string `json:"iamActionsWithInputs"`
	IAMCompleteWithInputs bool     `json:"iamCompleteWithInputs"`
}

func actionDocFor(s *action.Spec) actionDoc {
	d := actionDoc{
		Name: s.Name, Summary: s.Summary, Support: s.Support.String(),
		Inputs: []actionInputDoc{}, Outputs: []actionOutputDoc{},
		OpenInputs: s.OpenInputs, UserOutputs: s.UserOutputs, NestedSteps: s.NestedSteps,
		OnCancelAllowed:        !s.NoOnCancel,
		DefaultTimeoutSeconds:  int64(s.DefaultTimeout / time.Second),
		MaxTimeoutSeconds:      int64(s.MaxTimeout / time.Second),
		RetrySafe:              s.RetrySafe,
		RetrySafeForSomeInputs: !s.RetrySafe && s.RetrySafeFor != nil,
		Impact:                 string(s.Impact),
		IAM:                    []string{},
	}
	for _, in := range s.Inputs {
		d.Inputs = append(d.Inputs, actionInputDoc{Name: in.Name, Type: string(in.Type), Required: in.Required, Default: in.Default, Doc: in.Doc})
	}
	for _, o := range s.Outputs {
		d.Outputs = append(d.Outputs, actionOutputDoc{Name: o.Name, Type: string(o.Type), Doc: o.Doc})
	}
	d.IAMWithInputs = []string{}
	if s.IAM != nil {
		acts, gap := s.IAM(map[string]any{})
		d.IAM = append(d.IAM, acts...)
		d.IAMComplete = gap == ""
		// Every input set to a template: the broadest policy the step can need.
		all := map[string]any{}
		for _, in := range s.Inputs {
			all[in.Name] = "{{ " + in.Name + " }}"
		}
		more, gapAll := s.IAM(all)
		for _, a := range more {
			if !slices.Contains(acts, a) {
				d.IAMWithInputs = append(d.IAMWithInputs, a)
			}
		}
		d.IAMCompleteWithInputs = gapAll == ""
	}
	return d
}

func showAction(out io.Writer, e *action.Entry, output outputFormat) error {
	d := actionDocFor(&e.Spec)
	if output == "json" {
		return writeActionJSON(out, d)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  %s\n\n", d.Name, d.Summary)
	fmt.Fprintf(&b, "Support:    %s\n", d.Support)
	fmt.Fprintf(&b, "Impact:     %s\n", d.Impact)
	if d.RetrySafeForSomeInputs {
		fmt.Fprintf(&b, "Retry safe: depends on the inputs (an interrupted step is run again only when its inputs make it safe)\n")
	} else {
		fmt.Fprintf(&b, "Retry safe: %s\n", actionYesNo(d.RetrySafe))
	}
	fmt.Fprintf(&b, "onCancel:   %s\n", map[bool]string{true: "allowed", false: "not allowed"}[d.OnCancelAllowed])
	if d.DefaultTimeoutSeconds > 0 {
		fmt.Fprintf(&b, "Default timeout: %d s\n", d.DefaultTimeoutSeconds)
	}
	if d.MaxTimeoutSeconds > 0 {
		fmt.Fprintf(&b, "Maximum timeout: %d s\n", d.MaxTimeoutSeconds)
	}
	b.WriteString("\nInputs:\n")
	if len(d.Inputs) == 0 {
		b.WriteString("  (none)\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, in := range d.Inputs {
		req := "optional"
		if in.Required {
			req = "required"
		}
		doc := in.Doc
		if in.Default != nil {
			doc += fmt.Sprintf(" Default: %v.", in.Default)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", in.Name, in.Type, req, doc)
	}
	_ = tw.Flush()
	if d.OpenInputs {
		b.WriteString("  any other key is one of the operation's own request fields, passed through as given\n")
	}
	b.WriteString("\nOutputs:\n")
	if len(d.Outputs) == 0 && !d.UserOutputs {
		b.WriteString("  (none)\n")
	}
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, o := range d.Outputs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Name, o.Type, o.Doc)
	}
	_ = tw.Flush()
	if d.UserOutputs {
		b.WriteString("  the step may declare its own outputs: {Name, Selector, Type}\n")
	}
	if d.NestedSteps {
		b.WriteString("\nRuns the nested steps in its Steps input.\n")
	}
	b.WriteString("\nIAM actions:\n")
	for _, a := range d.IAM {
		fmt.Fprintf(&b, "  %s\n", a)
	}
	if len(d.IAM) == 0 {
		b.WriteString("  (none without inputs)\n")
	}
	for _, a := range d.IAMWithInputs {
		fmt.Fprintf(&b, "  %s (depending on inputs)\n", a)
	}
	switch {
	case !d.IAMComplete && d.IAMCompleteWithInputs:
		b.WriteString("  complete only when some optional inputs are set\n")
	case !d.IAMCompleteWithInputs:
		b.WriteString("  incomplete: the rest depends on the step's literal inputs, or on code or runbooks outside the step\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
}

func actionYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

type actionServiceDoc struct {
	Name      string `json:"name"`
	IAMPrefix string `json:"iamPrefix"`
}

func listActionServices(out io.Writer, output outputFormat) error {
	var list []actionServiceDoc
	for _, s := range awsservice.All() {
		list = append(list, actionServiceDoc{Name: s.Name, IAMPrefix: s.IAMPrefix})
	}
	if output == "json" {
		return writeActionJSON(out, list)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tIAM PREFIX")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.IAMPrefix)
	}
	return tw.Flush()
}

func writeActionJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
