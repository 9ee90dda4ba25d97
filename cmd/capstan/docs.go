package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/service"
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
	var projects []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored runbooks and the built-in library",
		Args:  cobra.NoArgs,
		RunE: sf.run(serviceOptions{}, func(cmd *cobra.Command, l *local, _ []string) error {
			list, err := l.svc.AllDocuments(cmd.Context(), l.who, store.DocumentFilter{Projects: projects})
			if err != nil {
				return serviceError(err)
			}
			if output == "json" {
				type ident struct{ Name, DocumentVersion, Source, DocumentFormat, DocumentType, Project string }
				out := make([]ident, 0, len(list))
				for _, d := range list {
					out = append(out, ident{d.Name, strconv.Itoa(d.Version), docSource(d), d.Format, d.DocumentType, store.ProjectOf(d.Project)})
				}
				return writeJSON(cmd.OutOrStdout(), map[string]any{"DocumentIdentifiers": out})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tPROJECT\tSOURCE")
			for _, d := range list {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", d.Name, d.Version, store.ProjectOf(d.Project), docSource(d))
			}
			return tw.Flush()
		}),
	}
	addOutputFlag(cmd, &output, "text or json")
	cmd.Flags().StringArrayVar(&projects, "project", nil, "only the runbooks of this project (the built-in library is the default project's); repeatable")
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
		RunE: sf.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			d, err := l.svc.GetDocument(cmd.Context(), l.who, args[0], version, "")
			if err != nil {
				return serviceError(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprint(out, d.Content)
			if !strings.HasSuffix(d.Content, "\n") {
				fmt.Fprintln(out)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&version, "version", "", "a version number or $LATEST (default: the default version)")
	sf.register(cmd)
	return cmd
}

func newDocsPutCmd() *cobra.Command {
	var sf storeFlags
	var name, project string
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
			format := "YAML"
			if strings.HasPrefix(strings.TrimSpace(string(src)), "{") {
				format = "JSON"
			}
			l, err := sf.openLocal(cmd.Context(), serviceOptions{})
			if err != nil {
				return err
			}
			defer l.Close()
			d, err := l.svc.PutDocument(cmd.Context(), l.who, service.DocumentInput{Name: name, File: args[0], Content: string(src), Format: format, DocumentType: "Automation", Project: project})
			if err != nil {
				return serviceError(fmt.Errorf("nothing was stored: %w", err))
			}
			if makeDefault && d.Version != d.DefaultVersion {
				if _, err := l.svc.SetDefaultVersion(cmd.Context(), l.who, name, strconv.Itoa(d.Version)); err != nil {
					return serviceError(err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stored %s version %d in project %s\n", name, d.Version, d.Project)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the runbook's name (default: the file name without extension)")
	cmd.Flags().BoolVar(&makeDefault, "default", false, "make the new version the default")
	cmd.Flags().StringVar(&project, "project", "", "the project of a new runbook (default: default): it runs in that project, with its credentials, region and keys; a new version keeps the runbook's project")
	sf.register(cmd)
	return cmd
}

// docSource says where a listed document lives: capstan's store or the
// built-in library.
func docSource(d store.Document) string {
	if d.Owner == catalog.LibraryOwner {
		return string(catalog.FromLibrary)
	}
	return string(catalog.FromStore)
}
