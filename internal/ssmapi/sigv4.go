package ssmapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Identity is an authenticated caller: a capstan user.
type Identity struct {
	Name string
	ARN  string
}

// Credentials look up the secret of an access key.
type Credentials interface {
	// Secret returns the identity holding accessKeyID and its secret access
	// key; an error wrapping ErrUnknownKey when no user holds it.
	Secret(ctx context.Context, accessKeyID string) (Identity, string, error)
}

// ErrUnknownKey: no user holds the access key.
var ErrUnknownKey = errors.New("unknown access key")

// maxSkew is how far X-Amz-Date may be from the server's clock; AWS's own
// window.
const maxSkew = 15 * time.Minute

const amzDateFormat = "20060102T150405Z"

// Messages and exception names are those SSM's JSON endpoint returns.
var (
	errMissingAuth = &Error{Type: "MissingAuthenticationTokenException", Status: http.StatusBadRequest, Message: "Missing Authentication Token"}
	errUnknownKey  = &Error{Type: "UnrecognizedClientException", Status: http.StatusBadRequest, Message: "The security token included in the request is invalid."}
	errBadSig      = &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
		Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
)

func incomplete(format string, args ...any) *Error {
	return &Error{Type: "IncompleteSignatureException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// errBusy: too many requests are waiting to be authenticated.
var errBusy = &Error{Type: "ThrottlingException", Status: http.StatusServiceUnavailable,
	Message: "Rate exceeded: too many requests are awaiting authentication; retry later"}

// errForeignToken refuses a session token: capstan issues none, so any
// X-Amz-Security-Token was issued by someone else (AWS STS) and proves
// nothing here.
var errForeignToken = &Error{Type: "UnrecognizedClientException", Status: http.StatusBadRequest,
	Message: "The security token included in the request is invalid: capstan issues no session tokens; sign with a capstan user's access key"}

// requiredSigned are the headers a signature must cover: host, and the
// operation and the body's type, so that a captured signed request cannot be
// replayed as another operation.
var requiredSigned = []struct{ name, shown string }{
	{"host", "Host"}, {"x-amz-target", "X-Amz-Target"}, {"content-type", "Content-Type"},
}

// sigHeader is a parsed Authorization header.
type sigHeader struct {
	akid, date, region, service, stamp, signature string
	names                                         []string
}

// authenticate reads the body of an authenticated request. Every check that
// needs no body (the header's form, the scope, the date, the access key)
// runs before a byte of it is read, and at most MaxUnauthenticated requests
// read bodies whose signature is not yet verified at any time, so unsigned
// or stalled uploads cannot hold the server's memory.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Identity, []byte, error) {
	if s.opts.Auth == nil {
		body, err := s.readBody(w, r)
		return Anonymous, body, err
	}
	ident, secret, h, err := s.precheck(r)
	if err != nil {
		// Close rather than read the unsent body to keep the connection.
		w.Header().Set("Connection", "close")
		return Identity{}, nil, err
	}
	select {
	case s.unauthenticated <- struct{}{}:
		defer func() { <-s.unauthenticated }()
	default:
		w.Header().Set("Connection", "close")
		return Identity{}, nil, errBusy
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return Identity{}, nil, err
	}
	want := signature4(secret, h.date, h.region, h.service, stringToSign(h.stamp, h.date+"/"+h.region+"/"+h.service+"/aws4_request", canonicalRequest(r, h.names, body)))
	if !hmac.Equal([]byte(want), []byte(h.signature)) {
		return Identity{}, nil, errBadSig
	}
	return ident, body, nil
}

// precheck runs the checks that need no body: the header's form, scope and
// date, and the access key's owner and secret.
func (s *Server) precheck(r *http.Request) (Identity, string, sigHeader, error) {
	h, err := s.parseSigHeader(r)
	if err != nil {
		return Identity{}, "", h, err
	}
	ident, secret, err := s.opts.Auth.Secret(r.Context(), h.akid)
	if errors.Is(err, ErrUnknownKey) {
		return Identity{}, "", h, errUnknownKey
	}
	if err != nil {
		return Identity{}, "", h, internalError(err)
	}
	return ident, secret, h, nil
}

// readBody reads the request body up to MaxBodyBytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Type: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
				Message: "the request body exceeds the limit of " + itoa(s.opts.MaxBodyBytes) + " bytes"}
		}
		return nil, &Error{Type: "SerializationException", Status: http.StatusBadRequest, Message: "reading the request body: " + err.Error()}
	}
	return body, nil
}

// parseSigHeader checks the Signature Version 4 Authorization header's
// form, credential scope and date: everything but the signature itself.
func (s *Server) parseSigHeader(r *http.Request) (sigHeader, error) {
	var h sigHeader
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return h, errMissingAuth
	}
	const algo = "AWS4-HMAC-SHA256"
	rest, ok := strings.CutPrefix(authz, algo+" ")
	if !ok {
		return h, incomplete("Authorization header requires the %s algorithm", algo)
	}
	var credential, signedHeaders string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			h.signature = v
		}
	}
	if credential == "" || signedHeaders == "" || h.signature == "" {
		return h, incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=%s", algo)
	}
	// Credential: AKID/date/region/service/aws4_request
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return h, incomplete("Credential should be scoped to a valid region, service and aws4_request: %s", credential)
	}
	h.akid, h.date, h.region, h.service = scope[0], scope[1], scope[2], scope[3]
	if s.opts.Region != "" && h.region != s.opts.Region {
		return h, &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'; this server is %s.", h.region, s.opts.Region)}
	}
	if h.service != "ssm" {
		return h, &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Credential should be scoped to correct service: 'ssm', not '%s'.", h.service)}
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return h, errForeignToken
	}
	h.stamp = r.Header.Get("X-Amz-Date")
	if h.stamp == "" {
		return h, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	t, err := time.Parse(amzDateFormat, h.stamp)
	if err != nil {
		return h, incomplete("X-Amz-Date %q is not in the form %s", h.stamp, amzDateFormat)
	}
	if !strings.HasPrefix(h.stamp, h.date) {
		return h, incomplete("Credential should be scoped to the date of X-Amz-Date (%s), not %s", h.stamp[:8], h.date)
	}
	now := s.opts.Now().UTC()
	if t.Before(now.Add(-maxSkew)) {
		return h, &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)", h.stamp, now.Add(-maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	}
	if t.After(now.Add(maxSkew)) {
		return h, &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", h.stamp, now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	}
	h.names = strings.Split(signedHeaders, ";")
	for _, req := range requiredSigned {
		if !contains(h.names, req.name) {
			return h, incomplete("'%s' must be a 'SignedHeader' in the AWS Authorization.", req.shown)
		}
	}
	return h, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonicalRequest builds SigV4's canonical request over the headers the
// client says it signed.
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// headerValue returns a header's canonical value: the values joined by
// commas, each trimmed with inner runs of spaces collapsed. Go moves Host
// and Content-Length out of the header map.
func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if r.ContentLength >= 0 {
			return itoa(r.ContentLength)
		}
	}
	vals := r.Header.Values(name)
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func canonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

func uriEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func stringToSign(stamp, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signature4(secret, date, region, service, toSign string) string {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, toSign))
}
