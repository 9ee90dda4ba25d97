// Package awsapi calls any operation of the supported AWS services by name,
// as SSM's aws:executeAwsApi does: inputs and outputs use the API model's
// member names (as boto3 and the aws CLI show them), over the official
// aws-sdk-go-v2 clients, with retries, a process-wide adaptive rate limiter
// and a record of every call.
package awsapi

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

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
	cfg  aws.Config
	opts Options

	mu      sync.Mutex
	clients map[string]reflect.Value // service → typed SDK client
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
	return &Client{cfg: cfg, opts: opts, clients: map[string]reflect.Value{}}
}

// Services returns the names of the services Invoke can call, sorted.
func Services() []string {
	out := make([]string, 0, len(factories))
	for name := range factories {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// operation is the resolved, cached view of one callable operation.
type operation struct {
	service awsservice.Service
	name    string // model spelling
	method  reflect.Method
	input   reflect.Type // the input struct type (not the pointer)
}

var (
	clientTypes sync.Map // service → reflect.Type of its typed client
	operations  sync.Map // "service\x00op" → *operation
)

// resolve finds the service and operation and checks that it can be
// called; the result is cached per spelling.
func resolve(serviceName, api string) (*operation, error) {
	key := serviceName + "\x00" + api
	if op, ok := operations.Load(key); ok {
		return op.(*operation), nil
	}
	svc, ok := awsservice.Lookup(serviceName)
	if !ok {
		return nil, fmt.Errorf("service %q: %w", serviceName, ErrUnknownService)
	}
	name, ok := svc.Operation(api)
	if !ok {
		return nil, fmt.Errorf("%s: operation %q: %w", svc.Name, api, ErrUnknownOperation)
	}
	factory, ok := factories[svc.Name]
	if !ok {
		return nil, fmt.Errorf("%s %s: service %w in this build (no SDK client)", svc.Name, name, ErrUnsupported)
	}
	ct, ok := clientTypes.Load(svc.Name)
	if !ok {
		// A throwaway client gives the type; building one does no I/O.
		ct, _ = clientTypes.LoadOrStore(svc.Name, reflect.TypeOf(factory(aws.Config{})))
	}
	m, ok := ct.(reflect.Type).MethodByName(name)
	if !ok {
		return nil, fmt.Errorf("%s: operation %q: %w (not in this SDK version)", svc.Name, name, ErrUnknownOperation)
	}
	// func(client, ctx, *Input, ...optFns) (*Output, error)
	in, out := m.Type.In(2).Elem(), m.Type.Out(0)
	if streaming(in) || streaming(out) {
		return nil, fmt.Errorf("%s %s: streaming operations are %w (aws:executeAwsApi cannot carry a stream)", svc.Name, name, ErrUnsupported)
	}
	op := &operation{service: svc, name: name, method: m, input: in}
	actual, _ := operations.LoadOrStore(key, op)
	return actual.(*operation), nil
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
	d := &decoder{service: op.service.Name, operation: op.name, lenient: true}
	return d.decodeStruct("", input, reflect.New(op.input).Elem())
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
	c.record(ctx, op.service.Name, op.name, op.service.IAMPrefix+":"+op.name, start, err)
	return out, err
}

func (c *Client) invoke(ctx context.Context, op *operation, input map[string]any) (map[string]any, error) {
	d := &decoder{service: op.service.Name, operation: op.name}
	in := reflect.New(op.input)
	if err := d.decodeStruct("", input, in.Elem()); err != nil {
		return nil, err
	}
	client, err := c.client(ctx, op.service)
	if err != nil {
		return nil, err
	}
	var res []reflect.Value
	for attempt := 1; ; attempt++ {
		res = op.method.Func.Call([]reflect.Value{client, reflect.ValueOf(ctx), in})
		errv := res[1]
		if errv.IsNil() || attempt >= min(unreachableAttempts, c.opts.MaxAttempts) || !notConnected(errv.Interface().(error)) {
			break
		}
		t := time.NewTimer(time.Duration(attempt) * unreachableDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, classify(op.service.Name, op.name, op.service.EndpointEnv(), errv.Interface().(error))
		case <-t.C:
		}
	}
	if errv := res[1]; !errv.IsNil() {
		return nil, classify(op.service.Name, op.name, op.service.EndpointEnv(), errv.Interface().(error))
	}
	if res[0].IsNil() {
		return map[string]any{}, nil
	}
	return encodeStruct(op.service.Name, res[0].Elem()), nil
}

// client returns the cached typed client of a service, creating it with
// the shared rate limiter of its account, region and service.
func (c *Client) client(ctx context.Context, svc awsservice.Service) (reflect.Value, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.clients[svc.Name]; ok {
		return v, nil
	}
	account := ""
	if c.cfg.Credentials != nil {
		creds, err := c.cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%s: %w: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is available (%v)",
				svc.Name, ErrNoCredentials, innermost(err))
		}
		// The account id is not always known without a call; the key id
		// identifies the same principal well enough to share a limiter.
		account = creds.AccountID
		if account == "" {
			account = creds.AccessKeyID
		}
	}
	limiter := c.opts.Limiters.get(account, c.cfg.Region, svc.Name)
	cfg := c.cfg.Copy()
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer { return newRetryer(c.opts, limiter) }
	v := reflect.ValueOf(factories[svc.Name](cfg))
	c.clients[svc.Name] = v
	return v, nil
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
