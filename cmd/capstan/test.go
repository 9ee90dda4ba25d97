package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/runbooktest"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func newTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE...",
		Short: "Run runbook tests offline, with mocked AWS responses",
		Long: "Run runbook test files (YAML: runbook, parameters, mocks, expect) without an endpoint,\n" +
			"credentials or network. Mocks answer the runbook's AWS calls in order; a call no mock\n" +
			"answers fails the test naming it. Sleeps and waits take no time.\n" +
			"Prints one line per test and 'N passed, M failed'; exits 0 when every test passed, else 1.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("test: no test file given (usage: capstan test FILE...)")
			}
			ctx := cmd.Context()
			dir, err := os.MkdirTemp("", "capstan-test-")
			if err != nil {
				return failed(err)
			}
			defer os.RemoveAll(dir)
			db, err := sqlite.Open(ctx, filepath.Join(dir, "test.db"), sqlite.Options{})
			if err != nil {
				return failed(fmt.Errorf("opening the test store: %w", err))
			}
			defer db.Close()
			r := &runbooktest.Runner{Actions: registry(), Store: db, Library: library{}}
			out := cmd.OutOrStdout()
			passed, failedN := 0, 0
			for _, f := range args {
				res := r.Run(ctx, f)
				fmt.Fprintln(out, res)
				if res.Passed {
					passed++
				} else {
					failedN++
				}
			}
			fmt.Fprintf(out, "%d passed, %d failed\n", passed, failedN)
			if failedN > 0 {
				return silentExit(exitFailure)
			}
			return nil
		},
	}
}
