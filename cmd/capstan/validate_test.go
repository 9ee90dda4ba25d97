package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRunbook(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const brokenRunbook = `schemaVersion: "0.3"
mainSteps:
  - name: first
    action: aws:sleep
    nextStep: secnd
    inputs:
      Duration: PT1S
  - name: second
    action: aws:sleep
    inputs:
      Duration: PT1S
`

// unknownAPIRunbook misspells a service at the top level and an operation
// inside a loop; the templated service is left for run time.
const unknownAPIRunbook = `schemaVersion: "0.3"
parameters:
  Svc: {type: String, default: ec2}
mainSteps:
  - name: top
    action: aws:executeAwsApi
    inputs: {Service: nosuchservice, Api: DescribeThings}
  - name: templated
    action: aws:executeAwsApi
    inputs: {Service: "{{ Svc }}", Api: DescribeInstances}
  - name: each
    action: aws:loop
    inputs:
      Iterators: [a, b]
      Steps:
        - name: inner
          action: aws:waitForAwsResourceProperty
          inputs: {Service: ec2, Api: DescribeInstancez, PropertySelector: $.x, DesiredValues: [y]}
`

// unknownMemberRunbook misspells request members of services the model
// knows, at the top level and nested; templated values are left alone.
const unknownMemberRunbook = `schemaVersion: "0.3"
parameters:
  Name: {type: String, default: db}
mainSteps:
  - name: glue
    action: aws:executeAwsApi
    inputs:
      Service: glue
      Api: get_database
      Name: "{{ Name }}"
      CatalogID: "123"
  - name: filters
    action: aws:executeAwsApi
    inputs:
      Service: ec2
      Api: DescribeInstances
      Filters:
        - Name: tag:Name
          Valuez: [web]
`

// undeclaredRunbook reads an output its first step does not declare.
const undeclaredRunbook = `schemaVersion: "0.3"
mainSteps:
  - name: first
    action: aws:sleep
    inputs: {Duration: PT1S}
  - name: second
    action: aws:sleep
    inputs: {Duration: "{{ first.Duration }}"}
`

func TestValidateCommand(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	broken := writeRunbook(t, "broken.yaml", brokenRunbook)
	undeclared := writeRunbook(t, "undeclared.yaml", undeclaredRunbook)
	unknownAPI := writeRunbook(t, "unknown-api.yaml", unknownAPIRunbook)
	unknownMember := writeRunbook(t, "unknown-member.yaml", unknownMemberRunbook)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings expected on stdout
		stderr   string
		jsonDiag int // number of diagnostics with --output json; -1 to skip
	}{
		{name: "samples are valid", args: []string{"validate", filepath.Join(root, "hello.yaml"), filepath.Join(root, "restart-instance.json")}, code: 0,
			stdout: []string{"hello.yaml: valid: ", "restart-instance.json: valid: ", "checked: the schema, every action"}, jsonDiag: -1},
		{name: "error with position", args: []string{"validate", broken}, code: 1,
			stdout: []string{broken + `:5:15: error: step first: nextStep: no step named "secnd"`}, jsonDiag: -1},
		{name: "json clean is an empty list", args: []string{"validate", "--output", "json", filepath.Join(root, "hello.yaml")}, code: 0, jsonDiag: 0},
		{name: "json with errors", args: []string{"validate", "--output=json", broken}, code: 1, jsonDiag: 2},
		{name: "unknown service and api, also in a loop", args: []string{"validate", unknownAPI}, code: 1,
			stdout: []string{unknownAPI + ":7:23: error: step top: ", "nosuchservice", unknownAPI + ":18:29: error: step inner: ", "DescribeInstancez"}, jsonDiag: -1},
		{name: "json unknown api", args: []string{"validate", "--output", "json", unknownAPI}, code: 1, jsonDiag: 2},
		{name: "unknown request member with position and suggestion", args: []string{"validate", unknownMember}, code: 0,
			stdout: []string{unknownMember + `:11:18: warning: step glue: glue GetDatabase: unknown field "CatalogID" (did you mean "CatalogId"?)`,
				unknownMember + `:18:9: warning: step filters: ec2 DescribeInstances: Filters[0]: unknown field "Valuez" (did you mean "Values"?)`}, jsonDiag: -1},
		{name: "unknown request member is an error with --strict", args: []string{"validate", "--strict", unknownMember}, code: 1,
			stdout: []string{unknownMember + `:11:18: error: step glue: glue GetDatabase: unknown field "CatalogID" (did you mean "CatalogId"?)`}, jsonDiag: -1},
		{name: "no files", args: []string{"validate"}, code: 2, stderr: "no runbook given", jsonDiag: -1},
		{name: "unknown format", args: []string{"validate", "--output", "xml", broken}, code: 2, stderr: `--output must be text or json, not "xml"`, jsonDiag: -1},
		{name: "undeclared output is a warning", args: []string{"validate", undeclared}, code: 0,
			stdout: []string{`undeclared.yaml:8:25: warning: step second: inputs.Duration: first.Duration: step first declares no output "Duration"`}, jsonDiag: -1},
		{name: "undeclared output is an error with --strict", args: []string{"validate", "--strict", undeclared}, code: 1,
			stdout: []string{`undeclared.yaml:8:25: error: step second: inputs.Duration: first.Duration: step first declares no output "Duration"`}, jsonDiag: -1},
		{name: "unreadable file", args: []string{"validate", filepath.Join(t.TempDir(), "missing.yaml")}, code: 1,
			stdout: []string{"error: cannot read runbook"}, jsonDiag: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
			if tt.stderr != "" && !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb.String())
			}
			if tt.jsonDiag >= 0 {
				var got struct {
					Diagnostics []map[string]any `json:"diagnostics"`
				}
				if err := json.Unmarshal(out.Bytes(), &got); err != nil {
					t.Fatalf("not json: %v\n%s", err, out.String())
				}
				if got.Diagnostics == nil || len(got.Diagnostics) != tt.jsonDiag {
					t.Errorf("diagnostics = %v, want %d", got.Diagnostics, tt.jsonDiag)
				}
				for _, d := range got.Diagnostics {
					for _, k := range []string{"file", "line", "column", "severity", "message"} {
						if _, ok := d[k]; !ok {
							t.Errorf("diagnostic lacks %q: %v", k, d)
						}
					}
				}
			}
		})
	}
}
