package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestWebhooks(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	doc := `schemaVersion: "0.3"
parameters:
  Service: {type: String}
  Version: {type: String, default: latest}
  Hosts: {type: StringList}
mainSteps:
  - name: nap
    action: aws:sleep
    inputs: {Duration: PT0S}
`
	code, out, errOut := runKeys(t, "", "webhooks", "create", "deploy", "--document", "Deploy", "--db", db,
		"--map", "Service=$.repository.name", "--map", "Version=$.release.tag", "--map", "Hosts=$.hosts", "--default", "Version=1.0")
	if code != 0 || !strings.HasPrefix(out, "POST /webhooks/deploy/") || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	path := strings.TrimSpace(strings.TrimPrefix(out, "POST "))
	if code, _, errOut := runKeys(t, "", "webhooks", "create", "bad", "--document", "Deploy", "--map", "Service=repository.name", "--db", db); code != 2 || !strings.Contains(errOut, "not a JSONPath starting with $") {
		t.Errorf("bad --map: %d %q", code, errOut)
	}
	if code, _, errOut := runKeys(t, "s3cret\n", "keys", "put", "hooks/github", "--db", db); code != 0 {
		t.Fatalf("keys put: %s", errOut)
	}
	code, out, _ = runKeys(t, "", "webhooks", "create", "signed", "--document", "Deploy", "--map", "Service=$.s", "--map", "Hosts=$.h", "--signature-key", "hooks/github", "--db", db, "--output", "json")
	var signed struct{ Path string }
	if code != 0 || json.Unmarshal([]byte(out), &signed) != nil {
		t.Fatalf("create signed: %d %q", code, out)
	}
	if code, out, _ := runKeys(t, "", "webhooks", "list", "--db", db); code != 0 || !strings.Contains(out, "deploy  Deploy") || strings.Contains(out, path) {
		t.Errorf("list: %d %q (tokens must not be shown)", code, out)
	}

	url, _, cmd, sout := startServe(t, bin, "--db", db, "--insecure-no-auth", "--max-webhook-bytes", "4096")
	defer stopServe(t, cmd, sout)
	ssmCall(t, url, "CreateDocument", map[string]any{"Name": "Deploy", "Content": doc, "DocumentType": "Automation", "DocumentFormat": "YAML"})

	code, got := post(t, url+path, `{"repository": {"name": "web"}, "hosts": ["a", "b"], "release": null}`)
	id, _ := got["AutomationExecutionId"].(string)
	if code != 202 || id == "" {
		t.Fatalf("POST: %d %v", code, got)
	}
	ex := ssmCall(t, url, "GetAutomationExecution", map[string]any{"AutomationExecutionId": id})["AutomationExecution"].(map[string]any)
	params, _ := json.Marshal(ex["Parameters"])
	if string(params) != `{"Hosts":["a","b"],"Service":["web"],"Version":["1.0"]}` {
		t.Errorf("parameters %s", params)
	}
	if ex["ExecutedBy"] != "arn:aws:iam::000000000000:user/webhook/deploy" {
		t.Errorf("ExecutedBy %v", ex["ExecutedBy"])
	}

	for _, tc := range []struct {
		name, path, body string
		code             int
		msg              string
	}{
		{"wrong token", "/webhooks/deploy/nottheone", `{}`, 404, "no such webhook"},
		{"unknown webhook", "/webhooks/nope/x", `{}`, 404, "no such webhook"},
		{"empty body", path, ``, 400, "empty payload"},
		{"malformed", path, `{"repository": `, 400, "Unable to parse posted JSON data"},
		{"missing parameter", path, `{"hosts": ["a"]}`, 400, "parameter Service: $.repository.name matched nothing"},
		{"too large", path, `{"x": "` + strings.Repeat("a", 5000) + `"}`, 413, "larger than 4096"},
		{"unsigned", signed.Path, `{"s": "web", "h": ["a"]}`, 401, "X-Hub-Signature-256"},
	} {
		code, got := post(t, url+tc.path, tc.body)
		if msg, _ := got["Message"].(string); code != tc.code || !strings.Contains(msg, tc.msg) || got["AutomationExecutionId"] != nil {
			t.Errorf("%s: %d %v, want %d %q", tc.name, code, got, tc.code, tc.msg)
		}
	}
	body := `{"s": "web", "h": ["a"]}`
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(body))
	if code, got := post(t, url+signed.Path, body, "X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil))); code != 202 {
		t.Errorf("signed: %d %v", code, got)
	}
	if code, got := post(t, url+signed.Path, body, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)); code != 401 {
		t.Errorf("bad signature: %d %v", code, got)
	}

	// Rotation: the old path answers 404, the new one starts.
	code, out, _ = runKeys(t, "", "webhooks", "rotate", "deploy", "--db", db)
	newPath := strings.TrimSpace(strings.TrimPrefix(out, "POST "))
	if code != 0 || newPath == path {
		t.Fatalf("rotate: %d %q", code, out)
	}
	if code, _ := post(t, url+path, `{"repository": {"name": "web"}, "hosts": ["a"]}`); code != 404 {
		t.Errorf("old token after rotate: %d", code)
	}
	if code, _ := post(t, url+newPath, `{"repository": {"name": "web"}, "hosts": ["a"]}`); code != 202 {
		t.Errorf("new token after rotate: %d", code)
	}
	if _, metrics := get(t, url+"/metrics"); !strings.Contains(metrics, `capstan_webhook_firings_total{outcome="started",webhook="deploy"} 2`) ||
		!strings.Contains(metrics, `capstan_webhook_firings_total{outcome="rejected",webhook="deploy"} 4`) {
		t.Errorf("webhook metrics missing:\n%s", metrics)
	}
	if code, _, _ := runKeys(t, "", "webhooks", "delete", "deploy", "--db", db); code != 0 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := post(t, url+newPath, `{"repository": {"name": "web"}, "hosts": ["a"]}`); code != 404 {
		t.Errorf("deleted webhook: %d", code)
	}
	// Each change is one audit record: the CLI's as local:USER from the
	// cli, the webhooks' starts as themselves from the caller's address.
	const arn = "arn:capstan:capstan::000000000000:"
	counts := auditCounts(t, db)
	wantAudit(t, counts,
		"local: capstan:CreateWebhook "+arn+"webhook/deploy Success cli",
		"local: capstan:CreateWebhook "+arn+"webhook/signed Success cli",
		"local: capstan:PutKey "+arn+"key/hooks/github Success cli",
		"local: capstan:UpdateWebhook "+arn+"webhook/deploy Success cli",
		"local: capstan:DeleteWebhook "+arn+"webhook/deploy Success cli",
		"anonymous ssm:CreateDocument arn:aws:ssm:us-east-1:000000000000:document/Deploy Success 127.0.0.1",
		"webhook/signed ssm:StartAutomationExecution arn:aws:ssm:us-east-1:000000000000:automation-definition/Deploy:$DEFAULT Success 127.0.0.1")
	if n := counts["webhook/deploy ssm:StartAutomationExecution arn:aws:ssm:us-east-1:000000000000:automation-definition/Deploy:$DEFAULT Success 127.0.0.1"]; n != 2 {
		t.Errorf("webhook deploy's starts in the audit log: %d, want 2 (%v)", n, counts)
	}
}

