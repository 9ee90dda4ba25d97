package ssmapi

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cliUsers runs the installed aws CLI (v1) as named profiles of a config
// and credentials file in a temporary directory, as two people sharing one
// capstan server would configure it.
type cliUsers struct {
	t    *testing.T
	dir  string
	home string
}

func newCLIUsers(t *testing.T, secrets map[string][2]string) *cliUsers {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		// Not a skip: these tests are the aws CLI's; without it they fail.
		t.Fatalf("the aws CLI is required (Debian: awscli): %v", err)
	}
	dir := t.TempDir()
	var creds, cfg strings.Builder
	for name, k := range secrets {
		creds.WriteString("[" + name + "]\naws_access_key_id = " + k[0] + "\naws_secret_access_key = " + k[1] + "\n")
		cfg.WriteString("[profile " + name + "]\nregion = us-east-1\noutput = json\n")
	}
	for file, text := range map[string]string{"credentials": creds.String(), "config": cfg.String()} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &cliUsers{t: t, dir: dir, home: t.TempDir()}
}

// run is `aws --profile USER ARGS... --endpoint-url URL --region us-east-1`;
// it returns stdout, stderr and whether the command succeeded.
func (c *cliUsers) run(user, endpoint string, args ...string) (string, string, bool) {
	c.t.Helper()
	args = append(append([]string{"--profile", user}, args...), "--endpoint-url", endpoint, "--region", "us-east-1")
	cmd := exec.Command("aws", args...)
	cmd.Env = []string{"HOME=" + c.home, "AWS_CONFIG_FILE=" + filepath.Join(c.dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.dir, "credentials"), "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
	for _, kv := range os.Environ() {
		// The tests' own AWS settings (moto's endpoint, keys) stay out.
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err == nil
}

// mustRun is run for a command that has to succeed.
func (c *cliUsers) mustRun(user, endpoint string, args ...string) string {
	c.t.Helper()
	out, stderr, ok := c.run(user, endpoint, args...)
	if !ok {
		c.t.Fatalf("aws %s as %s failed: %s", strings.Join(args, " "), user, stderr)
	}
	return out
}

// refused runs a command that the caller's policy must refuse, and checks
// that the aws CLI shows AccessDeniedException naming the action and the
// resource.
func (c *cliUsers) refused(user, endpoint, action, resource string, args ...string) {
	c.t.Helper()
	_, stderr, ok := c.run(user, endpoint, args...)
	if ok {
		c.t.Fatalf("aws %s as %s succeeded; want AccessDeniedException", strings.Join(args, " "), user)
	}
	if !strings.Contains(stderr, "(AccessDeniedException)") || !strings.Contains(stderr, "not authorized to perform: "+action+" on resource: "+resource) {
		c.t.Fatalf("aws %s as %s: %s\nwant AccessDeniedException naming %s and %s", strings.Join(args, " "), user, stderr, action, resource)
	}
}

// TestAWSCLIRefusalsBetweenTwoUsers drives the refusals of two users' policies
// through the real aws CLI against one server: bob cannot read, stop or
// signal alice's execution, cannot change or delete her document, lists only
// his own executions, and a request of alice's captured on the wire and
// replayed with another X-Amz-Target is refused.
func TestAWSCLIRefusalsBetweenTwoUsers(t *testing.T) {
	pe := newPolicyEnv(t, map[string]string{"alice": teamPolicy, "bob": teamPolicy})
	cli := newCLIUsers(t, pe.secrets)

	// alice's calls pass through a recorder, as a network observer would
	// see them.
	target, err := url.Parse(pe.url)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var captured []*http.Request
	var capturedBodies [][]byte
	proxy := httputil.NewSingleHostReverseProxy(target)
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		captured, capturedBodies = append(captured, r.Clone(r.Context())), append(capturedBodies, body)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(recorder.Close)

	var doc = filepath.Join(t.TempDir(), "approve.yaml")
	if err := os.WriteFile(doc, []byte(approveRunbook), 0o600); err != nil {
		t.Fatal(err)
	}
	cli.mustRun("alice", recorder.URL, "ssm", "create-document", "--name", "Approve-Write", "--document-type", "Automation",
		"--document-format", "YAML", "--content", "file://"+doc)
	start := func(user string) string {
		out := cli.mustRun(user, pe.url, "ssm", "start-automation-execution", "--document-name", "Approve-Write",
			"--parameters", "Name=/capstan/cli-"+user, "--query", "AutomationExecutionId", "--output", "text")
		return strings.TrimSpace(out)
	}
	a, b := start("alice"), start("bob")
	pe.waitStatus(pe.clients["alice"], a, "Waiting")
	arnA := "arn:aws:ssm:us-east-1:000000000000:automation-execution/" + a
	docARN := "arn:aws:ssm:us-east-1:000000000000:document/Approve-Write"

	cli.refused("bob", pe.url, "ssm:GetAutomationExecution", arnA, "ssm", "get-automation-execution", "--automation-execution-id", a)
	cli.refused("bob", pe.url, "ssm:StopAutomationExecution", arnA, "ssm", "stop-automation-execution", "--automation-execution-id", a)
	cli.refused("bob", pe.url, "ssm:SendAutomationSignal", arnA, "ssm", "send-automation-signal", "--automation-execution-id", a, "--signal-type", "Approve")
	mine := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(mine, []byte(strings.Replace(approveRunbook, "- alice", "- bob", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cli.refused("bob", pe.url, "ssm:UpdateDocument", docARN, "ssm", "update-document", "--name", "Approve-Write",
		"--content", "file://"+mine, "--document-format", "YAML", "--document-version", "$LATEST")
	cli.refused("bob", pe.url, "ssm:DeleteDocument", docARN, "ssm", "delete-document", "--name", "Approve-Write")

	ids := func(user string) string {
		return strings.TrimSpace(cli.mustRun(user, pe.url, "ssm", "describe-automation-executions",
			"--query", "AutomationExecutionMetadataList[].AutomationExecutionId", "--output", "text"))
	}
	if got := ids("bob"); got != b {
		t.Errorf("bob lists %q, want only his own %s", got, b)
	}
	if got := ids("alice"); got != a {
		t.Errorf("alice lists %q, want only her own %s", got, a)
	}

	// alice reads her execution through the recorder; the captured request
	// is replayed, first as it was (served: it is a valid request), then
	// as StopAutomationExecution (refused: X-Amz-Target is signed).
	cli.mustRun("alice", recorder.URL, "ssm", "get-automation-execution", "--automation-execution-id", a)
	mu.Lock()
	var get *http.Request
	var getBody []byte
	for i, r := range captured {
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.GetAutomationExecution" {
			get, getBody = r, capturedBodies[i]
		}
	}
	mu.Unlock()
	if get == nil {
		t.Fatal("the recorder saw no GetAutomationExecution")
	}
	replay := func(op string) apiReply {
		// Through the recorder: the signature covers its host name.
		req, err := http.NewRequest(http.MethodPost, recorder.URL+get.URL.Path, bytes.NewReader(getBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = get.Header.Clone()
		req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
		return do(t, req)
	}
	if r := replay("GetAutomationExecution"); r.Status != http.StatusOK {
		t.Fatalf("the captured request replayed unchanged: %+v", r)
	}
	if r := replay("StopAutomationExecution"); r.Status != http.StatusBadRequest || r.Type != "InvalidSignatureException" {
		t.Errorf("the captured request replayed as StopAutomationExecution: %+v, want InvalidSignatureException", r)
	}

	// Nothing bob or the replay tried changed alice's execution or document.
	if got := pe.waitStatus(pe.clients["alice"], a, "Waiting"); got.AutomationExecution.AutomationExecutionStatus != "Waiting" {
		t.Errorf("alice's execution is %s", got.AutomationExecution.AutomationExecutionStatus)
	}
	if out := cli.mustRun("alice", pe.url, "ssm", "get-document", "--name", "Approve-Write", "--query", "Content", "--output", "text"); !strings.Contains(out, "- alice") {
		t.Errorf("alice's document now reads:\n%s", out)
	}
}
