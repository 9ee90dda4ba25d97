package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/value"
)

type runFlags struct {
	store     storeFlags
	aws       awsFlags
	params    []string
	paramFile string
	output    outputFormat
	resume    string
	version   string
	dry       dryRunFlags
	fleet     fleetFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE|NAME [-p Name=Value]...",
		Short: "Run a runbook to its end and show its progress",
		Long: `Run a runbook from a file, or a stored document by name, and wait for it
to end. The execution is recorded in the store as it goes; after a crash,
'capstan run --resume ID' continues it where it stopped.

Ctrl-C once cancels the execution (its onCancel steps run); twice aborts it
at once.

Exit status: 0 when the execution ends Success, 1 otherwise, 2 on bad usage.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.resume != "" && len(args) > 0 {
				return usageError("give either a runbook or --resume ID, not both")
			}
			if f.resume == "" && len(args) != 1 {
				return usageError("run takes one runbook file or document name (see 'capstan run --help')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbook(cmd, f, args)
		},
	}
	cmd.Flags().StringArrayVarP(&f.params, "parameter", "p", nil, "a runbook parameter as Name=Value (lists: Name=a,b); repeatable")
	cmd.Flags().StringVar(&f.paramFile, "parameters-file", "", "a JSON or YAML file of parameter values")
	addOutputFlag(cmd, &f.output, "text (live progress) or json (SSM's AutomationExecution)")
	cmd.Flags().StringVar(&f.resume, "resume", "", "continue the unfinished execution with this id")
	cmd.Flags().StringVar(&f.version, "version", "", "the document version to run for a stored NAME (a number or $LATEST; default: the default version)")
	f.store.register(cmd)
	f.aws.register(cmd)
	f.dry.register(cmd)
	registerRecordCalls(cmd, &f.aws)
	f.fleet.register(cmd)
	return cmd
}

func runRunbook(cmd *cobra.Command, f runFlags, args []string) error {
	ctx := cmd.Context()
	db, err := f.store.open(ctx)
	if err != nil {
		return failed(err)
	}
	defer db.Close()

	if err := f.dry.setup(&f.aws); err != nil {
		return err
	}
	stdout := cmd.OutOrStdout()
	prog := newProgress(stdout, f.output == "text" && isTerminal(stdout))
	if f.aws.unsafeScripts {
		fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: --unsafe-scripts: aws:executeScript scripts run without the sandbox and can read")
		fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: everything capstan can (its database, master key, environment). Single-user machines only.")
	}
	svc := f.aws.newService(ctx, db, f.store.cfg, serviceOptions{onChange: func(st *engine.State, ev store.Event) {
		if f.output == "text" && !prog.fleetEvent(st, ev) {
			prog.event(st, ev)
		}
	}, notice: cmd.ErrOrStderr()})
	eng := svc.Engine()

	var id string
	if f.resume != "" {
		id = f.resume
		if err := eng.Resume(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return failed(fmt.Errorf("no execution %s in %s", id, f.store.path()))
			}
			var leased *store.LeasedError
			if errors.As(err, &leased) {
				return failed(fmt.Errorf("execution %s is being run by another process (lease until %s)",
					id, leased.Lease.Until.Local().Format(time.RFC3339)))
			}
			return failed(err)
		}
	} else {
		id, err = startRunbook(ctx, stdout, svc, f, args[0])
		if err != nil {
			return err
		}
	}
	if f.output == "text" {
		fmt.Fprintf(stdout, "execution %s\n", id)
	}

	// Ctrl-C once cancels; twice aborts.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(cmd.ErrOrStderr(), "cancelling (press Ctrl-C again to abort at once)")
			}
			typ := engine.StopCancel
			if n > 1 {
				typ = engine.StopAbort
			}
			var ended *engine.StopError
			if err := eng.Stop(context.Background(), id, typ, localPrincipal().ExecutedBy()); err != nil && !errors.As(err, &ended) {
				fmt.Fprintln(cmd.ErrOrStderr(), "capstan: cancelling:", err)
			}
		}
	}()

	st, err := eng.Wait(ctx, id)
	prog.stop()
	if err != nil {
		return failed(err)
	}
	if f.output == "json" {
		// The shape of `executions get --output json` and of SSM's
		// GetAutomationExecution response.
		v := map[string]any{"AutomationExecution": ssmshape.Execution(st, ssmshape.RFC3339)}
		if rep := f.dry.report(); rep != nil {
			v["DryRun"] = rep
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return failed(err)
		}
	} else {
		fmt.Fprintln(stdout, summaryLine(st))
		for _, k := range slices.Sorted(maps.Keys(st.Outputs)) {
			fmt.Fprintf(stdout, "  %s = %s\n", k, strings.Join(st.Outputs[k], ", "))
		}
		if err := writeDryRunText(stdout, f.dry.report()); err != nil {
			return failed(err)
		}
	}
	if st.Status != engine.StatusSuccess {
		return silentExit(exitFailure)
	}
	return nil
}

// startRunbook starts a runbook file, or a runbook found by name in the
// store, the built-in library or the account's SSM documents.
func startRunbook(ctx context.Context, stdout io.Writer, svc *service.Service, f runFlags, ref string) (string, error) {
	fleet, err := f.fleet.fleet()
	if err != nil {
		return "", usageError("%v", err)
	}
	in := service.StartInput{DocumentVersion: f.version, Parameters: document.Inputs{Flags: f.params}, Fleet: fleet, Project: f.aws.project}
	if f.paramFile != "" {
		typed, err := readParamsFile(f.paramFile)
		if err != nil {
			return "", usageError("%v", err)
		}
		in.Parameters.Typed = typed
	}
	if b, err := os.ReadFile(ref); err == nil {
		base := filepath.Base(ref)
		in.DocumentName, in.File, in.Source = strings.TrimSuffix(base, filepath.Ext(base)), ref, b
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", failed(fmt.Errorf("reading %s: %w", ref, err))
	} else {
		in.DocumentName = ref
	}
	if fleet != nil {
		if err := previewTargets(ctx, stdout, f, fleet); err != nil {
			return "", err
		}
	}
	id, err := svc.StartExecution(ctx, localPrincipal(), in)
	if err != nil {
		return "", serviceError(err)
	}
	return id, nil
}

func readParamsFile(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --parameters-file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("--parameters-file %s: expected a JSON or YAML map of parameter names to values: %w", path, err)
	}
	return value.FromYAML(m).(map[string]any), nil
}

// localPrincipal is the person running the CLI on a local store.
func localPrincipal() service.Principal {
	return service.Principal{Name: cmp.Or(os.Getenv("USER"), "local")}
}

func summaryLine(st *engine.State) string {
	d := st.EndTime.Sub(st.StartTime).Round(time.Millisecond)
	line := fmt.Sprintf("%s in %s", st.Status, d)
	if st.FailureMessage != "" {
		line += ": " + st.FailureMessage
	}
	return line
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
