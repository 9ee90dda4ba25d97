package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/ssmapi"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// TestSameDiagnosticFromCLIAndAPI feeds the same bad start requests to
// `capstan run` and to StartAutomationExecution and expects the same
// message from both: they share one start path.
func TestSameDiagnosticFromCLIAndAPI(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CAPSTAN_DB", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	probe := `schemaVersion: '0.3'
parameters:
  Color: {type: String, allowedValues: [red, green]}
  Count: {type: Integer, default: 1}
mainSteps:
  - {name: nap, action: aws:sleep, inputs: {Duration: PT0S}}
`
	if err := os.WriteFile(filepath.Join(dir, "probe.yaml"), []byte(probe), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "docs", "put", filepath.Join(dir, "probe.yaml"), "--name", "Team-Probe", "--db", db); code != 0 {
		t.Fatalf("docs put: %d %s %s", code, out, errOut)
	}

	ctx := context.Background()
	store, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := (&awsFlags{}).newService(ctx, store, &config.Config{}, serviceOptions{})
	defer svc.Engine().Shutdown()
	api := httptest.NewServer(ssmapi.New(ssmapi.Options{Service: svc}))
	defer api.Close()

	long := strings.Repeat("x", 513)
	for _, tc := range []struct {
		name     string
		cli      []string // after run NAME
		doc      string
		version  string
		params   map[string][]string
		wantCode int
		wantAPI  string
		want     string
	}{
		{"undeclared parameter", []string{"-p", "Color=red", "-p", "Colour=red"}, "Team-Probe", "", map[string][]string{"Color": {"red"}, "Colour": {"red"}},
			exitUsage, "InvalidAutomationExecutionParametersException", "parameter Colour: not declared by the runbook (did you mean \"Color\"?)"},
		{"missing required", nil, "Team-Probe", "", nil,
			exitUsage, "InvalidAutomationExecutionParametersException", "parameter Color: required"},
		{"not an allowed value", []string{"-p", "Color=blue"}, "Team-Probe", "", map[string][]string{"Color": {"blue"}},
			exitUsage, "InvalidAutomationExecutionParametersException", `parameter Color: value "blue"`},
		{"not an integer", []string{"-p", "Color=red", "-p", "Count=many"}, "Team-Probe", "", map[string][]string{"Color": {"red"}, "Count": {"many"}},
			exitUsage, "InvalidAutomationExecutionParametersException", `parameter Count: value "many"`},
		{"value over SSM's limit", []string{"-p", "Color=red", "-p", "Count=1" + long}, "Team-Probe", "", map[string][]string{"Color": {"red"}, "Count": {"1" + long}},
			exitUsage, "InvalidAutomationExecutionParametersException", "parameter Count"},
		{"unknown runbook", nil, "Team-Nowhere", "", nil,
			exitFailure, "AutomationDefinitionNotFoundException", "Team-Nowhere is not in capstan's store"},
		{"unknown version", []string{"--version", "9"}, "Team-Probe", "9", nil,
			exitFailure, "AutomationDefinitionVersionNotFoundException", "Team-Probe has no version 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", tc.doc, "--db", db}, tc.cli...)
			code, _, errOut := cli(t, args...)
			cliMsg := strings.TrimSpace(strings.TrimPrefix(errOut, "capstan: "))
			if code != tc.wantCode || !strings.Contains(cliMsg, tc.want) {
				t.Errorf("CLI: exit %d %q, want exit %d naming %q", code, cliMsg, tc.wantCode, tc.want)
			}
			typ, apiMsg := startOverAPI(t, api.URL, tc.doc, tc.version, tc.params)
			if typ != tc.wantAPI {
				t.Errorf("API: %s %q, want %s", typ, apiMsg, tc.wantAPI)
			}
			if apiMsg != cliMsg {
				t.Errorf("different diagnostics:\nCLI: %s\nAPI: %s", cliMsg, apiMsg)
			}
		})
	}
}

// startOverAPI sends StartAutomationExecution and returns the error's type
// and message.
func startOverAPI(t *testing.T, url, name, version string, params map[string][]string) (string, string) {
	t.Helper()
	return apiError(t, url, "StartAutomationExecution", map[string]any{"DocumentName": name, "DocumentVersion": version, "Parameters": params})
}

// apiError sends one operation and returns the error's type and message.
func apiError(t *testing.T, url, op string, in map[string]any) (string, string) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e.Type, e.Message
}

// TestSameFilterDiagnosticFromCLIAndAPI: `executions list --status` and
// DescribeAutomationExecutions' ExecutionStatus filter are read and checked
// by one copy, so a bad value gets the same message (and SSM's error name
// over the API; exit 2 from the CLI).
func TestSameFilterDiagnosticFromCLIAndAPI(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CAPSTAN_DB", "")
	db := filepath.Join(t.TempDir(), "capstan.db")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := (&awsFlags{}).newService(ctx, store, &config.Config{}, serviceOptions{})
	defer svc.Engine().Shutdown()
	api := httptest.NewServer(ssmapi.New(ssmapi.Options{Service: svc}))
	defer api.Close()

	eleven := strings.Split(strings.Repeat("Success,", 11), ",")[:11]
	for _, tc := range []struct {
		name     string
		statuses []string
		wantAPI  string
		want     string
	}{
		{"misspelt status", []string{"Sucess"}, "InvalidFilterValue", `"Sucess" is not an execution status`},
		{"too many values", eleven, "InvalidFilterValue", "The filter ExecutionStatus takes 1 to 10 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"executions", "list", "--db", db}
			for _, s := range tc.statuses {
				args = append(args, "--status", s)
			}
			code, _, errOut := cli(t, args...)
			typ, apiMsg := apiError(t, api.URL, "DescribeAutomationExecutions", map[string]any{
				"Filters": []map[string]any{{"Key": "ExecutionStatus", "Values": tc.statuses}}})
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("CLI: exit %d %q, want exit %d naming %q", code, errOut, exitUsage, tc.want)
			}
			if typ != tc.wantAPI || !strings.Contains(apiMsg, tc.want) {
				t.Errorf("API: %s %q, want %s naming %q", typ, apiMsg, tc.wantAPI, tc.want)
			}
			if !strings.Contains(errOut, apiMsg) {
				t.Errorf("different diagnostics:\nCLI: %s\nAPI: %s", errOut, apiMsg)
			}
		})
	}
}
