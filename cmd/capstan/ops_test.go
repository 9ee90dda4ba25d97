package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/awsapi"
)

// ssmCall posts one unsigned SSM API request (serve runs with
// --insecure-no-auth) and decodes the answer.
func ssmCall(t *testing.T, url, op string, in any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("%s: HTTP %d %s", op, resp.StatusCode, body)
	}
	return out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeHealthAndMetrics(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")

	// With authentication on, the probes answer unsigned requests and the
	// API still refuses them.
	url, _, cmd, out := startServe(t, bin, "--db", db)
	if code, body := get(t, url+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, url+"/readyz"); code != 200 || body != "store: ok\nengine: ok\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "AmazonSSM.DescribeAutomationExecutions")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Errorf("an unsigned API request was served")
	}
	stopServe(t, cmd, out)

	// Records are shipped to S3 (moto).
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s3 := awsapi.New(cfg, awsapi.Options{})
	if _, err := s3.Invoke(context.Background(), "s3", "CreateBucket", map[string]any{"Bucket": "capstan-logs"}); err != nil {
		t.Fatal(err)
	}
	url, _, cmd, out = startServe(t, bin, "--db", db, "--insecure-no-auth", "--log-bucket", "s3://capstan-logs/prod/")
	defer stopServe(t, cmd, out)
	doc := `schemaVersion: "0.3"
mainSteps:
  - name: whoami
    action: aws:executeAwsApi
    inputs: {Service: sts, Api: GetCallerIdentity}
  - name: nap
    action: aws:sleep
    inputs: {Duration: PT0S}
`
	ssmCall(t, url, "CreateDocument", map[string]any{"Name": "Metered", "Content": doc, "DocumentType": "Automation", "DocumentFormat": "YAML"})
	id := ssmCall(t, url, "StartAutomationExecution", map[string]any{"DocumentName": "Metered"})["AutomationExecutionId"].(string)
	for i := 0; ; i++ {
		ex := ssmCall(t, url, "GetAutomationExecution", map[string]any{"AutomationExecutionId": id})
		if dig := ex["AutomationExecution"].(map[string]any)["AutomationExecutionStatus"]; dig == "Success" {
			break
		} else if i == 200 || dig == "Failed" {
			t.Fatalf("execution %s: %v", id, ex)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := 0; ; i++ {
		obj, err := s3.Invoke(context.Background(), "s3", "GetObject", map[string]any{"Bucket": "capstan-logs", "Key": "prod/" + id + ".json"})
		if err == nil {
			if body, _ := obj["Body"].(string); !strings.Contains(body, `"IAMAction": "sts:GetCallerIdentity"`) || !strings.Contains(body, `"AutomationExecutionStatus": "Success"`) {
				t.Errorf("shipped record lacks the call or the status: %s", body)
			}
			break
		}
		if i == 200 {
			t.Fatalf("record of %s not shipped: %v\n%s", id, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The shipper counts a copy once S3 has answered and the engine counts
	// an execution out after its last event, both of which may be just after
	// what the test waited for: poll for every figure, boundedly.
	wants := []string{
		`capstan_executions_started_total{mode="Auto"} 1`,
		`capstan_executions_finished_total{status="Success"} 1`,
		`capstan_step_duration_seconds_count{action="aws:executeAwsApi",status="Success"} 1`,
		`capstan_step_duration_seconds_count{action="aws:sleep",status="Success"} 1`,
		`capstan_aws_calls_total{code="",operation="GetCallerIdentity",service="sts"} 1`,
		`capstan_executions_running 0`,
		`capstan_log_shipments_total{dest="s3",outcome="ok"} 1`,
	}
	missing := func(metrics string) []string {
		var out []string
		for _, w := range wants {
			if !strings.Contains(metrics, w) {
				out = append(out, w)
			}
		}
		return out
	}
	code, metrics := get(t, url+"/metrics")
	for i := 0; code == 200 && i < 250 && len(missing(metrics)) > 0; i++ {
		time.Sleep(40 * time.Millisecond)
		code, metrics = get(t, url+"/metrics")
	}
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, w := range missing(metrics) {
		t.Errorf("/metrics lacks %s", w)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
}

func TestServeRetainBadValueIsUsage(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "c.db"), "--retain", "thirty days")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), `--retain: retention "thirty days": expected a positive number of days such as 30d`) {
		t.Errorf("exit %d: %s", code, out)
	}
}
