package awsapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestLocalFailures(t *testing.T) {
	noCreds := testConfig("http://127.0.0.1:1")
	noCreds.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	tests := []struct {
		name     string
		cfg      aws.Config
		is       error
		contains []string
	}{
		{"closed port", testConfig("http://127.0.0.1:1"), ErrUnreachable,
			[]string{"sts GetCallerIdentity: endpoint unreachable http://127.0.0.1:1", "AWS_ENDPOINT_URL_STS"}},
		{"no credentials", noCreds, ErrNoCredentials,
			[]string{"sts: no AWS credentials", "AWS_PROFILE", "no EC2 IMDS role found"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec []Call
			c := New(tc.cfg, Options{MaxAttempts: 1, Limiters: &Limiters{}, Record: func(cl Call) { rec = append(rec, cl) }})
			_, err := c.Invoke(context.Background(), "sts", "GetCallerIdentity", nil)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, s := range tc.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			if len(rec) != 1 || rec[0].ErrorCode == "" {
				t.Errorf("recorded %+v", rec)
			}
		})
	}
}

// countingDialer counts the connections a client tries to open.
type countingDialer struct {
	n atomic.Int32
	d net.Dialer
}

func (c *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.n.Add(1)
	return c.d.DialContext(ctx, network, addr)
}

func TestUnreachableEndpointFailsFast(t *testing.T) {
	// A loopback port that was just closed: connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()

	dialer := &countingDialer{}
	cfg := testConfig(endpoint)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	var rec []Call
	// The retries configured for throttling (10 attempts) do not apply.
	c := New(cfg, Options{MaxAttempts: 10, BaseDelay: time.Millisecond, Limiters: &Limiters{}, Record: func(cl Call) { rec = append(rec, cl) }})
	_, err = c.Invoke(context.Background(), "sts", "GetCallerIdentity", nil)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error %v is not ErrUnreachable", err)
	}
	msg := err.Error()
	for _, s := range []string{"sts GetCallerIdentity: endpoint unreachable " + endpoint, "connection refused", "check --endpoint-url / AWS_ENDPOINT_URL / network"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not contain %q", msg, s)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if n := dialer.n.Load(); n < 1 || n > 3 {
		t.Errorf("%d connection attempts; want 1 to 3", n)
	}
	if len(rec) != 1 || rec[0].ErrorCode != "Unreachable" {
		t.Errorf("recorded %+v", rec)
	}
}
