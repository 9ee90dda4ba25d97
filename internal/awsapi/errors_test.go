package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"

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
