package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// syncBuffer is a bytes.Buffer a child process or goroutine writes while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+) \(resumed (\d+) `)

// startServe runs `capstan serve` and returns its URL, the number of
// executions it resumed, the process and its output.
func startServe(t *testing.T, bin string, args ...string) (url string, resumed string, cmd *exec.Cmd, out *syncBuffer) {
	t.Helper()
	cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	for i := 0; i < 300; i++ {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1], m[2], cmd, out
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("capstan serve did not start listening: %s", out.String())
	return
}

func stopServe(t *testing.T, cmd *exec.Cmd, out *syncBuffer) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd); code != 0 {
		t.Fatalf("capstan serve exited %d after SIGTERM: %s", code, out.String())
	}
}

func TestServeUsersSignalsAndRestart(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")

	code, stdout, stderr := cli(t, "users", "create", "alice", "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("users create: %d %s", code, stderr)
	}
	var key struct{ UserName, Arn, AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(stdout), &key); err != nil || key.AccessKeyId == "" || len(key.SecretAccessKey) != 40 {
		t.Fatalf("users create --output json = %s (%v)", stdout, err)
	}
	if key.Arn != "arn:aws:iam::000000000000:user/alice" {
		t.Fatalf("Arn = %s", key.Arn)
	}
	if code, _, stderr := cli(t, "users", "create", "alice", "--db", db); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second users create alice: %d %s", code, stderr)
	}
	if _, list, _ := cli(t, "users", "list", "--db", db); !strings.Contains(list, "alice") || !strings.Contains(list, key.AccessKeyId) || strings.Contains(list, key.SecretAccessKey) {
		t.Fatalf("users list = %s", list)
	}

	url, _, cmd, out := startServe(t, bin, "--db", db)
	c := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyId, key.SecretAccessKey, "")})
	ctx := context.Background()
	const runbook = `schemaVersion: '0.3'
mainSteps:
  - name: wait
    action: aws:pause
    inputs: {}
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: /serve/restart
      Value: resumed
      Type: String
`
	if _, err := c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Pause-Put"), Content: aws.String(runbook),
		DocumentType: types.DocumentTypeAutomation, DocumentFormat: types.DocumentFormatYaml}); err != nil {
		t.Fatal(err)
	}
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause-Put")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	waitServeStatus(t, c, id, "Waiting")
	stopServe(t, cmd, out)

	url, resumed, cmd, out := startServe(t, bin, "--db", db)
	if resumed != "1" {
		t.Fatalf("the restarted server resumed %s executions: %s", resumed, out.String())
	}
	c = ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyId, key.SecretAccessKey, "")})
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(id), SignalType: types.SignalTypeResume}); err != nil {
		t.Fatalf("Resume after the restart: %v", err)
	}
	final := waitServeStatus(t, c, id, "Success", "Failed")
	if final.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess || aws.ToString(final.ExecutedBy) != key.Arn {
		t.Fatalf("after the restart: %s by %s: %s", final.AutomationExecutionStatus, aws.ToString(final.ExecutedBy), aws.ToString(final.FailureMessage))
	}
	stopServe(t, cmd, out)

	if code, _, _ := cli(t, "users", "delete", "alice", "--db", db); code != 0 {
		t.Fatal("users delete alice failed")
	}
	if _, list, _ := cli(t, "users", "list", "--db", db); strings.Contains(list, "alice") {
		t.Fatalf("alice still listed: %s", list)
	}
	url, _, cmd, out = startServe(t, bin, "--db", db)
	c = ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1, Credentials: c.Options().Credentials})
	_, err = c.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(id)})
	if err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("a deleted user's key: %v", err)
	}
	stopServe(t, cmd, out)
}

func TestServeInsecureNoAuthWarnsLoudly(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	url, _, cmd, out := startServe(t, bin, "--db", db, "--insecure-no-auth")
	if !strings.Contains(out.String(), "WARNING: --insecure-no-auth: request signatures are NOT checked") {
		t.Fatalf("no warning: %s", out.String())
	}
	// A client that sends half a request and stalls holds only its own
	// connection: the next request is served.
	stuck, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if _, err := stuck.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nX-Amz-Target: AmazonSSM.ListDocuments\r\n\r\n{")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "AmazonSSM.DescribeAutomationExecutions")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unsigned request with --insecure-no-auth: HTTP %d", resp.StatusCode)
	}
	stopServe(t, cmd, out)
}

func waitServeStatus(t *testing.T, c *ssm.Client, id string, want ...string) *types.AutomationExecution {
	t.Helper()
	var last *types.AutomationExecution
	for i := 0; i < 300; i++ {
		out, err := c.GetAutomationExecution(context.Background(), &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetAutomationExecution: %v", err)
		}
		last = out.AutomationExecution
		for _, w := range want {
			if string(last.AutomationExecutionStatus) == w {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("execution %s stayed %s, want %v", id, last.AutomationExecutionStatus, want)
	return nil
}

// TestServeFirstStartSaysWhatIsMissing: a new user's first `capstan serve`,
// on a store with no users and with no region anywhere, says how to create a
// user, names --insecure-no-auth, and warns that AWS steps will fail.
func TestServeFirstStartSaysWhatIsMissing(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("CAPSTAN_DB", "")
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	_, _, cmd, out := startServe(t, bin, "--db", db)
	for _, want := range []string{"the store has no users yet", "capstan users create NAME --db " + db, "--insecure-no-auth", "AWS_REGION/AWS_DEFAULT_REGION"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve's first output lacks %q:\n%s", want, out.String())
		}
	}
	stopServe(t, cmd, out)
}
