package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store/sqlite"
)

func TestSchedules(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	code, out, errOut := runKeys(t, "", "schedules", "create", "nap", "--document", "Nap", "--expression", "cron(0 8 ? * MON-FRI *)",
		"--timezone", "Europe/Berlin", "--parameters", "Who=scheduler", "--db", db)
	if code != 0 || !strings.HasPrefix(out, "Schedule nap: next run ") || !strings.Contains(out, "T08:00:00+01:00") {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	for args, msg := range map[string]string{
		"--expression|cron(0 8 * * MON *)": "exactly one of day-of-month and day-of-week must be ?",
		"--expression|rate(5 weeks)":       "expected minutes, hours or days",
		"--timezone|Mars/Olympus":          "expected an IANA name",
	} {
		flag, val, _ := strings.Cut(args, "|")
		a := []string{"schedules", "create", "bad", "--document", "Nap", "--expression", "rate(5 minutes)", "--db", db, flag, val}
		if code, _, errOut := runKeys(t, "", a...); code != 2 || !strings.Contains(errOut, msg) {
			t.Errorf("%s %s: %d %q", flag, val, code, errOut)
		}
	}
	if code, out, _ := runKeys(t, "", "schedules", "list", "--db", db); code != 0 || !strings.Contains(out, "nap   Nap       cron(0 8 ? * MON-FRI *)  Europe/Berlin  active") {
		t.Errorf("list: %d %q", code, out)
	}
	if code, _, _ := runKeys(t, "", "schedules", "pause", "nap", "--db", db); code != 0 {
		t.Fatal("pause failed")
	}
	if _, out, _ := runKeys(t, "", "schedules", "list", "--db", db); !strings.Contains(out, "paused") {
		t.Errorf("list after pause: %q", out)
	}
	if code, out, _ := runKeys(t, "", "schedules", "resume", "nap", "--db", db); code != 0 || !strings.Contains(out, "next run") {
		t.Fatalf("resume: %d %q", code, out)
	}

	url, _, cmd, sout := startServe(t, bin, "--db", db, "--insecure-no-auth")
	defer stopServe(t, cmd, sout)
	doc := `schemaVersion: "0.3"
parameters:
  Who: {type: String}
mainSteps:
  - name: nap
    action: aws:sleep
    inputs: {Duration: PT0S}
`
	ssmCall(t, url, "CreateDocument", map[string]any{"Name": "Nap", "Content": doc, "DocumentType": "Automation", "DocumentFormat": "YAML"})
	// Three runs were missed (the server was down): the run due first is
	// made up once.
	store, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PauseSchedule(context.Background(), "nap", false, time.Now().Add(-3*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	store.Close()
	var list []any
	for i := 0; ; i++ {
		got := ssmCall(t, url, "DescribeAutomationExecutions", map[string]any{})
		list, _ = got["AutomationExecutionMetadataList"].([]any)
		if len(list) > 0 || i == 400 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second start, if there were one, would show now
	list, _ = ssmCall(t, url, "DescribeAutomationExecutions", map[string]any{})["AutomationExecutionMetadataList"].([]any)
	if len(list) != 1 {
		t.Fatalf("%d executions after the missed runs, want 1: %v", len(list), list)
	}
	if by := list[0].(map[string]any)["ExecutedBy"]; by != "arn:aws:iam::000000000000:user/schedule/nap" {
		t.Errorf("ExecutedBy %v", by)
	}
	if _, metrics := get(t, url+"/metrics"); !strings.Contains(metrics, `capstan_schedule_firings_total{outcome="started",schedule="nap"} 1`) {
		t.Errorf("schedule metric missing")
	}
	if code, _, _ := runKeys(t, "", "schedules", "delete", "nap", "--db", db); code != 0 {
		t.Errorf("delete failed")
	}
	if code, _, errOut := runKeys(t, "", "schedules", "delete", "nap", "--db", db); code != 1 || !strings.Contains(errOut, "no schedule nap") {
		t.Errorf("delete again: %d %q", code, errOut)
	}
	const arn = "arn:capstan:capstan::000000000000:schedule/nap"
	counts := auditCounts(t, db)
	wantAudit(t, counts,
		"local: capstan:CreateSchedule "+arn+" Success cli",
		"local: capstan:DeleteSchedule "+arn+" Success cli",
		"local: capstan:DeleteSchedule "+arn+" NoSuchEntity cli",
		"schedule/nap ssm:StartAutomationExecution arn:aws:ssm:us-east-1:000000000000:automation-definition/Nap:$DEFAULT Success schedule")
	if n := counts["local: capstan:UpdateSchedule "+arn+" Success cli"]; n != 2 {
		t.Errorf("pause and resume in the audit log: %d records, want 2 (%v)", n, counts)
	}
}
