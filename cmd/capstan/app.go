package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/service"
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

// local is a command's hold on the local store: the database and the
// service over it, used as the person at the command line (whose changes
// the audit log records as local:NAME from the cli).
type local struct {
	db  *sqlite.DB
	svc *service.Service
	who service.Principal
}

// openLocal opens the store and the service over it; the error is already
// the command's (exit 1). Close it when done.
func (f *storeFlags) openLocal(ctx context.Context, o serviceOptions) (*local, error) {
	db, err := f.open(ctx)
	if err != nil {
		return nil, failed(err)
	}
	return &local{db: db, svc: (&awsFlags{}).newService(ctx, db, f.cfg, o), who: localPrincipal()}, nil
}

func (l *local) Close() { _ = l.db.Close() }

// run is a command's RunE over the local store: it opens the store and the
// service, does the work and closes them.
func (f *storeFlags) run(o serviceOptions, work func(cmd *cobra.Command, l *local, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		l, err := f.openLocal(cmd.Context(), o)
		if err != nil {
			return err
		}
		defer l.Close()
		return work(cmd, l, args)
	}
}

// newDeleteCmd is the `delete NAME` command of a kind of named record kept in
// the local store (webhooks, schedules): a missing name fails saying so.
func newDeleteCmd(short string, del func(s *service.Service, ctx context.Context, p service.Principal, name string) error) *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: f.run(serviceOptions{}, func(cmd *cobra.Command, l *local, args []string) error {
			return serviceError(del(l.svc, cmd.Context(), l.who, args[0]))
		}),
	}
	f.register(cmd)
	return cmd
}
