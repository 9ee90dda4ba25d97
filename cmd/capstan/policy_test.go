package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const scriptRunbook = `schemaVersion: "0.3"
parameters:
  Name: {type: String}
mainSteps:
  - name: read
    action: aws:executeAwsApi
    inputs: {Service: ssm, Api: GetParameter, Name: "{{ Name }}"}
  - name: custom
    action: aws:executeScript
    inputs: {Runtime: python3.11, Handler: h, Script: "def h(e, c): return 1"}
`

func TestPolicyCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"policy", "AWS-StopEC2Instance", "-p", "InstanceId=i-0abc", "--region", "us-east-1", "--output", "json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var doc struct {
		Statement []struct{ Action, Resource []string }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not a policy document: %v\n%s", err, out.String())
	}
	found := false
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			if a == "ec2:StopInstances" {
				found = strings.Join(s.Resource, ",") == "arn:aws:ec2:us-east-1:*:instance/i-0abc"
			}
		}
	}
	if !found {
		t.Errorf("no ec2:StopInstances on the instance's ARN in\n%s", out.String())
	}

	// A script's calls cannot be known: the step and the reason on stderr, exit 1,
	// and what is known still printed.
	out.Reset()
	errOut.Reset()
	file := writeRunbook(t, "custom.yaml", scriptRunbook)
	code = run([]string{"policy", file, "-p", "Name=/db/url", "--account", "123456789012", "--region", "us-east-1"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "step custom (aws:executeScript)") || !strings.Contains(errOut.String(), "script's own AWS calls") {
		t.Errorf("exit %d, stderr %q; want 1 naming step custom and why", code, errOut.String())
	}
	if !strings.Contains(out.String(), "ssm:GetParameter  arn:aws:ssm:us-east-1:123456789012:parameter/db/url") {
		t.Errorf("stdout %q lacks the narrowed GetParameter", out.String())
	}

	// Bad usage exits 2.
	for _, args := range [][]string{
		{"policy"},
		{"policy", "AWS-StopEC2Instance", "-p", "Nope=1"},
		{"policy", "AWS-StopEC2Instance", "--execution", "x"},
		{"policy", "AWS-StopEC2Instance", "--external-id", "x"},
	} {
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code := run([]string{"policy", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &errOut); code != 1 {
		t.Errorf("missing runbook: exit %d, want 1", code)
	}
}
