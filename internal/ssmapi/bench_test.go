package ssmapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// threeSteps is the benchmark's runbook: three steps that need no AWS, so
// the figures are capstan's (API, signature checks, engine, SQLite store).
const threeSteps = `schemaVersion: '0.3'
parameters:
  Who:
    type: String
    default: bench
mainSteps:
  - name: one
    action: aws:sleep
    inputs: {Duration: PT0S}
  - name: two
    action: aws:sleep
    inputs: {Duration: PT0S}
  - name: three
    action: aws:sleep
    inputs: {Duration: PT0S}
`

// BenchmarkStartToCompletion starts executions of a three-step runbook from
// many concurrent SDK clients over signed HTTP and polls each with
// GetAutomationExecution until it ends. It reports executions per second and
// the latency of GetAutomationExecution under that load.
func BenchmarkStartToCompletion(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := service.New(service.Options{Store: db, Engine: engine.Options{Actions: action.Builtin(), Region: "us-east-1"},
		Keys: keys.Options{MasterKeyFile: filepath.Join(dir, "master.key"), Getenv: func(string) string { return "" }, Notice: io.Discard}})
	defer svc.Engine().Shutdown()
	usr, secret, err := svc.CreateUser(ctx, service.Principal{Name: "admin"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Service: svc, Auth: Users{Service: svc}}))
	defer srv.Close()
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxIdleConnsPerHost = 256 })
	c := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: httpClient, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(usr.AccessKeyID, secret, "")})
	if _, err := c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Three-Steps"), Content: aws.String(threeSteps),
		DocumentType: types.DocumentTypeAutomation, DocumentFormat: types.DocumentFormatYaml}); err != nil {
		b.Fatal(err)
	}

	const clients = 64
	var (
		next    atomic.Int64
		mu      sync.Mutex
		gets    []time.Duration
		failure atomic.Value
	)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			defer func() {
				mu.Lock()
				gets = append(gets, local...)
				mu.Unlock()
			}()
			for next.Add(1) <= int64(b.N) {
				out, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Three-Steps")})
				if err != nil {
					failure.Store(err)
					return
				}
				// Bounded: a three-step run ends in far fewer polls.
				for i := 0; i < 100000; i++ {
					t0 := time.Now()
					got, err := c.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: out.AutomationExecutionId})
					local = append(local, time.Since(t0))
					if err != nil {
						failure.Store(err)
						return
					}
					if s := got.AutomationExecution.AutomationExecutionStatus; s == types.AutomationExecutionStatusSuccess {
						break
					} else if engine.Terminal(string(s)) {
						failure.Store(aws.ToString(got.AutomationExecution.FailureMessage))
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failure.Load(); f != nil {
		b.Fatalf("a client failed: %v", f)
	}
	sort.Slice(gets, func(i, j int) bool { return gets[i] < gets[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "executions/s")
	if len(gets) > 0 {
		b.ReportMetric(float64(gets[len(gets)/2].Microseconds())/1000, "get-p50-ms")
		b.ReportMetric(float64(gets[len(gets)*99/100].Microseconds())/1000, "get-p99-ms")
		b.ReportMetric(float64(len(gets))/float64(b.N), "gets/execution")
	}
}
