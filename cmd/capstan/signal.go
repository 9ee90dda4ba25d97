package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
)

// signalDoc is the help every signalling command shares.
const signalDoc = `The request is checked against the execution's recorded state, then kept
in the store; the process running the execution (capstan run, capstan serve)
applies it within a second. When no process runs the execution now, it is
applied when the execution resumes (capstan serve, capstan run --resume).

Exit status: 0 when the request is accepted, 1 when the execution's state
refuses it (the message says why), 2 on bad usage.`

// newSignalCmd is one command that asks something of an execution in the
// local store: send is called with the service, the person at the command
// line and the whole execution id.
func newSignalCmd(use, short string, flags func(*cobra.Command), send func(ctx context.Context, svc *service.Service, who service.Principal, id string) (what string, err error)) *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  short + ".\n\n" + signalDoc,
		Args:  cobra.ExactArgs(1),
		RunE: sf.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			ctx, svc := cmd.Context(), l.svc
			id, err := svc.CompleteID(ctx, l.who, args[0])
			if err != nil {
				return serviceError(err)
			}
			what, err := send(ctx, svc, l.who, id)
			var usage *exitError
			if errors.As(err, &usage) {
				return err
			}
			if err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s sent to execution %s\n", what, id)
			return nil
		}),
	}
	if flags != nil {
		flags(cmd)
	}
	sf.register(cmd)
	return cmd
}

// newDecisionCmd is approve or reject: a signal with an optional comment.
func newDecisionCmd(typ engine.SignalType, use, short string) *cobra.Command {
	var comment string
	return newSignalCmd(use, short, func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&comment, "comment", "", "a comment recorded with the decision")
	}, func(ctx context.Context, svc *service.Service, who service.Principal, id string) (string, error) {
		var payload map[string][]string
		if comment != "" {
			payload = map[string][]string{"Comment": {comment}}
		}
		return string(typ), svc.SignalExecution(ctx, who, id, typ, payload)
	})
}

func newExecutionsStopCmd() *cobra.Command {
	var typ string
	return newSignalCmd("stop ID", "Stop an execution: cancel it (its onCancel steps run) or, with --type Complete, end it after the step in progress", func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&typ, "type", string(service.StopCancel), "Cancel or Complete")
	}, func(ctx context.Context, svc *service.Service, who service.Principal, id string) (string, error) {
		return "stop (" + typ + ")", svc.StopExecution(ctx, who, id, service.StopType(typ))
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
	}, func(ctx context.Context, svc *service.Service, who service.Principal, id string) (string, error) {
		if typ == "" {
			return "", usageError("--type is required: Approve, Reject, Resume, StartStep, StopStep or Revoke")
		}
		p, err := parsePayload(payload)
		if err != nil {
			return "", err
		}
		return typ, svc.SignalExecution(ctx, who, id, engine.SignalType(typ), p)
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
