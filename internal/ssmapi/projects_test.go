package ssmapi

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/service"
)

// auditPolicy grants everything, but only within project audit.
const auditPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["ssm:*", "capstan:*"], "Resource": "*",
   "Condition": {"StringEquals": {"capstan:Project": "audit"}}}
]}`

// sleepOnKey sleeps for the duration stored at a key, so a run shows
// whether its project may read the key.
const sleepOnKey = `schemaVersion: '0.3'
mainSteps:
  - name: Nap
    action: aws:sleep
    inputs:
      Duration: '{{ key:%s }}'
`

func TestProjectsUnderPolicies(t *testing.T) {
	cfg, err := config.Parse("capstan.yaml", []byte("region: us-east-1\nprojects:\n  audit:\n    region: us-east-2\n"))
	if err != nil {
		t.Fatal(err)
	}
	pe := newPolicyEnv(t, map[string]string{"alice": "AdministratorAccess", "auditor": auditPolicy}, config.Projects{Config: cfg})
	ctx := context.Background()
	alice, auditor := pe.clients["alice"], pe.clients["auditor"]
	keyring := keys.New(pe.db, pe.keys)
	if err := keyring.Put(ctx, "audit", "audit/nap", []byte("PT0S")); err != nil {
		t.Fatal(err)
	}
	if err := keyring.Put(ctx, "", "default/nap", []byte("PT0S")); err != nil {
		t.Fatal(err)
	}
	create := func(c *ssm.Client, name, key, project string) error {
		in := &ssm.CreateDocumentInput{Name: aws.String(name), Content: aws.String(strings.ReplaceAll(sleepOnKey, "%s", key)), DocumentType: "Automation", DocumentFormat: "YAML"}
		if project != "" {
			in.Tags = []types.Tag{{Key: aws.String(service.ProjectTag), Value: aws.String(project)}}
		}
		_, err := c.CreateDocument(ctx, in)
		return err
	}
	start := func(c *ssm.Client, name string, tags ...types.Tag) (string, error) {
		out, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String(name), Tags: tags})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.AutomationExecutionId), nil
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("alice creates Nap-Default", create(alice, "Nap-Default", "default/nap", ""))
	must("auditor creates Nap-Audit in audit", create(auditor, "Nap-Audit", "audit/nap", "audit"))
	must("auditor creates Steal in audit", create(auditor, "Steal", "default/nap", "audit"))
	// DescribeDocument shows a document's project as its capstan:Project tag.
	for name, want := range map[string]string{"Nap-Default": "default", "Nap-Audit": "audit"} {
		d, err := alice.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String(name)})
		must("describe "+name, err)
		got := ""
		for _, tag := range d.Document.Tags {
			if aws.ToString(tag.Key) == service.ProjectTag {
				got = aws.ToString(tag.Value)
			}
		}
		if got != want {
			t.Errorf("DescribeDocument %s: tag %s = %q, want %q", name, service.ProjectTag, got, want)
		}
	}
	err = create(auditor, "Nap-Mine", "audit/nap", "")
	denied(t, err, "ssm:CreateDocument", "arn:aws:ssm:us-east-1:"+service.DefaultAccountID+":document/Nap-Mine")
	err = create(alice, "Nap-Nowhere", "audit/nap", "nope")
	if code := errorCode(t, err); code != "ValidationException" || !strings.Contains(err.Error(), `unknown project "nope"`) || !strings.Contains(err.Error(), "[default, audit]") {
		t.Errorf("a document in an unknown project: %v", err)
	}

	// The auditor cannot start a runbook of project default, nor move one
	// into audit by tagging the execution; alice runs it.
	_, err = start(auditor, "Nap-Default")
	denied(t, err, "ssm:StartAutomationExecution", "arn:aws:ssm:us-east-1:"+service.DefaultAccountID+":automation-definition/Nap-Default:$DEFAULT")
	def, err := start(alice, "Nap-Default")
	must("alice starts Nap-Default", err)
	pe.waitStatus(alice, def, "Success")

	// A runbook of audit runs in audit and reads audit's key; one naming a
	// key of default fails its step naming the key and both projects.
	own, err := start(auditor, "Nap-Audit")
	must("auditor starts Nap-Audit", err)
	pe.waitStatus(auditor, own, "Success")
	steal, err := start(auditor, "Steal")
	must("auditor starts Steal", err)
	out := pe.waitStatus(auditor, steal, "Failed")
	msg := aws.ToString(out.AutomationExecution.FailureMessage)
	for _, want := range []string{"default/nap", "belongs to project default", "project audit"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Steal failed with %q, want it to name %q", msg, want)
		}
	}
	// A runbook of audit runs nowhere else, whoever asks.
	_, err = start(alice, "Nap-Audit", types.Tag{Key: aws.String(service.ProjectTag), Value: aws.String("default")})
	if code := errorCode(t, err); code != "InvalidAutomationExecutionParametersException" || !strings.Contains(err.Error(), "runbook Nap-Audit belongs to project audit") {
		t.Errorf("Nap-Audit tagged into default: %v", err)
	}

	// The auditor cannot see default's execution, and lists only audit's.
	_, err = auditor.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(def)})
	denied(t, err, "ssm:GetAutomationExecution", "arn:aws:ssm:us-east-1:"+service.DefaultAccountID+":automation-execution/"+def)
	listed, err := auditor.DescribeAutomationExecutions(ctx, &ssm.DescribeAutomationExecutionsInput{})
	must("auditor lists executions", err)
	if len(listed.AutomationExecutionMetadataList) != 2 {
		// Nap-Audit and Steal.
		t.Errorf("auditor lists %d executions, want audit's 2", len(listed.AutomationExecutionMetadataList))
	}
	for _, m := range listed.AutomationExecutionMetadataList {
		if id := aws.ToString(m.AutomationExecutionId); id != own && id != steal {
			t.Errorf("auditor's listing shows %s of %s", id, aws.ToString(m.DocumentName))
		}
	}

	// The aws CLI chooses the project with the capstan:Project tag.
	cli := newCLIUsers(t, pe.secrets)
	id := strings.TrimSpace(cli.mustRun("auditor", pe.url, "ssm", "start-automation-execution", "--document-name", "Nap-Audit",
		"--tags", "Key=capstan:Project,Value=audit", "--query", "AutomationExecutionId", "--output", "text"))
	pe.waitStatus(auditor, id, "Success")

	// Projects: the auditor sees audit alone.
	var projects []string
	list, err := pe.service.ListProjects(ctx, service.Principal{Name: "auditor", ARN: pe.service.UserARN("auditor")})
	must("auditor lists projects", err)
	for _, p := range list {
		projects = append(projects, p.Name)
	}
	if strings.Join(projects, ",") != "audit" {
		t.Errorf("auditor's projects: %v, want audit", projects)
	}
}
