package store

import (
	"context"
	"time"
)

// Schedule runs Document on an EventBridge-style expression.
type Schedule struct {
	Name       string
	Document   string
	Parameters []string // Name=Value, as capstan run -p takes them
	Expression string   // cron(...) or rate(...)
	Timezone   string   // IANA name; "" is UTC
	Paused     bool
	// Project is the project its executions run in; "" for the document's.
	Project string `json:",omitempty"`
	// NextRun is the run due next: the one a server claims, once, before
	// starting it.
	NextRun time.Time
	Created time.Time
}

// Schedules holds the schedules and arbitrates their runs.
type Schedules interface {
	// CreateSchedule stores a new schedule; ErrExists when the name is taken.
	CreateSchedule(ctx context.Context, s Schedule) error
	// GetSchedule returns a schedule; ErrNotFound when none has the name.
	GetSchedule(ctx context.Context, name string) (Schedule, error)
	// ListSchedules returns every schedule by name.
	ListSchedules(ctx context.Context) ([]Schedule, error)
	// DeleteSchedule removes a schedule; ErrNotFound when none has the name.
	DeleteSchedule(ctx context.Context, name string) error
	// PauseSchedule pauses a schedule, or resumes it with its next run;
	// ErrNotFound when none has the name.
	PauseSchedule(ctx context.Context, name string, paused bool, next time.Time) error
	// ClaimScheduleRun moves an unpaused schedule's NextRun from due to
	// next and reports true, atomically: of several servers claiming the
	// same due run, exactly one gets true, and only it starts the run.
	ClaimScheduleRun(ctx context.Context, name string, due, next time.Time) (bool, error)
}
