package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRetrySettingsReachTheCalls runs a runbook against a loopback SSM that
// always throttles (AWS JSON 1.1 error form) and counts the attempts capstan
// makes under the flags and the configuration file.
func TestRetrySettingsReachTheCalls(t *testing.T) {
	motoCLI(t)
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("retries: {maxAttempts: 4, delay: 1ms, maxDelay: 5ms}\nprojects:\n  once:\n    retries: {maxAttempts: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		tries int32
	}{
		{"config file", nil, 4},
		{"project", []string{"--project", "once"}, 1},
		{"flag over both", []string{"--project", "once", "--retry-max-attempts", "3"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attempts.Store(0)
			args := append([]string{"run", "testdata/run-ssm-describe.yaml", "--db", filepath.Join(dir, "capstan.db"), "--config", config,
				"--endpoint-url", srv.URL, "--output", "json"}, tc.args...)
			code, out, errOut := cli(t, args...)
			if code != 1 {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			if got := attempts.Load(); got != tc.tries {
				t.Errorf("%d attempts, want %d", got, tc.tries)
			}
			if msg := decodeExecution(t, out).StepExecutions[0].FailureMessage; !strings.Contains(msg, "ThrottlingException") {
				t.Errorf("failure %q does not name the throttling", msg)
			}
		})
	}
	code, _, errOut := cli(t, "run", "testdata/run-ssm-describe.yaml", "--config", config, "--retry-delay", "soon")
	if code != 2 || !strings.Contains(errOut, "retry-delay") {
		t.Errorf("a malformed --retry-delay: exit %d, %q", code, errOut)
	}
}
