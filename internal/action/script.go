package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

func registerScript(r *Registry) {
	r.Register(Spec{
		Name:    "aws:executeScript",
		Summary: "Run a Python or PowerShell script (inline or attached) and expose what it returns.",
		Inputs: []Input{
			req("Runtime", String, "python3.x, PowerShell Core 6.0 or PowerShell 7.x."),
			opt("Handler", String, "Python function taking (events, context); file.function for attachments."),
			opt("Script", String, "Inline script text; or Attachment."),
			opt("Attachment", String, "Name of a file in the runbook's files section."),
			opt("InputPayload", StringMap, "Passed to the handler as events ($env:InputPayload in PowerShell)."),
		},
		Outputs: []Output{
			{Name: "Payload", Type: Any, Doc: "What the handler returned, as JSON (at most 100 KB; lists cut to 100 items)."},
		},
		UserOutputs: true,
		RunsCode:    true,
		LogOutput:   scriptLogOutput,
		MaxTimeout:  600 * time.Second,
		Impact:      Undetermined,
		Support:     Executes,
		IAM:         scriptIAM,
	}, executeScript{})
}

// scriptIAM: the script's own AWS calls cannot be read from its inputs.
func scriptIAM(map[string]any) ([]string, string) {
	return nil, "the script's own AWS calls cannot be read from the runbook"
}

// scriptLogOutput is the output SSM keeps a script's printed output in.
const scriptLogOutput = "ExecutionLog"

// SSM's limits on what a script returns.
const (
	scriptPayloadMax = 100 << 10
	scriptListMax    = 100
	// scriptLogMax bounds the print() output kept with the step and for a
	// failure message.
	scriptLogMax = 64 << 10
)

// ScriptError says the script's handler raised an exception (or the script
// could not be run); the step fails with it.
type ScriptError struct {
	Type    string // the exception's class, e.g. ValueError
	Message string
	Line    string // where it was raised in the script, e.g. "line 3, in handler"
	Logs    string // the tail of what the script printed
}

func (e *ScriptError) Error() string {
	msg := e.Type
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Line != "" {
		msg += " (" + e.Line + ")"
	}
	if e.Logs != "" {
		msg += "; script output: " + truncateTail(e.Logs, stderrExcerpt)
	}
	return msg
}

// ErrScriptUnsupported marks scripts capstan cannot run here.
var ErrScriptUnsupported = errors.New("not supported by capstan")

// executeScript runs scripts in its sandbox (the zero value: bubblewrap,
// required).
type executeScript struct {
	sandbox ScriptSandbox
}

