package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
)

// signalDoc is the help every signalling command shares.
const signalDoc = `The request is checked against the execution's recorded state, then kept
in the store; the process running the execution (capstan run, capstan serve)
applies it within a second, checking it again against the execution's live
state. The command waits (--wait, 5s by default; 0 does not wait) for that
process's verdict and prints it: applied, or refused and why (the state
changed in between). When no process runs the execution now, the request is
applied when the execution resumes (capstan serve, capstan run --resume).

Exit status: 0 when the request is applied or recorded to apply, 1 when the
execution's state refuses it (the message says why), 2 on bad usage.`

// defaultSignalWait is how long a signalling command waits for the runner's
// verdict: the runner looks for requests twice a second.
const defaultSignalWait = 5 * time.Second

// sendFunc sends one request as who to execution id and returns what it
// sent, for the message, and the ID of the request left pending for the
// execution's runner (service.Service.SignalExecution).
type sendFunc func(ctx context.Context, svc *service.Service, who service.Principal, id string) (what string, pending int64, err error)

// newSignalCmd is one command that asks something of an execution in the
// local store, then waits for the verdict of the process running it.
func newSignalCmd(use, short string, flags func(*cobra.Command), send sendFunc) *cobra.Command {
	var sf storeFlags
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  short + ".\n\n" + signalDoc,
		Args:  cobra.ExactArgs(1),
		RunE: sf.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			if wait < 0 {
				return usageError("--wait %s: expected a duration of 0 or more", wait)
			}
			ctx, svc := cmd.Context(), l.svc
			id, err := svc.CompleteID(ctx, l.who, args[0])
			if err != nil {
				return serviceError(err)
			}
			what, pending, err := send(ctx, svc, l.who, id)
			var usage *exitError
			if errors.As(err, &usage) {
				return err
			}
			if err != nil {
				return serviceError(err)
			}
			out := cmd.OutOrStdout()
			if wait == 0 {
				fmt.Fprintf(out, "%s sent to execution %s\n", what, id)
				return nil
			}
			o, err := svc.SignalOutcome(ctx, l.who, id, pending, wait)
			if err != nil {
				return serviceError(err)
			}
			switch {
			case o.Settled && o.Refusal != "":
				return failed(fmt.Errorf("%s to execution %s refused: %s", what, id, o.Refusal))
			case o.Settled:
				fmt.Fprintf(out, "%s to execution %s applied\n", what, id)
			case o.Running:
				fmt.Fprintf(out, "%s to execution %s recorded; not applied yet after %s\n", what, id, wait)
			default:
				fmt.Fprintf(out, "%s to execution %s recorded; the execution is not running now: it applies when the execution resumes\n", what, id)
			}
			return nil
		}),
	}
	if flags != nil {
		flags(cmd)
	}
	cmd.Flags().DurationVar(&wait, "wait", defaultSignalWait, "how long to wait for the verdict of the process running the execution; 0 does not wait")
	sf.register(cmd)
	return cmd
}

// newDecisionCmd is approve or reject: a signal with an optional comment.
func newDecisionCmd(typ engine.SignalType, use, short string) *cobra.Command {
	var comment string
	return newSignalCmd(use, short, func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&comment, "comment", "", "a comment recorded with the decision")
	}, func(ctx context.Context, svc *service.Service, who service.Principal, id string) (string, int64, error) {
		var payload map[string][]string
		if comment != "" {
			payload = map[string][]string{"Comment": {comment}}
		}
		n, err := svc.SignalExecution(ctx, who, id, typ, payload)
		return string(typ), n, err
	})
}

func newExecutionsStopCmd() *cobra.Command {
	var typ string
	return newSignalCmd("stop ID", "Stop an execution: cancel it (its onCancel steps run) or, with --type Complete, end it after the step in progress", func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&typ, "type", string(service.StopCancel), "Cancel or Complete")
	}, func(ctx context.Context, svc *service.Service, who service.Principal, id string) (string, int64, error) {
		n, err := svc.StopExecution(ctx, who, id, service.StopType(typ))
		return "stop (" + typ + ")", n, err
	})
}

func newExecutionsSignalCmd() *cobra.Command {
	var (
		typ     string
		payload []string
	)
	return newSignalCmd("signal ID --type TYPE [--payload Key=Value]...", "Send a signal (Approve, Reject, Resume, StartStep, StopStep, Revoke) to an execution", func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&typ, "type", "", "the signal: Approve, Reject, Resume, StartStep, StopStep or Revoke (required)")
		cmd.Flags().StringArrayVar(&payload, "payload", nil, "a payload entry as Key=Value (StepName=x, StepExecutionId=..., Comment=...); repeatable")
	}, func(ctx context.Context, svc *service.Service, who service.Principal, id string) (string, int64, error) {
		if typ == "" {
			return "", 0, usageError("--type is required: Approve, Reject, Resume, StartStep, StopStep or Revoke")
		}
		p, err := parsePayload(payload)
		if err != nil {
			return "", 0, err
		}
		n, err := svc.SignalExecution(ctx, who, id, engine.SignalType(typ), p)
		return typ, n, err
	})
}

// parsePayload reads --payload Key=Value flags; a key given twice gets
// both values, as SendAutomationSignal's Payload holds lists.
func parsePayload(flags []string) (map[string][]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string][]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageError("--payload %q: expected Key=Value", f)
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}
