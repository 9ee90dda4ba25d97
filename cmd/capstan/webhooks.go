package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/webhook"
)

func newWebhooksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Manage webhooks: URLs of 'capstan serve' that start a runbook from a JSON POST",
		Long: `A webhook is served by 'capstan serve' at POST /webhooks/NAME/TOKEN. The JSON payload's
values become the runbook's parameters (--map Param=$.json.path, --default Param=value); the
answer is 202 with {"AutomationExecutionId": ...}. A wrong name or token is 404 and starts
nothing; an empty or malformed payload is 400; a payload over --max-webhook-bytes of serve is 413.
With --signature-key PATH (a key-storage path holding a secret) requests must carry
X-Hub-Signature-256: sha256=HEX, the HMAC-SHA256 of the body, as GitHub sends it.
Executions record the webhook as their starter (arn:aws:iam::ACCOUNT:user/webhook/NAME), which
acts under its own --policy.`,
	}
	cmd.AddCommand(newWebhooksCreateCmd(), newWebhooksListCmd(), newDeleteCmd("Delete a webhook; its URL answers 404 from then on", (*service.Service).DeleteWebhook), newWebhooksRotateCmd())
	return cmd
}

func printToken(cmd *cobra.Command, output outputFormat, name, token string) error {
	path := webhook.Path(name, token)
	if output == "json" {
		return writeJSON(cmd.OutOrStdout(), map[string]string{"Name": name, "Path": path})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "POST %s\n", path)
	fmt.Fprintln(cmd.ErrOrStderr(), "The token in this path is shown only now; capstan keeps only its hash.")
	return nil
}

func newWebhooksCreateCmd() *cobra.Command {
	var (
		f        storeFlags
		output   outputFormat
		doc      string
		mappings []string
		defaults []string
		sigKey   string
		policy   string
		project  string
	)
	cmd := &cobra.Command{
		Use:   "create NAME --document DOC [--map 'Param=$.json.path'...] [--default Param=value...] [--signature-key PATH] [--policy P]",
		Short: "Create a webhook and print its URL path with its token (shown only this once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if name == "" || strings.ContainsAny(name, "/ ?#%") || len(name) > 128 {
				return usageError("webhook name %q: expected up to 128 characters without / ? # %% or spaces", name)
			}
			if doc == "" {
				return usageError("--document: the runbook the webhook starts is required")
			}
			wh := store.Webhook{Name: name, Document: doc, Map: map[string]string{}, Defaults: map[string]string{}, Project: project, Created: time.Now().UTC()}
			for _, m := range mappings {
				p, path, err := webhook.CheckMap(m)
				if err != nil {
					return usageError("%w", err)
				}
				wh.Map[p] = path
			}
			for _, d := range defaults {
				p, v, ok := strings.Cut(d, "=")
				if !ok || strings.TrimSpace(p) == "" {
					return usageError("--default %q: expected Param=value", d)
				}
				wh.Defaults[strings.TrimSpace(p)] = v
			}
			if sigKey != "" {
				if err := keys.CheckPath(sigKey); err != nil {
					return usageError("--signature-key: %w", err)
				}
				wh.SignatureKey = sigKey
			}
			pol, err := readPolicyArg(policy)
			if err != nil {
				return err
			}
			l, err := f.openLocal(cmd.Context(), serviceOptions{})
			if err != nil {
				return err
			}
			defer l.Close()
			token, hash := webhook.NewToken()
			wh.TokenHash = hash
			if err := l.svc.CreateWebhook(cmd.Context(), l.who, wh, pol); service.CodeOf(err) == service.CodeUserExists {
				return failed(fmt.Errorf("%w (rotate its token with 'capstan webhooks rotate %s')", err, name))
			} else if err != nil {
				return serviceError(err)
			}
			if !cmd.Flags().Changed("policy") {
				fmt.Fprintf(cmd.ErrOrStderr(), "Webhook %s acts under %s; give --policy to restrict it.\n", name, authz.AdministratorAccessName)
			}
			return printToken(cmd, output, name, token)
		},
	}
	addOutputFlag(cmd, &output, "text or json")
	cmd.Flags().StringVar(&doc, "document", "", "the runbook the webhook starts")
	cmd.Flags().StringArrayVar(&mappings, "map", nil, "a parameter taken from the payload, Param=$.json.path (repeatable)")
	cmd.Flags().StringArrayVar(&defaults, "default", nil, "a literal parameter value, used when --map finds nothing, Param=value (repeatable)")
	cmd.Flags().StringVar(&project, "project", "", "the project its executions run in (default: the runbook's)")
	cmd.Flags().StringVar(&sigKey, "signature-key", "", "key-storage path of the HMAC secret requests must be signed with (X-Hub-Signature-256)")
	cmd.Flags().StringVar(&policy, "policy", authz.AdministratorAccessName, "file://PATH of an IAM-style policy document, the JSON itself, or AdministratorAccess")
	f.register(cmd)
	return cmd
}

func newWebhooksListCmd() *cobra.Command {
	var (
		f      storeFlags
		output outputFormat
	)
	cmd := &cobra.Command{
		Use:   "list [--output json]",
		Short: "List the webhooks (their tokens are not kept and not shown)",
		Args:  cobra.NoArgs,
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, _ []string) error {
			ctx := cmd.Context()
			list, err := l.db.ListWebhooks(ctx)
			if err != nil {
				return failed(err)
			}
			type item struct {
				Name, Document string
				Map, Defaults  map[string]string `json:",omitempty"`
				SignatureKey   string            `json:",omitempty"`
				Created        time.Time
			}
			items := make([]item, 0, len(list))
			for _, w := range list {
				items = append(items, item{w.Name, w.Document, w.Map, w.Defaults, w.SignatureKey, w.Created})
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"Webhooks": items})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDOCUMENT\tPARAMETERS\tSIGNED")
			for _, w := range items {
				var ps []string
				for _, p := range slices.Sorted(maps.Keys(w.Map)) {
					ps = append(ps, p+"="+w.Map[p])
				}
				for _, p := range slices.Sorted(maps.Keys(w.Defaults)) {
					if _, ok := w.Map[p]; !ok {
						ps = append(ps, p+"="+fmt.Sprintf("%q", w.Defaults[p]))
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", w.Name, w.Document, strings.Join(ps, " "), w.SignatureKey != "")
			}
			return tw.Flush()
		}),
	}
	addOutputFlag(cmd, &output, "text or json")
	f.register(cmd)
	return cmd
}

func newWebhooksRotateCmd() *cobra.Command {
	var (
		f      storeFlags
		output outputFormat
	)
	cmd := &cobra.Command{
		Use:   "rotate NAME [--output json]",
		Short: "Give a webhook a new token and print its new URL path; the old one answers 404 from then on",
		Args:  cobra.ExactArgs(1),
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			token, hash := webhook.NewToken()
			if err := l.svc.SetWebhookToken(cmd.Context(), l.who, args[0], hash); err != nil {
				return serviceError(err)
			}
			return printToken(cmd, output, args[0], token)
		}),
	}
	addOutputFlag(cmd, &output, "text or json")
	f.register(cmd)
	return cmd
}
