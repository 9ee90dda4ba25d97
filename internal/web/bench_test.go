package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/web"
)

// benchExecutions is how many executions the history benchmarks hold.
const benchExecutions = 100_000

// fill stores n finished executions of 20 runbooks by 10 users, a quarter
// of them in project audit, as the engine's summary rows (the history reads
// nothing else).
func fill(b *testing.B, st store.Store, n int) {
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	statuses := []string{"Success", "Success", "Success", "Failed", "Cancelled"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	// Several writers at once, so the store batches their commits.
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				project := store.DefaultProject
				if i%4 == 0 {
					project = "audit"
				}
				e := store.Execution{Project: project, ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), DocumentName: fmt.Sprintf("Runbook-%02d", i%20),
					DocumentVersion: "1", Status: statuses[i%len(statuses)], Mode: "Auto", ExecutedBy: fmt.Sprintf("arn:aws:iam::000000000000:user/user%d", i%10),
					AutomationType: "Local", StartTime: t0.Add(time.Duration(i) * time.Second), EndTime: t0.Add(time.Duration(i)*time.Second + 3*time.Second), Done: true}
				if err := st.CreateExecution(ctx, e, []store.Event{{Type: "ExecutionStarted", Data: []byte(`{}`)}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// signedIn returns a client with alice's session cookie.
func signedIn(b *testing.B, f *fixture) *http.Client {
	c := newClient(b, f)
	if code, _ := c.login("alice", password); code != 200 {
		b.Fatalf("sign-in: %d", code)
	}
	return c.c
}

// BenchmarkTTFB measures the time to the first byte of the runbooks page
// and of history pages with 100,000 executions in the store.
func BenchmarkTTFB(b *testing.B) {
	f := newFixture(b, web.Options{}, withProjects(b))
	fill(b, f.db, benchExecutions)
	c := signedIn(b, f)
	for _, path := range []string{
		"/ui/runbooks",
		"/ui/runbooks?project=audit",
		"/ui/executions",
		"/ui/executions?user=user3",
		"/ui/executions?runbook=Runbook-07",
		"/ui/executions?status=Failed",
		"/ui/executions?project=audit",
		"/ui/executions?runbook=Runbook-07&user=user7&status=Success",
	} {
		b.Run(strings.TrimPrefix(path, "/ui/"), func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				resp, err := c.Get(f.srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				total += time.Since(start) // Get returns once the headers arrive
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-ttfb")
		})
	}
}
