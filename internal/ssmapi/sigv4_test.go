package ssmapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/capstan-run/capstan/internal/service"
)

const jsonType = "application/x-amz-json-1.1"

// signAs signs a request as akid/secret with the SDK's signer for service
// and region, after setting the headers in before; the headers in after are
// set once it is signed, so the signature does not cover them.
func signAs(t *testing.T, url, akid, secret, service, region, body string, before, after map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range before {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	for k, v := range after {
		req.Header.Set(k, v)
	}
	return req
}

func do(t *testing.T, req *http.Request) apiReply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiReply
	_ = json.NewDecoder(resp.Body).Decode(&r)
	r.Status = resp.StatusCode
	return r
}

func TestSignatureMustCoverTargetAndContentType(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	e.createRunbook("Pause", pauseRunbook)
	start, err := e.aliceClient().StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{
		DocumentName: aws.String("Pause"), Parameters: map[string][]string{"Name": {"/capstan/replay"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	e.waitStatus(e.aliceClient(), id, "Waiting")
	body := `{"AutomationExecutionId":"` + id + `"}`
	akid, secret := e.alice.AccessKeyID, e.aliceSecret

	// A captured GetAutomationExecution replayed as StopAutomationExecution.
	replay := signAs(t, e.srv.URL, akid, secret, "ssm", "us-east-1", body,
		map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.GetAutomationExecution"},
		map[string]string{"X-Amz-Target": "AmazonSSM.StopAutomationExecution"})
	if r := do(t, replay); r.Type != "InvalidSignatureException" {
		t.Errorf("replayed as another operation: %+v, want InvalidSignatureException", r)
	}
	// The same with X-Amz-Target left out of the signature.
	unsigned := signAs(t, e.srv.URL, akid, secret, "ssm", "us-east-1", body,
		map[string]string{"Content-Type": jsonType}, map[string]string{"X-Amz-Target": "AmazonSSM.StopAutomationExecution"})
	if r := do(t, unsigned); r.Type != "IncompleteSignatureException" || !strings.Contains(r.Msg, "'X-Amz-Target' must be a 'SignedHeader'") {
		t.Errorf("unsigned X-Amz-Target: %+v", r)
	}
	noType := signAs(t, e.srv.URL, akid, secret, "ssm", "us-east-1", body,
		map[string]string{"X-Amz-Target": "AmazonSSM.StopAutomationExecution"}, map[string]string{"Content-Type": jsonType})
	if r := do(t, noType); r.Type != "IncompleteSignatureException" || !strings.Contains(r.Msg, "'Content-Type' must be a 'SignedHeader'") {
		t.Errorf("unsigned Content-Type: %+v", r)
	}
	if got := e.waitStatus(e.aliceClient(), id, "Waiting"); got.AutomationExecution.AutomationExecutionStatus != "Waiting" {
		t.Errorf("the execution is %s after the refused stops", got.AutomationExecution.AutomationExecutionStatus)
	}
	// Signed properly, the same request is served.
	ok := signAs(t, e.srv.URL, akid, secret, "ssm", "us-east-1", body,
		map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.StopAutomationExecution"}, nil)
	if r := do(t, ok); r.Status != http.StatusOK {
		t.Errorf("a signed StopAutomationExecution: %+v", r)
	}
}

func TestSignatureScopeAndSessionToken(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	api := New(Options{Service: e.svc, Auth: Users{Service: e.svc}, Region: "us-east-1"})
	url := newHTTPTest(t, api)
	client := func(region, token string) *ssm.Client {
		return ssm.New(ssm.Options{Region: region, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(e.alice.AccessKeyID, e.aliceSecret, token)})
	}
	if _, err := client("us-east-1", "").ListDocuments(ctx, &ssm.ListDocumentsInput{}); err != nil {
		t.Fatalf("the server's own region: %v", err)
	}
	_, err := client("eu-west-1", "").ListDocuments(ctx, &ssm.ListDocumentsInput{})
	if code := errorCode(t, err); code != "InvalidSignatureException" || !strings.Contains(err.Error(), "scoped to a valid region, not 'eu-west-1'") {
		t.Errorf("another region: %v", err)
	}
	_, err = client("us-east-1", "FwoGZXIvYXdzEBYaDTokenFromSTS").ListDocuments(ctx, &ssm.ListDocumentsInput{})
	if code := errorCode(t, err); code != "UnrecognizedClientException" || !strings.Contains(err.Error(), "issues no session tokens") {
		t.Errorf("a session token capstan did not issue: %v", err)
	}
	ec2 := signAs(t, url, e.alice.AccessKeyID, e.aliceSecret, "ec2", "us-east-1", "{}",
		map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.ListDocuments"}, nil)
	if r := do(t, ec2); r.Type != "InvalidSignatureException" || !strings.Contains(r.Msg, "correct service: 'ssm'") {
		t.Errorf("signed for ec2: %+v", r)
	}
}

// rawRequest writes the head of a request and part of its body on a fresh
// connection, leaving the rest unsent.
func rawRequest(t *testing.T, url string, req *http.Request, withhold int) net.Conn {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write(buf.Bytes()[:buf.Len()-withhold]); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readReply reads the response on conn, waiting at most 20 s (a bound, not
// a timing assertion: a server that waits for the body never answers).
func readReply(t *testing.T, conn net.Conn) apiReply {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response while the body is incomplete: %v", err)
	}
	defer resp.Body.Close()
	var r apiReply
	_ = json.NewDecoder(resp.Body).Decode(&r)
	r.Status = resp.StatusCode
	return r
}

func TestSignatureCheckedBeforeTheBody(t *testing.T) {
	e := newTestEnv(t)
	big := `{"Name":"` + strings.Repeat("x", 100<<10) + `"}`
	// Unsigned, and signed with an unknown key: refused with the body unsent.
	unsigned, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(big))
	unsigned.Header.Set("X-Amz-Target", "AmazonSSM.CreateDocument")
	if r := readReply(t, rawRequest(t, e.srv.URL, unsigned, 50<<10)); r.Type != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned upload: %+v", r)
	}
	stranger := signAs(t, e.srv.URL, "AKIANOBODYNOBODY0000", "x", "ssm", "us-east-1", big,
		map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.CreateDocument"}, nil)
	if r := readReply(t, rawRequest(t, e.srv.URL, stranger, 50<<10)); r.Type != "UnrecognizedClientException" {
		t.Errorf("upload signed with an unknown key: %+v", r)
	}
}

func TestUnauthenticatedRequestsAreCapped(t *testing.T) {
	e := newTestEnv(t)
	api := New(Options{Service: e.svc, Auth: Users{Service: e.svc}, MaxUnauthenticated: 2})
	url := newHTTPTest(t, api)
	body := `{"Name":"` + strings.Repeat("x", 1000) + `"}`
	stalled := func() net.Conn {
		req := signAs(t, url, e.alice.AccessKeyID, e.aliceSecret, "ssm", "us-east-1", body,
			map[string]string{"Content-Type": jsonType, "X-Amz-Target": "AmazonSSM.ListDocuments"}, nil)
		return rawRequest(t, url, req, 500)
	}
	first, second := stalled(), stalled()
	c := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(e.alice.AccessKeyID, e.aliceSecret, "")})
	// The two stalled uploads hold both slots once the server reads them;
	// poll (bounded) until a third request is turned away.
	var err error
	for range 200 {
		if _, err = c.ListDocuments(context.Background(), &ssm.ListDocumentsInput{}); err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := errorCode(t, err); code != "ThrottlingException" {
		t.Fatalf("a third request while two stalled uploads wait: %v, want ThrottlingException", err)
	}
	first.Close()
	second.Close()
	for range 200 {
		if _, err = c.ListDocuments(context.Background(), &ssm.ListDocumentsInput{}); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after the stalled uploads went away: %v", err)
}

func TestClientTokenIsScopedToItsUser(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	_, bobSecret, err := e.svc.CreateUser(ctx, service.Principal{Name: "admin"}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	bobUser, _ := e.db.GetUser(ctx, "bob")
	bob := e.client(bobUser.AccessKeyID, bobSecret)
	e.createRunbook("Pause", pauseRunbook)
	in := func() *ssm.StartAutomationExecutionInput {
		return &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause"),
			Parameters: map[string][]string{"Name": {"/capstan/token"}}, ClientToken: aws.String("shared-token")}
	}
	a, err := e.aliceClient().StartAutomationExecution(ctx, in())
	if err != nil {
		t.Fatal(err)
	}
	b, err := bob.StartAutomationExecution(ctx, in())
	if err != nil {
		t.Fatalf("bob with alice's ClientToken: %v", err)
	}
	if aws.ToString(b.AutomationExecutionId) == aws.ToString(a.AutomationExecutionId) {
		t.Errorf("bob's start with alice's ClientToken returned alice's execution %s", aws.ToString(a.AutomationExecutionId))
	}
	again, err := bob.StartAutomationExecution(ctx, in())
	if err != nil || aws.ToString(again.AutomationExecutionId) != aws.ToString(b.AutomationExecutionId) {
		t.Errorf("bob repeating his own token: %v, %v; want his execution %s", again, err, aws.ToString(b.AutomationExecutionId))
	}
}