func (e executeScript) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:executeScript"
	runtime, err := stringInput(name, req.Inputs, "Runtime")
	if err != nil {
		return nil, err
	}
	if present(req.Inputs, "Attachment") && !present(req.Inputs, "Script") {
		return nil, fmt.Errorf("%s: scripts attached through files/Attachment are %w yet; put the script inline in Script", name, ErrScriptUnsupported)
	}
	script, err := stringInput(name, req.Inputs, "Script")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(strings.ToLower(runtime), "python") {
		if strings.Contains(strings.ToLower(runtime), "powershell") {
			return nil, fmt.Errorf("%s: runtime %q: PowerShell scripts are %w yet", name, runtime, ErrScriptUnsupported)
		}
		return nil, &InputError{Action: name, Input: "Runtime", Reason: fmt.Sprintf("unknown runtime %q (python3.x or PowerShell)", runtime)}
	}
	handler, err := stringInput(name, req.Inputs, "Handler")
	if err != nil {
		return nil, err
	}
	events := map[string]any{}
	if present(req.Inputs, "InputPayload") {
		m, ok := req.Inputs["InputPayload"].(map[string]any)
		if !ok {
			return nil, &InputError{Action: name, Input: "InputPayload", Reason: fmt.Sprintf("expected a map, got %T", req.Inputs["InputPayload"])}
		}
		events = m
	}
	eventsJSON, err := json.Marshal(events)
	if err != nil {
		return nil, &InputError{Action: name, Input: "InputPayload", Reason: err.Error()}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 600*time.Second)
		defer cancel()
	}
	// The script calls AWS as the execution: its credentials, region and
	// endpoint. When they cannot be had the script runs without them, so a
	// script that calls no AWS API still runs; a boto3 script's failure then
	// says why.
	var awsEnv []string
	var envErr error
	if req.Env != nil {
		awsEnv, envErr = req.Env(ctx)
	}
	value, printed, err := runPython(ctx, req, e.sandbox, script, handler, eventsJSON, awsEnv)
	if err != nil {
		if envErr != nil && strings.Contains(script, "boto") {
			err = fmt.Errorf("%w (the script ran without AWS credentials: %v)", err, envErr)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	value = limitPayload(value)
	outputs := map[string]any{"Payload": value}
	if printed != "" {
		// SSM keeps what the script printed with the step, as its
		// ExecutionLog output (AWS-owned runbooks tell their users to
		// "see ExecutionLog").
		outputs[scriptLogOutput] = printed
	}
	return &Result{
		Outputs:  outputs,
		Response: map[string]any{"Payload": value},
	}, nil
}

// limitPayload applies SSM's limits: a list is cut to 100 items; a value
// whose JSON exceeds 100 KB becomes its first 100 KB of JSON text.
func limitPayload(v any) any {
	if l, ok := v.([]any); ok && len(l) > scriptListMax {
		v = l[:scriptListMax]
	}
	b, err := json.Marshal(v)
	if err == nil && len(b) > scriptPayloadMax {
		return string(b[:scriptPayloadMax])
	}
	return v
}

// interpreter is the Python that runs scripts: its executable and the
// directories of its installation, which the sandbox must show.
type interpreter struct {
	exe      string
	prefixes []string
}

// python finds the real interpreter behind python3 once, with capstan's
// own environment, so that a shim (pyenv, asdf) still works when the script
// runs with a clean one.
var python = sync.OnceValues(func() (interpreter, error) {
	path, err := exec.LookPath("python3")
	if err != nil {
		return interpreter{}, fmt.Errorf("python3 is not on PATH (Python scripts need it): %w", err)
	}
	out, err := exec.Command(path, "-c", "import sys; print(sys.executable); print(sys.prefix); print(sys.base_prefix)").Output()
	lines := strings.Fields(string(out))
	if err != nil || len(lines) != 3 {
		return interpreter{exe: path, prefixes: []string{filepath.Dir(filepath.Dir(path))}}, nil
	}
	return interpreter{exe: lines[0], prefixes: lines[1:]}, nil
})

// runPython runs the handler of script in a python3 subprocess with a clean
// environment, the events on stdin, and returns what the handler returned
// and the tail of what the script printed.
// The runner writes its result on file descriptor 3, so whatever the script
// prints stays its log.
func runPython(ctx context.Context, req *Request, sb ScriptSandbox, script, handler string, events []byte, awsEnv []string) (any, string, error) {
	py, err := python()
	if err != nil {
		return nil, "", err
	}
	exe := py.exe
	dir, err := os.MkdirTemp("", "capstan-script-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, "", err
	}
	scriptPath := filepath.Join(dir, "script.py")
	runnerPath := filepath.Join(dir, "capstan_runner.py")
	if err := os.WriteFile(scriptPath, []byte(script), 0o600); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(runnerPath, []byte(pythonRunner), 0o600); err != nil {
		return nil, "", err
	}
	contextJSON, _ := json.Marshal(map[string]any{"automation:EXECUTION_ID": req.ExecutionID, "StepName": req.Step})
	resultR, resultW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	defer resultR.Close()

	argv := []string{exe, "-I", "-u", runnerPath, scriptPath, handler, string(contextJSON)}
	env := scriptEnv(home, awsEnv)
	if !sb.Unsafe {
		if argv, err = sb.sandboxCommand(dir, py.prefixes, envFiles(env), argv); err != nil {
			return nil, "", err
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(events)
	logs := &TailBuffer{Max: scriptLogMax}
	var printed io.Writer = logs
	if req.Print != nil {
		// One writer for both streams: exec then writes from one goroutine
		// at a time, so the watcher sees the lines in order.
		printed = io.MultiWriter(logs, req.Print)
	}
	cmd.Stdout, cmd.Stderr = printed, printed
	// The script holds the read end of a pipe whose write end only capstan
	// has: when capstan dies, the runner reads EOF and ends the script. This
	// covers the moment before bwrap has armed --die-with-parent, which a
	// parent-death signal set at fork does not survive.
	aliveR, aliveW, err := os.Pipe()
	if err != nil {
		resultW.Close()
		return nil, "", err
	}
	defer aliveW.Close()
	cmd.ExtraFiles = []*os.File{resultW, aliveR}
	// Setpgid: the step's end kills the whole group. Pdeathsig: a server
	// that dies takes its scripts along (bwrap's --die-with-parent carries
	// it into the sandbox).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// The step's timeout ends the script and anything it started.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		resultW.Close()
		aliveR.Close()
		return nil, "", fmt.Errorf("starting %s: %w", argv[0], err)
	}
	resultW.Close()
	aliveR.Close()
	// Read the result while the script runs so a large one cannot block it.
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		var buf bytes.Buffer
		_, err := buf.ReadFrom(&limitedReader{r: resultR, n: 16 << 20})
		done <- read{buf.Bytes(), err}
	}()
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		_ = resultR.Close()
		<-done
		return nil, "", fmt.Errorf("the script was killed at the step's timeout: %w; script output: %s", ctx.Err(), truncateTail(logs.String(), stderrExcerpt))
	}
	out := <-done
	var res struct {
		Result any `json:"result"`
		Error  *struct {
			Type, Message, Line string
		} `json:"error"`
	}
	if len(out.b) == 0 || json.Unmarshal(out.b, &res) != nil {
		reason := "the script ended without a result"
		if waitErr != nil {
			reason = fmt.Sprintf("python3 failed (%v) without a result", waitErr)
		}
		if !sb.Unsafe && strings.HasPrefix(logs.String(), "bwrap:") {
			return nil, "", fmt.Errorf("%w: %s (start capstan with --unsafe-scripts only on a single-user machine)", ErrNoSandbox, strings.TrimSpace(logs.String()))
		}
		return nil, "", &ScriptError{Type: "ScriptError", Message: reason, Logs: logs.String()}
	}
	if res.Error != nil {
		return nil, "", &ScriptError{Type: res.Error.Type, Message: res.Error.Message, Line: res.Error.Line, Logs: logs.String()}
	}
	return res.Result, logs.String(), nil
}

