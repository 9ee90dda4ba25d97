// Package mototest starts moto_server, the AWS emulator, for tests: one
// server per test binary on a free loopback port, reset between tests.
//
// Tests call Start(t) and point the SDK at the returned Server's URL. Outside
// CI a missing moto_server fails the test with a message saying how to install
// it; with CI=true it fails the same way: there is no skip.
package mototest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running moto_server.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	auth bool
}

var (
	mu      sync.Mutex
	servers = map[string]*Server{} // by mode
)

// Options select how moto runs.
type Options struct {
	// EnforceIAM starts moto with INITIAL_NO_AUTH_ACTION_COUNT so that it
	// checks every request after the first UnauthCalls against IAM policies.
	EnforceIAM  bool
	UnauthCalls int
}

// Start returns the shared plain moto server, reset to an empty state.
func Start(t testing.TB) *Server {
	return StartWith(t, Options{})
}

// StartWith returns a moto server for the options, started once per test
// binary and reset for this test. An IAM-enforcing server is started fresh for
// every call because moto's unauthenticated-call counter survives resets.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.EnforceIAM {
		s, err := launch(opts)
		if err != nil {
			t.Fatalf("mototest: %v", err)
		}
		t.Cleanup(s.stop)
		return s
	}
	mu.Lock()
	s := servers["plain"]
	if s == nil {
		var err error
		s, err = launch(opts)
		if err != nil {
			mu.Unlock()
			t.Fatalf("mototest: %v", err)
		}
		servers["plain"] = s
	}
	mu.Unlock()
	if err := s.Reset(); err != nil {
		t.Fatalf("mototest: reset: %v", err)
	}
	return s
}

// Env returns environment entries that point an AWS SDK or the aws CLI at the
// server with dummy credentials.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
	}
}

// SetEnv sets the variables of Env for the duration of the test.
func (s *Server) SetEnv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Reset empties every emulated service.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: HTTP %d", resp.StatusCode)
	}
	return nil
}

func launch(opts Options) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not found on PATH (install it with `pip install 'moto[server]'`): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	// The emulator must not outlive the test binary, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if opts.EnforceIAM {
		cmd.Env = append(cmd.Env, fmt.Sprintf("INITIAL_NO_AUTH_ACTION_COUNT=%d", opts.UnauthCalls))
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting moto_server: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, auth: opts.EnforceIAM}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("moto_server on %s did not answer within 60s", s.URL)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
