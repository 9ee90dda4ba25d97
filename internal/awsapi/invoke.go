package awsapi

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// callState is what the middleware of one call share.
type callState struct {
	c     *Client
	op    *operation
	sc    *svcClient
	input map[string]any // as given, for host prefix labels
}

// noErrorTypes makes every service error a smithy.GenericAPIError with the
// code and message the service sent.
var noErrorTypes = &smithy.TypeRegistry{Entries: map[string]*smithy.TypeRegistryEntry{}}

// send runs one call through an SDK-style middleware stack: the smithy
// codec serializes, the endpoint is applied, the SDK's retry middleware
// drives the retryer (with the shared adaptive limiter), the SigV4 signer
// signs, and the codec reads the response or the error.
func (st *callState) send(ctx context.Context, in *input, out smithy.Deserializable) error {
	stack := middleware.NewStack(st.op.name, smithyhttp.NewStackRequest)
	steps := []func() error{
		func() error { return stack.Serialize.Add(serializeStep{st}, middleware.After) },
		func() error { return stack.Finalize.Add(endpointStep{st}, middleware.After) },
		func() error { return stack.Finalize.Add(signStep{st}, middleware.After) },
		func() error {
			return retry.AddRetryMiddlewares(stack, retry.AddRetryMiddlewaresOptions{Retryer: st.sc.retryer})
		},
		func() error { return v4.AddComputePayloadSHA256Middleware(stack) },
		func() error { return stack.Deserialize.Add(deserializeStep{st, out}, middleware.After) },
		func() error { return awsmiddleware.AddRequestIDRetrieverMiddleware(stack) },
		func() error { return awshttp.AddResponseErrorMiddleware(stack) },
	}
	if st.op.model.ChecksumRequired() {
		steps = append(steps, func() error { return smithyhttp.AddContentChecksumMiddleware(stack) })
	}
	if st.sc.endpoint.signingName == "s3" {
		steps = append(steps, func() error { return v4.AddContentSHA256HeaderMiddleware(stack) })
	}
	for _, add := range steps {
		if err := add(); err != nil {
			return fmt.Errorf("building the request pipeline: %w", err)
		}
	}
	ctx = awsmiddleware.SetServiceID(ctx, st.op.svc.info.EndpointID)
	ctx = awsmiddleware.SetOperationName(ctx, st.op.name)
	h := middleware.DecorateHandler(smithyhttp.NewClientHandlerWithOptions(st.c.httpClient()), stack)
	_, _, err := h.Handle(ctx, in)
	return err
}

type serializeStep struct{ st *callState }

func (serializeStep) ID() string { return "OperationSerializer" }

func (s serializeStep) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected transport type %T", in.Request)
	}
	input := in.Parameters.(*input)
	if err := s.st.op.svc.protocol.SerializeRequest(ctx, s.st.op.schema, input, req); err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, &smithy.SerializationError{Err: err}
	}
	// smithy-go's REST codecs send "{}" for an absent structure payload,
	// right for JSON; an XML service (S3 CreateBucket without
	// CreateBucketConfiguration) wants no body, as boto3 sends.
	if s.st.op.svc.xml && req.GetStream() != nil {
		if b, ok := req.GetStream().(*bytes.Reader); ok && b.Len() == 2 {
			var two [2]byte
			if _, err := b.ReadAt(two[:], 0); err == nil && string(two[:]) == "{}" {
				if r, err := req.SetStream(nil); err == nil {
					*req = *r
				}
				req.Header.Del("Content-Type")
			}
		}
	}
	return next.HandleSerialize(ctx, in)
}

type endpointStep struct{ st *callState }

func (endpointStep) ID() string { return "ResolveEndpointV2" }

