package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// storeFlags are the flags of every command that opens the store: the
// database and the configuration file, whose db and keys settings apply when
// no flag says otherwise.
type storeFlags struct {
	db         string
	configPath string
	cfg        *config.Config // read by open
	resolved   string         // the database open chose
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "the SQLite database (default $CAPSTAN_DB, else db: of the configuration, else "+sqlite.DefaultPath()+")")
	cmd.Flags().StringVar(&f.configPath, "config", "", "the configuration file (default "+config.DefaultPath()+")")
}

// open reads the configuration and opens the database: --db, else
// $CAPSTAN_DB, else the configuration's db, else the default path.
func (f *storeFlags) open(ctx context.Context) (*sqlite.DB, error) {
	cfg, err := config.Load(f.configPath)
	if err != nil {
		return nil, err
	}
	f.cfg = cfg
	f.resolved = f.db
	if f.resolved == "" {
		f.resolved = os.Getenv("CAPSTAN_DB")
	}
	if f.resolved == "" {
		f.resolved = cfg.DB
	}
	if f.resolved == "" {
		f.resolved = sqlite.DefaultPath()
	}
	db, err := sqlite.Open(ctx, f.resolved, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	return db, nil
}

// path is the database open chose.
func (f *storeFlags) path() string { return f.resolved }

// masterKeyFile is flag when set, else the configuration's keys.masterKeyFile
// (empty: the environment or master.key beside the database). Call after open.
func (f *storeFlags) masterKeyFile(flag string) string {
	if flag != "" {
		return flag
	}
	return f.cfg.Keys.MasterKeyFile
}

// newDeleteCmd is the `delete NAME` command of a kind of named record kept in
// the local store (webhooks, schedules): a missing name fails saying so.
func newDeleteCmd(kind, short string, del func(*sqlite.DB, context.Context, string) error) *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := f.open(ctx)
			if err != nil {
				return failed(err)
			}
			defer db.Close()
			if err := del(db, ctx, args[0]); errors.Is(err, store.ErrNotFound) {
				return failed(fmt.Errorf("no %s %s", kind, args[0]))
			} else if err != nil {
				return failed(err)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
