package runbooktest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/runbooks"
)

type lib struct{}

func (lib) Lookup(name string) ([]byte, bool) { return runbooks.Lookup(name) }

func runner(t *testing.T) *Runner {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The runbook sleeps two hours: the test only ends within this bound
	// because time is virtual.
	return &Runner{Actions: action.Builtin(), Store: db, Library: lib{}, Timeout: 30 * time.Second}
}

func TestRunbookTests(t *testing.T) {
	r := runner(t)
	for _, tc := range []struct {
		file   string
		passed bool
		want   []string
	}{
		{"pass.test.yaml", true, nil},
		{"library.test.yaml", true, nil},
		// A script runs for real; boto3's calls are answered by the mocks.
		{"script.test.yaml", true, nil},
		// ... in every protocol boto3 speaks, errors included.
		{"protocols.test.yaml", true, nil},
		// A script's call no mock answers fails the test, though the
		// script caught the error and the expectation held.
		{"unmocked.test.yaml", false, []string{"a script's call: ssm PutParameter", "no mock answers the call"}},
		// The unmocked StartInstances fails the run and is named.
		{"wrong.test.yaml", false, []string{
			"status Failed, want Success", "no mock answers the call", "ec2 StartInstances",
			`output look.State = ["running"], want ["stopped"]`, "step note Success, want Failed",
		}},
		{"badmember.test.yaml", false, []string{`badmember.test.yaml:4: ec2 DescribeInstances: response: Reservations[0].Instances[0]: unknown member "Statee" of Instance (did you mean State?)`}},
		{"badstep.test.yaml", false, []string{`badstep.test.yaml:5: expect.steps.nott: the runbook has no step "nott" (did you mean "note"?)`}},
	} {
		res := r.Run(context.Background(), filepath.Join("testdata", tc.file))
		if res.Passed != tc.passed {
			t.Errorf("%s: passed %v, want %v: %s", tc.file, res.Passed, tc.passed, res)
		}
		for _, w := range tc.want {
			if !strings.Contains(res.String(), w) {
				t.Errorf("%s: %q lacks %q", tc.file, res, w)
			}
		}
	}
}

func TestTimeIsVirtual(t *testing.T) {
	// Two hours of aws:sleep, then an aws:approve with an hour's timeout
	// that nobody approves: it ends TimedOut as in SSM, and the test's own
	// bound (30 s of real time) is only met because the three hours are
	// skipped.
	res := runner(t).Run(context.Background(), filepath.Join("testdata", "approve.test.yaml"))
	if !res.Passed {
		t.Fatal(res)
	}
	if res.Skipped < 3*time.Hour-time.Minute || res.Skipped > 3*time.Hour {
		t.Errorf("skipped %s of virtual time, want the 2h sleep and the 1h timeout (less the real time the test took)", res.Skipped)
	}
	if !strings.Contains(res.String(), "of waiting skipped") {
		t.Errorf("%s does not say time was skipped", res)
	}
}

func TestWaitsAreVirtual(t *testing.T) {
	// A child's hour of sleep, two retry delays and a wait that polls at
	// SSM's intervals until its 600-second timeout: the test passes within
	// its bound of real time only because that time is skipped.
	res := runner(t).Run(context.Background(), filepath.Join("testdata", "waits.test.yaml"))
	if !res.Passed {
		t.Fatal(res)
	}
	if want := time.Hour + 600*time.Second; res.Skipped < want-time.Minute {
		t.Errorf("skipped %s of virtual time, want at least %s", res.Skipped, want)
	}
}

func TestDeniedMockNamesThePermission(t *testing.T) {
	// The mocked AccessDeniedException of PutParameter reads as a real
	// denial does, with the permission the call needed.
	res := runner(t).Run(context.Background(), filepath.Join("testdata", "denied.test.yaml"))
	want := "step note Failed, want Success (step note: aws:executeAwsApi: ssm PutParameter: AccessDeniedException: no (needs ssm:PutParameter on arn:aws:ssm:*:*:parameter/state))"
	if res.Passed || !strings.Contains(res.String(), want) {
		t.Errorf("%s\nwant it to contain %s", res, want)
	}
}
