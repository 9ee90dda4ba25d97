package engine

import (
	"context"
	"testing"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// BenchmarkSignalDelivery measures the time from a Resume signal to the end
// of the execution it releases (the signal's record, the step's end and the
// execution's end: three commits), delivered by the engine running the
// execution ("here") or by another engine on the same database ("elsewhere",
// as another process would, found by the poll: SignalPoll/2 on average).
func BenchmarkSignalDelivery(b *testing.B) {
	src := []byte("schemaVersion: \"0.3\"\nmainSteps:\n  - {name: hold, action: aws:pause, inputs: {}}\n")
	doc, diags := document.Parse("pause.yaml", src)
	if doc == nil || hasError(diags) {
		b.Fatal(diags)
	}
	for _, where := range []string{"here", "elsewhere"} {
		b.Run(where, func(b *testing.B) {
			waiting := make(chan string, 1)
			eng := benchEngine(b, func(st *State, ev store.Event) {
				if ev.Type == evStepWaiting {
					waiting <- st.ID
				}
			})
			sender := eng
			if where == "elsewhere" {
				sender = New(Options{Store: eng.opts.Store, Actions: eng.opts.Actions})
			}
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				id, err := eng.Start(ctx, StartRequest{Document: doc, Source: src, DocumentName: "pause", Parameters: map[string]any{}})
				if err != nil {
					b.Fatal(err)
				}
				<-waiting
				b.StartTimer()
				if err := sender.Signal(ctx, id, SignalResume, nil, ""); err != nil {
					b.Fatal(err)
				}
				if st, err := eng.Wait(ctx, id); err != nil || st.Status != StatusSuccess {
					b.Fatalf("%v %v", st, err)
				}
			}
		})
	}
}
