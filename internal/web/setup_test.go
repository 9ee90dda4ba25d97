package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/web"
	"github.com/capstan-run/capstan/runbooks"
)

// Runbooks the tests run: no AWS call, so nothing to emulate.
const helloRunbook = `schemaVersion: '0.3'
description: |
  Greets someone, after a short pause.
parameters:
  Name:
    type: String
    description: Who to greet (lower-case letters).
    allowedPattern: ^[a-z]+$
  Count:
    type: Integer
    default: 1
    minValue: 1
    maxValue: 5
  Loud:
    type: Boolean
    default: false
  Items:
    type: StringList
    default: []
  Labels:
    type: StringMap
    default: {}
  Color:
    type: String
    default: blue
    allowedValues: [blue, green]
mainSteps:
  - name: pause
    action: aws:sleep
    inputs:
      Duration: PT0.2S
outputs:
  - pause.Output
`

const approvalRunbook = `schemaVersion: '0.3'
description: Waits for alice to approve.
mainSteps:
  - name: ask
    action: aws:approve
    inputs:
      Approvers: [alice]
      Message: Go ahead?
  - name: after
    action: aws:sleep
    inputs:
      Duration: PT0.1S
`

// scriptRunbook prints, so its step has script output.
const scriptRunbook = `schemaVersion: '0.3'
description: Prints two lines and returns one value.
parameters:
  Who:
    type: String
    default: world
mainSteps:
  - name: greet
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: handler
      InputPayload:
        who: '{{ Who }}'
      Script: |
        def handler(events, context):
            print("hello " + events["who"])
            print("second line")
            return {"greeted": events["who"]}
    outputs:
      - Name: Greeted
        Selector: $.Payload.greeted
        Type: String
`

// rebootRunbook takes instance ids (and calls nothing: the test is the form).
const rebootRunbook = `schemaVersion: '0.3'
description: Pretends to reboot instances.
parameters:
  InstanceId:
    type: AWS::EC2::Instance::Id
    description: The instance to reboot first.
  Others:
    type: List<AWS::EC2::Instance::Id>
    default: []
mainSteps:
  - name: pause
    action: aws:sleep
    inputs:
      Duration: PT0.1S
`

// connectRunbook takes a secret: its script fails unless it got the key's
// value (it knows only its digest), then prints and returns it, which must
// never be shown.
const connectRunbook = `schemaVersion: '0.3'
description: Connects to the database.
parameters:
  DBPassword:
    type: String
    description: The database password.
    allowedPattern: ^[A-Za-z0-9-]+$
  Note:
    type: String
    default: none
mainSteps:
  - name: use
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: handler
      InputPayload:
        pw: '{{ DBPassword }}'
      Script: |
        import hashlib
        def handler(events, context):
            if hashlib.sha256(events["pw"].encode()).hexdigest() != "5cf2a98a93a1ad19a3d1e3cd31f09216782edea7bc31a69f92a807a1fbd1767d":
                raise Exception("the run did not get the key's value")
            print("connecting with " + events["pw"])
            return {"echo": events["pw"], "reversed": events["pw"][::-1]}
    outputs:
      - Name: Echo
        Selector: $.Payload.echo
        Type: String
outputs:
  - use.Echo
`

const password = "correct horse battery"

// bobPolicy lets bob run runbooks and see and act on his own executions only.
const bobPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["ssm:StartAutomationExecution", "ssm:ListDocuments", "ssm:GetDocument"], "Resource": "*"},
  {"Effect": "Allow",
   "Action": ["ssm:GetAutomationExecution", "ssm:DescribeAutomationExecutions", "ssm:StopAutomationExecution", "ssm:SendAutomationSignal"],
   "Resource": "arn:aws:ssm:*:*:automation-execution/*",
   "Condition": {"StringEquals": {"capstan:ExecutedBy": "${aws:username}"}}}
]}`

// library is the built-in runbook library, as capstan serve has it.
type library struct{}

func (library) Names() []string                   { return runbooks.Names() }
func (library) Lookup(name string) ([]byte, bool) { return runbooks.Lookup(name) }

type fixture struct {
	db  *sqlite.DB
	svc *service.Service
	ui  *web.UI
	srv *httptest.Server
}

// newFixture serves the UI over a fresh store with alice (an administrator)
// and bob (bobPolicy); with apply changing the service's options.
func newFixture(t testing.TB, opts web.Options, apply ...func(*service.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "capstan.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kopts := keys.Options{MasterKeyFile: filepath.Join(dir, "master.key"), DBPath: db.Path(), Getenv: func(string) string { return "" }}
	actions := action.Builtin()
	// As capstan serve wires them: runbooks read keys as their starter.
	policies := &authz.Loader{Store: db, NotFound: store.ErrNotFound}
	secrets := &authz.KeyGuard{Keys: keys.New(db, kopts), Loader: policies, Scope: authz.Scope{Account: service.DefaultAccountID}}
	sopts := service.Options{Store: db, Engine: engine.Options{Actions: actions, Secrets: secrets}, Keys: kopts, Library: library{},
		Policies: policies}
	for _, a := range apply {
		a(&sopts)
	}
	svc := service.New(sopts)
	t.Cleanup(func() {
		svc.Engine().Shutdown()
		_ = db.Close()
	})
	for _, d := range []store.Document{
		{Name: "Hello", Content: helloRunbook, Format: "YAML", DocumentType: "Automation"},
		{Name: "NeedsApproval", Content: approvalRunbook, Format: "YAML", DocumentType: "Automation"},
		{Name: "Script", Content: scriptRunbook, Format: "YAML", DocumentType: "Automation"},
		{Name: "Reboot", Content: rebootRunbook, Format: "YAML", DocumentType: "Automation"},
		{Name: "Connect", Content: connectRunbook, Format: "YAML", DocumentType: "Automation"},
	} {
		if _, err := svc.CreateDocument(ctx, service.Principal{Name: "alice"}, service.DocumentInput{Name: d.Name, Content: d.Content, Format: d.Format, DocumentType: d.DocumentType}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"alice", "bob"} {
		if _, _, err := svc.CreateUser(ctx, service.Principal{Name: "admin"}, name); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetPassword(ctx, service.Principal{Name: "admin"}, name, password); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutPolicy(ctx, "alice", []byte(authz.AdministratorAccessName)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutPolicy(ctx, "bob", []byte(bobPolicy)); err != nil {
		t.Fatal(err)
	}
	opts.Service = &web.Backend{Service: svc, Identities: db}
	opts.Logins = db
	opts.Actions = actions
	ui, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(web.Prefix, ui)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{db: db, svc: svc, ui: ui, srv: srv}
}
