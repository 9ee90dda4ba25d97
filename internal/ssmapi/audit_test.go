package ssmapi

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/capstan-run/capstan/internal/store"
)

func TestChangesAreAudited(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	api := New(Options{Service: e.svc, Auth: Users{Service: e.svc}, Region: "us-east-1"})
	c := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(newHTTPTest(t, api)), RetryMaxAttempts: 1,
		Credentials: e.aliceClient().Options().Credentials})
	if _, err := c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Pause"), Content: aws.String(pauseRunbook), DocumentType: "Automation", DocumentFormat: "YAML"}); err != nil {
		t.Fatal(err)
	}
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause"), Parameters: map[string][]string{"Name": {"/capstan/audit"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	if _, err := c.StopAutomationExecution(ctx, &ssm.StopAutomationExecutionInput{AutomationExecutionId: aws.String("no-such-execution")}); err == nil {
		t.Fatal("stopping an unknown execution succeeded")
	}
	// Reads are not audited.
	if _, err := c.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	recs, err := e.db.ListAudit(ctx, store.AuditQuery{User: "alice"}) // the setup created her as local:admin
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.User != "alice" || !strings.HasPrefix(r.Source, "127.0.0.1:") || r.Time.IsZero() {
			t.Errorf("record %+v: want alice from 127.0.0.1 with a time", r)
		}
		got = append(got, r.Action+" "+r.Resource+" "+r.Result+" "+r.Detail)
	}
	want := []string{
		"ssm:CreateDocument arn:aws:ssm:us-east-1:000000000000:document/Pause Success ",
		"ssm:StartAutomationExecution arn:aws:ssm:us-east-1:000000000000:automation-definition/Pause:$DEFAULT Success " + id,
		"ssm:StopAutomationExecution arn:aws:ssm:us-east-1:000000000000:automation-execution/no-such-execution AutomationExecutionNotFoundException Cancel",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
