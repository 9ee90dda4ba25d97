package awsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/aws/smithy-go/traits"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/rpcv2"

	"github.com/capstan-run/capstan/internal/awsmodel"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// Incoming is an AWS call received by an endpoint capstan answers itself
// (capstan test's endpoint for scripts), decoded by the service's model in
// whichever protocol the service speaks: json, query, ec2, rest-json,
// rest-xml, or RPC v2 CBOR where boto3 prefers it. It is the client's codecs run the other way: a request's body
// and headers are read by the protocol's response reader, a response is
// written by its request writer, with the same bindings.
type Incoming struct {
	Service   string         // boto3 name; "" when the request names none
	Operation string         // model name; "" when it names none
	Input     map[string]any // by model member names, as a runbook gives them

	protocol string
	op       *operation
	head     bool
	// alts are the other calls the request is as well: S3's
	// GetBucketLifecycle and GetBucketLifecycleConfiguration are one
	// request, and so are RDS's, DocumentDB's and Neptune's operations of
	// one name.
	alts []alternative
}

type alternative struct {
	op    *operation
	input map[string]any
}

// Alternatives names the other calls the request is as well ("docdb
// RebootDBInstance"), for a caller that answers whichever it knows (see
// Choose).
func (in *Incoming) Alternatives() []string {
	out := make([]string, len(in.alts))
	for i, a := range in.alts {
		out[i] = a.op.svc.info.Name + " " + a.op.name
	}
	return out
}

// Choose makes the i-th of the Alternatives the call answered, and the call
// it was an alternative.
func (in *Incoming) Choose(i int) {
	a := in.alts[i]
	in.alts[i] = alternative{op: in.op, input: in.Input}
	in.op, in.Service, in.Operation, in.Input = a.op, a.op.svc.info.Name, a.op.name, a.input
}

// ErrUnreadableRequest: a request that names no known service or
// operation, or whose input does not decode.
var ErrUnreadableRequest = errors.New("unreadable AWS request")

// maxWireBody bounds a request body a script may send.
const maxWireBody = 16 << 20

// ReadRequest decodes an SDK's request: X-Amz-Target names a JSON-protocol
// operation; otherwise the SigV4 credential scope names the service, and
// the form's Action (query, ec2) or the method and path (rest-json,
// rest-xml) the operation. The returned Incoming is never nil, so an error
// can be answered in the protocol the client expects.
func ReadRequest(r *http.Request) (*Incoming, error) {
	in := &Incoming{protocol: guessProtocol(r), head: r.Method == http.MethodHead}
	fail := func(format string, args ...any) (*Incoming, error) {
		return in, fmt.Errorf("%w: %s", ErrUnreadableRequest, fmt.Sprintf(format, args...))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWireBody+1))
	if err != nil {
		return fail("reading the body: %v", err)
	}
	if len(body) > maxWireBody {
		return fail("the body is over %d bytes", maxWireBody)
	}
	candidates, how := identify(r, body)
	if len(candidates) == 0 {
		return fail("%s names no AWS service capstan knows", how)
	}
	var lastErr error
	for _, info := range candidates {
		svc, err := loadService(info)
		if err != nil {
			lastErr = err
			continue
		}
		if in.op == nil {
			in.Service, in.protocol = info.Name, svc.wireProtocol(r.Header)
		}
		routes, err := svc.route(r, body)
		if err != nil {
			lastErr = err
			continue
		}
		for _, rt := range routes {
			op, err := svc.operation(rt.op)
			if err != nil {
				lastErr = err
				continue
			}
			input, err := op.readInput(r, body, rt.labels)
			switch {
			case err != nil:
				lastErr = fmt.Errorf("%s %s: %w", info.Name, op.name, err)
			case in.op == nil:
				in.Operation, in.op, in.Input = op.name, op, input
			default:
				in.alts = append(in.alts, alternative{op: op, input: input})
			}
		}
	}
	if in.op != nil {
		return in, nil
	}
	return fail("%s %s: %v", r.Method, r.URL.Path, lastErr)
}

