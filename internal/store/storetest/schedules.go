package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// RunSchedules checks a store.Schedules implementation, above all that a
// due run is claimed exactly once.
func RunSchedules(t *testing.T, s store.Schedules) {
	ctx := context.Background()
	due := base.Add(time.Hour)
	sc := store.Schedule{Name: "nightly", Document: "D", Parameters: []string{"A=1"}, Expression: "rate(1 hour)", Timezone: "Europe/Berlin", NextRun: due, Created: base}
	must(t, "create", s.CreateSchedule(ctx, sc))
	wantErr(t, "create again", s.CreateSchedule(ctx, sc), store.ErrExists)
	got, err := s.GetSchedule(ctx, "nightly")
	must(t, "get", err)
	if got.Document != "D" || got.Expression != "rate(1 hour)" || got.Timezone != "Europe/Berlin" || len(got.Parameters) != 1 || !got.NextRun.Equal(due) || got.Paused {
		t.Errorf("get = %+v", got)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimScheduleRun(ctx, "nightly", due, due.Add(time.Hour))
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 8 concurrent claims of one run won, want 1", won.Load())
	}
	if got, _ := s.GetSchedule(ctx, "nightly"); !got.NextRun.Equal(due.Add(time.Hour)) {
		t.Errorf("next run after the claim %s", got.NextRun)
	}
	must(t, "pause", s.PauseSchedule(ctx, "nightly", true, time.Time{}))
	if ok, err := s.ClaimScheduleRun(ctx, "nightly", due.Add(time.Hour), due.Add(2*time.Hour)); ok || err != nil {
		t.Errorf("claim of a paused schedule: %v %v", ok, err)
	}
	must(t, "resume", s.PauseSchedule(ctx, "nightly", false, due.Add(5*time.Hour)))
	if got, _ := s.GetSchedule(ctx, "nightly"); got.Paused || !got.NextRun.Equal(due.Add(5*time.Hour)) {
		t.Errorf("after resume %+v", got)
	}
	wantErr(t, "pause unknown", s.PauseSchedule(ctx, "nope", true, time.Time{}), store.ErrNotFound)
	if list, err := s.ListSchedules(ctx); err != nil || len(list) != 1 {
		t.Errorf("list = %v, %v", list, err)
	}
	must(t, "delete", s.DeleteSchedule(ctx, "nightly"))
	wantErr(t, "delete again", s.DeleteSchedule(ctx, "nightly"), store.ErrNotFound)
}
