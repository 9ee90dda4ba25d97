package schedule

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type starts struct {
	mu  sync.Mutex
	got []string
}

func (s *starts) start(_ context.Context, sc store.Schedule) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, sc.Name)
	return "exec", nil
}

func (s *starts) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.got) }

func setup(t *testing.T, expr string, next time.Time) (*sqlite.DB, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/capstan.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateSchedule(context.Background(), store.Schedule{Name: "nightly", Document: "D", Expression: expr, NextRun: next}); err != nil {
		t.Fatal(err)
	}
	return db, &clock{}
}

func TestTwoServersFireOnce(t *testing.T) {
	due := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	db, clk := setup(t, "cron(0 2 * * ? *)", due)
	var st starts
	a := &Runner{Store: db, Start: st.start, Now: clk.Now}
	b := &Runner{Store: db, Start: st.start, Now: clk.Now}
	clk.Set(due.Add(-time.Second))
	if _, err := a.Pass(context.Background()); err != nil || st.count() != 0 {
		t.Fatalf("before due: %d starts, %v", st.count(), err)
	}
	clk.Set(due.Add(20 * time.Millisecond))
	var wg sync.WaitGroup
	for _, r := range []*Runner{a, b, a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = r.Pass(context.Background()) }()
	}
	wg.Wait()
	if n := st.count(); n != 1 {
		t.Fatalf("%d starts of one due run by two servers, want 1", n)
	}
	s, _ := db.GetSchedule(context.Background(), "nightly")
	if want := due.Add(24 * time.Hour); !s.NextRun.Equal(want) {
		t.Errorf("next run %s, want %s", s.NextRun, want)
	}
}

func TestMissedRuns(t *testing.T) {
	due := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		missed Missed
		starts int
	}{{MissedRun, 1}, {MissedSkip, 0}} {
		db, clk := setup(t, "rate(1 hour)", due)
		var st starts
		var outcomes []string
		r := &Runner{Store: db, Start: st.start, Now: clk.Now, Missed: tc.missed, Fired: func(_, o string, _ time.Duration) { outcomes = append(outcomes, o) }}
		// The server was down for three and a half hours: three runs missed.
		clk.Set(due.Add(3*time.Hour + 30*time.Minute))
		for range 3 {
			if _, err := r.Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if st.count() != tc.starts || len(outcomes) != 1 {
			t.Errorf("missed=%s: %d starts (%v), want %d", tc.missed, st.count(), outcomes, tc.starts)
		}
		s, _ := db.GetSchedule(context.Background(), "nightly")
		if want := due.Add(4 * time.Hour); !s.NextRun.Equal(want) {
			t.Errorf("missed=%s: next run %s, want %s", tc.missed, s.NextRun, want)
		}
	}
}

func TestPausedSchedulesDoNotFire(t *testing.T) {
	due := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	db, clk := setup(t, "rate(5 minutes)", due)
	ctx := context.Background()
	if err := db.PauseSchedule(ctx, "nightly", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var st starts
	r := &Runner{Store: db, Start: st.start, Now: clk.Now}
	clk.Set(due.Add(time.Hour))
	if _, err := r.Pass(ctx); err != nil || st.count() != 0 {
		t.Fatalf("paused: %d starts, %v", st.count(), err)
	}
	if err := db.PauseSchedule(ctx, "nightly", false, due.Add(time.Hour+5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	clk.Set(due.Add(time.Hour + 5*time.Minute))
	if _, err := r.Pass(ctx); err != nil || st.count() != 1 {
		t.Fatalf("resumed: %d starts, %v", st.count(), err)
	}
}

// TestFiringLateness fires 100 runs of rate(1 minute) on a test clock that
// reaches each due time and then runs on in real time, and reports how late
// each start returned: reading the schedules, the store's claim and the
// start are what capstan adds to the due time (the start here records
// nothing; a real start adds the execution's first write).
func TestFiringLateness(t *testing.T) {
	due := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	db, clk := setup(t, "rate(1 minute)", due)
	var st starts
	var lat []time.Duration
	r := &Runner{Store: db, Start: st.start}
	for i := range 100 {
		at := due.Add(time.Duration(i) * time.Minute)
		began := time.Now()
		r.Now = func() time.Time { return at.Add(time.Since(began)) }
		clk.Set(at)
		r.Fired = func(_, outcome string, late time.Duration) {
			if outcome != "started" {
				t.Errorf("run %d: %s", i, outcome)
			}
			lat = append(lat, late)
		}
		next, err := r.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := at.Add(time.Minute); !next.Equal(want) {
			t.Fatalf("run %d: next %s, want %s", i, next, want)
		}
	}
	if st.count() != 100 || len(lat) != 100 {
		t.Fatalf("%d starts, want 100", st.count())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("firing lateness over 100 runs: p50 %s, p99 %s, max %s", lat[49], lat[98], lat[99])
}
