package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var output outputFormat
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate [--output text|json] [--strict] FILE...",
		Short: "Check runbooks without running them",
		Long: "Parse and validate SSM Automation runbooks (schemaVersion 0.3, YAML or JSON).\n" +
			"Prints one line per finding as file:line:col: severity: message.\n" +
			"Exits 0 when every file is valid (warnings allowed), 1 when any has an error.\n" +
			"A reference to an output its step does not declare is a warning, as SSM accepts\n" +
			"the runbook and fails only when the referring step runs; --strict makes it an error.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("validate: no runbook given (usage: capstan validate [--output text|json] FILE...)")
			}
			return validateFiles(cmd.OutOrStdout(), args, string(output), strict)
		},
	}
	addOutputFlag(cmd, &output, "text or json (the diagnostics as a list)")
	cmd.Flags().BoolVar(&strict, "strict", false, "report references to undeclared step outputs as errors")
	return cmd
}

func validateFiles(out io.Writer, files []string, format string, strict bool) error {
	reg := action.Builtin()
	all := []document.Diagnostic{}
	var valid []string // what each valid file held, for the closing lines
	bad := false
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			// An unreadable file is a failure of this file, reported like
			// any other finding so the rest are still checked.
			all = append(all, document.Diagnostic{File: f, Line: 1, Column: 1, Severity: document.Error,
				Message: fmt.Sprintf("cannot read runbook: %v", err)})
			bad = true
			continue
		}
		doc, diags := document.Load(f, src, reg)
		if doc != nil {
			// The same check capstan run makes before it starts.
			diags = append(diags, service.Lint(doc, reg)...)
		}
		if strict {
			diags = document.Strict(diags)
		}
		if doc != nil && !document.HasErrors(diags) {
			valid = append(valid, fmt.Sprintf("%s: valid: %d steps, %d parameters", f, countSteps(doc.MainSteps), len(doc.Parameters)))
		}
		bad = bad || document.HasErrors(diags)
		all = append(all, diags...)
	}
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"diagnostics": all}); err != nil {
			return failed(fmt.Errorf("validate: writing json: %w", err))
		}
	} else {
		for _, d := range all {
			fmt.Fprintln(out, d.String())
		}
		for _, v := range valid {
			fmt.Fprintln(out, v)
		}
		if len(valid) > 0 {
			fmt.Fprintln(out, "checked: the schema, every action and its inputs, step and output references, parameter types and defaults, and the AWS services, operations and request members named")
		}
	}
	if bad {
		return silentExit(exitFailure)
	}
	return nil
}

// countSteps counts a step list's steps and those nested in loops.
func countSteps(steps []*document.Step) int {
	n := len(steps)
	for _, st := range steps {
		n += countSteps(st.Steps)
	}
	return n
}
