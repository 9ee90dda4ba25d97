package ssmapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/runbooks"
)

// testEnv is a capstan API server whose engine calls moto: the API endpoint
// is capstan, the runbooks' AWS endpoint is moto.
type testEnv struct {
	t      *testing.T
	db     *sqlite.DB
	dbPath string
	eng    *engine.Engine
	svc    *service.Service
	keys   keys.Options
	srv    *httptest.Server
	moto   *mototest.Server
	cfg    aws.Config // moto's
	// alice is a user with access keys.
	alice         store.User
	aliceSecret   string
	newInvokerFor func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error)
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	m := mototest.Start(t)
	m.SetEnv(t)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := &testEnv{t: t, moto: m, cfg: cfg, dbPath: filepath.Join(dir, "capstan.db")}
	e.db, err = sqlite.Open(ctx, e.dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	limiters := &awsapi.Limiters{}
	e.newInvokerFor = func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		return awsapi.New(cfg, awsapi.Options{Limiters: limiters, StepOf: engine.StepFromContext}), nil
	}
	e.keys = keys.Options{MasterKeyFile: filepath.Join(dir, "master.key"), Getenv: func(string) string { return "" }, Notice: io.Discard}
	e.startEngine()
	e.alice, e.aliceSecret, err = e.svc.CreateUser(ctx, service.Principal{Name: "admin"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startEngine (re)starts the engine and the HTTP server over the same store.
func (e *testEnv) startEngine() {
	e.svc = service.New(service.Options{Store: e.db, Library: builtinLibrary{}, Keys: e.keys,
		Engine: engine.Options{Actions: action.Builtin(), NewInvoker: e.newInvokerFor, Region: "us-east-1", RetryDelay: time.Millisecond}})
	e.eng = e.svc.Engine()
	api := New(Options{Service: e.svc, Auth: Users{Service: e.svc}})
	e.srv = httptest.NewServer(api)
	srv, eng := e.srv, e.eng
	e.t.Cleanup(func() {
		srv.Close()
		eng.Shutdown()
	})
}

// stopEngine stops the server and its engine as a SIGTERM does.
func (e *testEnv) stopEngine() {
	e.srv.Close()
	e.eng.Shutdown()
}

// client is the aws-sdk-go-v2 SSM client signed as user u.
func (e *testEnv) client(akid, secret string) *ssm.Client {
	return ssm.New(ssm.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func (e *testEnv) aliceClient() *ssm.Client { return e.client(e.alice.AccessKeyID, e.aliceSecret) }

// waitStatus polls GetAutomationExecution until the execution's status is
// one of want, for at most 30 s.
func (e *testEnv) waitStatus(c *ssm.Client, id string, want ...string) *ssm.GetAutomationExecutionOutput {
	e.t.Helper()
	var last *ssm.GetAutomationExecutionOutput
	for i := 0; i < 600; i++ {
		out, err := c.GetAutomationExecution(context.Background(), &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(id)})
		if err != nil {
			e.t.Fatalf("GetAutomationExecution: %v", err)
		}
		last = out
		for _, w := range want {
			if string(out.AutomationExecution.AutomationExecutionStatus) == w {
				return out
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("execution %s stayed %s, want one of %v", id, last.AutomationExecution.AutomationExecutionStatus, want)
	return nil
}

const paramRunbook = `schemaVersion: '0.3'
description: Writes a parameter and reads it back
parameters:
  Name:
    type: String
  Value:
    type: String
    default: hello
mainSteps:
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: '{{ Name }}'
      Value: '{{ Value }}'
      Type: String
      Overwrite: true
  - name: get
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: GetParameter
      Name: '{{ Name }}'
    outputs:
      - Name: Value
        Selector: $.Parameter.Value
        Type: String
  - name: tag
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: AddTagsToResource
      ResourceType: Parameter
      ResourceId: '{{ Name }}'
      Tags:
        - Key: by
          Value: capstan
outputs:
  - get.Value
`

const approveRunbook = `schemaVersion: '0.3'
parameters:
  Name:
    type: String
mainSteps:
  - name: approve
    action: aws:approve
    inputs:
      Approvers:
        - alice
      Message: write the parameter?
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: '{{ Name }}'
      Value: approved
      Type: String
`

const pauseRunbook = `schemaVersion: '0.3'
parameters:
  Name:
    type: String
mainSteps:
  - name: wait
    action: aws:pause
    inputs: {}
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: '{{ Name }}'
      Value: resumed
      Type: String
`

// createRunbook stores an Automation document through the API.
func (e *testEnv) createRunbook(name, content string) {
	e.t.Helper()
	_, err := e.aliceClient().CreateDocument(context.Background(), &ssm.CreateDocumentInput{
		Name: aws.String(name), Content: aws.String(content), DocumentType: "Automation", DocumentFormat: "YAML",
	})
	if err != nil {
		e.t.Fatalf("CreateDocument %s: %v", name, err)
	}
}

// motoParameter reads a parameter from moto directly.
func (e *testEnv) motoParameter(name string) string {
	e.t.Helper()
	out, err := ssm.NewFromConfig(e.cfg).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		e.t.Fatalf("moto GetParameter %s: %v", name, err)
	}
	return aws.ToString(out.Parameter.Value)
}

func newHTTPTest(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

// signedRequest is a ListDocuments request signed as alice by the SDK's signer.
func signedRequest(t *testing.T, e *testEnv, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.ListDocuments")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: e.alice.AccessKeyID, SecretAccessKey: e.aliceSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ssm", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// builtinLibrary serves package runbooks as a catalog.Library.
type builtinLibrary struct{}

func (builtinLibrary) Names() []string                   { return runbooks.Names() }
func (builtinLibrary) Lookup(name string) ([]byte, bool) { return runbooks.Lookup(name) }