// guessProtocol is the protocol of a request before its service is known,
// for an error answer.
func guessProtocol(r *http.Request) string {
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		return "json"
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return "query"
	case strings.Contains(r.Header.Get("Content-Type"), "xml"):
		return "rest-xml"
	}
	return "rest-json"
}

// wireIndex finds services by what a request carries.
type wireIndex struct {
	targets map[string]awsservice.Service   // X-Amz-Target prefix → service
	signing map[string][]awsservice.Service // SigV4 signing name → services
}

var index = sync.OnceValue(func() wireIndex {
	x := wireIndex{targets: map[string]awsservice.Service{}, signing: map[string][]awsservice.Service{}}
	for _, s := range awsservice.All() {
		md, err := awsmodel.ReadMetadata(s.Name)
		if err != nil {
			continue
		}
		if md.TargetPrefix != "" && md.Protocol == "json" {
			x.targets[md.TargetPrefix] = s
		}
		name := md.SigningName
		if name == "" {
			name = md.EndpointPrefix
		}
		x.signing[name] = append(x.signing[name], s)
	}
	return x
})

// identify returns the services a request may be for, and says what named
// them.
func identify(r *http.Request, body []byte) ([]awsservice.Service, string) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, _, _ := strings.Cut(t, ".")
		if s, ok := index().targets[prefix]; ok {
			return []awsservice.Service{s}, ""
		}
		return nil, fmt.Sprintf("X-Amz-Target %q", t)
	}
	form, _ := formOf(r, body)
	if name := signingName(r); name != "" {
		// Services sharing a signing name (elb and elbv2, rds and docdb)
		// differ by API version where they speak query; the one named
		// like the signing name is the likeliest.
		var out []awsservice.Service
		for _, s := range index().signing[name] {
			if (s.Protocol == "query" || s.Protocol == "ec2") && form.Get("Version") != "" && s.APIVersion != form.Get("Version") {
				continue
			}
			if s.Name == name {
				out = append([]awsservice.Service{s}, out...)
			} else {
				out = append(out, s)
			}
		}
		return out, fmt.Sprintf("signing name %q", name)
	}
	// An unsigned call (STS's AssumeRoleWithWebIdentity) of a query or EC2
	// service names its API version and action in the form.
	if form.Get("Version") != "" {
		var out []awsservice.Service
		for _, s := range awsservice.All() {
			if _, ok := s.Operation(form.Get("Action")); ok && s.APIVersion == form.Get("Version") && (s.Protocol == "query" || s.Protocol == "ec2") {
				out = append(out, s)
			}
		}
		return out, fmt.Sprintf("an unsigned request for %s version %s", form.Get("Action"), form.Get("Version"))
	}
	return nil, "an unsigned request (no SigV4 Authorization header)"
}

