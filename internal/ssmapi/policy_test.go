package ssmapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
)

// teamPolicy: start anything; see, stop and signal only one's own
// executions; create documents and change only one's own; read keys under
// team-a/.
const teamPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["ssm:StartAutomationExecution", "ssm:CreateDocument", "ssm:GetDocument", "ssm:DescribeDocument"], "Resource": "*"},
  {"Effect": "Allow",
   "Action": ["ssm:GetAutomationExecution", "ssm:DescribeAutomationExecutions", "ssm:StopAutomationExecution", "ssm:SendAutomationSignal"],
   "Resource": "arn:aws:ssm:*:*:automation-execution/*",
   "Condition": {"StringEquals": {"capstan:ExecutedBy": "${aws:username}"}}},
  {"Effect": "Allow", "Action": ["ssm:UpdateDocument", "ssm:DeleteDocument", "ssm:ListDocuments"], "Resource": "arn:aws:ssm:*:*:document/*",
   "Condition": {"StringEquals": {"capstan:Owner": "${aws:username}"}}},
  {"Effect": "Allow", "Action": "capstan:ReadKey", "Resource": "arn:capstan:capstan::*:key/team-a/*"}
]}`

// policyEnv is one server with policies on, and clients for users acting
// under them.
type policyEnv struct {
	*testEnv
	clients map[string]*ssm.Client
	url     string
	secrets map[string][2]string // user → access key id, secret
	service *service.Service
}

// newPolicyEnv starts the server; projects, if given, are its projects
// (else the default project alone).
func newPolicyEnv(t *testing.T, policies map[string]string, projects ...config.Projects) *policyEnv {
	e := newTestEnv(t)
	ctx := context.Background()
	keyring := keys.New(e.db, e.keys)
	if err := keyring.Put(ctx, "", "team-a/token", []byte("team-a-secret")); err != nil {
		t.Fatal(err)
	}
	if err := keyring.Put(ctx, "", "prod/db", []byte("prod-secret")); err != nil {
		t.Fatal(err)
	}
	loader := &authz.Loader{Store: e.db, NotFound: store.ErrNotFound, CacheFor: time.Millisecond}
	var ps config.Projects
	if len(projects) > 0 {
		ps = projects[0]
	}
	svc := service.New(service.Options{Store: e.db, Library: builtinLibrary{}, Keys: e.keys, Policies: loader, Projects: ps,
		Engine: engine.Options{Actions: action.Builtin(), NewInvoker: e.newInvokerFor, Region: "us-east-1", RetryDelay: time.Millisecond,
			Secrets: &authz.KeyGuard{Keys: keyring, Loader: loader, Scope: authz.Scope{Region: "us-east-1", Account: service.DefaultAccountID}}}})
	srv := httptest.NewServer(New(Options{Service: svc, Auth: Users{Service: svc}, Region: "us-east-1"}))
	t.Cleanup(func() {
		srv.Close()
		svc.Engine().Shutdown()
	})
	pe := &policyEnv{testEnv: e, clients: map[string]*ssm.Client{}, url: srv.URL, secrets: map[string][2]string{}, service: svc}
	for name, doc := range policies {
		u, secret := e.alice, e.aliceSecret // newTestEnv made her
		if name != "alice" {
			var err error
			if u, secret, err = svc.CreateUser(ctx, service.Principal{Name: "admin"}, name); err != nil {
				t.Fatal(err)
			}
		}
		if doc != "" {
			if err := e.db.PutPolicy(ctx, name, []byte(doc)); err != nil {
				t.Fatal(err)
			}
		}
		pe.secrets[name] = [2]string{u.AccessKeyID, secret}
		pe.clients[name] = ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: e.client(u.AccessKeyID, secret).Options().Credentials})
	}
	return pe
}

func denied(t *testing.T, err error, action, resource string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s on %s was allowed, want AccessDeniedException", action, resource)
	}
	if code := errorCode(t, err); code != "AccessDeniedException" || !strings.Contains(err.Error(), "not authorized to perform: "+action+" on resource: "+resource) {
		t.Fatalf("%s on %s: %v, want AccessDeniedException naming both", action, resource, err)
	}
}

func TestPoliciesBetweenTwoUsers(t *testing.T) {
	pe := newPolicyEnv(t, map[string]string{"alice": teamPolicy, "bob": teamPolicy, "carol": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:StartAutomationExecution","Resource":"*"}}`, "dave": ""})
	ctx := context.Background()
	alice, bob, carol, dave := pe.clients["alice"], pe.clients["bob"], pe.clients["carol"], pe.clients["dave"]
	if _, err := alice.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Approve-Write"), Content: aws.String(approveRunbook), DocumentType: "Automation", DocumentFormat: "YAML"}); err != nil {
		t.Fatal(err)
	}
	start := func(c *ssm.Client) string {
		out, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Approve-Write"), Parameters: map[string][]string{"Name": {"/capstan/policy"}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.AutomationExecutionId)
	}
	a, b := start(alice), start(bob)
	pe.waitStatus(alice, a, "Waiting")
	arnA := "arn:aws:ssm:us-east-1:" + service.DefaultAccountID + ":automation-execution/" + a

	// bob cannot see, stop or signal alice's execution; alice can.
	_, err := bob.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(a)})
	denied(t, err, "ssm:GetAutomationExecution", arnA)
	_, err = bob.StopAutomationExecution(ctx, &ssm.StopAutomationExecutionInput{AutomationExecutionId: aws.String(a)})
	denied(t, err, "ssm:StopAutomationExecution", arnA)
	_, err = bob.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(a), SignalType: types.SignalTypeApprove})
	denied(t, err, "ssm:SendAutomationSignal", arnA)
	if _, err := bob.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(b)}); err != nil {
		t.Errorf("bob reading his own execution: %v", err)
	}
	// Approvers are still named by the step: bob may signal his own
	// execution, but only alice may approve it.
	_, err = bob.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(b), SignalType: types.SignalTypeApprove})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Errorf("bob approving his own execution that names alice: %v", err)
	}

	// Listings show only what the caller may read.
	list := func(c *ssm.Client) []string {
		out, err := c.DescribeAutomationExecutions(ctx, &ssm.DescribeAutomationExecutionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range out.AutomationExecutionMetadataList {
			ids = append(ids, aws.ToString(m.AutomationExecutionId))
		}
		return ids
	}
	if got := list(bob); len(got) != 1 || got[0] != b {
		t.Errorf("bob lists %v, want only his %s", got, b)
	}
	if got := list(carol); len(got) != 0 {
		t.Errorf("carol, with no grant on executions, lists %v", got)
	}

	// A user without a policy may do nothing.
	_, err = dave.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Approve-Write")})
	denied(t, err, "ssm:StartAutomationExecution", "arn:aws:ssm:us-east-1:"+service.DefaultAccountID+":automation-definition/Approve-Write:$DEFAULT")

	// bob cannot rewrite alice's approval runbook to name himself, nor
	// claim a document by tagging it.
	docARN := "arn:aws:ssm:us-east-1:" + service.DefaultAccountID + ":document/Approve-Write"
	mine := strings.Replace(approveRunbook, "- alice", "- bob", 1)
	_, err = bob.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("Approve-Write"), Content: aws.String(mine), DocumentFormat: "YAML", DocumentVersion: aws.String("$LATEST")})
	denied(t, err, "ssm:UpdateDocument", docARN)
	_, err = bob.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("Approve-Write")})
	denied(t, err, "ssm:DeleteDocument", docARN)
	_, err = bob.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Bob-Doc"), Content: aws.String(mine), DocumentType: "Automation", DocumentFormat: "YAML",
		Tags: []types.Tag{{Key: aws.String("capstan:CreatedBy"), Value: aws.String("alice")}}})
	if code := errorCode(t, err); code != "ValidationException" {
		t.Errorf("bob tagging his document as alice's: %v", err)
	}
	if _, err := alice.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("Approve-Write"), Content: aws.String(strings.Replace(approveRunbook, "write the parameter?", "write it?", 1)), DocumentFormat: "YAML", DocumentVersion: aws.String("$LATEST")}); err != nil {
		t.Errorf("alice updating her own document: %v", err)
	}
}

