package document

import (
	"errors"
	"fmt"
	"testing"
)

func TestSplitErrorsSeparatesParameterErrors(t *testing.T) {
	a := &ParameterError{Name: "InstanceId", Value: "x", Rule: "expected i-..."}
	b := &ParameterError{Name: "Count", Rule: "expected an Integer"}
	other := errors.New("the runbook needs a Region")
	err := fmt.Errorf("starting: %w", errors.Join(a, fmt.Errorf("wrapped: %w", b), other))
	params, rest := SplitErrors(err)
	if len(params) != 2 || params[0] != a || params[1] != b {
		t.Errorf("params = %v, want InstanceId then Count", params)
	}
	if len(rest) != 1 || rest[0] != other {
		t.Errorf("rest = %v, want only %q", rest, other)
	}
	if p, r := SplitErrors(nil); p != nil || r != nil {
		t.Errorf("SplitErrors(nil) = %v, %v", p, r)
	}
}
