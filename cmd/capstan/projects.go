package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newProjectsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projects",
		Short: "Show the projects of the configuration file and where their executions run",
		Long: "A project owns documents, executions and key-storage paths, and runs its executions\n" +
			"with its own credentials, assumed roles and region (projects: in the configuration file;\n" +
			"see docs/config.md). Everything created without a project belongs to default.",
	}
	cmd.AddCommand(newProjectsListCmd())
	return cmd
}

func newProjectsListCmd() *cobra.Command {
	var f storeFlags
	var aws awsFlags
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "list [--output json]",
		Short: "List the projects with their credential provider, assume-role chain and region (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := f.open(ctx)
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			list, err := aws.newService(ctx, db, f.cfg, serviceOptions{}).ListProjects(ctx, localPrincipal())
			if err != nil {
				return serviceError(err)
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"Projects": list})
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tCREDENTIALS\tREGION\tASSUME ROLES\tENDPOINT")
			for _, p := range list {
				cred := p.Credentials
				if p.Profile != "" {
					cred += " (" + p.Profile + ")"
				}
				region := p.Region
				if region == "" {
					region = "(none)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, cred, region, dash(strings.Join(p.AssumeRoles, " -> ")), dash(p.EndpointURL))
			}
			return w.Flush()
		},
	}
	addOutputFlag(cmd, &output, "text or json")
	f.register(cmd)
	cmd.Flags().StringVar(&aws.region, "region", "", "the AWS region (overrides the project and system settings)")
	return cmd
}
