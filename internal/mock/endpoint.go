package mock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/awsmodel"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// Endpoint is a loopback AWS endpoint answering a script's calls from the
// same mocks as the runbook's own calls. It speaks AWS's JSON protocol
// (X-Amz-Target, as boto3 uses for ssm, logs, dynamodb, sqs, kms, events,
// secretsmanager, ...); a request in another protocol (ec2, query, rest-xml,
// rest-json) is refused with an error naming what is missing.
type Endpoint struct {
	URL string
	inv *Invoker
	srv *http.Server
	ln  net.Listener
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

// targets maps a JSON-protocol service's X-Amz-Target prefix to its name.
var targets = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, s := range awsservice.All() {
		if s.Protocol != "json" {
			continue
		}
		if m, err := awsmodel.Load(s.Name); err == nil && m.Metadata.TargetPrefix != "" {
			out[m.Metadata.TargetPrefix] = s.Name
		}
	}
	return out
})

const maxBody = 1 << 20

func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, ok := strings.Cut(target, ".")
	service := targets()[prefix]
	if !ok || service == "" {
		writeJSONError(w, "CapstanTestUnsupportedProtocol", fmt.Sprintf(
			"capstan test answers a script's AWS calls only in AWS's JSON protocol (X-Amz-Target); this %s %s request is in another protocol (ec2, query, rest-xml or rest-json), which it does not decode yet",
			r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeJSONError(w, "SerializationException", "request body unreadable or over 1 MiB")
		return
	}
	input := map[string]any{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &input); err != nil {
			writeJSONError(w, "SerializationException", err.Error())
			return
		}
	}
	out, err := e.inv.Invoke(context.WithoutCancel(r.Context()), service, op, input)
	if err != nil {
		var ae *awsapi.Error
		if errors.As(err, &ae) {
			writeJSONError(w, ae.Code, ae.Message)
		} else {
			writeJSONError(w, "CapstanTestUnmockedCall", err.Error())
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeJSONError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// AWSEnv gives a script the endpoint's environment when one serves this
// invoker (the engine asks through the invoker for a script's environment).
func (inv *Invoker) AWSEnv(context.Context) ([]string, error) {
	if inv.Endpoint == nil {
		return nil, errors.New("no mock endpoint serves scripts in this test")
	}
	return inv.Endpoint.Env(), nil
}
