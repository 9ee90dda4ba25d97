package engine

import (
	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/keys"
)

// maxLiveOutput bounds what is kept of a running step's printed output.
const maxLiveOutput = 64 << 10

// liveOutput is what a running step has printed so far. It is kept in memory
// only, for watching the step live: the step's log output (Spec.LogOutput)
// records the whole when it ends.
type liveOutput struct {
	action.TailBuffer
	// secret: the step's inputs hold a secret, so what it prints is shown
	// masked wholesale, as its outputs will be recorded.
	secret bool
}

// printer returns the writer a step of an action that prints (one that
// declares a LogOutput) prints to while it runs, and a function that
// forgets it when the step ends; nil for other actions.
func (r *run) printer(step string, entry *action.Entry, inputs map[string]any) (*liveOutput, func()) {
	if entry.Spec.LogOutput == "" {
		return nil, func() {}
	}
	lo := &liveOutput{TailBuffer: action.TailBuffer{Max: maxLiveOutput}, secret: r.masker.touches(inputs)}
	r.printing.Store(step, lo)
	return lo, func() { r.printing.CompareAndDelete(step, lo) }
}

// Printing returns what the running steps of an execution have printed so
// far, by step name, masked as their records will be. It is empty when no
// step prints now, and when the execution runs in another process: the
// step's output is then seen when the step ends.
func (e *Engine) Printing(id string) map[string]string {
	e.mu.Lock()
	r := e.running[id]
	e.mu.Unlock()
	out := map[string]string{}
	if r == nil {
		return out
	}
	r.printing.Range(func(k, v any) bool {
		lo := v.(*liveOutput)
		text := lo.String()
		if lo.secret && text != "" {
			text = keys.Masked
		} else {
			text = r.masker.mask(text)
		}
		out[k.(string)] = text
		return true
	})
	return out
}
