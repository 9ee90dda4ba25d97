package action

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ScriptSandbox says how aws:executeScript isolates the scripts it runs.
// A runbook's script is hostile to the server: by default it runs under
// bubblewrap (bwrap) in its own PID namespace, with a read-only view of the
// system's programs and libraries, a private /tmp, none of the server's
// files and only the execution's AWS credentials in its environment.
type ScriptSandbox struct {
	// Unsafe runs scripts as plain subprocesses of capstan, seeing what it
	// sees: only for a single-user setup where the runbooks' authors are the
	// operator (capstan's --unsafe-scripts).
	Unsafe bool
	// Hide lists paths (the data directory, the configuration, the master
	// key) kept out of the sandbox even when they lie under a directory it
	// shows.
	Hide []string
}

// ErrNoSandbox: the sandbox cannot start here and unsafe scripts were not
// allowed.
var ErrNoSandbox = errors.New("the script sandbox (bubblewrap) cannot start")

// SetScriptSandbox configures how this registry's aws:executeScript runs
// scripts.
func (r *Registry) SetScriptSandbox(sb ScriptSandbox) {
	r.SetImpl("aws:executeScript", executeScript{sandbox: sb})
}

// sandboxRO are the system paths a script sees read-only: programs,
// libraries, and the few files under /etc that name resolution, TLS and
// Python need. The rest of /etc (shadow, capstan's configuration) stays out.
var sandboxRO = []string{
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/crypto-policies",
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/localtime", "/etc/passwd", "/etc/group", "/etc/ld.so.cache", "/etc/ld.so.conf",
	"/etc/ld.so.conf.d", "/etc/mime.types",
}

// bwrapPath finds bwrap.
func bwrapPath() (string, error) {
	p, err := exec.LookPath("bwrap")
	if err != nil {
		return "", fmt.Errorf("%w: bwrap is not on PATH (install bubblewrap, or start capstan with --unsafe-scripts on a single-user machine): %w", ErrNoSandbox, err)
	}
	return p, nil
}

// sandboxCommand wraps argv (the interpreter and its arguments) in bwrap.
// dir is the step's working directory (the script, its runner and a private
// home), shown read-write at its own path; pyPrefixes are the interpreter's
// installation, shown read-only when outside the system paths (pyenv,
// a virtualenv); extra are files the environment points at (a CA bundle).
func (sb ScriptSandbox) sandboxCommand(dir string, pyPrefixes, extra []string, argv []string) ([]string, error) {
	bwrap, err := bwrapPath()
	if err != nil {
		return nil, err
	}
	args := []string{bwrap,
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--die-with-parent", "--new-session",
		"--cap-drop", "ALL",
		"--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
	}
	for _, p := range sandboxRO {
		args = append(args, roBind(p)...)
	}
	for _, p := range append(pyPrefixes, extra...) {
		if p != "" && !underAny(p, sandboxRO) {
			args = append(args, roBind(p)...)
		}
	}
	args = append(args, "--bind", dir, dir)
	// Hidden paths are mounted over last, so nothing bound above shows them.
	for _, h := range sb.Hide {
		h = filepath.Clean(h)
		if h == "" || h == "/" || !underAny(h, append(append(sandboxRO, pyPrefixes...), extra...)) {
			continue
		}
		fi, err := os.Stat(h)
		switch {
		case err != nil:
			continue
		case fi.IsDir():
			args = append(args, "--tmpfs", h)
		default:
			args = append(args, "--ro-bind", "/dev/null", h)
		}
	}
	args = append(args, "--chdir", dir, "--")
	return append(args, argv...), nil
}

// roBind binds p read-only, keeping a top-level symbolic link a link
// (merged /usr systems have /bin -> usr/bin); a link deeper down is followed.
func roBind(p string) []string {
	if target, err := os.Readlink(p); err == nil && filepath.Dir(p) == "/" {
		return []string{"--symlink", target, p}
	}
	return []string{"--ro-bind-try", p, p}
}

func underAny(p string, roots []string) bool {
	for _, r := range roots {
		if r != "" && (p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/")) {
			return true
		}
	}
	return false
}
