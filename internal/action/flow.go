package action

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxSleep is SSM's ceiling for one aws:sleep: 7 days minus one second.
const MaxSleep = 604799 * time.Second

func registerFlow(r *Registry) {
	r.Register(Spec{
		Name:    "aws:branch",
		Summary: "Jump to the NextStep of the first matching choice, else Default, else the next step.",
		Inputs: []Input{
			req("Choices", MapList, "Conditions evaluated in order: NextStep plus Variable and one operator, or And/Or (lists) or Not (one condition)."),
			opt("Default", String, "Step to run when no choice matches; without it the next step in the list runs."),
		},
		RetrySafe: true,
		Impact:    NonMutating,
		Support:   Executes,
		IAM:       noIAM,
	}, branch{})
	r.Register(Spec{
		Name:    "aws:sleep",
		Summary: "Wait for an ISO 8601 Duration or until a Timestamp (at most 604799 s).",
		Inputs: []Input{
			opt("Duration", String, "ISO 8601 duration such as PT10M or P1DT2H; no negatives. One of Duration or Timestamp."),
			opt("Timestamp", String, "ISO 8601 / RFC 3339 time to wait until; a past time continues at once."),
		},
		NoOnCancel: true,
		RetrySafe:  true,
		Impact:     NonMutating,
		Support:    Executes,
		IAM:        noIAM,
	}, sleep{})
	r.Register(Spec{
		Name:    "aws:pause",
		Summary: "Wait until a Resume signal (SendAutomationSignal) arrives.",
		Inputs: []Input{
			// Not on the action page, but AWS-owned runbooks set it and SSM
			// accepts them.
			opt("Message", String, "Text shown while the execution waits (undocumented; used by AWS-owned runbooks)."),
		},
		NoOnCancel:     true,
		DefaultTimeout: 7 * 24 * time.Hour,
		MaxTimeout:     30 * 24 * time.Hour,
		RetrySafe:      true,
		Impact:         NonMutating,
		Support:        Executes,
		IAM:            noIAM,
	}, pause{})
	r.Register(Spec{
		Name:    "aws:loop",
		Summary: "Run nested steps for each iterator value, or while LoopCondition holds (checked after each pass).",
		Inputs: []Input{
			req("Steps", MapList, "The nested steps run on each pass."),
			opt("Iterators", StringList, "Values to iterate over (at most 100); exclusive with LoopCondition."),
			optDefault("IteratorDataType", String, "String", "Type of CurrentIteratorValue: String, Boolean, Integer or StringMap."),
			opt("LoopCondition", StringMap, "A branch-style condition evaluated after each pass; the loop repeats while it holds."),
			optDefault("MaxIterations", Integer, int64(100), "Upper bound on passes, 1 to 100."),
		},
		Outputs: []Output{
			{Name: "CurrentIteration", Type: Integer, Doc: "Pass number, starting at 1."},
			{Name: "CurrentIteratorValue", Type: String, Doc: "The current iterator value (for-each loops)."},
		},
		NestedSteps: true,
		NoOnCancel:  true,
		Impact:      Undetermined,
		// The engine runs the nested steps itself; there is no Impl.
		Support: Executes,
		IAM:     noIAM,
	}, nil)
	r.Register(Spec{
		Name:    "aws:updateVariable",
		Summary: "Set a runbook variable declared under variables.",
		Inputs: []Input{
			req("Name", String, "variable:NAME of a variable the runbook declares."),
			req("Value", Any, "New value; must have the variable's declared type (no conversion)."),
		},
		NoOnCancel: true,
		RetrySafe:  true,
		Impact:     Mutating,
		Support:    Executes,
		IAM:        noIAM,
	}, updateVariable{})
}

type branch struct{}

func (branch) Run(_ context.Context, req *Request) (*Result, error) {
	var choices []any
	switch c := req.Inputs["Choices"].(type) {
	case []any:
		choices = c
	case nil:
		return nil, &InputError{Action: "aws:branch", Input: "Choices", Reason: "missing"}
	default:
		return nil, &InputError{Action: "aws:branch", Input: "Choices", Reason: fmt.Sprintf("expected MapList, got %T", c)}
	}
	for i, c := range choices {
		choice, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("aws:branch: choice %d: expected a map", i)
		}
		matched, err := EvalCondition(choice)
		if err != nil {
			return nil, fmt.Errorf("aws:branch: choice %d: %w", i, err)
		}
		if !matched {
			continue
		}
		next, ok := choice["NextStep"].(string)
		if !ok || next == "" {
			return nil, fmt.Errorf("aws:branch: choice %d matched but has no NextStep", i)
		}
		return &Result{NextStep: next}, nil
	}
	def, _ := req.Inputs["Default"].(string)
	// An empty NextStep tells the engine to go on with the next step.
	return &Result{NextStep: def}, nil
}

type sleep struct{}

