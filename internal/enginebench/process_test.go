package enginebench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/mototest"
)

// build compiles a command of the module (a package path or a directory
// under testdata) into dir and returns the binary's path.
func build(b *testing.B, dir, name, pkg string) string {
	b.Helper()
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// runProcess runs a command to completion and returns its wall time.
func runProcess(b *testing.B, bin string, args ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", bin, args, err, out.String())
	}
	return d
}

// peakRSS runs a command under /usr/bin/time and returns its peak resident
// set size in KiB. (The rusage of a child started from this process would
// count this process's own memory: Go starts children with a vfork that
// shares it until exec.)
func peakRSS(b *testing.B, bin string, args ...string) int64 {
	b.Helper()
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", bin}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("/usr/bin/time %s %v (Debian package time): %v\n%s", bin, args, err, stderr.String())
	}
	lines := strings.Fields(stderr.String())
	kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		b.Fatalf("/usr/bin/time printed %q", stderr.String())
	}
	return kb
}

// BenchmarkStartup compares `capstan --help` with a Go program that only
// loads the SDK configuration (targets: ≤ 1.5× its wall time, ≤ 40 MB peak
// RSS), the two alternating.
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	capstan := build(b, dir, "capstan", "./cmd/capstan")
	floor := build(b, dir, "loadconfig", "./internal/enginebench/testdata/loadconfig")
	var tc, tf []time.Duration
	var rss int64
	for b.Loop() {
		tc = append(tc, runProcess(b, capstan, "--help"))
		tf = append(tf, runProcess(b, floor))
		rss = max(rss, peakRSS(b, capstan, "--help"))
	}
	c, f := median(tc), median(tf)
	b.ReportMetric(float64(c.Microseconds()), "help-µs")
	b.ReportMetric(float64(f.Microseconds()), "loadconfig-µs")
	b.ReportMetric(float64(c)/float64(f), "help/loadconfig")
	b.ReportMetric(float64(rss)/1024, "help-peak-RSS-MiB")
}

// BenchmarkTenStepsProcess runs the ten-step runbook as a whole process
// (`capstan run`, cold start and a fresh SQLite store included) and a
// direct aws-sdk-go-v2 program making the same ten calls, against the same
// moto, alternating (target: ≤ 1.3×).
func BenchmarkTenStepsProcess(b *testing.B) {
	srv := mototest.Start(b)
	srv.SetEnv(b)
	dir := b.TempDir()
	capstan := build(b, dir, "capstan", "./cmd/capstan")
	direct := build(b, dir, "direct", "./internal/enginebench/testdata/direct")
	runbook := filepath.Join(dir, "ten.yaml")
	if err := os.WriteFile(runbook, []byte(tenSteps), 0o644); err != nil {
		b.Fatal(err)
	}
	viaCapstan := func() time.Duration {
		b.Setenv("CAPSTAN_DB", filepath.Join(dir, "db", time.Now().Format("150405.000000000")+".db"))
		return runProcess(b, capstan, "run", runbook)
	}
	viaSDK := func() time.Duration { return runProcess(b, direct) }
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		b.Fatal(err)
	}
	// Warm-up: moto builds its per-region backends on first use.
	viaCapstan()
	viaSDK()
	var tc, ts []time.Duration
	for b.Loop() {
		tc = append(tc, viaCapstan())
		ts = append(ts, viaSDK())
	}
	c, s := median(tc), median(ts)
	b.ReportMetric(float64(c.Microseconds()), "capstan-run-µs")
	b.ReportMetric(float64(s.Microseconds()), "sdk-program-µs")
	b.ReportMetric(float64(c)/float64(s), "capstan/sdk")
}
