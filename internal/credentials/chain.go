package credentials

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/capstan-run/capstan/internal/config"
)

// AssumeRole is one hop of a chain; see config.AssumeRole.
type AssumeRole = config.AssumeRole

// DefaultSessionName names assumed-role sessions unless a hop sets its own;
// it shows in CloudTrail and in the assumed-role ARN.
const DefaultSessionName = "capstan"

// AssumeRoleError is a failed hop of an assume-role chain.
type AssumeRoleError struct {
	ARN  string
	Hop  int // 1-based
	Hops int
	Code string // the STS error code, e.g. AccessDenied; empty if not an API error
	Err  error
}

func (e *AssumeRoleError) Error() string {
	msg := fmt.Sprintf("assuming role %s (hop %d of %d): ", e.ARN, e.Hop, e.Hops)
	var ae smithy.APIError
	if errors.As(e.Err, &ae) && ae.ErrorCode() != "UnknownError" {
		msg += ae.ErrorCode() + ": " + ae.ErrorMessage()
	} else if e.Code == "AccessDenied" {
		msg += "AccessDenied: the caller may not assume this role"
	} else {
		msg += e.Err.Error()
	}
	if e.Code == "AccessDenied" {
		who := "the base credentials"
		if e.Hop > 1 {
			who = fmt.Sprintf("the role of hop %d", e.Hop-1)
		}
		msg += fmt.Sprintf(": check that the role's trust policy names %s as a principal and that the policy of %s allows sts:AssumeRole on the role", who, who)
	}
	return msg
}

func (e *AssumeRoleError) Unwrap() error { return e.Err }

// Chain applies roles in order on top of base: hop 1 is assumed with base's
// credentials, hop 2 with hop 1's, and so on. Every ARN is checked before
// any call. Each hop's credentials are cached and refreshed ExpiryWindow
// before expiry. The result shares base's region, endpoint and HTTP client.
func Chain(base aws.Config, roles []AssumeRole) (aws.Config, error) {
	for i, r := range roles {
		if err := config.CheckRoleARN(r.ARN); err != nil {
			return aws.Config{}, fmt.Errorf("assume-role hop %d: %w", i+1, err)
		}
	}
	cfg := base
	for i, r := range roles {
		client := sts.NewFromConfig(cfg)
		r := r
		prov := stscreds.NewAssumeRoleProvider(client, r.ARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = r.SessionName
			if o.RoleSessionName == "" {
				o.RoleSessionName = DefaultSessionName
			}
			if r.ExternalID != "" {
				o.ExternalID = aws.String(r.ExternalID)
			}
			if r.DurationSeconds > 0 {
				o.Duration = time.Duration(r.DurationSeconds) * time.Second
			}
		})
		next := cfg.Copy()
		next.Credentials = cache(&hop{role: r.ARN, n: i + 1, of: len(roles), inner: prov})
		cfg = next
	}
	return cfg, nil
}

// hop attributes a failure to the role and hop that failed. A failure of an
// earlier hop (or of the base provider) passes through unchanged so the
// message names the hop that actually failed.
type hop struct {
	role  string
	n, of int
	inner aws.CredentialsProvider
}

func (h *hop) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := h.inner.Retrieve(ctx)
	if err == nil {
		return c, nil
	}
	var earlier *AssumeRoleError
	if errors.As(err, &earlier) {
		return aws.Credentials{}, earlier
	}
	var pe *ProviderError
	if errors.As(err, &pe) {
		return aws.Credentials{}, pe
	}
	e := &AssumeRoleError{ARN: h.role, Hop: h.n, Hops: h.of, Err: err}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code = ae.ErrorCode()
	}
	// moto answers a denied AssumeRole with an EC2-style error body that the
	// SDK's query-protocol decoder reports as UnknownError; STS answers 403
	// only for a denial, so the status says what happened.
	var re *smithyhttp.ResponseError
	if (e.Code == "" || e.Code == "UnknownError") && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden {
		e.Code = "AccessDenied"
	}
	return aws.Credentials{}, e
}
