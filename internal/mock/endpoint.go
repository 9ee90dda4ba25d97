package mock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/awsapi"
)

// Endpoint is a loopback AWS endpoint answering a script's calls from the
// same mocks as the runbook's own calls, in the protocol of each service
// (json, query, ec2, rest-json, rest-xml; see awsapi.ReadRequest). A call
// no mock answers gets an error the script's SDK raises, and is kept as a
// problem of the test, so a script that catches the error still fails it.
type Endpoint struct {
	URL string
	inv *Invoker
	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	problems []string
}

// Serve starts an endpoint for inv on a free loopback port.
func Serve(inv *Invoker) (*Endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mock endpoint: %w", err)
	}
	e := &Endpoint{URL: "http://" + ln.Addr().String(), inv: inv, ln: ln}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// Close stops the endpoint.
func (e *Endpoint) Close() error { return e.srv.Close() }

// Env is the AWS environment that points a script's SDK at the endpoint,
// with dummy credentials: nothing reaches AWS.
func (e *Endpoint) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + e.URL,
		"AWS_ACCESS_KEY_ID=capstan-test", "AWS_SECRET_ACCESS_KEY=capstan-test",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
	}
}

func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in, err := awsapi.ReadRequest(r)
	if err != nil {
		e.problem(fmt.Sprintf("a script's AWS call capstan test cannot read: %v", err))
		in.WriteError(w, "CapstanTestUnreadableRequest", err.Error())
		return
	}
	ctx := context.WithoutCancel(r.Context())
	out, err := e.inv.Invoke(ctx, in.Service, in.Operation, in.Input)
	// The request may be another call as well (S3's GetBucketLifecycle is
	// GetBucketLifecycleConfiguration on the wire): whichever is mocked
	// answers.
	for i := range in.Alternatives() {
		if !errors.Is(err, ErrUnmocked) {
			break
		}
		in.Choose(i)
		out, err = e.inv.Invoke(ctx, in.Service, in.Operation, in.Input)
	}
	var ae *awsapi.Error
	switch {
	case errors.As(err, &ae):
		in.WriteError(w, ae.Code, ae.Message)
		return
	case err != nil:
		e.problem("a script's call: " + err.Error())
		in.WriteError(w, "CapstanTestUnmockedCall", err.Error())
		return
	}
	if err := in.WriteResponse(w, out); err != nil {
		e.problem(fmt.Sprintf("the mock of %s %s: %v", in.Service, in.Operation, err))
		in.WriteError(w, "CapstanTestBadMock", err.Error())
	}
}

func (e *Endpoint) problem(p string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.problems = append(e.problems, p)
}

// Problems lists the script calls no mock answered and the requests the
// endpoint could not read, in order.
func (e *Endpoint) Problems() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.problems...)
}

// AWSEnv gives a script the endpoint's environment when one serves this
// invoker (the engine asks through the invoker for a script's environment).
func (inv *Invoker) AWSEnv(context.Context) ([]string, error) {
	if inv.Endpoint == nil {
		return nil, errors.New("no mock endpoint serves scripts in this test")
	}
	return inv.Endpoint.Env(), nil
}
