package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

var (
	// ErrUnknownService: no supported service has that name.
	ErrUnknownService = errors.New("unknown service")
	// ErrUnknownOperation: the service defines no operation of that name.
	ErrUnknownOperation = errors.New("unknown operation")
	// ErrUnsupported: the name is known but capstan cannot call it
	// (event-stream operations, protocols without a codec).
	ErrUnsupported = errors.New("not supported")
	// ErrInvalidInput: the input does not fit the operation's input shape.
	ErrInvalidInput = errors.New("invalid input")
	// ErrNoCredentials: no credentials could be found or refreshed.
	ErrNoCredentials = errors.New("no AWS credentials")
	// ErrUnreachable: the endpoint could not be reached.
	ErrUnreachable = errors.New("endpoint unreachable")
)

// Error is an error the AWS service returned.
type Error struct {
	Service    string // boto3 name, e.g. "ec2"
	Operation  string // model name, e.g. "DescribeInstances"
	Code       string // e.g. "InvalidInstanceID.NotFound"
	Message    string
	RequestID  string
	StatusCode int
	Err        error // the SDK's error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Service, e.Operation, e.Code)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id: " + e.RequestID + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// InputError says where an input does not fit the operation's input shape.
type InputError struct {
	Service, Operation string
	Path               string // e.g. "Filters[0].Values"; empty for the top level
	Problem            string
	// Unknown is the member name the shape does not define, when that is
	// the problem (a typo, which validation reports before anything runs).
	Unknown string
}

// Input returns the top-level input member the problem is in: the first
// element of Path, or the unknown member itself at the top level.
func (e *InputError) Input() string {
	if e.Path == "" {
		return e.Unknown
	}
	return strings.FieldsFunc(e.Path, func(r rune) bool { return r == '.' || r == '[' })[0]
}

func (e *InputError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s %s: %s", e.Service, e.Operation, e.Problem)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Service, e.Operation, e.Path, e.Problem)
}

func (e *InputError) Unwrap() error { return ErrInvalidInput }

// ErrorCode returns the AWS error code of err, or "" when err carries none.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// classify turns an SDK error into the error capstan reports.
func classify(service, operation, endpointEnv string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := &Error{Service: service, Operation: operation, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Err: err}
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			e.RequestID = re.ServiceRequestID()
			e.StatusCode = re.HTTPStatusCode()
		}
		return e
	}
	msg := err.Error()
	if strings.Contains(msg, "get identity") || strings.Contains(msg, "retrieve credentials") {
		return fmt.Errorf("%s %s: %w: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is available (%v)",
			service, operation, ErrNoCredentials, innermost(err))
	}
	var ue *url.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) {
		where := ""
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				where = " " + u.Scheme + "://" + u.Host
			}
		}
		return fmt.Errorf("%s %s: %w%s: %v; check --endpoint-url / AWS_ENDPOINT_URL / network (or %s, the region)",
			service, operation, ErrUnreachable, where, innermost(err), endpointEnv)
	}
	return fmt.Errorf("%s %s: %w", service, operation, err)
}

// notConnected reports whether err is a failure to reach the endpoint at
// all (connection refused, no such host): the request was never sent, so it
// is safe to retry, but an endpoint that is down rarely comes back soon.
func notConnected(err error) bool {
	var de *net.DNSError
	if errors.As(err, &de) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// innermost returns the deepest wrapped error, which carries the cause
// without the SDK's layers of context.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// errorKind names an error for the call record: the AWS error code, or a
// capstan kind for failures that never reached AWS.
func errorKind(err error) string {
	if code := ErrorCode(err); code != "" {
		return code
	}
	for _, k := range []struct {
		err  error
		kind string
	}{
		{ErrInvalidInput, "InvalidInput"},
		{ErrUnknownService, "UnknownService"},
		{ErrUnknownOperation, "UnknownOperation"},
		{ErrUnsupported, "Unsupported"},
		{ErrNoCredentials, "NoCredentials"},
		{ErrUnreachable, "Unreachable"},
		{context.Canceled, "Canceled"},
		{context.DeadlineExceeded, "DeadlineExceeded"},
	} {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return "ClientError"
}

// ErrorCode returns the AWS error code, so packages that must not import the
// SDK (the engine) can classify failures through a one-method interface.
func (e *Error) ErrorCode() string { return e.Code }
