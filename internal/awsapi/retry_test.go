package awsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"golang.org/x/time/rate"
)

// moto does not throttle, so these tests use an httptest server that
// speaks SSM's AWS JSON 1.1 protocol and answers ThrottlingException the
// way SSM does.

// throttler answers ssm DescribeParameters, throttling when its policy says.
type throttler struct {
	mu        sync.Mutex
	throttle  func(n int) bool // n counts requests from 0
	n         int
	throttled []bool // by arrival order
}

func (s *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	th := s.throttle(s.n)
	s.n++
	s.throttled = append(s.throttled, th)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("req-%d", s.n))
	if th {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	}
	fmt.Fprint(w, `{"Parameters":[{"Name":"p","Type":"String"}]}`)
}

type stepKey struct{}

func testConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		throttle    int // leading requests throttled
		maxAttempts int
		wantErr     string
		wantReqs    int
	}{
		{"succeeds after three throttles", 3, 5, "", 4},
		{"gives up after max attempts", 10, 3, "ThrottlingException", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &throttler{throttle: func(n int) bool { return n < tc.throttle }}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var recorded []Call
			var throttles []string
			c := New(testConfig(ts.URL), Options{
				MaxAttempts: tc.maxAttempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
				Limiters: &Limiters{}, Record: func(cl Call) { recorded = append(recorded, cl) },
				OnThrottle: func(service, op string) { throttles = append(throttles, service+" "+op) },
				StepOf:     func(ctx context.Context) string { s, _ := ctx.Value(stepKey{}).(string); return s },
			})
			ctx := context.WithValue(context.Background(), stepKey{}, "describe")
			out, err := c.Invoke(ctx, "ssm", "DescribeParameters", nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("call failed: %v", err)
				}
				if got := sel(t, out, "$.Parameters[0].Name"); got != "p" {
					t.Errorf("Parameters[0].Name = %v", got)
				}
			} else if ErrorCode(err) != tc.wantErr {
				t.Fatalf("error %v, want code %s", err, tc.wantErr)
			}
			if srv.n != tc.wantReqs {
				t.Errorf("server saw %d requests, want %d", srv.n, tc.wantReqs)
			}
			if len(recorded) != 1 || recorded[0].ErrorCode != tc.wantErr || recorded[0].IAMAction != "ssm:DescribeParameters" || recorded[0].Step != "describe" {
				t.Errorf("recorded %+v", recorded)
			}
			// Every retried attempt was a throttled one, and was reported.
			if len(throttles) != tc.wantReqs-1 || (len(throttles) > 0 && throttles[0] != "ssm DescribeParameters") {
				t.Errorf("throttling retries reported %v, want %d of ssm DescribeParameters", throttles, tc.wantReqs-1)
			}
		})
	}
}

// TestSharedRateLimiter runs many executions, each with its own Client but
// sharing Limiters, against a server that throttles above a fixed rate:
// every call must succeed and throttling must fall once the shared limiter
// has learned the rate.
func TestSharedRateLimiter(t *testing.T) {
	const (
		workers  = 50
		perWork  = 4
		limit    = 100 // requests per second the server accepts
		maxBurst = 10
	)
	lim := rate.NewLimiter(limit, maxBurst)
	srv := &throttler{throttle: func(int) bool { return !lim.Allow() }}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	shared := &Limiters{}
	var failed atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := New(testConfig(ts.URL), Options{MaxAttempts: 50, BaseDelay: 5 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Limiters: shared})
			for range perWork {
				if _, err := c.Invoke(context.Background(), "ssm", "DescribeParameters", nil); err != nil {
					t.Errorf("call failed: %v", err)
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d calls failed", failed.Load(), workers*perWork)
	}
	total := len(srv.throttled)
	half := total / 2
	frac := func(xs []bool) float64 {
		n := 0
		for _, x := range xs {
			if x {
				n++
			}
		}
		return float64(n) / float64(len(xs))
	}
	first, second := frac(srv.throttled[:half]), frac(srv.throttled[half:])
	t.Logf("%d requests for %d calls; throttled: first half %.2f, second half %.2f", total, workers*perWork, first, second)
	if second >= first {
		t.Errorf("throttled fraction did not fall: first half %.2f, second half %.2f", first, second)
	}
	if total > 4*workers*perWork {
		t.Errorf("%d requests for %d calls: the limiter did not hold executions back", total, workers*perWork)
	}
}
