package policy

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// DeniedError is an AWS call refused for want of a permission. Its message
// is the service's, followed by the IAM action and resources it needed.
type DeniedError struct {
	Service, Operation string
	Code, Message      string
	IAMAction          string
	Resources          []string
	Err                error
}

func (e *DeniedError) Error() string {
	var ae *awsapi.Error
	base := e.Err.Error()
	if !errors.As(e.Err, &ae) || ae.Code != e.Code {
		// The service's own error body could not be read as its protocol
		// says; the code and message come from the body as it was.
		base = fmt.Sprintf("%s %s: %s", e.Service, e.Operation, e.Code)
		if e.Message != "" {
			base += ": " + e.Message
		}
	}
	return fmt.Sprintf("%s (needs %s on %s)", base, e.IAMAction, strings.Join(e.Resources, ", "))
}

func (e *DeniedError) Unwrap() error { return e.Err }

// ErrorCode is the denial's code, so the engine classifies the failure as a
// permission failure however the body was written.
func (e *DeniedError) ErrorCode() string { return e.Code }

// deniedCodes are the error codes AWS services answer a missing permission
// with.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
	"UnauthorizedAccess":    true,
	"AuthorizationError":    true,
	"AccessDeniedFault":     true,
}

// Denied reports whether err is an AWS refusal for want of a permission,
// with its code and message.
func Denied(err error) (code, message string, ok bool) {
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		if deniedCodes[ae.Code] {
			return ae.Code, ae.Message, true
		}
		// The query protocol's decoder reports a body in a shape it does
		// not expect as UnknownError; a 403 says what happened.
		if (ae.Code == "" || ae.Code == "UnknownError") && ae.StatusCode == http.StatusForbidden {
			return "AccessDenied", "", true
		}
		return "", "", false
	}
	// moto answers some JSON-protocol denials with an XML body
	// (<ErrorResponse><Errors><Error>, which botocore reads) that the SDK
	// fails to decode; the body is kept in the decoding error.
	var de *smithy.DeserializationError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &de) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		return "", "", false
	}
	var body struct {
		Code    string `xml:"Errors>Error>Code"`
		Message string `xml:"Errors>Error>Message"`
		Code1   string `xml:"Error>Code"`
		Msg1    string `xml:"Error>Message"`
	}
	if xml.Unmarshal(de.Snapshot, &body) == nil {
		if body.Code == "" {
			body.Code, body.Message = body.Code1, body.Msg1
		}
		if body.Code != "" {
			return body.Code, body.Message, true
		}
	}
	return "AccessDenied", "", true
}

// Explain wraps an invoker so that a denied call's error names the IAM
// action it needed and the resources, from the request, as capstan policy
// derives them.
func Explain(inv action.Invoker, sc Scope) action.Invoker {
	return explainer{inv: inv, scope: sc}
}

type explainer struct {
	inv   action.Invoker
	scope Scope
}

func (x explainer) Invoke(ctx context.Context, service, operation string, input map[string]any) (map[string]any, error) {
	out, err := x.inv.Invoke(ctx, service, operation, input)
	if err == nil {
		return out, nil
	}
	code, msg, denied := Denied(err)
	if !denied {
		return out, err
	}
	iamAction, ok := awsservice.IAMAction(service, operation)
	if !ok {
		return out, err
	}
	op := awsservice.OperationName(operation)
	return out, &DeniedError{Service: service, Operation: op, Code: code, Message: msg, IAMAction: iamAction, Resources: resources(x.scope, iamAction, input), Err: err}
}

var _ action.Invoker = explainer{}

// awsEnver is the optional capability of an invoker to hand its identity to
// a script as AWS environment variables (the engine asks for it).
type awsEnver interface {
	AWSEnv(ctx context.Context) ([]string, error)
}

// AWSEnv passes the wrapped invoker's environment on.
func (x explainer) AWSEnv(ctx context.Context) ([]string, error) {
	if e, ok := x.inv.(awsEnver); ok {
		return e.AWSEnv(ctx)
	}
	return nil, nil
}
