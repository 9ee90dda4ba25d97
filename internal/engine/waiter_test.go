package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
)

// twoKeys is an action of the test's own that waits for signals: it takes
// Resume from anyone but "mallory" and succeeds on the second. The engine
// knows nothing of it but what action.SignalWaiter says.
type twoKeys struct{}

func (twoKeys) Run(context.Context, *action.Request) (*action.Result, error) {
	return &action.Result{WaitSignal: true}, nil
}

func (twoKeys) AcceptSignal(_ map[string]any, typ action.SignalType, user string) error {
	if typ != action.SignalResume || user == "mallory" {
		return errors.New("two keys take Resume from a keyholder")
	}
	return nil
}

func (twoKeys) DecideSignals(_ map[string]any, sigs []action.Signal) action.Verdict {
	if len(sigs) < 2 {
		return action.Verdict{}
	}
	return action.Verdict{Done: true, Outputs: map[string]any{"Turned": int64(len(sigs))}}
}

func TestEngineAsksTheActionAboutSignals(t *testing.T) {
	h := newHarness(t)
	h.reg.Register(action.Spec{Name: "test:twoKeys", RetrySafe: true, Outputs: []action.Output{{Name: "Turned", Type: action.Integer}}}, twoKeys{})
	id := h.start(`
schemaVersion: "0.3"
mainSteps:
  - {name: vault, action: test:twoKeys, inputs: {}}
  - {name: done, action: test:echo, inputs: {Value: "{{ vault.Turned }}"}}
`, nil)
	waitFor(t, h, id, func(st *State) bool { return st.Status == StatusWaiting })
	ctx := context.Background()
	err := h.eng.Signal(ctx, id, SignalResume, nil, "mallory")
	var se *SignalError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "keyholder") || se.Execution != id {
		t.Fatalf("mallory's Resume: %v", err)
	}
	if err := h.eng.Signal(ctx, id, SignalApprove, nil, "alice"); err == nil {
		t.Fatal("Approve was accepted by a step that takes Resume only")
	}
	if err := h.eng.Signal(ctx, id, SignalResume, nil, "alice"); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.eng.Get(ctx, id); st.Status != StatusWaiting {
		t.Fatalf("one key opened the vault: %s", st.Status)
	}
	if err := h.eng.Signal(ctx, id, SignalResume, nil, "bob"); err != nil {
		t.Fatal(err)
	}
	st := h.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := fmt.Sprint(st.Steps[1].Outputs["Value"]); got != "2" {
		t.Errorf("the step after the vault saw Turned=%v, want 2", got)
	}
}

var _ action.SignalWaiter = twoKeys{}
