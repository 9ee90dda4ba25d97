package awsapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Defaults for Options; Ansible's amazon.aws collection uses the same shape
// (backoff_retries, backoff_delay, backoff_max_delay).
const (
	DefaultMaxAttempts = 10
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 20 * time.Second
)

// Limiters holds the client-side rate limiters shared by every Client made
// with it: one adaptive token bucket per account, region and service, so
// every execution of the process backs off together when AWS throttles.
// The zero value is ready to use; share one per process.
type Limiters struct {
	mu sync.Mutex
	m  map[limiterKey]*retry.AdaptiveMode
}

type limiterKey struct{ account, region, service string }

// get returns the shared adaptive limiter for a key, creating it once.
func (l *Limiters) get(account, region, service string) *retry.AdaptiveMode {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[limiterKey]*retry.AdaptiveMode{}
	}
	k := limiterKey{account, region, service}
	a, ok := l.m[k]
	if !ok {
		// Only the adaptive token bucket of this retryer is used (attempt
		// tokens); retry decisions come from each Client's own policy.
		a = retry.NewAdaptiveMode()
		l.m[k] = a
	}
	return a
}

// processLimiters is used by Clients whose Options name no Limiters.
var processLimiters = &Limiters{}

// jitterBackoff is full-jitter exponential backoff: a uniform delay in
// [0, min(max, base·2^attempt)).
type jitterBackoff struct{ base, max time.Duration }

func (j jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceil := j.max
	if attempt < 32 {
		if d := j.base << uint(attempt); d > 0 && d < ceil {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0, nil
	}
	return rand.N(ceil), nil
}

// retryer combines the Client's retry policy with the shared adaptive rate
// limiter: attempts wait for a token from the limiter, whose rate falls on
// throttling responses and recovers as calls succeed.
type retryer struct {
	policy     *retry.Standard
	limiter    *retry.AdaptiveMode
	service    string
	onThrottle func(service, operation string)
}

func newRetryer(o Options, service string, limiter *retry.AdaptiveMode) *retryer {
	policy := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxDelay
		so.Backoff = jitterBackoff{base: o.BaseDelay, max: o.MaxDelay}
		// The SDK's retry quota fails calls once many retries happened
		// recently; under a shared rate limiter that would fail executions
		// exactly when they should wait their turn.
		so.RateLimiter = ratelimit.None
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{Codes: extraThrottleCodes})
	})
	return &retryer{policy: policy, limiter: limiter, service: service, onThrottle: o.OnThrottle}
}

// extraThrottleCodes are throttling codes AWS services use beyond the SDK's
// default list.
var extraThrottleCodes = map[string]struct{}{
	"TooManyRequests":     {},
	"ThrottlingError":     {},
	"RequestRateExceeded": {},
	"ServiceUnavailable":  {},
	"InternalError":       {},
	"InternalFailure":     {},
	"InternalServerError": {},
}

// IsErrorRetryable leaves connection failures to Client.invoke, which
// retries them a few times only: the SDK would retry them for over a minute.
func (r *retryer) IsErrorRetryable(err error) bool {
	return !notConnected(err) && r.policy.IsErrorRetryable(err)
}
func (r *retryer) MaxAttempts() int { return r.policy.MaxAttempts() }
func (r *retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	return r.policy.RetryDelay(attempt, err)
}

// GetRetryToken is asked before every retry, so it reports the throttled
// ones.
func (r *retryer) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	if r.onThrottle != nil && throttled(err) {
		r.onThrottle(r.service, awsmiddleware.GetOperationName(ctx))
	}
	return r.policy.GetRetryToken(ctx, err)
}

// throttled tells a throttling error (the SDK's list and AWS's other
// throttling codes) from other retryable ones.
func throttled(err error) bool {
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "TooManyRequests", "ThrottlingError", "RequestRateExceeded":
			return true
		}
	}
	return false
}
func (r *retryer) GetInitialToken() func(error) error { return func(error) error { return nil } }
func (r *retryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	return r.limiter.GetAttemptToken(ctx)
}

var _ aws.RetryerV2 = (*retryer)(nil)
