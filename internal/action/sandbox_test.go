package action_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
)

func needBwrap(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Fatal("these tests need bwrap on PATH (Debian package bubblewrap)")
	}
}

func runIn(ctx context.Context, reg *action.Registry, execID, script string, payload map[string]any, env func(context.Context) ([]string, error)) (*action.Result, error) {
	e, _ := reg.Lookup("aws:executeScript")
	inputs := map[string]any{"Runtime": "python3.11", "Handler": "handler", "Script": script}
	if payload != nil {
		inputs["InputPayload"] = payload
	}
	return e.Impl.Run(ctx, &action.Request{ExecutionID: execID, Step: "step", Inputs: inputs, Env: env})
}

// probe is what a hostile script tries: every process it can see, the
// server's data directory and master key, a hidden directory, and its own
// environment.
const probe = `
import glob, os
def attempt(f):
    try:
        return f()
    except Exception as e:
        return "ERR " + type(e).__name__
def handler(events, context):
    procs = []
    for p in glob.glob("/proc/[0-9]*"):
        for f in ("cmdline", "environ"):
            procs.append(attempt(lambda: open(p + "/" + f, "rb").read().decode("latin-1")))
    return {
        "pids": len(glob.glob("/proc/[0-9]*")),
        "procs": "\n".join(procs),
        "data": attempt(lambda: os.listdir(events["data"])),
        "key": attempt(lambda: open(events["data"] + "/master.key").read()),
        "hidden": attempt(lambda: os.listdir("/etc/ssl")),
        "shadow": attempt(lambda: open("/etc/shadow").read()),
        "env": dict(os.environ),
    }
`

func TestScriptSandboxShowsNothingOfTheServer(t *testing.T) {
	needPython(t)
	needBwrap(t)
	const marker = "capstan-server-secret-3f9a"
	t.Setenv("CAPSTAN_TEST_MARKER", marker)
	t.Setenv("AWS_SECRET_ACCESS_KEY", marker)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "master.key"), []byte(marker), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := action.Builtin()
	reg.SetScriptSandbox(action.ScriptSandbox{Hide: []string{data, "/etc/ssl"}})
	env := func(context.Context) ([]string, error) {
		return []string{"AWS_ACCESS_KEY_ID=execution-key", "AWS_SECRET_ACCESS_KEY=execution-secret"}, nil
	}
	res, err := runIn(context.Background(), reg, "exec-probe", probe, map[string]any{"data": data}, env)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := res.Outputs["Payload"].(map[string]any)
	if n, _ := got["pids"].(float64); n < 1 || n > 3 {
		t.Errorf("the script sees %v processes, want only its own (bwrap's init and itself)", got["pids"])
	}
	if procs, _ := got["procs"].(string); strings.Contains(procs, marker) || strings.Contains(procs, filepath.Base(os.Args[0])) {
		t.Errorf("the script read the server's process through /proc:\n%s", procs)
	}
	if got["data"] != "ERR FileNotFoundError" || got["key"] != "ERR FileNotFoundError" {
		t.Errorf("data directory: %v, master key: %v; want neither to exist in the sandbox", got["data"], got["key"])
	}
	if h, ok := got["hidden"].([]any); !ok || len(h) != 0 {
		t.Errorf("hidden /etc/ssl lists %v, want an empty directory", got["hidden"])
	}
	if got["shadow"] != "ERR FileNotFoundError" {
		t.Errorf("/etc/shadow: %v, want it absent", got["shadow"])
	}
	envs, _ := got["env"].(map[string]any)
	if envs["AWS_SECRET_ACCESS_KEY"] != "execution-secret" || envs["AWS_ACCESS_KEY_ID"] != "execution-key" {
		t.Errorf("environment %v, want the execution's credentials", envs)
	}
	if _, leaked := envs["CAPSTAN_TEST_MARKER"]; leaked {
		t.Errorf("the server's environment reached the script: %v", envs)
	}
}

func TestScriptSandboxMissingFailsTheStep(t *testing.T) {
	needPython(t)
	// A PATH with python3 but no bwrap.
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(py, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	script := "def handler(events, context):\n    return 1\n"
	_, err = runIn(context.Background(), action.Builtin(), "exec-nobwrap", script, nil, nil)
	if !errors.Is(err, action.ErrNoSandbox) || !strings.Contains(err.Error(), "--unsafe-scripts") {
		t.Fatalf("error = %v, want ErrNoSandbox naming --unsafe-scripts", err)
	}
	reg := action.Builtin()
	reg.SetScriptSandbox(action.ScriptSandbox{Unsafe: true})
	res, err := runIn(context.Background(), reg, "exec-unsafe", script, nil, nil)
	if err != nil || res.Outputs["Payload"] != float64(1) {
		t.Fatalf("with unsafe scripts: %v, %v; want the script to run", res, err)
	}
}

// TestScriptSandboxHelper is the "server" TestScriptDiesWithTheServer kills:
// it runs one script that would run for a minute.
func TestScriptSandboxHelper(t *testing.T) {
	id := os.Getenv("CAPSTAN_SANDBOX_HELPER")
	if id == "" {
		return
	}
	reg := action.Builtin()
	reg.SetScriptSandbox(action.ScriptSandbox{Unsafe: os.Getenv("CAPSTAN_SANDBOX_UNSAFE") != ""})
	_, err := runIn(context.Background(), reg, id, "import time\ndef handler(events, context):\n    time.sleep(60)\n", nil, nil)
	t.Fatalf("the script ended: %v", err)
}

// scriptProcesses lists the processes whose command line holds id.
func scriptProcesses(t *testing.T, id string) []string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var found []string
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && bytes.Contains(b, []byte(id)) && !bytes.Contains(b, []byte("-test.run")) {
			found = append(found, d)
		}
	}
	return found
}

func TestScriptDiesWithTheServer(t *testing.T) {
	needPython(t)
	needBwrap(t)
	for _, mode := range []string{"sandbox", "unsafe"} {
		t.Run(mode, func(t *testing.T) {
			id := fmt.Sprintf("exec-orphan-%s-%d", mode, os.Getpid())
			helper := exec.Command(os.Args[0], "-test.run=^TestScriptSandboxHelper$")
			helper.Env = append(os.Environ(), "CAPSTAN_SANDBOX_HELPER="+id)
			if mode == "unsafe" {
				helper.Env = append(helper.Env, "CAPSTAN_SANDBOX_UNSAFE=1")
			}
			if err := helper.Start(); err != nil {
				t.Fatal(err)
			}
			// Bounded waits: the script starts, then outlives the server
			// by no more than the kernel takes to deliver the signals.
			for i := 0; len(scriptProcesses(t, id)) == 0; i++ {
				if i == 300 {
					_ = helper.Process.Kill()
					t.Fatal("the script never started")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := helper.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = helper.Wait()
			var left []string
			for range 250 {
				if left = scriptProcesses(t, id); len(left) == 0 {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Errorf("script processes outlived the killed server: %v", slices.Compact(left))
		})
	}
}

// BenchmarkScriptStep measures one aws:executeScript step, in the sandbox
// and without it: the cost of bubblewrap per script step.
func BenchmarkScriptStep(b *testing.B) {
	needBwrap(b)
	for _, mode := range []string{"sandbox", "unsafe"} {
		b.Run(mode, func(b *testing.B) {
			reg := action.Builtin()
			reg.SetScriptSandbox(action.ScriptSandbox{Unsafe: mode == "unsafe"})
			for b.Loop() {
				if _, err := runIn(context.Background(), reg, "exec-bench", "def handler(events, context):\n    return 1\n", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
