package clock

import (
	"context"
	"sync"
	"time"
)

// Virtual is real time plus an offset that jumps to the next deadline
// whenever every execution that entered it is waiting (on the clock, for a
// signal, or for another execution). While one execution works (a call, a
// script), time runs as it really does, so a step's timeout still ends a
// script that runs too long.
type Virtual struct {
	onIdle func()

	mu       sync.Mutex
	offset   time.Duration
	running  int // executions that entered
	active   int // of them, those not waiting
	timers   []*timer
	untimed  int    // waits without a deadline
	left     bool   // an execution ended since the clock last acted
	epoch    uint64 // changes with every change of the above
	kick     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

type timer struct {
	at    time.Time
	wait  chan struct{} // a wait's: closed when it fires
	end   func()        // a context deadline's: ends the context
	fired bool
}

// settle is how long the clock lets an execution woken by another (a
// child's end wakes its parent) take to mark itself busy before it counts
// everyone as waiting. A lone execution that no other has just left can
// only be woken by the clock (which counts it busy as it fires) or from
// outside the test, so it needs no settling.
const settle = 200 * time.Microsecond

// NewVirtual starts a virtual clock at the current time. onIdle, when set,
// is called (on the clock's own goroutine) when every execution waits and
// none of their waits has a deadline: nothing but a signal from outside
// can move them. Close stops the clock.
func NewVirtual(onIdle func()) *Virtual {
	v := &Virtual{onIdle: onIdle, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	go v.loop()
	return v
}

// Close stops the clock's goroutine; pending waits no longer fire early.
func (v *Virtual) Close() { v.stopOnce.Do(func() { close(v.stop) }) }

// Now is the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now()
}

// Advanced is how far the clock has jumped ahead of real time.
func (v *Virtual) Advanced() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.offset
}

func (v *Virtual) now() time.Time { return time.Now().Add(v.offset) }

// Enter counts a running execution, busy until it waits.
func (v *Virtual) Enter() func() {
	v.mu.Lock()
	v.running++
	v.active++
	v.changed()
	v.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			v.mu.Lock()
			v.running--
			v.active--
			v.left = true
			v.changed()
			v.mu.Unlock()
		})
	}
}

type deadlineKey struct{}

// Wait implements Clock.
func (v *Virtual) Wait(ctx context.Context, d time.Duration) (<-chan struct{}, func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t := &timer{wait: make(chan struct{})}
	timed := d >= 0
	if timed {
		t.at = v.now().Add(d)
	}
	// A wait ends at its context's deadline too: the clock counts it as
	// woken when that deadline fires.
	if dl, ok := ctx.Value(deadlineKey{}).(time.Time); ok && (!timed || dl.Before(t.at)) {
		t.at, timed = dl, true
	}
	if timed {
		v.timers = append(v.timers, t)
	} else {
		v.untimed++
	}
	v.active--
	v.changed()
	return t.wait, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		if t.fired {
			return // firing made it active already
		}
		t.fired = true
		if timed {
			v.remove(t)
		} else {
			v.untimed--
		}
		v.active++
		v.changed()
	}
}

// WithTimeout implements Clock.
func (v *Virtual) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	v.mu.Lock()
	defer v.mu.Unlock()
	at := v.now().Add(d)
	if dl, ok := parent.Value(deadlineKey{}).(time.Time); ok && dl.Before(at) {
		at = dl
	}
	inner, cancel := context.WithCancel(parent)
	ctx := &deadlineCtx{Context: inner, at: at}
	t := &timer{at: at, end: func() { ctx.expire(); cancel() }}
	v.timers = append(v.timers, t)
	v.changed()
	return ctx, func() {
		v.mu.Lock()
		if !t.fired {
			t.fired = true
			v.remove(t)
			v.changed()
		}
		v.mu.Unlock()
		cancel()
	}
}

// deadlineCtx ends with context.DeadlineExceeded at a virtual deadline.
// Deadline reports the parent's: the virtual one is not a real time that
// a network call could use.
type deadlineCtx struct {
	context.Context
	at time.Time

	mu      sync.Mutex
	expired bool
}

func (c *deadlineCtx) expire() {
	c.mu.Lock()
	c.expired = true
	c.mu.Unlock()
}

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	expired := c.expired
	c.mu.Unlock()
	err := c.Context.Err()
	if err != nil && expired {
		return context.DeadlineExceeded
	}
	return err
}

func (c *deadlineCtx) Value(key any) any {
	if key == (deadlineKey{}) {
		return c.at
	}
	return c.Context.Value(key)
}

func (v *Virtual) remove(t *timer) {
	for i, x := range v.timers {
		if x == t {
			v.timers = append(v.timers[:i], v.timers[i+1:]...)
			return
		}
	}
}

// changed notes a change the clock's goroutine must look at. v.mu is held.
func (v *Virtual) changed() {
	v.epoch++
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// next is the earliest pending deadline. v.mu is held.
func (v *Virtual) next() (time.Time, bool) {
	var at time.Time
	for _, t := range v.timers {
		if at.IsZero() || t.at.Before(at) {
			at = t.at
		}
	}
	return at, !at.IsZero()
}

// fireDue fires every timer whose deadline has come, context deadlines
// before waits so that a wait ended by both sees its context ended.
// v.mu is held.
func (v *Virtual) fireDue() {
	now := v.now()
	var ends, waits []*timer
	keep := v.timers[:0]
	for _, t := range v.timers {
		switch {
		case t.at.After(now):
			keep = append(keep, t)
		case t.end != nil:
			ends = append(ends, t)
		default:
			waits = append(waits, t)
		}
	}
	clear(v.timers[len(keep):])
	v.timers = keep
	for _, t := range ends {
		t.fired = true
		t.end()
	}
	for _, t := range waits {
		t.fired = true
		v.active++
		close(t.wait)
	}
	if len(ends)+len(waits) > 0 {
		v.changed()
	}
}

// loop fires deadlines as real time reaches them, and jumps to the next one
// when every execution waits.
func (v *Virtual) loop() {
	idleSeen := ^uint64(0) // the epoch at which onIdle was last called
	real := time.NewTimer(time.Hour)
	defer real.Stop()
	for {
		v.mu.Lock()
		v.fireDue()
		at, timed := v.next()
		epoch := v.epoch
		idle := v.running > 0 && v.active == 0 && (timed || epoch != idleSeen)
		several := v.running > 1 || v.left
		v.mu.Unlock()
		if idle {
			if several {
				select {
				case <-v.stop:
					return
				case <-time.After(settle):
				}
			}
			v.mu.Lock()
			if v.epoch != epoch {
				v.mu.Unlock()
				continue
			}
			v.left = false
			if at, timed := v.next(); timed {
				if d := at.Sub(v.now()); d > 0 {
					v.offset += d
				}
				v.fireDue()
				v.mu.Unlock()
				continue
			}
			idleSeen = epoch
			v.mu.Unlock()
			if v.onIdle != nil {
				v.onIdle()
			}
			continue
		}
		var fire <-chan time.Time
		if timed {
			real.Reset(time.Until(at.Add(-v.Advanced())))
			fire = real.C
		}
		select {
		case <-v.stop:
			return
		case <-v.kick:
		case <-fire:
		}
	}
}

var _ Clock = (*Virtual)(nil)