const keyRunbook = `schemaVersion: '0.3'
mainSteps:
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: /capstan/from-key
      Value: '{{ key:team-a/token }}'
      Type: String
      Overwrite: true
  - name: prod
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: /capstan/from-prod
      Value: '{{ key:prod/db }}'
      Type: String
      Overwrite: true
`

func TestRunbookReadsOnlyKeysItsStarterMay(t *testing.T) {
	pe := newPolicyEnv(t, map[string]string{"alice": teamPolicy})
	ctx := context.Background()
	alice := pe.clients["alice"]
	if _, err := alice.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Read-Keys"), Content: aws.String(keyRunbook), DocumentType: "Automation", DocumentFormat: "YAML"}); err != nil {
		t.Fatal(err)
	}
	out, err := alice.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Read-Keys")})
	if err != nil {
		t.Fatal(err)
	}
	got := pe.waitStatus(alice, aws.ToString(out.AutomationExecutionId), "Success", "Failed")
	if got.AutomationExecution.AutomationExecutionStatus != "Failed" || !strings.Contains(aws.ToString(got.AutomationExecution.FailureMessage), "capstan:ReadKey on resource: arn:capstan:capstan::"+service.DefaultAccountID+":key/prod/db") {
		t.Errorf("reading prod/db: %s %s, want a failure naming the key", got.AutomationExecution.AutomationExecutionStatus, aws.ToString(got.AutomationExecution.FailureMessage))
	}
	if v := pe.motoParameter("/capstan/from-key"); v != "team-a-secret" {
		t.Errorf("team-a/token read as %q", v)
	}
}

func TestAuditReadableByAdminsOnly(t *testing.T) {
	pe := newPolicyEnv(t, map[string]string{"alice": teamPolicy, "root": "AdministratorAccess"})
	ctx := context.Background()
	if _, err := pe.clients["alice"].CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Audited"), Content: aws.String(approveRunbook), DocumentType: "Automation", DocumentFormat: "YAML"}); err != nil {
		t.Fatal(err)
	}
	read := func(user string) apiReply {
		k := pe.secrets[user]
		req := signAs(t, pe.url, k[0], k[1], "ssm", "us-east-1", `{"User":"alice"}`,
			map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.ListAuditRecords"}, nil)
		return do(t, req)
	}
	if r := read("alice"); r.Type != "AccessDeniedException" || !strings.Contains(r.Msg, "capstan:ReadAudit on resource: arn:capstan:capstan::"+service.DefaultAccountID+":audit") {
		t.Errorf("alice reading the audit log: %+v", r)
	}
	k := pe.secrets["root"]
	req := signAs(t, pe.url, k[0], k[1], "ssm", "us-east-1", `{"User":"alice"}`,
		map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.ListAuditRecords"}, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Records []struct{ User, Action, Resource, Result string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("root reading the audit log: %d %v", resp.StatusCode, err)
	}
	if len(out.Records) != 1 || out.Records[0].Action != "ssm:CreateDocument" || out.Records[0].Result != "Success" || !strings.HasSuffix(out.Records[0].Resource, ":document/Audited") {
		t.Errorf("alice's audit records: %+v", out.Records)
	}
}
