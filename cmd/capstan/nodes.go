package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/targets"
)

func newNodesCmd() *cobra.Command {
	var (
		sf      storeFlags
		af      awsFlags
		filters []string
		output  outputFormat
	)
	cmd := &cobra.Command{
		Use:   "nodes [--filter NAME=VALUE]...",
		Short: "List the EC2 instances of the account, to pick targets from",
		Long: `List EC2 instances with their name (tag Name, else the instance id), state,
private and public addresses, Region and tags, every page of them.

--filter takes DescribeInstances filters: tag:Env=prod, instance-state-name=running,
tag:Team=a,b (either value). Repeat it to require each.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var fs []targets.Filter
			for _, s := range filters {
				f, err := targets.ParseFilter(s)
				if err != nil {
					return usageError("%v", err)
				}
				fs = append(fs, f)
			}
			ctx := cmd.Context()
			db, err := sf.open(ctx)
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			af.newService(ctx, db, sf.cfg, serviceOptions{})
			inv, err := af.account(ctx)
			if err != nil {
				return failed(err)
			}
			nodes, err := targets.Nodes(ctx, inv, fs, "")
			if err != nil {
				return failed(err)
			}
			if output == "json" {
				if nodes == nil {
					nodes = []targets.Node{}
				}
				return writeJSON(cmd.OutOrStdout(), map[string]any{"Nodes": nodes})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tINSTANCE\tSTATE\tPRIVATE\tPUBLIC\tREGION\tTAGS")
			for _, n := range nodes {
				var tags []string
				for _, k := range slices.Sorted(maps.Keys(n.Tags)) {
					tags = append(tags, k+"="+n.Tags[k])
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.ID, n.State, dash(n.PrivateIP), dash(n.PublicIP), n.Region, strings.Join(tags, ","))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "a DescribeInstances filter NAME=VALUE[,VALUE...], e.g. tag:Env=prod; repeatable")
	addOutputFlag(cmd, &output, "text or json")
	sf.register(cmd)
	af.register(cmd)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
