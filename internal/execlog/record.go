// Package execlog holds the record of an execution as capstan keeps and
// ships it (SSM's AutomationExecution with the AWS calls it made), and the
// Shipper that writes finished executions to S3 and step output to
// CloudWatch Logs.
package execlog

import (
	"context"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

// Call is one recorded AWS call as records show it.
type Call struct {
	Step, Service, Operation, IAMAction string
	StartTime                           time.Time
	DurationMicros                      int64
	ErrorCode                           string `json:",omitempty"`
}

// Calls renders recorded calls.
func Calls(calls []store.Call) []Call {
	out := make([]Call, 0, len(calls))
	for _, c := range calls {
		out = append(out, Call{c.Step, c.Service, c.Operation, c.IAMAction, c.Start, c.Duration.Microseconds(), c.ErrorCode})
	}
	return out
}

// Record is an execution with its calls: steps, inputs, outputs (script
// output included) and failures as SSM's GetAutomationExecution shows them.
type Record struct {
	AutomationExecution ssmshape.AutomationExecution
	Calls               []Call
}

// Load reads an execution's record from the store.
func Load(ctx context.Context, db store.Store, id string) (*Record, error) {
	events, err := db.Events(ctx, id, 0)
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", id, err)
	}
	st, err := engine.Fold(id, events)
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", id, err)
	}
	calls, err := db.Calls(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("calls of execution %s: %w", id, err)
	}
	return &Record{AutomationExecution: ssmshape.Execution(st, ssmshape.RFC3339), Calls: Calls(calls)}, nil
}
