package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// defaultLeaseDuration is how long an engine's claim to run an execution
// lasts unrenewed: the longest another process waits to take over the
// executions of one that died.
const defaultLeaseDuration = 30 * time.Second

// newOwner names this engine in the leases it takes: host and process id,
// for the people reading "being run by another process", and random bytes,
// so two engines in one process differ.
func newOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}

// leaseUntil is the end of a lease taken or renewed now. Leases are on real
// time even under a virtual clock: they are about processes being alive.
func (e *Engine) leaseUntil(now time.Time) time.Time {
	return now.Add(e.opts.LeaseDuration)
}

// acquire takes the lease of execution id for this engine; a
// *store.LeasedError when a live other process runs it.
func (e *Engine) acquire(ctx context.Context, id string) error {
	now := time.Now()
	return e.opts.Store.AcquireLease(ctx, id, e.owner, now, e.leaseUntil(now))
}

// renewLeases extends the leases of every execution this engine runs, in
// one store write, and stops driving those it lost: another process took
// them over after this one failed to renew in time, and its writes win.
func (e *Engine) renewLeases(ctx context.Context) {
	e.mu.Lock()
	ids := make([]string, 0, len(e.running))
	for id := range e.running {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	lost, err := e.opts.Store.RenewLeases(ctx, e.owner, ids, e.leaseUntil(time.Now()))
	if err != nil {
		e.opts.Logger.Error("renewing the leases of running executions", "executions", len(ids), "error", err)
		return
	}
	for _, id := range lost {
		e.mu.Lock()
		r := e.running[id]
		e.mu.Unlock()
		if r == nil {
			continue // ended meanwhile, and released its lease
		}
		e.opts.Logger.Warn("another process took over the execution; this one stops driving it", "execution", id, "owner", e.owner)
		r.lost.Store(true)
		r.interrupt()
	}
}

// release frees the lease of a run that ended here (finished, or stopped by
// a shutdown), so another process may resume it at once.
func (e *Engine) release(r *run) {
	if r.lost.Load() {
		return
	}
	if err := e.opts.Store.ReleaseLeases(context.Background(), e.owner, []string{r.id}); err != nil {
		e.opts.Logger.Error("releasing the lease of an execution", "execution", r.id, "error", err)
	}
}

// Adopt starts taking over, every lease length until the engine shuts down,
// the unfinished executions whose runner died (their lease ended unrenewed),
// so a long-running server recovers them without a restart. Executions a
// live process runs are left alone.
func (e *Engine) Adopt() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		t := time.NewTicker(e.opts.LeaseDuration)
		defer t.Stop()
		for {
			select {
			case <-e.quit:
				return
			case <-t.C:
			}
			if _, err := e.ResumeAll(context.Background()); err != nil {
				e.opts.Logger.Error("taking over executions whose runner stopped", "error", err)
			}
		}
	}()
}

// resumeChild resumes a child execution for its parent, which has just
// taken over from a runner that died: the child's lease may outlast the
// parent's by up to a renewal interval, so a refusal is retried once that
// lease has ended. A child whose lease keeps being renewed runs in a live
// other process; after a few tries that is the error.
func (r *run) resumeChild(ctx context.Context, id string) error {
	for try := 0; ; try++ {
		err := r.e.Resume(ctx, id)
		var leased *store.LeasedError
		if !errors.As(err, &leased) || try == 3 {
			return err
		}
		wait := time.Until(leased.Lease.Until) + 50*time.Millisecond
		wait = max(min(wait, r.e.opts.LeaseDuration), 0)
		select {
		case <-r.hardCtx.Done():
			return err
		case <-time.After(wait):
		}
	}
}