func (sleep) Run(_ context.Context, req *Request) (*Result, error) {
	now := req.clock().Now
	d, hasD := req.Inputs["Duration"]
	ts, hasT := req.Inputs["Timestamp"]
	switch {
	case hasD && hasT:
		return nil, &InputError{Action: "aws:sleep", Input: "Duration", Reason: "set only one of Duration and Timestamp"}
	case hasD:
		s, ok := d.(string)
		if !ok {
			return nil, &InputError{Action: "aws:sleep", Input: "Duration", Reason: fmt.Sprintf("expected String, got %T", d)}
		}
		dur, err := ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("aws:sleep: %w", err)
		}
		if dur == 0 {
			return &Result{}, nil
		}
		return &Result{WaitUntil: now().Add(dur)}, nil
	case hasT:
		s, ok := ts.(string)
		if !ok {
			return nil, &InputError{Action: "aws:sleep", Input: "Timestamp", Reason: fmt.Sprintf("expected String, got %T", ts)}
		}
		t, err := ParseTimestamp(s)
		if err != nil {
			return nil, fmt.Errorf("aws:sleep: %w", err)
		}
		n := now()
		if !t.After(n) {
			return &Result{}, nil
		}
		if t.Sub(n) > MaxSleep {
			return nil, fmt.Errorf("aws:sleep: timestamp %s is more than %d s away (the maximum sleep)", s, int64(MaxSleep/time.Second))
		}
		return &Result{WaitUntil: t}, nil
	}
	return nil, &InputError{Action: "aws:sleep", Input: "Duration", Reason: "set Duration or Timestamp"}
}

// ParseDuration parses an ISO 8601 duration as aws:sleep takes it:
// P[nW][nD][T[nH][nM][nS]] with optional fractions (PT0.5S), years and
// months counted as 365 and 30 days. Negative durations and durations over
// MaxSleep are errors.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("duration %q: %s", orig, why)
	}
	if strings.HasPrefix(s, "-") {
		return bad("negative durations are not allowed")
	}
	s = strings.TrimPrefix(s, "+")
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return bad("expected ISO 8601 form such as PT10M or P1DT2H")
	}
	s = strings.ToUpper(s[1:])
	var total float64 // seconds
	inTime, seen := false, false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return bad("T appears twice")
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return bad("nothing after T")
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == 0 || i == len(s) {
			return bad("expected a number followed by a unit (Y, M, W, D, H, M, S)")
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", "."), 64)
		if err != nil {
			return bad("bad number " + s[:i])
		}
		var unit float64
		switch u := s[i]; {
		case !inTime && u == 'Y':
			unit = 365 * 86400
		case !inTime && u == 'M':
			unit = 30 * 86400
		case !inTime && u == 'W':
			unit = 7 * 86400
		case !inTime && u == 'D':
			unit = 86400
		case inTime && u == 'H':
			unit = 3600
		case inTime && u == 'M':
			unit = 60
		case inTime && u == 'S':
			unit = 1
		default:
			return bad(fmt.Sprintf("unexpected unit %q", string(u)))
		}
		total += n * unit
		seen = true
		s = s[i+1:]
	}
	if !seen {
		return bad("no amount given")
	}
	d := time.Duration(total * float64(time.Second))
	if total > float64(MaxSleep/time.Second) {
		return bad(fmt.Sprintf("longer than the maximum sleep of %d s", int64(MaxSleep/time.Second)))
	}
	return d, nil
}

// ParseTimestamp parses an ISO 8601 / RFC 3339 time; one without a zone is UTC.
func ParseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04",
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: expected ISO 8601 such as 2025-01-31T15:04:05Z", s)
}

type pause struct{}

func (pause) Run(context.Context, *Request) (*Result, error) {
	return &Result{WaitSignal: true}, nil
}

// AcceptSignal takes Resume only.
func (pause) AcceptSignal(_ map[string]any, typ SignalType, _ string) error {
	if typ != SignalResume {
		return fmt.Errorf("the waiting step is aws:pause")
	}
	return nil
}

// DecideSignals: the first Resume ends the wait.
func (pause) DecideSignals(_ map[string]any, sigs []Signal) Verdict {
	for _, s := range sigs {
		if s.Type == SignalResume {
			return Verdict{Done: true}
		}
	}
	return Verdict{}
}

type updateVariable struct{}

func (updateVariable) Run(_ context.Context, req *Request) (*Result, error) {
	name, err := stringInput("aws:updateVariable", req.Inputs, "Name")
	if err != nil {
		return nil, err
	}
	v, ok := strings.CutPrefix(name, "variable:")
	if !ok || v == "" {
		return nil, &InputError{Action: "aws:updateVariable", Input: "Name", Reason: fmt.Sprintf("%q: expected variable:NAME", name)}
	}
	value, ok := req.Inputs["Value"]
	if !ok {
		return nil, &InputError{Action: "aws:updateVariable", Input: "Value", Reason: "missing"}
	}
	return &Result{Variables: map[string]any{v: value}}, nil
}

var (
	_ Action       = branch{}
	_ Action       = sleep{}
	_ Action       = pause{}
	_ SignalWaiter = pause{}
	_ Action       = updateVariable{}
)
