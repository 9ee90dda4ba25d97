package action

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/capstan-run/capstan/internal/value"
)

// poller is the wait policy of the actions that wait for an AWS resource
// (instances, images, stacks, commands, executions). It is a field of each
// such action so tests can register fast copies without touching a global.
type poller struct {
	initial, max time.Duration
}

var defaultPoller = poller{initial: defaultPollInitial, max: defaultPollMax}

// until calls check until it reports done or fails, sleeping between calls.
// The loop ends with the context: the step's timeout is the bound, and the
// engine turns its deadline into TimedOut. last describes the state seen on
// the latest check so a timeout says what was still missing.
func (p poller) until(ctx context.Context, req *Request, check func(ctx context.Context) (done bool, last string, err error)) error {
	interval := p.initial
	last := "nothing checked yet"
	for {
		done, now, err := check(ctx)
		if err != nil {
			if ctx.Err() != nil {
				// The deadline cut a call short: report the state seen last,
				// not the aborted request.
				return fmt.Errorf("waiting: %w (last: %s)", ctx.Err(), last)
			}
			return err
		}
		last = now
		if done {
			return nil
		}
		if !req.sleep(ctx, interval) {
			return fmt.Errorf("waiting: %w (last: %s)", ctx.Err(), last)
		}
		interval = min(interval*2, p.max)
	}
}

// pollActions are the registered actions that wait; withPoller rebuilds them.
var pollActions = map[string]func(p poller) Action{
	"aws:changeInstanceState": func(p poller) Action { return &changeInstanceState{poll: p} },
	"aws:runInstances":        func(p poller) Action { return &runInstances{poll: p} },
	"aws:createImage":         func(p poller) Action { return &createImage{poll: p} },
	"aws:copyImage":           func(p poller) Action { return &copyImage{poll: p} },
	"aws:runCommand":          func(p poller) Action { return &runCommand{poll: p} },
	"aws:createStack":         func(p poller) Action { return &createStack{poll: p} },
	"aws:deleteStack":         func(p poller) Action { return &deleteStack{poll: p} },
	"aws:executeStateMachine": func(p poller) Action { return &executeStateMachine{poll: p} },
}

// SetPolling makes the waiting actions of r (aws:waitForAwsResourceProperty
// included) check again first after initial, then backing off to at most
// max: against an emulator, the 2-second first wait AWS needs is only delay.
func (r *Registry) SetPolling(initial, max time.Duration) {
	withPoller(r, poller{initial: initial, max: max})
	r.SetImpl("aws:waitForAwsResourceProperty", &waitForProperty{initial: initial, max: max})
}

// withPoller replaces the waiting actions of r with copies using p.
func withPoller(r *Registry, p poller) {
	for name, mk := range pollActions {
		r.SetImpl(name, mk(p))
	}
}

// stringList reads a StringList input; absent is nil, not an error.
func stringList(action string, inputs map[string]any, name string) ([]string, error) {
	switch v := inputs[name].(type) {
	case nil:
		return nil, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, &InputError{Action: action, Input: name, Reason: fmt.Sprintf("element %d is %T, not a string", i, e)}
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, &InputError{Action: action, Input: name, Reason: fmt.Sprintf("expected StringList, got %T", v)}
	}
}

// requiredList is stringList that also rejects an absent or empty list.
func requiredList(action string, inputs map[string]any, name string) ([]string, error) {
	l, err := stringList(action, inputs, name)
	if err == nil && len(l) == 0 {
		err = &InputError{Action: action, Input: name, Reason: "missing or empty"}
	}
	return l, err
}

// anyList turns strings into the []any the Invoker takes.
func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// intInput reads an optional Integer input, def when absent. Strings are
// accepted because a {{ }} reference inside a string substitutes as text.
func intInput(action string, inputs map[string]any, name string, def int64) (int64, error) {
	switch v := inputs[name].(type) {
	case nil:
		return def, nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case float64:
		if v == math.Trunc(v) {
			return int64(v), nil
		}
	case string:
		if n, ok := value.FromText(v, value.Integer); ok {
			return n.(int64), nil
		}
	}
	return 0, &InputError{Action: action, Input: name, Reason: fmt.Sprintf("expected Integer, got %v", inputs[name])}
}

// boolInput reads an optional Boolean input, false when absent.
func boolInput(action string, inputs map[string]any, name string) (bool, error) {
	switch v := inputs[name].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		if b, ok := value.FromText(v, value.Boolean); ok {
			return b.(bool), nil
		}
	}
	return false, &InputError{Action: action, Input: name, Reason: fmt.Sprintf("expected Boolean, got %v", inputs[name])}
}

// copyPresent copies the inputs that are set into request, renamed by the
// pairs (input name → request member); an empty member keeps the name.
func copyPresent(request, inputs map[string]any, names map[string]string) {
	for in, member := range names {
		if !present(inputs, in) {
			continue
		}
		if member == "" {
			member = in
		}
		request[member] = inputs[in]
	}
}

// dig walks nested maps by key; nil when any step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// digString is dig for a string leaf, "" when absent.
func digString(v any, keys ...string) string {
	s, _ := dig(v, keys...).(string)
	return s
}

// digList is dig for a list, nil when absent.
func digList(v any, keys ...string) []any {
	l, _ := dig(v, keys...).([]any)
	return l
}
