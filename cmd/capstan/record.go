package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/runbooktest"
	"github.com/capstan-run/capstan/internal/store"
)

// registerRecordCalls adds capstan run's --record-calls.
func registerRecordCalls(cmd *cobra.Command, f *awsFlags) {
	cmd.Flags().BoolVar(&f.recordCalls, "record-calls", false, "keep each AWS call's request and response in the store, for capstan record (they may hold secrets)")
}

func newRecordCmd() *cobra.Command {
	var (
		to string
		sf storeFlags
	)
	cmd := &cobra.Command{
		Use:   "record ID --to FILE.test.yaml",
		Short: "Write a runbook test from a recorded execution",
		Long: "Write a test for capstan test from an execution run with --record-calls: its calls\n" +
			"and responses become the mocks, in order, its parameters the test's, and its status,\n" +
			"outputs and step statuses the expectation. A runbook that is not the library's is\n" +
			"written beside the test as NAME.runbook.yaml.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usageError("record: --to FILE.test.yaml is required")
			}
			ctx := cmd.Context()
			db, err := sf.open(ctx)
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(to), ".yaml"), ".test")
			runbookFile := base + ".runbook.yaml"
			rec, err := runbooktest.Record(ctx, db, args[0], library{}, runbookFile)
			if errors.Is(err, store.ErrNotFound) {
				return failed(fmt.Errorf("no execution %s in %s", args[0], sf.path()))
			}
			if err != nil {
				return failed(err)
			}
			if rec.Runbook != nil {
				p := filepath.Join(filepath.Dir(to), runbookFile)
				if err := os.WriteFile(p, rec.Runbook, 0o644); err != nil {
					return failed(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
			}
			if err := os.WriteFile(to, rec.Test, 0o644); err != nil {
				return failed(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the test file to write")
	sf.register(cmd)
	return cmd
}
