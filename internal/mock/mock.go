// Package mock answers AWS calls from a list of mocks instead of AWS: the
// offline invoker of capstan test and the responses of capstan run
// --dry-run. Mocks are matched in order; responses are checked against the
// service model.
package mock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// Mock is one answer to a call.
type Mock struct {
	Service string `yaml:"service" json:"service"`
	API     string `yaml:"api" json:"api"`
	// Match, when set, must be a subset of the request: every member it
	// names must be in the request with an equal value.
	Match    map[string]any `yaml:"match,omitempty" json:"match,omitempty"`
	Response map[string]any `yaml:"response,omitempty" json:"response,omitempty"`
	Error    *Error         `yaml:"error,omitempty" json:"error,omitempty"`
}

// Error is a mocked AWS error.
type Error struct {
	Code    string `yaml:"code" json:"code"`
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
}

// Name is how messages name the mock: "ec2 DescribeInstances".
func (m *Mock) Name() string { return m.Service + " " + m.API }

// Check checks the mock against the service model: a known service and
// operation, a request match and a response the operation's shapes accept.
func (m *Mock) Check() error {
	svc, ok := awsservice.Lookup(m.Service)
	if !ok {
		return fmt.Errorf("%s: no such service", m.Name())
	}
	op, ok := svc.Operation(m.API)
	if !ok {
		return fmt.Errorf("%s: service %s has no operation %s", m.Name(), svc.Name, m.API)
	}
	if m.Response != nil && m.Error != nil {
		return fmt.Errorf("%s: give a response or an error, not both", m.Name())
	}
	if m.Error != nil && m.Error.Code == "" {
		return fmt.Errorf("%s: error needs a code", m.Name())
	}
	if m.Match != nil {
		if err := CheckInput(svc.Name, op, m.Match); err != nil {
			return fmt.Errorf("%s: match: %w", m.Name(), err)
		}
	}
	if err := CheckOutput(svc.Name, op, m.Response); err != nil {
		return fmt.Errorf("%s: response: %w", m.Name(), err)
	}
	return nil
}

// matches reports whether the mock answers this call.
func (m *Mock) matches(service, op string, input map[string]any) bool {
	if s, ok := awsservice.Lookup(m.Service); !ok || s.Name != service {
		return false
	}
	if awsservice.OperationName(m.API) != op {
		return false
	}
	for k, want := range m.Match {
		if !equal(want, input[k]) {
			return false
		}
	}
	return true
}

// equal compares a match value with a request value as JSON sees them, so
// 5 and int64(5), or []any and []string, are equal; a scalar matches a
// one-element list.
func equal(want, got any) bool {
	w, g := canonical(want), canonical(got)
	if reflect.DeepEqual(w, g) {
		return true
	}
	if l, ok := g.([]any); ok && len(l) == 1 {
		return reflect.DeepEqual(w, l[0])
	}
	return false
}

func canonical(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// Set is a list of mocks answering calls in order: a call takes the first
// unused mock that matches it; when every matching mock has been used, the
// last of them answers again (a wait polls until the state it wants).
type Set struct {
	mu    sync.Mutex
	mocks []*Mock
	used  []bool
	last  map[string]int // service op → index of the last mock used for it
}

// NewSet returns a set over the mocks, in order.
func NewSet(mocks []*Mock) *Set {
	return &Set{mocks: mocks, used: make([]bool, len(mocks)), last: map[string]int{}}
}

// Take returns the mock that answers the call, if any.
func (s *Set) Take(service, op string, input map[string]any) (*Mock, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.mocks {
		if !s.used[i] && m.matches(service, op, input) {
			s.used[i] = true
			s.last[service+" "+op] = i
			return m, true
		}
	}
	if i, ok := s.last[service+" "+op]; ok && s.mocks[i].matches(service, op, input) {
		return s.mocks[i], true
	}
	return nil, false
}

// Unused lists the mocks no call took.
func (s *Set) Unused() []*Mock {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Mock
	for i, m := range s.mocks {
		if !s.used[i] {
			out = append(out, m)
		}
	}
	return out
}

// ErrUnmocked: a call no mock answers.
var ErrUnmocked = errors.New("no mock answers the call")

// ErrTooManyCalls: the invoker's bound on calls was reached, usually a wait
// whose mocks never give the state it waits for.
var ErrTooManyCalls = errors.New("too many calls")

// Invoker answers every call from the set and never reaches AWS.
type Invoker struct {
	Set *Set
	// MaxCalls bounds the calls answered, 0 for 10,000.
	MaxCalls int
	// Endpoint, when set, answers the calls of scripts (see AWSEnv).
	Endpoint *Endpoint

	mu    sync.Mutex
	calls int
}

// Invoke implements action.Invoker.
func (inv *Invoker) Invoke(_ context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	svc, ok := awsservice.Lookup(service)
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", service, operation, awsapi.ErrUnknownService)
	}
	op, ok := svc.Operation(operation)
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", service, operation, awsapi.ErrUnknownOperation)
	}
	inv.mu.Lock()
	inv.calls++
	n := inv.calls
	inv.mu.Unlock()
	max := inv.MaxCalls
	if max == 0 {
		max = 10000
	}
	if n > max {
		return nil, fmt.Errorf("%s %s: %w: %d calls answered (a wait whose mocks never reach the state it waits for?)", svc.Name, op, ErrTooManyCalls, max)
	}
	m, ok := inv.Set.Take(svc.Name, op, input)
	if !ok {
		return nil, fmt.Errorf("%s %s %s: %w", svc.Name, op, describe(input), ErrUnmocked)
	}
	if m.Error != nil {
		return nil, &awsapi.Error{Service: svc.Name, Operation: op, Code: m.Error.Code, Message: m.Error.Message, StatusCode: http.StatusBadRequest}
	}
	return copyMap(m.Response), nil
}

// describe writes a request briefly for an error message.
func describe(input map[string]any) string {
	b, err := json.Marshal(input)
	if err != nil || len(input) == 0 {
		return "{}"
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// copyMap gives each call its own response, so a step cannot change the
// mock another call reads.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return deepCopy(m).(map[string]any)
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

var _ action.Invoker = (*Invoker)(nil)
