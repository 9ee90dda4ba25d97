package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// keysFlags open the key storage: the database and the master key.
type keysFlags struct {
	store         storeFlags
	masterKeyFile string
	project       string // keys put and list: the project of the keys
}

func (f *keysFlags) register(cmd *cobra.Command) {
	f.store.register(cmd)
	cmd.Flags().StringVar(&f.masterKeyFile, "master-key-file", "",
		"the file holding the base64 master key (default: $"+keys.EnvMasterKey+", else keys.masterKeyFile of the configuration, else master.key beside the database)")
}

// openLocal opens the store and the service over it with this master key.
func (f *keysFlags) openLocal(cmd *cobra.Command) (*local, error) {
	return f.store.openLocal(cmd.Context(), serviceOptions{masterKeyFile: f.masterKeyFile, notice: cmd.ErrOrStderr()})
}

var _ keys.Backend = (*sqlite.DB)(nil)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage key storage: secrets sealed with the master key, referenced as key:PATH",
		Long: "Key storage keeps secrets (static AWS keys, tokens for runbook parameters) sealed with\n" +
			"AES-256-GCM in the database. Configuration refers to them as key:PATH and runbooks as\n" +
			"{{ key:PATH }}; values are read at the moment of use and masked everywhere else.",
	}
	cmd.AddCommand(newKeysPutCmd(), newKeysListCmd(), newKeysDeleteCmd(), newKeysRotateCmd())
	return cmd
}

func newKeysPutCmd() *cobra.Command {
	var f keysFlags
	cmd := &cobra.Command{
		Use:   "put PATH",
		Short: "Store the value read from stdin at PATH (never from an argument)",
		Example: "  printf '%s' \"$SECRET\" | capstan keys put aws/prod/secret\n" +
			"  printf '%s' \"$TOKEN\" | capstan keys put audit/token --project audit\n" +
			"  capstan keys put db/password < password.txt",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usageError("keys put needs a PATH; the value comes from stdin")
			case len(args) > 1:
				// A value on the command line lands in shell history and ps.
				return usageError("keys put takes the value from stdin, never from an argument: printf '%%s' \"$VALUE\" | capstan keys put %s", args[0])
			}
			if err := keys.CheckPath(args[0]); err != nil {
				return usageError("%v", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			value, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return failed(fmt.Errorf("reading the value from stdin: %w", err))
			}
			value = trimOneNewline(value)
			if len(value) == 0 {
				return usageError("no value on stdin for %s: pipe the value in, e.g. printf '%%s' \"$VALUE\" | capstan keys put %s", args[0], args[0])
			}
			l, err := f.openLocal(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			if err := l.svc.PutKey(cmd.Context(), l.who, f.project, args[0], value); err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stored %s\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.project, "project", "", "the project whose executions may read the key (default: default); a path already stored moves to it")
	return cmd
}

// trimOneNewline drops the newline that `echo` and editors add, and only one,
// so a value that really ends in newlines keeps the others.
func trimOneNewline(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

func newKeysListCmd() *cobra.Command {
	var f keysFlags
	cmd := &cobra.Command{
		Use:   "list [PREFIX]",
		Short: "List the paths in key storage (never the values)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			l, err := f.openLocal(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			list, err := l.svc.ListKeys(cmd.Context(), l.who, prefix)
			if err != nil {
				return serviceError(err)
			}
			for _, e := range list {
				if f.project == "" || e.Project == f.project {
					fmt.Fprintln(cmd.OutOrStdout(), e.Path)
				}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.project, "project", "", "list only the keys of this project")
	return cmd
}

func newKeysDeleteCmd() *cobra.Command {
	var f keysFlags
	cmd := &cobra.Command{
		Use:   "delete PATH",
		Short: "Delete the value at PATH",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.openLocal(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			if err := l.svc.DeleteKey(cmd.Context(), l.who, args[0]); err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newKeysRotateCmd() *cobra.Command {
	var f keysFlags
	cmd := &cobra.Command{
		Use:   "rotate-master",
		Short: "Re-seal every value under a new master key",
		Long: "rotate-master writes a new key to FILE.new and backs the old one up to FILE.bak, re-seals\n" +
			"every value, then replaces FILE and removes the backup. If it is interrupted, nothing is\n" +
			"lost: run it again to finish.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.openLocal(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			n, keyFile, err := l.svc.RotateMasterKey(cmd.Context(), l.who)
			if err != nil {
				return failed(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "re-sealed %d values under a new master key in %s\n", n, keyFile)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
