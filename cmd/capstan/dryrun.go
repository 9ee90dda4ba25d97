package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/dryrun"
	"github.com/capstan-run/capstan/internal/mock"
)

// dryRunFlags are capstan run's --dry-run and --dry-run-responses.
type dryRunFlags struct {
	on        bool
	responses string
	run       *dryrun.Run
}

func (f *dryRunFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.on, "dry-run", false, "make only the calls that read (Describe, Get, List); report every other call with its request instead of making it, and end its step as succeeded")
	cmd.Flags().StringVar(&f.responses, "dry-run-responses", "", "a YAML or JSON list of {service, api, match, response} answering the calls a dry run does not make, so later steps see their outputs")
}

// setup makes aws's engine a dry run when --dry-run is given.
func (f *dryRunFlags) setup(aws *awsFlags) error {
	if !f.on {
		if f.responses != "" {
			return usageError("--dry-run-responses needs --dry-run")
		}
		return nil
	}
	var responses []*mock.Mock
	if f.responses != "" {
		var err error
		if responses, err = mock.Load(f.responses); err != nil {
			return usageError("--dry-run-responses: %v", err)
		}
	}
	f.run = dryrun.New(responses)
	aws.dryRun = f.run
	return nil
}

// report writes what the dry run did and did not do; nil without --dry-run.
func (f *dryRunFlags) report() *dryrun.Report {
	if f.run == nil {
		return nil
	}
	rep := f.run.Report()
	return &rep
}

func writeDryRunText(w io.Writer, rep *dryrun.Report) error {
	if rep == nil {
		return nil
	}
	return rep.WriteText(w)
}
