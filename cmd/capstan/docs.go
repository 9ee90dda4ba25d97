package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

func newDocsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "List, show and store runbooks (stored versions and the built-in library)",
	}
	cmd.AddCommand(newDocsListCmd(), newDocsShowCmd(), newDocsPutCmd())
	return cmd
}

func newDocsListCmd() *cobra.Command {
	var sf storeFlags
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored runbooks and the built-in library",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := sf.open(cmd.Context())
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			list, err := newCatalog(db, nil).List(cmd.Context())
			if err != nil {
				return failed(err)
			}
			if output == "json" {
				type ident struct{ Name, DocumentVersion, Source, DocumentFormat, DocumentType string }
				out := make([]ident, 0, len(list))
				for _, e := range list {
					out = append(out, ident{e.Name, e.Version, string(e.Source), e.Format, "Automation"})
				}
				return writeJSON(cmd.OutOrStdout(), map[string]any{"DocumentIdentifiers": out})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tSOURCE")
			for _, e := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, e.Version, e.Source)
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "text or json")
	sf.register(cmd)
	return cmd
}

func newDocsShowCmd() *cobra.Command {
	var sf storeFlags
	var version string
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a runbook's source (a stored version or the built-in one)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := sf.open(cmd.Context())
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			d, _, err := newCatalog(db, nil).Find(cmd.Context(), args[0], version)
			if err != nil {
				return failed(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprint(out, string(d.Source))
			if !strings.HasSuffix(string(d.Source), "\n") {
				fmt.Fprintln(out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "a version number or $LATEST (default: the default version)")
	sf.register(cmd)
	return cmd
}

func newDocsPutCmd() *cobra.Command {
	var sf storeFlags
	var name string
	var makeDefault bool
	cmd := &cobra.Command{
		Use:   "put FILE --name NAME",
		Short: "Store a runbook as a new version (version 1 of a new name becomes its default)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return failed(fmt.Errorf("reading %s: %w", args[0], err))
			}
			if name == "" {
				base := filepath.Base(args[0])
				name = strings.TrimSuffix(base, filepath.Ext(base))
			}
			_, diags := document.Load(args[0], src, registry())
			if document.HasErrors(diags) {
				for _, d := range diags {
					if d.Severity == document.Error {
						fmt.Fprintln(cmd.ErrOrStderr(), d)
					}
				}
				return failed(fmt.Errorf("%s is not a valid runbook; nothing was stored", args[0]))
			}
			format := "YAML"
			if strings.HasPrefix(strings.TrimSpace(string(src)), "{") {
				format = "JSON"
			}
			db, err := sf.open(cmd.Context())
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			d, err := db.PutDocument(cmd.Context(), store.Document{Name: name, Content: string(src), Format: format, DocumentType: "Automation", Owner: currentUser()})
			if err != nil {
				return failed(fmt.Errorf("storing %s: %w", name, err))
			}
			if makeDefault && d.Version != d.DefaultVersion {
				if err := db.SetDefaultVersion(cmd.Context(), name, d.Version); err != nil {
					return failed(err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stored %s version %d\n", name, d.Version)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the runbook's name (default: the file name without extension)")
	cmd.Flags().BoolVar(&makeDefault, "default", false, "make the new version the default")
	sf.register(cmd)
	return cmd
}

// newCatalog resolves runbook names over the store and the built-in library,
// and over the account's SSM when an engine's AWS access is given.
func newCatalog(db store.Store, account *accountAccess) *catalog.Catalog {
	c := &catalog.Catalog{Store: db, Library: library{}}
	if account != nil {
		c.Account = account.invoker
	}
	return c
}
