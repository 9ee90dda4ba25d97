package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// roleArn is the AutomationAssumeRole every case passes; moto lets the
// account's own credentials act for it.
const roleArn = "arn:aws:iam::123456789012:role/AutomationRole"

// conformanceCase is one AWS-owned runbook: setup creates what its
// parameters name in a fresh moto and returns the parameters; check asserts
// the effect with the SDK. skip, when set, is why moto cannot run it, with
// the raw response that shows it.
type conformanceCase struct {
	runbook string
	setup   func(a *account) map[string]any
	check   func(a *account, st *engine.State)
	skip    string
}

// account is a moto account reset for one case, with the engine that runs
// the runbook and an SDK caller for setup and checks.
type account struct {
	t   *testing.T
	ctx context.Context
	inv *awsapi.Client
	eng *engine.Engine
}

func newAccount(t *testing.T, moto *mototest.Server, inv *awsapi.Client) *account {
	t.Helper()
	if err := moto.Reset(); err != nil {
		t.Fatalf("moto reset: %v", err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := action.Builtin()
	reg.SetPolling(5*time.Millisecond, 100*time.Millisecond)
	eng := engine.New(engine.Options{
		Store: db, Actions: reg, Region: "us-east-1", AccountID: "123456789012", RetryDelay: time.Millisecond,
		NewInvoker: func(context.Context, engine.InvokerRequest) (action.Invoker, error) { return inv, nil },
	})
	t.Cleanup(eng.Shutdown)
	return &account{t: t, ctx: ctx, inv: inv, eng: eng}
}

// call makes one AWS call for setup or a check; a failure fails the case.
func (a *account) call(service, op string, in map[string]any) map[string]any {
	a.t.Helper()
	out, err := a.inv.Invoke(a.ctx, service, op, in)
	if err != nil {
		a.t.Fatalf("%s %s: %v", service, op, err)
	}
	return out
}

// run loads the runbook from the corpus, unchanged, and runs it to its end.
func (a *account) run(name string, params map[string]any) *engine.State {
	a.t.Helper()
	src, err := os.ReadFile(filepath.Join(corpusDir(a.t), name+".json"))
	if err != nil {
		a.t.Fatal(err)
	}
	doc, diags := document.Load(name+".json", src, action.Builtin())
	if document.HasErrors(diags) {
		a.t.Fatalf("%s does not validate: %v", name, diags)
	}
	coerced, err := doc.Coerce(document.Inputs{Typed: params})
	if err != nil {
		a.t.Fatalf("%s: parameters: %v", name, err)
	}
	id, err := a.eng.Start(a.ctx, engine.StartRequest{Document: doc, Source: src, DocumentName: name, Parameters: coerced})
	if err != nil {
		a.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(a.ctx, time.Minute)
	defer cancel()
	st, err := a.eng.Wait(ctx, id)
	if err != nil {
		a.t.Fatalf("%s: %v", name, err)
	}
	return st
}

// stepReport lists the steps as name=Status, with the failure of each
// failed one, for a failing case's message.
func stepReport(st *engine.State) string {
	var b strings.Builder
	for _, s := range st.Steps {
		fmt.Fprintf(&b, "\n  %s=%s", s.Name, s.Status)
		if s.FailureMessage != "" {
			fmt.Fprintf(&b, ": %s", s.FailureMessage)
		}
	}
	return b.String()
}

func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus", "aws-owned"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the runbook corpus is missing at %s: %v", dir, err)
	}
	return dir
}

// TestAWSOwnedRunbooks runs every case on one moto server, reset between
// cases, and reports the figure: runbooks that reached their effect out of
// those moto can run.
func TestAWSOwnedRunbooks(t *testing.T) {
	moto := mototest.Start(t)
	moto.SetEnv(t)
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	inv := awsapi.New(cfg, awsapi.Options{})
	seen := map[string]bool{}
	ran, skipped := 0, 0
	for _, c := range cases() {
		if seen[c.runbook] {
			t.Fatalf("%s is listed twice", c.runbook)
		}
		seen[c.runbook] = true
		t.Run(c.runbook, func(t *testing.T) {
			if c.skip != "" {
				skipped++
				t.Skip(c.skip)
			}
			ran++
			a := newAccount(t, moto, inv)
			params := c.setup(a)
			st := a.run(c.runbook, params)
			if st.Status != engine.StatusSuccess {
				t.Fatalf("%s ended %s: %s%s", c.runbook, st.Status, st.FailureMessage, stepReport(st))
			}
			c.check(a, st)
		})
	}
	// The floor holds for the whole suite, not for a -run selection of it.
	if f := flag.Lookup("test.run"); (f == nil || f.Value.String() == "") && ran < 60 {
		t.Errorf("%d AWS-owned runbooks ran, want at least 60", ran)
	}
	t.Logf("%d AWS-owned runbooks run against moto, %d skipped for moto's gaps", ran, skipped)
}
