package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// readPolicyArg reads a --policy argument as the aws CLI reads documents:
// file://PATH, or the JSON itself; or the name of a built-in policy
// (AdministratorAccess). It returns the text to store, checked: a policy
// that does not parse is a usage error naming its file, line and column.
func readPolicyArg(arg string) ([]byte, error) {
	source, text := "--policy", []byte(arg)
	if path, ok := strings.CutPrefix(arg, "file://"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageError("--policy: %v", err)
		}
		source, text = path, b
	} else if _, ok := authz.Builtin(strings.TrimSpace(arg)); !ok && !strings.HasPrefix(strings.TrimSpace(arg), "{") {
		return nil, usageError("--policy %q: expected file://PATH, a JSON policy document or %s", arg, authz.AdministratorAccessName)
	}
	if _, err := authz.ParsePolicyArg(source, text); err != nil {
		return nil, usageError("%v", err)
	}
	return text, nil
}

func newUsersUpdatePolicyCmd() *cobra.Command {
	var f storeFlags
	var policy string
	cmd := &cobra.Command{
		Use:   "update-policy NAME --policy file://P.json|AdministratorAccess",
		Short: "Replace the policy a user acts under (applies to a running server within 5 seconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readPolicyArg(policy)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			l, err := f.openLocal(ctx, serviceOptions{})
			if err != nil {
				return err
			}
			defer l.Close()
			if _, err := l.db.GetUser(ctx, args[0]); err != nil {
				return failed(fmt.Errorf("user %s: %w", args[0], err))
			}
			if err := l.svc.PutUserPolicy(ctx, l.who, args[0], doc); err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s now acts under the new policy\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&policy, "policy", "", "file://PATH of an IAM-style policy document, or AdministratorAccess")
	_ = cmd.MarkFlagRequired("policy")
	f.register(cmd)
	return cmd
}

// warnNoPolicy names the users without a policy: on a shared server they
// may do nothing (users created before policies existed have none).
func warnNoPolicy(ctx context.Context, db *sqlite.DB, w io.Writer) error {
	users, err := db.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("listing users: %w", err)
	}
	var none []string
	for _, u := range users {
		if _, err := db.GetPolicy(ctx, u.Name); errors.Is(err, store.ErrNotFound) {
			none = append(none, u.Name)
		} else if err != nil {
			return err
		}
	}
	if len(none) > 0 {
		fmt.Fprintf(w, "WARNING: users without a policy may do nothing: %s (capstan users update-policy NAME --policy ...)\n", strings.Join(none, ", "))
	}
	return nil
}
