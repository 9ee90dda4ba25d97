// Package clock holds the time executions read and wait on: real time, or
// the virtual time of capstan test, which jumps to the next deadline as soon
// as every execution is waiting, so an hour-long sleep, an approval's
// timeout or a wait's polling interval takes no real time.
//
// Every wait of an execution goes through a Clock, so the clock knows when
// nothing but time can move the executions on.
package clock

import (
	"context"
	"time"
)

// Clock is the time an engine reads and waits on.
type Clock interface {
	Now() time.Time
	// Wait starts a wait of the calling execution for d (d < 0: no deadline
	// of its own; the deadline of ctx, if WithTimeout of this clock set
	// one, still ends it). It returns a channel closed when the wait's
	// deadline passes and a func ending the wait, to call as soon as the
	// caller stops waiting for whatever reason. Meanwhile the execution
	// counts as idle.
	Wait(ctx context.Context, d time.Duration) (<-chan struct{}, func())
	// WithTimeout is context.WithTimeout on this clock: the context ends
	// with context.DeadlineExceeded once d has passed on it.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
	// Enter marks the start of a goroutine running an execution; the
	// returned func marks its end.
	Enter() (leave func())
}

// Sleep waits d on c, or until ctx ends; it reports whether d passed.
func Sleep(ctx context.Context, c Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	fired, done := c.Wait(ctx, d)
	defer done()
	select {
	case <-fired:
		// A deadline of ctx that fell at the same instant ended it first.
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// Real is the wall clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// Wait closes the channel after d.
func (Real) Wait(_ context.Context, d time.Duration) (<-chan struct{}, func()) {
	if d < 0 {
		return nil, func() {}
	}
	c := make(chan struct{})
	t := time.AfterFunc(d, func() { close(c) })
	return c, func() { t.Stop() }
}

// WithTimeout is context.WithTimeout.
func (Real) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// Enter does nothing: real time moves by itself.
func (Real) Enter() func() { return func() {} }

var _ Clock = Real{}