// signingName reads the service of a SigV4 credential scope
// (AKID/DATE/REGION/SERVICE/aws4_request).
func signingName(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		_, after, ok := strings.Cut(a, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// route is an operation a request may call, with its URI labels for a
// REST protocol.
type route struct {
	op     string
	labels map[string]string
}

// route names the operations a request calls: one, or for a REST request
// those that fit it equally well, the likeliest first.
func (s *service) route(r *http.Request, body []byte) ([]route, error) {
	switch p := s.wireProtocol(r.Header); p {
	case cborProtocol:
		_, op, ok := strings.Cut(r.URL.Path, "/operation/")
		if !ok {
			return nil, errors.New("an RPC v2 CBOR request's path names no operation")
		}
		return []route{{op: op}}, nil
	case "json":
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		return []route{{op: op}}, nil
	case "query", "ec2":
		form, err := formOf(r, body)
		if err != nil {
			return nil, err
		}
		op := form.Get("Action")
		if op == "" {
			return nil, errors.New("the form has no Action")
		}
		return []route{{op: op}}, nil
	case "rest-json", "rest-xml":
		return s.routeREST(r)
	}
	return nil, fmt.Errorf("protocol %q is %w", s.model.Metadata.Protocol, ErrUnsupported)
}

// cborProtocol is Smithy's RPC v2 CBOR, which boto3 speaks to a few
// services (cloudwatch, gamelift, snowball, ...) that capstan's client
// calls in JSON.
const cborProtocol = "smithy-rpc-v2-cbor"

// wireProtocol is the protocol a request with these headers is in: the
// service's, or RPC v2 CBOR where the request says so.
func (s *service) wireProtocol(h http.Header) string {
	if h.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		return cborProtocol
	}
	return s.model.Metadata.Protocol
}

// codec is the service's codec for a protocol it speaks.
func (s *service) codec(protocol string) smithyhttp.ClientProtocol {
	if protocol == cborProtocol && s.model.Metadata.Protocol != cborProtocol {
		s.cborOnce.Do(func() { s.cborCodec = rpcv2.NewCBOR(s.svcSchema) })
		return s.cborCodec
	}
	return s.protocol
}

// readInput decodes the input of a request to op.
func (op *operation) readInput(r *http.Request, body []byte, labels map[string]string) (map[string]any, error) {
	if op.schema.Input == nil {
		return map[string]any{}, nil
	}
	switch op.svc.model.Metadata.Protocol {
	case "query", "ec2":
		form, err := formOf(r, body)
		if err != nil {
			return nil, err
		}
		return op.readForm(form)
	}
	m, err := op.readBody(r.Header, body)
	if err != nil {
		return nil, err
	}
	if err := op.readURI(r.URL.Query(), labels, m); err != nil {
		return nil, err
	}
	return m, nil
}

// readBody reads the members a request carries in its body and headers
// with the protocol's response reader: an operation whose output is this
// one's input.
func (op *operation) readBody(h http.Header, body []byte) (map[string]any, error) {
	// A blob that is the whole body (Lambda's Invoke Payload, API Gateway's
	// imports) is its raw bytes, read as the text it is, as a streaming one
	// is; the reader then only reads the headers.
	payload, raw := "", body
	if p := op.svc.model.Shape(op.model.Input.Shape).Payload; p != "" {
		if ms := op.schema.Input.Member(p); ms != nil && ms.Type() == smithy.ShapeTypeBlob && op.svc.extraOf(op.schema.Input).streaming == "" {
			payload, body = p, nil
		}
	}
	m, err := op.readWith(op.svc.codec(op.svc.wireProtocol(h)), h, body)
	if err != nil {
		return nil, err
	}
	if payload != "" && len(raw) > 0 {
		m[payload] = payloadValue(raw)
	}
	return m, nil
}

func (op *operation) readWith(codec smithyhttp.ClientProtocol, h http.Header, body []byte) (map[string]any, error) {
	rev := smithy.NewOperationSchema(op.schema.Schema, nil, op.schema.Input)
	out := &output{svc: op.svc, schema: op.schema.Input}
	var d smithy.Deserializable = out
	var so *streamingOutput
	if m := op.svc.extraOf(op.schema.Input).streaming; m != "" {
		so = &streamingOutput{output: *out, member: m}
		d = so
	}
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}}
	if err := codec.DeserializeResponse(context.Background(), rev, noErrorTypes, resp, d); err != nil {
		return nil, err
	}
	if so != nil {
		m := so.m
		if m == nil {
			m = map[string]any{}
		}
		if so.body != nil {
			b, err := io.ReadAll(so.body)
			if err != nil {
				return nil, err
			}
			m[so.member] = payloadValue(b)
		}
		return m, nil
	}
	if out.m == nil {
		out.m = map[string]any{}
	}
	return out.m, nil
}

