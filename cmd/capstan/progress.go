package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// progress prints an execution's steps as they change. In a terminal it
// also keeps a ticking line for the step in progress; piped, it prints plain
// lines only.
type progress struct {
	w        io.Writer
	tty      bool
	mu       sync.Mutex
	live     string    // the step shown on the ticking line
	from     time.Time // when it started
	stopTick chan struct{}
}

func newProgress(w io.Writer, tty bool) *progress {
	p := &progress{w: w, tty: tty, stopTick: make(chan struct{})}
	if tty {
		go p.tick()
	}
	return p
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) tick() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stopTick:
			return
		case <-t.C:
			p.mu.Lock()
			if p.live != "" {
				fmt.Fprintf(p.w, "\r\033[K%s %s %s", spinner[i%len(spinner)], p.live, time.Since(p.from).Round(100*time.Millisecond))
			}
			p.mu.Unlock()
		}
	}
}

func (p *progress) stop() {
	if p.tty {
		close(p.stopTick)
		p.mu.Lock()
		p.clear()
		p.mu.Unlock()
	}
}

func (p *progress) clear() {
	if p.tty && p.live != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) println(s string) {
	p.clear()
	fmt.Fprintln(p.w, s)
}

// event renders one change of the execution.
func (p *progress) event(st *engine.State, ev store.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Child executions (aws:executeAutomation) show indented under their
	// parent; other executions of the same engine are not this run's.
	indent := "  "
	if st.Started.ParentID != "" {
		indent = "      "
	}
	step := st.EventStep(ev)
	if step == nil && ev.Type != "CancelRequested" {
		return
	}
	switch ev.Type {
	case "StepStarted":
		if step.Attempts > 1 {
			p.println(indent + fmt.Sprintf("↻ %s attempt %d", step.Name, step.Attempts))
		}
		p.live, p.from = fmt.Sprintf("%s (%s)", step.Name, step.Action), time.Now()
		if !p.tty {
			p.println(indent + fmt.Sprintf("▶ %s (%s)", step.Name, step.Action))
		}
	case "StepWaiting":
		if !step.WaitUntil.IsZero() {
			p.live = fmt.Sprintf("%s sleeping until %s", step.Name, step.WaitUntil.Local().Format(time.TimeOnly))
		} else if step.Child != "" {
			p.live = fmt.Sprintf("%s waiting for child execution %s", step.Name, step.Child)
		} else {
			p.live = fmt.Sprintf("%s waiting for a signal", step.Name)
		}
		if !p.tty {
			p.println(indent + "… " + p.live)
		}
	case "StepSucceeded", "StepFailed":
		d := step.EndTime.Sub(step.StartTime).Round(time.Microsecond)
		switch {
		case step.Status == engine.StatusSuccess:
			p.println(indent + fmt.Sprintf("✓ %s %s%s", step.Name, d, outputsText(step)))
		case step.EndTime.IsZero():
			p.println(indent + fmt.Sprintf("✗ %s attempt %d failed: %s", step.Name, step.Attempts, step.FailureMessage))
		default:
			p.println(indent + fmt.Sprintf("✗ %s %s %s: %s", step.Name, step.Status, d, step.FailureMessage))
		}
		p.live = ""
	case "CancelRequested":
		p.println(indent + "■ cancelling")
	}
}

func outputsText(s *engine.StepState) string {
	if len(s.Outputs) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Outputs)) {
		parts = append(parts, k+"="+strings.Join(engine.StringList(s.Outputs[k]), ","))
	}
	text := strings.Join(parts, " ")
	if len(text) > 120 {
		text = text[:117] + "..."
	}
	return "  " + text
}
