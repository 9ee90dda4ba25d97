package targets

import (
	"regexp"
	"strconv"
	"strings"
)

// Limit is a MaxConcurrency or MaxErrors value: a count, or a percentage of
// the targets.
type Limit struct {
	N       int
	Percent bool
	// Text is the value as given, which SSM shows back.
	Text string
}

// SSM's patterns (API_StartAutomationExecution).
var (
	concurrencyPattern = regexp.MustCompile(`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	errorsPattern      = regexp.MustCompile(`^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`)
)

// Defaults when a request leaves the field out: MaxConcurrency 10 (SSM's
// documented default); MaxErrors 0, the default SSM documents for Run
// Command's MaxErrors, since Automation's reference names none.
const (
	DefaultMaxConcurrency = "10"
	DefaultMaxErrors      = "0"
)

// ParseConcurrency reads MaxConcurrency; "" is the default, 10.
func ParseConcurrency(field, s string) (Limit, error) {
	if s == "" {
		s = DefaultMaxConcurrency
	}
	if !concurrencyPattern.MatchString(s) {
		return Limit{}, invalid("%s %q: expected a number from 1 or a percentage from 1%% to 100%% (pattern %s)", field, s, concurrencyPattern)
	}
	return parseLimit(s)
}

// ParseErrors reads MaxErrors; "" is the default, 0.
func ParseErrors(field, s string) (Limit, error) {
	if s == "" {
		s = DefaultMaxErrors
	}
	if !errorsPattern.MatchString(s) {
		return Limit{}, invalid("%s %q: expected a number from 0 or a percentage from 0%% to 100%% (pattern %s)", field, s, errorsPattern)
	}
	return parseLimit(s)
}

func parseLimit(s string) (Limit, error) {
	num, pct := strings.CutSuffix(s, "%")
	n, err := strconv.Atoi(num)
	if err != nil {
		return Limit{}, invalid("%q is not a number", s)
	}
	return Limit{N: n, Percent: pct, Text: s}, nil
}

// Concurrency is how many of total targets may run at once: a count as
// given, a percentage rounded up and at least 1, so 10% of 5 targets runs
// one at a time instead of none.
func (l Limit) Concurrency(total int) int {
	n := l.N
	if l.Percent {
		n = (l.N*total + 99) / 100
	}
	return max(n, 1)
}

// Errors is how many failed children are tolerated among total targets: the
// run starts no new child once more than this many have failed (3 stops
// after the fourth error, 0 after the first). A percentage is rounded down,
// so 10% of 50 tolerates 5 and stops at the sixth, as SSM's API reference
// says; see docs/fleets.md for the user guide's differing example.
func (l Limit) Errors(total int) int {
	if l.Percent {
		return l.N * total / 100
	}
	return l.N
}

func (l Limit) String() string { return l.Text }
