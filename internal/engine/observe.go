package engine

import (
	"encoding/json"
	"errors"

	"github.com/capstan-run/capstan/internal/store"
)

// Change is what one durable change of an execution means to an observer
// such as the metrics: Options.OnChange passes the state and the event, and
// Observe reads them without the observer knowing the log's event types.
type Change struct {
	Started  bool       // the execution was created
	Finished bool       // the execution reached its final status (st.Status)
	Step     *StepState // a step execution reached its final outcome; nil otherwise
}

// Observe tells what ev, already folded into st, changed.
func Observe(st *State, ev store.Event) Change {
	switch ev.Type {
	case evExecutionStarted:
		return Change{Started: true}
	case evExecutionFinished:
		return Change{Finished: true}
	case evStepSucceeded, evStepFailed:
		var d struct {
			Index int `json:"index"`
		}
		if json.Unmarshal(ev.Data, &d) != nil {
			return Change{}
		}
		if s := st.byIndex[d.Index]; s != nil && s.final {
			return Change{Step: s}
		}
	}
	return Change{}
}

// Running returns how many executions this engine runs now.
func (e *Engine) Running() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running)
}

// ErrShutdown: the engine is shutting down.
var ErrShutdown = errors.New("engine is shutting down")

// Ready returns nil while the engine runs executions, ErrShutdown once
// Shutdown began.
func (e *Engine) Ready() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return ErrShutdown
	}
	return nil
}
