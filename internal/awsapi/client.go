// Package awsapi calls any operation of any AWS service by name, as SSM's
// aws:executeAwsApi does on boto3: driven by the service models
// (internal/awsmodel), inputs and outputs use the models' member names (as
// boto3 and the aws CLI show them). Requests are built and responses read
// by smithy-go's protocol codecs from runtime schemas, signed with the
// SDK's SigV4 signer and retried by the SDK's retry middleware, with a
// process-wide adaptive rate limiter and a record of every call.
//
// The same schemas and codecs, run the other way, read an SDK's request
// and answer it as the service would (ReadRequest, Incoming): capstan
// test's endpoint for scripts.
package awsapi

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// Options tunes a Client. The zero value gives the documented defaults.
type Options struct {
	// MaxAttempts bounds the attempts of one call, the first included
	// (default DefaultMaxAttempts; 1 disables retries).
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; each retry doubles
	// it, with full jitter (default DefaultBaseDelay).
	BaseDelay time.Duration
	// MaxDelay caps one backoff (default DefaultMaxDelay).
	MaxDelay time.Duration
	// Limiters holds the shared client-side rate limiters (default: one set
	// for the whole process).
	Limiters *Limiters
	// Record, if set, is told about every call once it finishes, failed or
	// not.
	Record func(Call)
	// StepOf, if set, names the step a call belongs to from the call's
	// context (the engine's StepFromContext), for Call.Step.
	StepOf func(context.Context) string
	// OnThrottle, if set, is told about every attempt retried because AWS
	// throttled it (for the metrics).
	OnThrottle func(service, operation string)
}

// Call records one AWS operation call (its retries included).
type Call struct {
	Step      string // from Options.StepOf; "" without it
	Service   string // boto3 name
	Operation string // model name
	IAMAction string // e.g. "ec2:DescribeInstances"
	Start     time.Time
	Duration  time.Duration
	ErrorCode string // AWS error code, or a capstan kind for local failures; "" on success
}

// Client invokes AWS operations by name. It is safe for concurrent use.
type Client struct {
	cfg    aws.Config
	opts   Options
	signer *v4.Signer
	http   aws.HTTPClient

	mu       sync.Mutex
	services map[string]*svcClient // boto3 name → endpoint and retryer
}

// New returns a Client over cfg.
func New(cfg aws.Config, opts Options) *Client {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = DefaultBaseDelay
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Limiters == nil {
		opts.Limiters = processLimiters
	}
	return &Client{cfg: cfg, opts: opts, signer: v4.NewSigner(), http: cfg.HTTPClient, services: map[string]*svcClient{}}
}

// httpClient is the configuration's HTTP client (the SDK's, which honours
// AWS_CA_BUNDLE), or the SDK's default one.
func (c *Client) httpClient() aws.HTTPClient {
	if c.http == nil {
		c.mu.Lock()
		if c.http == nil {
			c.http = awshttp.NewBuildableClient()
		}
		c.mu.Unlock()
	}
	return c.http
}

// Services returns the names of the services Invoke can call (every service
// of the model set), sorted.
func Services() []string {
	return awsservice.Names()
}

// resolve finds the service and operation in the model set, in any
// spelling SSM accepts.
func resolve(serviceName, api string) (*operation, error) {
	info, ok := awsservice.Lookup(serviceName)
	if !ok {
		return nil, fmt.Errorf("service %q: %w", serviceName, ErrUnknownService)
	}
	name, ok := info.Operation(api)
	if !ok {
		return nil, fmt.Errorf("%s: operation %q: %w", info.Name, api, ErrUnknownOperation)
	}
	svc, err := loadService(info)
	if err != nil {
		return nil, err
	}
	op, err := svc.operation(name)
	if err != nil {
		return nil, err
	}
	if op.eventStream {
		return nil, fmt.Errorf("%s %s: event-stream operations are %w (aws:executeAwsApi cannot carry a stream of events)", info.Name, name, ErrUnsupported)
	}
	return op, nil
}

// Check validates the service and operation names and the literal input
// without calling AWS. Values that are still templates (strings containing
// "{{") are skipped.
func (c *Client) Check(service, operation string, input map[string]any) error {
	return Check(service, operation, input)
}

// Check is Client.Check without a Client, for validation that has no
// configuration.
func Check(service, operation string, input map[string]any) error {
	op, err := resolve(service, operation)
	if err != nil {
		return err
	}
	_, err = op.decode(input, true)
	return err
}

