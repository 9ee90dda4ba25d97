package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

const progressRunbook = `schemaVersion: '0.3'
mainSteps:
  - name: nap
    action: aws:sleep
    inputs: {Duration: PT1S}
  - name: wake
    action: aws:sleep
    inputs: {Duration: PT0S}
`

// runWithProgress runs progressRunbook with progress written to a buffer, as
// a terminal (tty) or a pipe would receive it.
func runWithProgress(t *testing.T, tty bool) string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "capstan.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out syncBuffer
	prog := newProgress(&out, tty)
	eng := engine.New(engine.Options{Store: db, Actions: registry(), OnChange: func(st *engine.State, ev store.Event) { prog.event(st, ev) }})
	defer eng.Shutdown()
	doc, diags := document.Parse("progress.yaml", []byte(progressRunbook))
	if document.HasErrors(diags) {
		t.Fatal(diags)
	}
	id, err := eng.Start(ctx, engine.StartRequest{Document: doc, Source: []byte(progressRunbook), DocumentName: "progress"})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := eng.Wait(wctx, id); err != nil {
		t.Fatal(err)
	}
	prog.stop()
	return out.String()
}

func TestProgressInATerminalTicksWhileWaiting(t *testing.T) {
	out := runWithProgress(t, true)
	// While nap sleeps, the live line is redrawn in place with a spinner and
	// the time elapsed.
	if !regexp.MustCompile(`\r\x1b\[K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] nap sleeping until \S+ \d`).MatchString(out) {
		t.Errorf("no ticking line for the sleeping step in %q", out)
	}
	if !regexp.MustCompile(`(?m)^  ✓ nap \d`).MatchString(strings.ReplaceAll(out, "\r\x1b[K", "\n")) || !strings.Contains(out, "✓ wake ") {
		t.Errorf("finished steps are not shown with their duration: %q", out)
	}
	if strings.Contains(out, "▶") {
		t.Errorf("a terminal gets the live line, not a start line per step: %q", out)
	}
}

func TestProgressPipedIsPlainLines(t *testing.T) {
	out := runWithProgress(t, false)
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("piped progress holds terminal control characters: %q", out)
	}
	want := []string{"  ▶ nap (aws:sleep)", "  … nap sleeping until ", "  ✓ nap 1", "  ▶ wake (aws:sleep)", "  ✓ wake "}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("lines:\n%s\nwant %d lines", out, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
		}
	}
}