// WriteResponse answers the call with output, checked against the
// operation's output shape and written as the service writes it: JSON, a
// REST body with headers, or query and EC2's XML.
func (in *Incoming) WriteResponse(w http.ResponseWriter, out map[string]any) error {
	if in.op == nil {
		return fmt.Errorf("%w: no operation to answer", ErrUnreadableRequest)
	}
	op := in.op
	d := &decoder{svc: op.svc, service: op.svc.info.Name, operation: op.name, response: true}
	checked := &input{root: &structVal{}}
	if op.schema.Output != nil {
		root, err := d.structure("", op.schema.Output, out, true)
		if err != nil {
			return err
		}
		checked = &input{schema: op.schema.Output, root: root, stream: d.stream, hasStream: d.hasStream}
	}
	code := op.model.HTTP.ResponseCode
	if code == 0 {
		code = http.StatusOK
	}
	switch in.protocol {
	case "query", "ec2":
		inner, err := op.writeXML(checked)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(code)
		_, err = io.WriteString(w, op.wrapXML(inner, in.protocol == "ec2"))
		return err
	}
	req, err := op.writeWith(op.svc.codec(in.protocol), checked)
	if err != nil {
		return err
	}
	for k, vs := range req.Header {
		if k == "X-Amz-Target" {
			continue
		}
		w.Header()[k] = vs
	}
	if in.protocol == "json" {
		w.Header().Set("Content-Type", "application/x-amz-json-"+jsonVersion(op.svc))
	}
	var body []byte
	if st := req.GetStream(); st != nil {
		if body, err = io.ReadAll(st); err != nil {
			return err
		}
	}
	if in.protocol == "rest-xml" && string(body) == "{}" {
		body = nil // smithy's REST writers send "{}" for no payload
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if !in.head {
		_, err = w.Write(body)
	}
	return err
}

func jsonVersion(s *service) string {
	if v := s.model.Metadata.JSONVersion; v != "" {
		return v
	}
	return "1.0"
}

// writeWith serializes v with protocol p as the input of an operation
// whose input is this one's output, which puts header-bound members in
// headers and the rest in the body, as a response carries them.
func (op *operation) writeWith(p smithyhttp.ClientProtocol, v *input) (*smithyhttp.Request, error) {
	opSchema := smithy.NewSchema(op.schema.ID(), smithy.ShapeTypeOperation, 0, &traits.HTTP{Method: http.MethodPost, URI: "/", Code: http.StatusOK})
	rev := smithy.NewOperationSchema(opSchema, op.schema.Output, nil)
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	req.URL = &url.URL{Scheme: "http", Host: "capstan.invalid", Path: "/"}
	if err := p.SerializeRequest(context.Background(), rev, v, req); err != nil {
		return nil, err
	}
	return req, nil
}

// WriteError answers the call with an AWS error in the protocol's error
// shape, so the SDK raises it with this code and message (boto3's
// ClientError).
func (in *Incoming) WriteError(w http.ResponseWriter, code, message string) {
	status := errorStatus(code)
	id := uuid()
	switch in.protocol {
	case "json":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-RequestId", id)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%s,"message":%s}`, jsonString(code), jsonString(message))
	case cborProtocol:
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.WriteHeader(status)
		_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(code), "message": cbor.String(message)}))
	case "rest-json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.Header().Set("X-Amzn-RequestId", id)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":%s,"message":%s}`, jsonString(code), jsonString(message))
	case "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`, xmlText(code), xmlText(message), id)
	default:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if in.head {
			return
		}
		if in.Service == "s3" {
			// S3's errors are a bare <Error>.
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>`, xmlText(code), xmlText(message), id)
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, xmlText(code), xmlText(message), id)
	}
}

// errorStatus is the HTTP status an error code comes with; a HEAD
// response has no body, so its status is all the SDK sees.
func errorStatus(code string) int {
	if n, err := strconv.Atoi(code); err == nil && n >= 400 && n < 600 {
		return n
	}
	switch {
	case strings.HasSuffix(code, "NotFound") || strings.HasPrefix(code, "NoSuch") || strings.HasSuffix(code, "NotFoundException"):
		return http.StatusNotFound
	case strings.HasPrefix(code, "AccessDenied") || code == "Forbidden" || code == "UnauthorizedOperation":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}
