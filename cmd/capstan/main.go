// Command capstan runs AWS Systems Manager Automation runbooks anywhere.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes follow CLI conventions.
const (
	exitOK      = 0
	exitFailure = 1 // the work failed: an invalid runbook, a failed execution
	exitUsage   = 2 // bad flags or arguments
)

// exitError carries an exit code out of a command; its message, if any, has
// already been printed or is printed by main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// outputFormat is the --output flag of commands that print text or JSON. A
// value it refuses fails while flags are parsed, as bad usage (exit 2).
type outputFormat string

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "text|json" }
func (o *outputFormat) Set(s string) error {
	if s != "text" && s != "json" {
		return fmt.Errorf("--output must be text or json, not %q", s)
	}
	*o = outputFormat(s)
	return nil
}

// addOutputFlag registers --output on cmd, text by default.
func addOutputFlag(cmd *cobra.Command, o *outputFormat, usage string) {
	*o = "text"
	cmd.Flags().Var(o, "output", usage)
}

// usageError marks an error as bad usage (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// failed marks an error as a failure of the work (exit 1).
func failed(err error) error {
	return &exitError{code: exitFailure, err: err}
}

// serviceError gives a service's refusal its exit status: bad input is bad
// usage (2), anything else a failure of the work (1). The message is the
// service's, the same the API answers with. nil stays nil.
func serviceError(err error) error {
	if err == nil {
		return nil
	}
	var usage interface{ Usage() bool } // a service or filter error
	if errors.As(err, &usage) && usage.Usage() {
		return &exitError{code: exitUsage, err: err}
	}
	return failed(err)
}

// silentExit ends the command with a code and no further message.
func silentExit(code int) error {
	return &exitError{code: code}
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "capstan",
		Short:         "Run AWS Systems Manager Automation runbooks anywhere",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(commands()...)
	return root
}

// commands lists every subcommand; each lives in its own file.
func commands() []*cobra.Command {
	return []*cobra.Command{
		newRunCmd(),
		newExecutionsCmd(),
		newValidateCmd(),
		newActionsCmd(),
		newKeysCmd(),
		newServeCmd(),
		newUsersCmd(),
		newDocsCmd(),
		newPolicyCmd(),
		newTestCmd(),
		newRecordCmd(),
		newAuditCmd(),
		newNodesCmd(),
		newWebhooksCmd(),
		newSchedulesCmd(),
		newProjectsCmd(),
	}
}

// version is set at release builds (-ldflags "-X main.version=v1.2.3").
var version = ""

// buildVersion is the release version, else the module version and VCS
// revision Go recorded in the binary.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "capstan:", ee.err)
		}
		return ee.code
	}
	// Errors cobra raises itself (unknown command, wrong argument count) are usage errors.
	fmt.Fprintln(stderr, "capstan:", err)
	return exitUsage
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
