// Package retention deletes finished executions older than a retention
// period (capstan serve --retain 30d), as SSM forgets executions after 30
// days.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// ParseAge reads a retention period: a number of days ("30d") or a Go
// duration ("36h", "90m").
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 && days < 100000 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("retention %q: expected a positive number of days such as 30d, or a duration such as 36h", s)
}

// Defaults for Sweeper.
const (
	DefaultBatch    = 500
	DefaultInterval = time.Hour
	// DefaultPause between batches lets running executions' writes in.
	DefaultPause = 20 * time.Millisecond
)

// Sweeper deletes finished executions older than Keep.
type Sweeper struct {
	Store    store.Store
	Keep     time.Duration
	Batch    int           // executions per transaction; DefaultBatch
	Interval time.Duration // between sweeps; DefaultInterval
	Pause    time.Duration // between batches; DefaultPause
	Now      func() time.Time
	Logger   *slog.Logger
}

// Sweep deletes, batch after batch, every finished execution that ended
// more than Keep ago, and returns how many it deleted.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	pause := s.Pause
	if pause <= 0 {
		pause = DefaultPause
	}
	before := now().Add(-s.Keep)
	total := 0
	for {
		n, err := s.Store.DeleteFinished(ctx, before, batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < batch {
			return total, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C:
		}
	}
}

// Run sweeps now and then every Interval until ctx ends, logging what it
// deleted and every failure.
func (s *Sweeper) Run(ctx context.Context) {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	for {
		n, err := s.Sweep(ctx)
		if n > 0 {
			logger.Info("retention: deleted finished executions", "count", n, "olderThan", s.Keep.String())
		}
		if err != nil && ctx.Err() == nil {
			logger.Error("retention: deleting finished executions", "err", err)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
