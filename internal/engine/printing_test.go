package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
)

// printer registers test:print, which prints its Text input and waits for
// release before it ends, keeping the printed text as its Log output.
func printer(h *harness, release <-chan struct{}) {
	h.reg.Register(action.Spec{Name: "test:print", Inputs: []action.Input{{Name: "Text", Type: action.String}}, LogOutput: "Log",
		Outputs: []action.Output{{Name: "Log", Type: action.String}}},
		actFunc(func(ctx context.Context, req *action.Request) (*action.Result, error) {
			text := fmt.Sprint(req.Inputs["Text"])
			if req.Print != nil {
				fmt.Fprint(req.Print, text)
			}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return &action.Result{Outputs: map[string]any{"Log": text}}, nil
		}))
}

// printingOf waits (bounded) until the step has printed something.
func printingOf(t *testing.T, e *Engine, id, step string) string {
	t.Helper()
	for range 500 {
		if text := e.Printing(id)[step]; text != "" {
			return text
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("step %s printed nothing that Printing shows", step)
	return ""
}

func TestPrintingShowsWhatARunningStepPrinted(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	printer(h, release)
	h.eng.opts.Secrets = mapSecrets{"app/token": "hunter2-secret"}
	id := h.start(`schemaVersion: '0.3'
mainSteps:
  - {name: plain, action: test:print, inputs: {Text: "hello there"}}
  - {name: secret, action: test:print, inputs: {Text: "token {{ key:app/token }} reversed"}}
`, nil)
	if got := printingOf(t, h.eng, id, "plain"); got != "hello there" {
		t.Errorf("Printing of the running step = %q", got)
	}
	release <- struct{}{}
	// A step whose inputs hold a secret shows its printing masked wholesale.
	if got := printingOf(t, h.eng, id, "secret"); got != "****" {
		t.Errorf("Printing of a step handed a secret = %q, want ****", got)
	}
	release <- struct{}{}
	st := h.wait(id)
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if got := h.eng.Printing(id); len(got) != 0 {
		t.Errorf("after the end, Printing = %v", got)
	}
}

// Parameters taken from key storage are recorded by path, masked, and read
// when the run starts; a key that cannot be read fails the execution naming
// the parameter and the path.
func TestKeyParametersAreReadWhenTheRunStarts(t *testing.T) {
	h := newHarness(t)
	h.eng.opts.Secrets = mapSecrets{"db/password": "pa55-word-xyz"}
	src := `schemaVersion: '0.3'
parameters:
  Password: {type: String}
mainSteps:
  - {name: use, action: test:echo, inputs: {Value: "{{ Password }}"}}
`
	doc, _ := document.Parse("test.yaml", []byte(src))
	start := func(path string) *State {
		id, err := h.eng.Start(context.Background(), StartRequest{Document: doc, Source: []byte(src), DocumentName: "test",
			Parameters: map[string]any{"Password": "****"}, KeyParameters: map[string]string{"Password": path}})
		if err != nil {
			t.Fatal(err)
		}
		return h.wait(id)
	}
	st := start("db/password")
	if st.Status != StatusSuccess {
		t.Fatalf("status %s: %s", st.Status, st.FailureMessage)
	}
	if rec := everythingRecorded(t, h.db, st.ID); strings.Contains(rec, "pa55-word-xyz") || !strings.Contains(rec, `"keyParameters":{"Password":"db/password"}`) {
		t.Errorf("the record holds the value, or not the path:\n%s", rec)
	}
	if got := st.Started.ParameterText["Password"]; len(got) != 1 || got[0] != "****" {
		t.Errorf("recorded parameter %v", got)
	}
	st = start("db/missing")
	if st.Status != StatusFailed || !strings.Contains(st.FailureMessage, "parameter Password: reading key storage db/missing") {
		t.Errorf("a missing key: %s %q", st.Status, st.FailureMessage)
	}
}
