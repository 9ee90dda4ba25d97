package main

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/schedule"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
)

func newSchedulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "Manage schedules: runbooks 'capstan serve' starts on cron(...) or rate(...) expressions",
		Long: `Schedules use EventBridge Scheduler's expressions: cron(minutes hours day-of-month month
day-of-week year), with ? in one of the two day fields and 1-7 = SUN-SAT (or SUN-SAT names), and
rate(N minutes|hours|days). --timezone is an IANA name (default UTC). 'capstan serve' starts each
run once: every server claims a run in the store before starting it, so two servers never start
the same run. A run missed while no server ran is started once at the next start, or skipped
with 'serve --missed-runs skip'. Executions record the schedule as their starter
(arn:aws:iam::ACCOUNT:user/schedule/NAME).`,
	}
	cmd.AddCommand(newSchedulesCreateCmd(), newSchedulesListCmd(), newSchedulesPauseCmd(true), newSchedulesPauseCmd(false), newDeleteCmd("Delete a schedule", (*service.Service).DeleteSchedule))
	return cmd
}

func newSchedulesCreateCmd() *cobra.Command {
	var (
		f      storeFlags
		s      store.Schedule
		output outputFormat
	)
	cmd := &cobra.Command{
		Use:   "create NAME --document DOC --expression 'cron(0 8 ? * MON-FRI *)'|'rate(5 minutes)' [--parameters K=V ...] [--timezone Europe/Berlin]",
		Short: "Create a schedule and show its next run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Name = args[0]
			if s.Name == "" || strings.ContainsAny(s.Name, "/ ") || len(s.Name) > 128 {
				return usageError("schedule name %q: expected up to 128 characters without / or spaces", s.Name)
			}
			if s.Document == "" {
				return usageError("--document: the runbook the schedule starts is required")
			}
			for _, p := range s.Parameters {
				if k, _, ok := strings.Cut(p, "="); !ok || k == "" {
					return usageError("--parameters %q: expected Name=Value", p)
				}
			}
			loc, err := schedule.Location(s.Timezone)
			if err != nil {
				return usageError("--timezone: %w", err)
			}
			expr, err := schedule.Parse(s.Expression, loc)
			if err != nil {
				return usageError("--expression: %w", err)
			}
			s.Created = time.Now().UTC()
			if s.NextRun = expr.Next(s.Created); s.NextRun.IsZero() {
				return usageError("--expression %s: it never runs after now", s.Expression)
			}
			l, err := f.openLocal(cmd.Context(), serviceOptions{})
			if err != nil {
				return err
			}
			defer l.Close()
			if err := l.svc.CreateSchedule(cmd.Context(), l.who, s); err != nil {
				return serviceError(err)
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"Name": s.Name, "NextRun": s.NextRun.In(loc)})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Schedule %s: next run %s\n", s.Name, s.NextRun.In(loc).Format(time.RFC3339))
			return nil
		},
	}
	addOutputFlag(cmd, &output, "text or json")
	cmd.Flags().StringVar(&s.Document, "document", "", "the runbook the schedule starts")
	cmd.Flags().StringVar(&s.Project, "project", "", "the project its executions run in (default: the runbook's)")
	cmd.Flags().StringVar(&s.Expression, "expression", "", "cron(minutes hours day-of-month month day-of-week year) or rate(N minutes|hours|days)")
	cmd.Flags().StringVar(&s.Timezone, "timezone", "", "IANA time zone of a cron expression, e.g. Europe/Berlin (default UTC)")
	cmd.Flags().StringArrayVar(&s.Parameters, "parameters", nil, "a runbook parameter, Name=Value (repeatable; lists comma-separated)")
	f.register(cmd)
	return cmd
}

func newSchedulesListCmd() *cobra.Command {
	var (
		f      storeFlags
		output outputFormat
	)
	cmd := &cobra.Command{
		Use:   "list [--output json]",
		Short: "List the schedules with their next runs",
		Args:  cobra.NoArgs,
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, _ []string) error {
			ctx := cmd.Context()
			list, err := l.db.ListSchedules(ctx)
			if err != nil {
				return failed(err)
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"Schedules": list})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDOCUMENT\tEXPRESSION\tTIMEZONE\tSTATE\tNEXT RUN")
			for _, s := range list {
				state, next := "active", s.NextRun
				if s.Paused {
					state = "paused"
				}
				if loc, err := schedule.Location(s.Timezone); err == nil {
					next = next.In(loc)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Document, s.Expression, cmp.Or(s.Timezone, "UTC"), state, next.Format(time.RFC3339))
			}
			return tw.Flush()
		}),
	}
	addOutputFlag(cmd, &output, "text or json")
	f.register(cmd)
	return cmd
}

func newSchedulesPauseCmd(pause bool) *cobra.Command {
	var f storeFlags
	use, short := "resume NAME", "Resume a schedule from its next run after now (runs missed while paused are not made up)"
	if pause {
		use, short = "pause NAME", "Pause a schedule: no run starts until it is resumed"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			ctx := cmd.Context()
			var next time.Time
			if !pause {
				s, err := l.db.GetSchedule(ctx, args[0])
				if errors.Is(err, store.ErrNotFound) {
					return failed(fmt.Errorf("no schedule %s", args[0]))
				} else if err != nil {
					return failed(err)
				}
				expr, err := schedule.ParseSchedule(s)
				if err != nil {
					return failed(err)
				}
				next = expr.Next(time.Now())
			}
			if err := l.svc.PauseSchedule(ctx, l.who, args[0], pause, next); err != nil {
				return serviceError(err)
			}
			if !pause {
				fmt.Fprintf(cmd.OutOrStdout(), "Schedule %s: next run %s\n", args[0], next.Format(time.RFC3339))
			}
			return nil
		}),
	}
	f.register(cmd)
	return cmd
}
