package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/password"
)

// readPassword reads a web UI password from stdin (never an argument, which
// would land in shell history and ps) and checks it.
func readPassword(cmd *cobra.Command, user string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
	if err != nil {
		return "", failed(fmt.Errorf("reading the password from stdin: %w", err))
	}
	pw := string(trimOneNewline(b))
	if pw == "" {
		return "", usageError("no password on stdin for %s: pipe it in, e.g. printf '%%s' \"$PASSWORD\" | capstan users set-password %s", user, user)
	}
	if err := password.Check(pw); err != nil {
		return "", usageError("%v", err)
	}
	return pw, nil
}

func newUsersSetPasswordCmd() *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:   "set-password NAME < password.txt",
		Short: "Set the password a user signs in to the web UI with, read from stdin; ends the user's sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, args[0])
			if err != nil {
				return err
			}
			return f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
				if err := l.svc.SetPassword(cmd.Context(), l.who, args[0], pw); err != nil {
					return serviceError(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "set the web UI password of %s\n", args[0])
				return nil
			})(cmd, args)
		},
	}
	f.register(cmd)
	return cmd
}