// decode checks input against the operation's input shape.
func (op *operation) decode(in map[string]any, lenient bool) (*input, error) {
	d := &decoder{svc: op.svc, service: op.svc.info.Name, operation: op.name, lenient: lenient}
	if op.schema.Input == nil {
		if len(in) > 0 {
			for k := range in {
				return nil, d.unknown("", k, "unknown field %q: %s takes no input", k, op.name)
			}
		}
		return &input{root: &structVal{}}, nil
	}
	root, err := d.structure("", op.schema.Input, in, true)
	if err != nil {
		return nil, err
	}
	return &input{schema: op.schema.Input, root: root, stream: d.stream, hasStream: d.hasStream}, nil
}

// An endpoint that refuses connections or does not resolve is tried this
// many times in all (fewer if Options.MaxAttempts says so), a short delay
// apart: it is more likely misconfigured than briefly down, so it does not
// get the retries throttling gets.
const (
	unreachableAttempts = 3
	unreachableDelay    = 100 * time.Millisecond
)

// Invoke calls one operation with input given by model member names and
// returns the response by model member names. It implements action.Invoker.
func (c *Client) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	start := time.Now()
	op, err := resolve(service, operation)
	if err != nil {
		c.record(ctx, service, operation, "", start, err)
		return nil, err
	}
	out, err := c.invoke(ctx, op, input)
	iam, _ := awsservice.IAMAction(op.svc.info.Name, op.name)
	c.record(ctx, op.svc.info.Name, op.name, iam, start, err)
	return out, err
}

func (c *Client) invoke(ctx context.Context, op *operation, in map[string]any) (map[string]any, error) {
	info := op.svc.info
	checked, err := op.decode(in, false)
	if err != nil {
		return nil, err
	}
	sc, err := c.service(ctx, op.svc)
	if err != nil {
		return nil, err
	}
	st := &callState{c: c, op: op, sc: sc, input: in}
	for attempt := 1; ; attempt++ {
		out := op.newOutput()
		err = st.send(ctx, checked, out)
		if err == nil {
			return out.result(), nil
		}
		if attempt >= min(unreachableAttempts, c.opts.MaxAttempts) || !notConnected(err) {
			break
		}
		t := time.NewTimer(time.Duration(attempt) * unreachableDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, classify(info.Name, op.name, info.EndpointEnv(), err)
		case <-t.C:
		}
	}
	return nil, classify(info.Name, op.name, info.EndpointEnv(), err)
}

// result is an output's response map.
type result interface {
	smithy.Deserializable
	result() map[string]any
}

func (o *output) result() map[string]any { return o.m }

func (op *operation) newOutput() result {
	o := output{svc: op.svc, schema: op.schema.Output}
	if op.schema.Output == nil {
		return &emptyOutput{}
	}
	if m := op.svc.extraOf(op.schema.Output).streaming; m != "" {
		return &streamingOutput{output: o, member: m}
	}
	return &o
}

// emptyOutput is the response of an operation whose model has no output.
type emptyOutput struct{}

func (*emptyOutput) Deserialize(smithy.ShapeDeserializer) error { return nil }
func (*emptyOutput) result() map[string]any                     { return map[string]any{} }

// service returns the Client's state for a service: its endpoint, and a
// retryer over the shared rate limiter of its account, region and service.
func (c *Client) service(ctx context.Context, svc *service) (*svcClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc, ok := c.services[svc.info.Name]; ok {
		return sc, nil
	}
	account := ""
	if c.cfg.Credentials != nil {
		creds, err := c.cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is available (%v)",
				svc.info.Name, ErrNoCredentials, innermost(err))
		}
		// The account id is not always known without a call; the key id
		// identifies the same principal well enough to share a limiter.
		account = creds.AccountID
		if account == "" {
			account = creds.AccessKeyID
		}
	}
	e, err := resolveEndpoint(c.cfg, svc)
	if err != nil {
		return nil, err
	}
	limiter := c.opts.Limiters.get(account, c.cfg.Region, svc.info.Name)
	sc := &svcClient{endpoint: e, retryer: newRetryer(c.opts, svc.info.Name, limiter)}
	c.services[svc.info.Name] = sc
	return sc, nil
}

func (c *Client) record(ctx context.Context, service, operation, iam string, start time.Time, err error) {
	if c.opts.Record == nil {
		return
	}
	call := Call{Service: service, Operation: operation, IAMAction: iam, Start: start, Duration: time.Since(start)}
	if c.opts.StepOf != nil {
		call.Step = c.opts.StepOf(ctx)
	}
	if err != nil {
		call.ErrorCode = errorKind(err)
	}
	c.opts.Record(call)
}

var _ action.Invoker = (*Client)(nil)
