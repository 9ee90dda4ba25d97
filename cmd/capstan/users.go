package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/capstan-run/capstan/internal/service"
	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/authz"
)

func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the users of 'capstan serve' and their access keys",
		Long: "Users sign their API requests with access keys, as with AWS. capstan shows each user\n" +
			"as arn:aws:iam::" + service.DefaultAccountID + ":user/NAME: that ARN is the ExecutedBy of the executions\n" +
			"the user starts, and aws:approve Approvers match either it or NAME.",
	}
	cmd.AddCommand(newUsersCreateCmd(), newUsersListCmd(), newUsersDeleteCmd(), newUsersUpdatePolicyCmd(), newUsersSetPasswordCmd())
	return cmd
}

func newUsersCreateCmd() *cobra.Command {
	var f keysFlags
	var output outputFormat
	var policy string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "create NAME [--policy file://P.json|AdministratorAccess] [--password-stdin] [--output json]",
		Short: "Create a user and print its access key; the secret is shown only this once",
		Long: "The user acts under --policy: an IAM-style policy document (file://PATH or the JSON) or\n" +
			"the built-in AdministratorAccess, which is the default.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readPolicyArg(policy)
			if err != nil {
				return err
			}
			var password string
			if passwordStdin {
				if password, err = readPassword(cmd, args[0]); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			l, err := f.store.openLocal(ctx, serviceOptions{masterKeyFile: f.masterKeyFile, notice: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			defer l.Close()
			usr, secret, err := l.svc.CreateUser(ctx, l.who, args[0])
			if err != nil {
				return serviceError(err)
			}
			if err := l.svc.PutUserPolicy(ctx, l.who, usr.Name, doc); err != nil {
				return failed(fmt.Errorf("user %s was created but its policy was not stored (run users update-policy): %w", usr.Name, err))
			}
			if !cmd.Flags().Changed("policy") {
				fmt.Fprintf(cmd.ErrOrStderr(), "User %s acts under %s; give --policy to restrict it.\n", usr.Name, authz.AdministratorAccessName)
			}
			if passwordStdin {
				if err := l.svc.SetPassword(ctx, l.who, usr.Name, password); err != nil {
					return failed(fmt.Errorf("user %s was created but its password was not set (run users set-password): %w", usr.Name, err))
				}
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]string{"UserName": usr.Name, "Arn": usr.ARN, "AccessKeyId": usr.AccessKeyID, "SecretAccessKey": secret})
			}
			fmt.Fprintf(out, "UserName         %s\nArn              %s\nAccessKeyId      %s\nSecretAccessKey  %s\n", usr.Name, usr.ARN, usr.AccessKeyID, secret)
			fmt.Fprintln(cmd.ErrOrStderr(), "The secret access key is shown only now; capstan keeps it sealed.")
			return nil
		},
	}
	addOutputFlag(cmd, &output, "text or json")
	cmd.Flags().StringVar(&policy, "policy", authz.AdministratorAccessName, "file://PATH of an IAM-style policy document, the JSON itself, or AdministratorAccess")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "also set the user's web UI password, read from stdin")
	f.register(cmd)
	return cmd
}

func newUsersListCmd() *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users and their access key ids",
		Args:  cobra.NoArgs,
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			list, err := l.svc.ListUsers(cmd.Context(), l.who)
			if err != nil {
				return serviceError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tACCESS KEY ID\tARN\tCREATED")
			for _, u := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Name, u.AccessKeyID, u.ARN, u.Created.UTC().Format("2006-01-02 15:04:05"))
			}
			return w.Flush()
		}),
	}
	f.register(cmd)
	return cmd
}

func newUsersDeleteCmd() *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user; a running server stops accepting its key within 30 seconds",
		Args:  cobra.ExactArgs(1),
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			if err := l.svc.DeleteUser(cmd.Context(), l.who, args[0]); err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted user %s\n", args[0])
			return nil
		}),
	}
	f.register(cmd)
	return cmd
}
