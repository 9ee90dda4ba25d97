package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// storeFlags are the flags of every command that opens the store.
type storeFlags struct {
	db string
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "the SQLite database (default "+sqlite.DefaultPath()+", or $CAPSTAN_DB)")
}

func (f *storeFlags) path() string {
	if f.db != "" {
		return f.db
	}
	if p := os.Getenv("CAPSTAN_DB"); p != "" {
		return p
	}
	return sqlite.DefaultPath()
}

func (f *storeFlags) open(ctx context.Context) (*sqlite.DB, error) {
	db, err := sqlite.Open(ctx, f.path(), sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	return db, nil
}
