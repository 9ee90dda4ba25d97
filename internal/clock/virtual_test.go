package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The tests' own deadline (go test -timeout) guards them: a clock that did
// not jump would sleep for hours.

func TestVirtualJumpsWhenEveryExecutionWaits(t *testing.T) {
	v := NewVirtual(nil)
	defer v.Close()
	start := v.Now()
	leave := v.Enter()
	defer leave()
	if !Sleep(context.Background(), v, 2*time.Hour) {
		t.Fatal("the sleep did not complete")
	}
	if got := v.Now().Sub(start); got < 2*time.Hour {
		t.Errorf("virtual time moved %s, want at least 2h", got)
	}
	if a := v.Advanced(); a < 2*time.Hour-time.Minute || a > 2*time.Hour {
		t.Errorf("advanced %s, want 2h (less the real time the sleep took)", a)
	}
}

func TestVirtualTimeoutEndsAWait(t *testing.T) {
	v := NewVirtual(nil)
	defer v.Close()
	leave := v.Enter()
	defer leave()
	ctx, cancel := v.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if Sleep(ctx, v, 24*time.Hour) {
		t.Fatal("a day's sleep completed inside an hour's timeout")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("ctx.Err() = %v, want DeadlineExceeded", ctx.Err())
	}
	if a := v.Advanced(); a > time.Hour {
		t.Errorf("advanced %s, past the timeout", a)
	}
}

func TestVirtualWaitsWhileAnExecutionWorks(t *testing.T) {
	v := NewVirtual(nil)
	defer v.Close()
	worker := v.Enter()
	sleeper := v.Enter()
	done := make(chan bool)
	go func() {
		defer sleeper()
		done <- Sleep(context.Background(), v, time.Hour)
	}()
	// The worker is busy (as a script or a call is): however long it works
	// in real time, the sleeper's hour does not pass.
	for range 20 {
		time.Sleep(time.Millisecond)
		if a := v.Advanced(); a != 0 {
			t.Fatalf("the clock jumped %s while an execution worked", a)
		}
	}
	select {
	case <-done:
		t.Fatal("the sleep ended while another execution worked")
	default:
	}
	worker()
	if !<-done {
		t.Fatal("the sleep did not complete once the worker left")
	}
	if a := v.Advanced(); a < 59*time.Minute {
		t.Errorf("advanced %s, want the hour", a)
	}
}

func TestVirtualCallsOnIdleWhenNoWaitHasADeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	v := NewVirtual(cancel)
	defer v.Close()
	leave := v.Enter()
	defer leave()
	fired, done := v.Wait(ctx, -1)
	select {
	case <-fired:
		t.Fatal("a wait without a deadline fired")
	case <-ctx.Done():
	}
	done()
	if v.Advanced() != 0 {
		t.Errorf("the clock jumped %s with no deadline to jump to", v.Advanced())
	}
}

func TestVirtualFiresInRealTimeToo(t *testing.T) {
	v := NewVirtual(nil)
	defer v.Close()
	// Nobody entered: the clock never jumps, but a deadline still comes
	// when real time reaches it.
	ctx, cancel := v.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || v.Advanced() != 0 {
		t.Errorf("err %v, advanced %s", ctx.Err(), v.Advanced())
	}
}
