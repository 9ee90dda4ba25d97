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

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/execlog"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

func newExecutionsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "executions",
		Short: "List, inspect, approve, signal and stop executions",
	}
	cmd.AddCommand(newExecutionsListCmd(), newExecutionsGetCmd(),
		newDecisionCmd(engine.SignalApprove, "approve ID [--comment TEXT]", "Approve an execution waiting at aws:approve"),
		newDecisionCmd(engine.SignalReject, "reject ID [--comment TEXT]", "Reject an execution waiting at aws:approve"),
		newExecutionsStopCmd(), newExecutionsSignalCmd())
	return cmd
}

func newExecutionsListCmd() *cobra.Command {
	var (
		sf       storeFlags
		statuses []string
		prefix   string
		projects []string
		output   outputFormat
		limit    int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List executions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The flags are DescribeAutomationExecutions' filters, read
			// and checked as the API reads them.
			var filters []ssmshape.Filter
			if len(statuses) > 0 {
				filters = append(filters, ssmshape.Filter{Key: "ExecutionStatus", Values: statuses})
			}
			if prefix != "" {
				filters = append(filters, ssmshape.Filter{Key: "DocumentNamePrefix", Values: []string{prefix}})
			}
			f, err := ssmshape.ExecutionFilter(filters)
			if err != nil {
				return serviceError(fmt.Errorf("--status or --document: %w", err))
			}
			f.Limit, f.Projects = limit, projects
			l, err := sf.openLocal(cmd.Context(), serviceOptions{})
			if err != nil {
				return err
			}
			defer l.Close()
			list, _, err := l.svc.ListExecutions(cmd.Context(), l.who, f)
			if err != nil {
				return serviceError(err)
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"AutomationExecutionMetadataList": metadataList(list)})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDOCUMENT\tPROJECT\tSTATUS\tSTARTED\tDURATION")
			for _, e := range list {
				d := "-"
				if !e.EndTime.IsZero() {
					d = e.EndTime.Sub(e.StartTime).Round(time.Millisecond).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.DocumentName, store.ProjectOf(e.Project), e.Status, e.StartTime.Local().Format(time.DateTime), d)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringArrayVar(&statuses, "status", nil, "only executions with this status (Success, Failed, InProgress, ...); repeatable")
	cmd.Flags().StringVar(&prefix, "document", "", "only executions of documents whose name starts with this")
	cmd.Flags().StringArrayVar(&projects, "project", nil, "only executions of this project; repeatable")
	addOutputFlag(cmd, &output, "text or json (SSM's DescribeAutomationExecutions shape)")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many executions")
	sf.register(cmd)
	return cmd
}

// ExecutionMetadata is one entry of SSM's AutomationExecutionMetadataList.
func metadataList(list []store.Execution) []ssmshape.AutomationExecutionMetadata {
	out := make([]ssmshape.AutomationExecutionMetadata, 0, len(list))
	for _, e := range list {
		out = append(out, ssmshape.Metadata(e, ssmshape.RFC3339))
	}
	return out
}

func newExecutionsGetCmd() *cobra.Command {
	var (
		sf     storeFlags
		output outputFormat
		calls  bool
	)
	cmd := &cobra.Command{
		Use:   "get ID (or a unique prefix of it)",
		Short: "Show one execution: its steps, inputs, outputs and failures",
		Args:  cobra.ExactArgs(1),
		RunE: sf.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			ctx, svc := cmd.Context(), l.svc
			id, err := svc.CompleteID(ctx, l.who, args[0])
			if err != nil {
				return serviceError(err)
			}
			st, err := svc.GetExecution(ctx, l.who, id)
			if err != nil {
				return serviceError(err)
			}
			var recorded []store.Call
			if calls {
				if recorded, err = svc.ExecutionCalls(ctx, l.who, st.ID); err != nil {
					return serviceError(err)
				}
			}
			if output == "json" {
				out := map[string]any{"AutomationExecution": ssmshape.Execution(st, ssmshape.RFC3339)}
				if calls {
					out["Calls"] = execlog.Calls(recorded)
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			printExecution(cmd.OutOrStdout(), st)
			if !engine.Terminal(st.Status) {
				runner, err := svc.ExecutionRunner(ctx, l.who, st.ID)
				if err != nil {
					return serviceError(err)
				}
				printRunner(cmd.OutOrStdout(), runner)
			}
			if calls {
				printCalls(cmd.OutOrStdout(), recorded)
			}
			return nil
		}),
	}
	addOutputFlag(cmd, &output, "text or json (SSM's GetAutomationExecution shape)")
	cmd.Flags().BoolVar(&calls, "calls", false, "also list the AWS calls the execution made")
	sf.register(cmd)
	return cmd
}

func printExecution(w io.Writer, st *engine.State) {
	v := ssmshape.Execution(st, ssmshape.RFC3339)
	fmt.Fprintf(w, "%s  %s  %s\n", v.AutomationExecutionId, v.DocumentName, v.AutomationExecutionStatus)
	if v.ExecutionStartTime != nil {
		fmt.Fprintf(w, "started %s", v.ExecutionStartTime.Local().Format(time.DateTime))
		if v.ExecutionEndTime != nil {
			fmt.Fprintf(w, ", took %s", v.ExecutionEndTime.Sub(v.ExecutionStartTime.Time).Round(time.Millisecond))
		}
		fmt.Fprintln(w)
	}
	if v.FailureMessage != "" {
		fmt.Fprintf(w, "failure: %s\n", v.FailureMessage)
	}
	for _, k := range slices.Sorted(maps.Keys(v.Parameters)) {
		fmt.Fprintf(w, "parameter %s = %s\n", k, strings.Join(v.Parameters[k], ", "))
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tACTION\tSTATUS\tDURATION\tDETAIL")
	for _, s := range v.StepExecutions {
		d := "-"
		if s.ExecutionStartTime != nil && s.ExecutionEndTime != nil {
			d = s.ExecutionEndTime.Sub(s.ExecutionStartTime.Time).Round(time.Microsecond).String()
		}
		detail := s.FailureMessage
		if detail == "" && len(s.Outputs) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(s.Outputs)) {
				parts = append(parts, k+"="+strings.Join(s.Outputs[k], ","))
			}
			detail = strings.Join(parts, " ")
		}
		name := s.StepName
		if s.ParentStepDetails != nil {
			name = fmt.Sprintf("  %s[%d]", s.StepName, s.ParentStepDetails.Iteration)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, s.Action, s.StepStatus, d, detail)
	}
	tw.Flush()
	for _, k := range slices.Sorted(maps.Keys(v.Outputs)) {
		fmt.Fprintf(w, "output %s = %s\n", k, strings.Join(v.Outputs[k], ", "))
	}
}

// printRunner says which process runs an unfinished execution.
func printRunner(w io.Writer, l store.Lease) {
	if l.Owner == "" {
		fmt.Fprintln(w, "no process runs it now (it resumes when capstan serve or run --resume picks it up)")
		return
	}
	fmt.Fprintf(w, "run by %s (lease until %s)\n", l.Owner, l.Until.Local().Format(time.DateTime))
}

func printCalls(w io.Writer, calls []store.Call) {
	fmt.Fprintf(w, "\n%d AWS calls\n", len(calls))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tIAM ACTION\tDURATION\tERROR")
	for _, c := range calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Step, c.IAMAction, c.Duration.Round(time.Microsecond), c.ErrorCode)
	}
	tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return failed(err)
	}
	return nil
}
