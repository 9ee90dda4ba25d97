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
	var format string
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate [--format text|json] [--strict] FILE...",
		Short: "Check runbooks without running them",
		Long: "Parse and validate SSM Automation runbooks (schemaVersion 0.3, YAML or JSON).\n" +
			"Prints one line per finding as file:line:col: severity: message.\n" +
			"Exits 0 when every file is valid (warnings allowed), 1 when any has an error.\n" +
			"A reference to an output its step does not declare is a warning, as SSM accepts\n" +
			"the runbook and fails only when the referring step runs; --strict makes it an error.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("validate: no runbook given (usage: capstan validate [--format text|json] FILE...)")
			}
			if format != "text" && format != "json" {
				return usageError("validate: unknown --format %q: expected text or json", format)
			}
			return validateFiles(cmd.OutOrStdout(), args, format, strict)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&strict, "strict", false, "report references to undeclared step outputs as errors")
	return cmd
}

func validateFiles(out io.Writer, files []string, format string, strict bool) error {
	reg := action.Builtin()
	all := []document.Diagnostic{}
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
			diags = append(diags, service.Lint(doc)...)
		}
		if strict {
			diags = document.Strict(diags)
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
	}
	if bad {
		return silentExit(exitFailure)
	}
	return nil
}