// scriptEnv is the script's whole environment: a path, a private home, the
// locale, and the execution's AWS identity. Nothing else of capstan's
// environment (its own credentials included) reaches the script; the
// instance metadata service is off so boto3 cannot fall back to the host's
// role.
func scriptEnv(home string, awsEnv []string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_EC2_METADATA_DISABLED=true"}
	if lang := os.Getenv("LANG"); lang != "" {
		env = append(env, "LANG="+lang)
	} else {
		env = append(env, "LANG=C.UTF-8")
	}
	return append(env, awsEnv...)
}

// envFiles are the files the script's environment points at, which the
// sandbox must show.
func envFiles(env []string) []string {
	var files []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_CA_BUNDLE="); ok && filepath.IsAbs(v) {
			files = append(files, v)
		}
	}
	return files
}

// TailBuffer keeps the last Max bytes written to it; safe for concurrent use.
type TailBuffer struct {
	Max int
	mu  sync.Mutex
	buf []byte
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// limitedReader reads at most n bytes, then reports EOF.
type limitedReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("the script's result exceeds 16 MB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// truncateTail keeps the end of s, where a failing script's last words are.
func truncateTail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// pythonRunner imports the script, calls its handler with the events read
// from stdin and writes {"result": ...} or {"error": {...}} on fd 3. It ends
// the script when fd 4 reaches EOF (capstan died).
const pythonRunner = `import importlib.util, json, os, sys, threading, traceback

def watch_capstan(fd, read=os.read, exit=os._exit):
    # capstan holds the other end of fd 4; EOF means it is gone.
    try:
        while read(fd, 1):
            pass
    except BaseException:
        pass
    exit(137)

def main():
    threading.Thread(target=watch_capstan, args=(4,), daemon=True).start()
    out = os.fdopen(3, "w")
    script_path, handler_name, context = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    sys.argv = [script_path]
    sys.path.insert(0, os.path.dirname(script_path))
    try:
        events = json.load(sys.stdin)
        spec = importlib.util.spec_from_file_location("script", script_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["script"] = module
        spec.loader.exec_module(module)
        handler = getattr(module, handler_name, None)
        if not callable(handler):
            raise AttributeError("the script defines no function %r (the step's Handler)" % handler_name)
        result = handler(events, context)
        text = json.dumps({"result": result}, default=str)
    except BaseException as e:
        line = ""
        for frame in traceback.extract_tb(e.__traceback__):
            if frame.filename == script_path:
                line = "line %d, in %s" % (frame.lineno, frame.name)
        if isinstance(e, SyntaxError) and e.filename == script_path:
            line = "line %s" % e.lineno
        text = json.dumps({"error": {"Type": type(e).__name__, "Message": str(e), "Line": line}})
    sys.stdout.flush()
    sys.stderr.flush()
    out.write(text)
    out.close()

main()
`

var _ Action = executeScript{}
