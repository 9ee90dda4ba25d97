package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRecordThenReplay runs a runbook against moto keeping its calls,
// writes a test from the execution, and replays it offline.
func TestRecordThenReplay(t *testing.T) {
	motoCLI(t)
	file := writeRunbook(t, "params.yaml", `schemaVersion: "0.3"
parameters:
  Name: {type: String, default: /app/color}
mainSteps:
  - name: put
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: PutParameter, Name: "{{ Name }}", Value: blue, Type: String, Overwrite: true}
  - name: get
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: GetParameter, Name: "{{ Name }}"}
    outputs:
      - {Name: Value, Selector: $.Parameter.Value, Type: String}
  - name: missing
    action: aws:executeAwsApi
    onFailure: Continue
    inputs: {Service: ssm, Api: GetParameter, Name: /nothing/here}
outputs: [get.Value]
`)
	db := filepath.Join(t.TempDir(), "c.db")
	code, out, stderr := cli(t, "run", file, "--db", db, "--record-calls")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, stderr)
	}
	id := regexp.MustCompile(`execution (\S+)`).FindStringSubmatch(out)[1]
	// What the execution called, as a policy.
	if code, out, stderr := cli(t, "policy", "--execution", id, "--db", db); code != 0 ||
		!strings.Contains(out, "ssm:GetParameter  *") || !strings.Contains(out, "ssm:PutParameter  *") {
		t.Errorf("policy --execution: exit %d\n%s%s", code, out, stderr)
	}
	dir := t.TempDir()
	test := filepath.Join(dir, "params.test.yaml")
	if code, out, stderr := cli(t, "record", id, "--to", test, "--db", db); code != 0 {
		t.Fatalf("record: exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(test)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"runbook: params.runbook.yaml", "api: PutParameter", "code: ParameterNotFound", "get.Value:", "- blue", "missing: Failed"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("recorded test lacks %q:\n%s", want, b)
		}
	}
	// An execution run without --record-calls cannot be recorded.
	code, out, _ = cli(t, "run", file, "--db", db)
	if code != 0 {
		t.Fatal(out)
	}
	id2 := regexp.MustCompile(`execution (\S+)`).FindStringSubmatch(out)[1]
	if code, _, stderr := cli(t, "record", id2, "--to", test, "--db", db); code != 1 || !strings.Contains(stderr, "--record-calls") {
		t.Errorf("record without recorded calls: exit %d, %s", code, stderr)
	}
	// Offline: no endpoint, no credentials.
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "")
	}
	if code, out, _ := cli(t, "test", test); code != 0 || !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("replay: exit %d\n%s\n%s", code, out, b)
	}
}
