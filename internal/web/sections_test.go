package web_test

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/web"
)

// A script's printed output is its step's own section of the execution
// page, not one of its outputs; the API still has it as SSM's ExecutionLog.
func TestScriptOutputHasItsOwnSection(t *testing.T) {
	f := newFixture(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	id := c.start("Script", url.Values{"Who": {"ada"}})
	st, err := f.svc.Engine().Wait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "Success" {
		t.Fatalf("the script run ended %s: %s", st.Status, st.FailureMessage)
	}
	_, body := c.do("GET", "/ui/executions/"+id, nil)
	body = html.UnescapeString(body)
	section := between(body, `<section class="script-output">`, `</section>`)
	if !strings.Contains(section, "<h3>Script output</h3>") || !strings.Contains(section, "hello ada\nsecond line") {
		t.Fatalf("no script output section with the printed lines:\n%s", body)
	}
	details := between(body, `<h3>Outputs</h3>`, `</details>`)
	if strings.Contains(details, "ExecutionLog") || strings.Contains(details, "second line") {
		t.Errorf("the printed output is also listed among the step's outputs:\n%s", details)
	}
	if !strings.Contains(details, "Greeted") {
		t.Errorf("the step's own outputs are gone:\n%s", details)
	}
	if got := st.Steps[0].Outputs["ExecutionLog"]; got != "hello ada\nsecond line\n" {
		t.Errorf("the step's ExecutionLog output = %q", got)
	}
}

// between is the text of s after the first start and before the next end.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, end)
	return in
}