// TestWebhookActsUnderItsOwnPolicy: with signatures checked, a webhook starts
// runbooks only where its policy allows; a refusal is 403 and starts nothing.
func TestWebhookActsUnderItsOwnPolicy(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	doc := filepath.Join(dir, "nap.yaml")
	if err := os.WriteFile(doc, []byte("schemaVersion: \"0.3\"\nmainSteps:\n  - name: nap\n    action: aws:sleep\n    inputs: {Duration: PT0S}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Deploy", "Other"} {
		if code, _, errOut := runKeys(t, "", "docs", "put", doc, "--name", name, "--db", db); code != 0 {
			t.Fatalf("docs put %s: %s", name, errOut)
		}
	}
	if code, _, errOut := runKeys(t, "", "users", "create", "admin", "--db", db); code != 0 {
		t.Fatalf("users create: %s", errOut)
	}
	onlyOther := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:StartAutomationExecution", "Resource": "arn:aws:ssm:*:*:automation-definition/Other:*"}]}`
	paths := map[string]string{}
	for _, hook := range []struct{ name, document, policy string }{
		{"narrow", "Deploy", onlyOther},
		{"allowed", "Other", onlyOther},
	} {
		code, out, errOut := runKeys(t, "", "webhooks", "create", hook.name, "--document", hook.document, "--policy", hook.policy, "--db", db)
		if code != 0 {
			t.Fatalf("webhooks create %s: %d %s", hook.name, code, errOut)
		}
		paths[hook.name] = strings.TrimSpace(strings.TrimPrefix(out, "POST "))
	}

	url, _, cmd, sout := startServe(t, bin, "--db", db, "--region", "eu-west-1")
	defer stopServe(t, cmd, sout)

	code, got := post(t, url+paths["narrow"], `{}`)
	if msg, _ := got["Message"].(string); code != http.StatusForbidden || !strings.Contains(msg, "ssm:StartAutomationExecution") || got["AutomationExecutionId"] != nil {
		t.Errorf("narrow webhook on Deploy: %d %v, want 403 naming ssm:StartAutomationExecution", code, got)
	}
	if code, got := post(t, url+paths["allowed"], `{}`); code != http.StatusAccepted || got["AutomationExecutionId"] == nil {
		t.Errorf("webhook on Other: %d %v, want 202", code, got)
	}
	code, out, _ := runKeys(t, "", "executions", "list", "--db", db)
	if code != 0 || strings.Contains(out, "Deploy") || !strings.Contains(out, "Other") {
		t.Errorf("executions list: %d\n%s\nwant only Other's execution", code, out)
	}
}
