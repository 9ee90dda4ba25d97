// Package ssmapi serves the Automation and document operations of AWS
// Systems Manager over the AWS JSON 1.1 protocol (X-Amz-Target:
// AmazonSSM.<Operation>), so that the aws CLI, the SDKs and tools built on
// them drive capstan as they drive SSM. Requests are authenticated with AWS
// Signature Version 4 against the access keys of capstan users.
package ssmapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/service"
)

// Options configure a Server. Service is required.
type Options struct {
	// Service does the work; the server only translates SSM's protocol.
	Service *service.Service
	// Auth verifies request signatures. Nil turns authentication off: every
	// request is served as Anonymous. Only for local experiments.
	Auth Credentials
	// Region is the region signatures must be scoped to; "" accepts any.
	Region string
	// MaxUnauthenticated bounds the requests between arrival and a verified
	// signature (reading their bodies); more are refused with
	// ThrottlingException. Default 64.
	MaxUnauthenticated int
	// MaxBodyBytes bounds a request body; default 1 MiB. SSM's own limits
	// (64 KB documents, 512-character parameter values) are checked per field.
	MaxBodyBytes int64
	// Now is the clock; time.Now by default.
	Now    func() time.Time
	Logger *slog.Logger
}

// Anonymous is the identity of requests when authentication is off.
var Anonymous = Identity{Name: service.Anonymous.Name, ARN: service.Anonymous.ARN}

// Server is an http.Handler speaking SSM's API.
type Server struct {
	opts            Options
	unauthenticated chan struct{} // a semaphore of MaxUnauthenticated slots
	previews        previews
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxUnauthenticated <= 0 {
		opts.MaxUnauthenticated = 64
	}
	return &Server{opts: opts, unauthenticated: make(chan struct{}, opts.MaxUnauthenticated)}
}

type handler func(s *Server, ctx context.Context, body []byte) (any, error)

// op adapts a typed operation to a handler: it decodes the request as SSM
// would, rejecting malformed JSON with SerializationException.
func op[I any, O any](fn func(*Server, context.Context, *I) (*O, error)) handler {
	return func(s *Server, ctx context.Context, body []byte) (any, error) {
		in := new(I)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, serializationError(err)
			}
		}
		out, err := fn(s, ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

var operations = map[string]handler{
	"CreateDocument":                   op(createDocument),
	"GetDocument":                      op(getDocument),
	"DescribeDocument":                 op(describeDocument),
	"ListDocuments":                    op(listDocuments),
	"UpdateDocument":                   op(updateDocument),
	"UpdateDocumentDefaultVersion":     op(updateDocumentDefaultVersion),
	"ListDocumentVersions":             op(listDocumentVersions),
	"DeleteDocument":                   op(deleteDocument),
	"StartAutomationExecution":         op(startAutomationExecution),
	"GetAutomationExecution":           op(getAutomationExecution),
	"DescribeAutomationExecutions":     op(describeAutomationExecutions),
	"DescribeAutomationStepExecutions": op(describeAutomationStepExecutions),
	"StopAutomationExecution":          op(stopAutomationExecution),
	"SendAutomationSignal":             op(sendAutomationSignal),
	"StartExecutionPreview":            op(startExecutionPreview),
	"GetExecutionPreview":              op(getExecutionPreview),
	// capstan's own
	"ListAuditRecords": op(listAuditRecords),
}

type identityKey struct{}

// CallerIdentity returns the authenticated caller of a request.
func CallerIdentity(ctx context.Context) Identity {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id
	}
	return Anonymous
}

// principal is the caller of a request, as the service takes it.
func principal(ctx context.Context) service.Principal {
	id := CallerIdentity(ctx)
	return service.Principal{Name: id.Name, ARN: id.ARN}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, &Error{Type: "UnknownOperationException", Status: http.StatusBadRequest, Message: "only POST requests with X-Amz-Target are served"})
		return
	}
	ident, body, err := s.authenticate(w, r)
	if err != nil {
		writeError(w, asError(err))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "AmazonSSM.")
	h := operations[name]
	if !ok || h == nil {
		writeError(w, &Error{Type: "UnknownOperationException", Status: http.StatusBadRequest, Message: "unknown operation " + quote(target)})
		return
	}
	// The service records each change with the caller and this address.
	ctx := service.WithSource(context.WithValue(r.Context(), identityKey{}, ident), r.RemoteAddr)
	out, err := h(s, ctx, body)
	if err != nil {
		e := asError(err)
		if e.Status >= 500 {
			s.opts.Logger.Error("ssm api", "operation", name, "err", err)
		}
		writeError(w, e)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.opts.Logger.Error("ssm api: encoding response", "operation", name, "err", err)
		writeError(w, internalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", engine.NewID())
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *Error) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", engine.NewID())
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}
