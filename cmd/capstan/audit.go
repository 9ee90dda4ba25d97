package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/store"
)

func newAuditCmd() *cobra.Command {
	var f storeFlags
	var output outputFormat
	var q store.AuditQuery
	cmd := &cobra.Command{
		Use:   "audit [--user NAME] [--after SEQ] [--limit N] [--output json]",
		Short: "Show the audit log: every change made through the API or this CLI, oldest first",
		Long: "Every call that changes something (an execution started, stopped or signalled, a document\n" +
			"created, updated or deleted, a user, policy, key, webhook or schedule changed, a start by a\n" +
			"webhook or schedule) is one record: who, what, on which\n" +
			"resource, the result, when and from where. Refused calls are recorded with their refusal.\n" +
			"The log is append-only; nothing in capstan deletes or rewrites a record.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if q.Limit < 0 || q.AfterSeq < 0 {
				return usageError("--limit and --after take numbers of 0 or more")
			}
			db, err := f.open(cmd.Context())
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			recs, err := db.ListAudit(cmd.Context(), q)
			if err != nil {
				return failed(err)
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if recs == nil {
					recs = []store.AuditRecord{}
				}
				return enc.Encode(recs)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SEQ\tTIME\tUSER\tACTION\tRESOURCE\tRESULT\tSOURCE\tDETAIL")
			for _, r := range recs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.UTC().Format("2006-01-02 15:04:05"), r.User, r.Action, r.Resource, r.Result, r.Source, r.Detail)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&q.User, "user", "", "only the records of this caller")
	cmd.Flags().Int64Var(&q.AfterSeq, "after", 0, "only records after this sequence number (for paging)")
	cmd.Flags().IntVar(&q.Limit, "limit", 1000, "at most this many records")
	addOutputFlag(cmd, &output, "text or json")
	f.register(cmd)
	return cmd
}
