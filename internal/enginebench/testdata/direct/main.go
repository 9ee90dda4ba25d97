// Command direct makes the ten-step runbook's calls with the typed SDK
// clients: the hand-written program BenchmarkTenStepsProcess compares a
// whole `capstan run` with, cold start included.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/capstan-run/capstan/internal/enginebench"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		err = enginebench.Direct(ctx, cfg, "/capstan/bench")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
