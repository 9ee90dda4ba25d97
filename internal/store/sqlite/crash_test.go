package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// crashChildEnv, when set to a database path, turns the test binary into the
// crash test's child: it appends events until killed.
const crashChildEnv = "CAPSTAN_STORE_CRASH_CHILD"

// crashCheckpointEnv, when set in the child, makes the checkpointer run
// almost continuously (a 1ms delay, RESTART beyond 32 frames) while a reader
// holds snapshots, so the kill lands in or between checkpoints of every kind.
const crashCheckpointEnv = "CAPSTAN_STORE_CRASH_CHECKPOINT"

const crashWriters = 8

// crashChild appends to crashWriters executions concurrently (so group commit
// batches several callers) and prints "ack <id> <seq>" after each Append
// returns, which is the promise the parent checks after SIGKILL.
func crashChild() {
	ctx := context.Background()
	var opts sqlite.Options
	if os.Getenv(crashCheckpointEnv) != "" {
		opts.CheckpointDelay = time.Millisecond
		opts.CheckpointRestartFrames = 32
	}
	db, err := sqlite.Open(ctx, os.Getenv(crashChildEnv), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if os.Getenv(crashCheckpointEnv) != "" {
		go func() { // a reader that keeps the checkpointer from finishing at times
			for {
				_, _ = db.Events(ctx, "crash-0", 0)
				_, _, _ = db.ListExecutions(ctx, store.ExecutionFilter{})
			}
		}()
	}
	var mu sync.Mutex
	ack := func(id string, seq int64) {
		mu.Lock()
		defer mu.Unlock()
		// One unbuffered write per line: nothing acknowledged sits in a buffer.
		fmt.Fprintf(os.Stdout, "ack %s %d\n", id, seq)
	}
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := store.Execution{ID: fmt.Sprintf("crash-%d", w), DocumentName: "D", Status: "InProgress"}
			if err := db.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted"}}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			e.Seq = 1
			ack(e.ID, 1)
			for range 1_000_000 { // bounded even if nobody kills us
				n := 1 + int(e.Seq%3) // batches of 1 to 3 events
				evs := make([]store.Event, n)
				for i := range evs {
					evs[i] = store.Event{Type: "StepSucceeded", Data: []byte(fmt.Sprintf(`{"n":%d}`, e.Seq+int64(i)+1))}
				}
				e.CurrentStep = "step-" + strconv.FormatInt(e.Seq, 10)
				if err := db.Append(ctx, e, evs); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				e.Seq += int64(n)
				ack(e.ID, e.Seq)
			}
		}()
	}
	wg.Wait()
	os.Exit(3) // the parent kills us long before this
}

// TestCrashLosesNothingAcknowledged kills a writing process with SIGKILL and
// checks that every append it had acknowledged is in the database.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	testCrash(t, false)
}

// TestCrashDuringCheckpoints is TestCrashLosesNothingAcknowledged with the
// checkpointer running all the time (PASSIVE and RESTART checkpoints on their
// own connection, concurrent with the writer and a reader), so the kill lands
// in the middle of checkpoints.
func TestCrashDuringCheckpoints(t *testing.T) {
	testCrash(t, true)
}

func testCrash(t *testing.T, checkpoints bool) {
	const wantAcks = 2000
	for round := range 3 {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crash.db")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
			if checkpoints {
				cmd.Env = append(cmd.Env, crashCheckpointEnv+"=1")
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked := map[string]int64{}
			total := 0
			sc := bufio.NewScanner(out)
			// Kill after a number of acks that varies by round, so the kill
			// lands at different points; the timer bounds a slow machine.
			target := wantAcks + round*777
			timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
			defer timer.Stop()
			killed := false
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 3 || f[0] != "ack" {
					continue // a line cut by the kill
				}
				seq, err := strconv.ParseInt(f[2], 10, 64)
				if err != nil {
					continue
				}
				acked[f[1]] = max(acked[f[1]], seq)
				if total++; total == target && !killed {
					killed = true
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
				}
			}
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child did not die by SIGKILL: %v; stderr: %s", err, stderr.String())
			}
			if total < target {
				t.Fatalf("child acknowledged only %d appends before dying (want %d); stderr: %s", total, target, stderr.String())
			}

			db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			if err != nil {
				t.Fatalf("reopen after kill: %v", err)
			}
			defer db.Close()
			for id, seq := range acked {
				evs, err := db.Events(context.Background(), id, 0)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				if int64(len(evs)) < seq {
					t.Fatalf("%s: %d events survived, %d were acknowledged", id, len(evs), seq)
				}
				for i, ev := range evs {
					if ev.Seq != int64(i+1) {
						t.Fatalf("%s: event %d has seq %d: a torn transaction", id, i, ev.Seq)
					}
				}
				e, err := db.Execution(context.Background(), id)
				if err != nil || e.Seq != int64(len(evs)) {
					t.Fatalf("%s: summary seq %d, %d events (%v): summary and events disagree", id, e.Seq, len(evs), err)
				}
			}
			if len(acked) != crashWriters {
				t.Fatalf("acks from %d executions, want %d", len(acked), crashWriters)
			}
		})
	}
}
