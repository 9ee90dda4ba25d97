package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// Missed says what happens to runs missed while no server ran.
type Missed string

const (
	// MissedRun starts a missed run once, however many were missed.
	MissedRun Missed = "run"
	// MissedSkip skips missed runs and waits for the next one.
	MissedSkip Missed = "skip"
)

// Late is how late a run may start and still count as on time rather
// than missed.
const Late = time.Minute

// Location loads a schedule's time zone ("" is UTC).
func Location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: expected an IANA name such as Europe/Berlin: %w", tz, err)
	}
	return loc, nil
}

// ParseSchedule parses a stored schedule's expression in its time zone.
func ParseSchedule(s store.Schedule) (Expr, error) {
	loc, err := Location(s.Timezone)
	if err != nil {
		return nil, err
	}
	return Parse(s.Expression, loc)
}

// Runner starts the runs of the store's schedules as they fall due.
type Runner struct {
	Store store.Schedules
	// Start starts one run of a schedule, returning the execution id.
	Start  func(ctx context.Context, s store.Schedule) (string, error)
	Missed Missed // MissedRun when ""
	Now    func() time.Time
	// Poll bounds the wait between passes, so new schedules are seen;
	// default 15 s.
	Poll   time.Duration
	Logger *slog.Logger
	// Fired, if set, is told each run's outcome: started, skipped or
	// failed; late is how long after its due time the start returned.
	Fired func(schedule, outcome string, late time.Duration)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Pass starts every due run once and returns when the next one is due
// (zero when no schedule is active).
func (r *Runner) Pass(ctx context.Context) (time.Time, error) {
	list, err := r.Store.ListSchedules(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var soonest time.Time
	for _, s := range list {
		if s.Paused || s.NextRun.IsZero() {
			continue
		}
		next := s.NextRun
		if now := r.now(); !s.NextRun.After(now) {
			next, err = r.fire(ctx, s, now)
			if err != nil {
				r.logger().Error("schedule: run", "schedule", s.Name, "err", err)
			}
		}
		if !next.IsZero() && (soonest.IsZero() || next.Before(soonest)) {
			soonest = next
		}
	}
	return soonest, nil
}

// fire claims the due run of s and starts it (or skips a missed one); it
// returns the schedule's next run.
func (r *Runner) fire(ctx context.Context, s store.Schedule, now time.Time) (time.Time, error) {
	expr, err := ParseSchedule(s)
	if err != nil {
		return time.Time{}, err
	}
	// The next run after now: however many runs were missed, one claim
	// covers them all, so a missed run starts once.
	next := expr.Next(now)
	won, err := r.Store.ClaimScheduleRun(ctx, s.Name, s.NextRun, next)
	if err != nil || !won {
		return next, err // another server claimed it
	}
	if now.Sub(s.NextRun) > Late && r.Missed == MissedSkip {
		r.logger().Info("schedule: missed run skipped", "schedule", s.Name, "due", s.NextRun)
		r.fired(s.Name, "skipped", now.Sub(s.NextRun))
		return next, nil
	}
	id, err := r.Start(ctx, s)
	late := r.now().Sub(s.NextRun) // once started: the lateness users see
	if err != nil {
		r.fired(s.Name, "failed", late)
		return next, fmt.Errorf("starting %s: %w", s.Document, err)
	}
	r.logger().Info("schedule: started", "schedule", s.Name, "execution", id, "due", s.NextRun)
	r.fired(s.Name, "started", late)
	return next, nil
}

func (r *Runner) fired(name, outcome string, late time.Duration) {
	if r.Fired != nil {
		r.Fired(name, outcome, late)
	}
}

// Run makes passes until ctx ends, waking when the next run is due.
func (r *Runner) Run(ctx context.Context) {
	poll := r.Poll
	if poll <= 0 {
		poll = 15 * time.Second
	}
	for {
		next, err := r.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			r.logger().Error("schedule: reading schedules", "err", err)
		}
		wait := poll
		if !next.IsZero() {
			wait = min(poll, max(next.Sub(r.now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