func (s endpointStep) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	req := in.Request.(*smithyhttp.Request)
	e := s.st.sc.endpoint
	req.URL.Scheme = e.url.Scheme
	req.URL.Host = e.url.Host
	if e.url.Path != "" && e.url.Path != "/" {
		req.URL.Path = smithyhttp.JoinPath(e.url.Path, req.URL.Path)
		req.URL.RawPath = smithyhttp.JoinPath(e.url.EscapedPath(), req.URL.EscapedPath())
	}
	// A host prefix ("{AccountId}." for s3control, "api." for mwaa) needs
	// a DNS name; against an IP endpoint boto3 cannot apply it either.
	if p := s.st.op.hostPrefix; p != "" && !isIP(req.URL.Host) {
		prefix, err := expandHostPrefix(p, s.st.input)
		if err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &InputError{Service: s.st.op.svc.info.Name, Operation: s.st.op.name, Problem: err.Error()}
		}
		req.URL.Host = prefix + req.URL.Host
	}
	// S3 on AWS addresses buckets as subdomains; custom endpoints (moto,
	// MinIO, localhost) have no wildcard DNS and keep the bucket in the path.
	if s.st.op.svc.info.Name == "s3" && !e.custom {
		if b, _ := s.st.input["Bucket"].(string); virtualHostBucket.MatchString(b) && strings.HasPrefix(req.URL.Path, "/"+b) {
			req.URL.Host = b + "." + req.URL.Host
			req.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(req.URL.Path, "/"+b), "/")
			req.URL.RawPath = ""
		}
	}
	return next.HandleFinalize(ctx, in)
}

type signStep struct{ st *callState }

func (signStep) ID() string { return "Signing" }

func (s signStep) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	creds := s.st.c.cfg.Credentials
	if creds == nil || s.st.op.model.AuthType == "none" {
		return next.HandleFinalize(ctx, in)
	}
	req := in.Request.(*smithyhttp.Request)
	v, err := creds.Retrieve(ctx)
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("retrieve credentials: %w", err)
	}
	if v.Source == "" && v.AccessKeyID == "" {
		return next.HandleFinalize(ctx, in) // anonymous
	}
	e := s.st.sc.endpoint
	if err := s.st.c.signer.SignHTTP(ctx, v, req.Request, v4.GetPayloadHash(ctx), e.signingName, e.signingRegion, time.Now(), func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = e.signingName == "s3"
	}); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("signing the request: %w", err)
	}
	return next.HandleFinalize(ctx, in)
}

type deserializeStep struct {
	st  *callState
	out smithy.Deserializable
}

func (deserializeStep) ID() string { return "OperationDeserializer" }

func (s deserializeStep) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("unknown transport type %T", out.RawResponse)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return out, md, s.errorOf(ctx, resp)
	}
	if err := s.st.op.svc.protocol.DeserializeResponse(ctx, s.st.op.schema, noErrorTypes, resp, s.out); err != nil {
		return out, md, err
	}
	if so, ok := s.out.(*streamingOutput); ok && so.body != nil {
		b, err := io.ReadAll(so.body)
		if err != nil {
			return out, md, &smithy.DeserializationError{Err: fmt.Errorf("reading %s: %w", so.member, err)}
		}
		so.m[so.member] = payloadValue(b)
	}
	out.Result = s.out
	return out, md, nil
}

// errorOf reads an error response with the service's codec, and where the
// codec cannot read it, as botocore does: moto answers authentication
// failures of every protocol in the query XML shape
// (<ErrorResponse><Errors><Error><Code>…), and an error without a body
// (S3 HEAD) takes its HTTP status as its code ("404", "Not Found").
func (s deserializeStep) errorOf(ctx context.Context, resp *smithyhttp.Response) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return &smithy.DeserializationError{Err: fmt.Errorf("reading the error response: %w", err)}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	perr := s.st.op.svc.protocol.DeserializeResponse(ctx, s.st.op.schema, noErrorTypes, resp, s.out)
	var ae smithy.APIError
	if errors.As(perr, &ae) && ae.ErrorCode() != "UnknownError" {
		return perr
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &smithy.GenericAPIError{Code: strconv.Itoa(resp.StatusCode), Message: http.StatusText(resp.StatusCode)}
	}
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if el := xmlErrorElement.Find(body); el != nil && xml.Unmarshal(el, &x) == nil && x.Code != "" {
		return &smithy.GenericAPIError{Code: x.Code, Message: x.Message}
	}
	if h := resp.Header.Get("X-Amzn-ErrorType"); h != "" {
		code, _, _ := strings.Cut(h, ":")
		return &smithy.GenericAPIError{Code: code, Message: http.StatusText(resp.StatusCode)}
	}
	return perr
}

// xmlErrorElement finds the <Error> element of a query-style XML error,
// however it is wrapped.
var xmlErrorElement = regexp.MustCompile(`(?s)<Error>.*?</Error>`)

// svcClient is a Client's per-service state: endpoint and retryer (whose
// adaptive limiter is shared per account, region and service).
type svcClient struct {
	endpoint endpoint
	retryer  aws.RetryerV2
}
