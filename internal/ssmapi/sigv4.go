package ssmapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

// verify checks the request's Signature Version 4 Authorization header by
// recomputing the signature with the caller's stored secret.
func (s *Server) verify(r *http.Request, body []byte) (Identity, error) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return Identity{}, errMissingAuth
	}
	const algo = "AWS4-HMAC-SHA256"
	rest, ok := strings.CutPrefix(authz, algo+" ")
	if !ok {
		return Identity{}, incomplete("Authorization header requires the %s algorithm", algo)
	}
	var credential, signedHeaders, signature string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	if credential == "" || signedHeaders == "" || signature == "" {
		return Identity{}, incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=%s", algo)
	}
	// Credential: AKID/date/region/service/aws4_request
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return Identity{}, incomplete("Credential should be scoped to a valid region, service and aws4_request: %s", credential)
	}
	akid, date, region, service := scope[0], scope[1], scope[2], scope[3]
	if s.opts.Region != "" && region != s.opts.Region {
		return Identity{}, incomplete("Credential should be scoped to a valid region, not '%s'.", region)
	}
	stamp := r.Header.Get("X-Amz-Date")
	if stamp == "" {
		return Identity{}, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	t, err := time.Parse(amzDateFormat, stamp)
	if err != nil {
		return Identity{}, incomplete("X-Amz-Date %q is not in the form %s", stamp, amzDateFormat)
	}
	if !strings.HasPrefix(stamp, date) {
		return Identity{}, incomplete("Credential should be scoped to the date of X-Amz-Date (%s), not %s", stamp[:8], date)
	}
	now := s.opts.Now().UTC()
	if t.Before(now.Add(-maxSkew)) {
		return Identity{}, &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)", stamp, now.Add(-maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	}
	if t.After(now.Add(maxSkew)) {
		return Identity{}, &Error{Type: "InvalidSignatureException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", stamp, now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	}
	names := strings.Split(signedHeaders, ";")
	if !contains(names, "host") {
		return Identity{}, incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	ident, secret, err := s.opts.Auth.Secret(r.Context(), akid)
	if errors.Is(err, ErrUnknownKey) {
		return Identity{}, errUnknownKey
	}
	if err != nil {
		return Identity{}, internalError(err)
	}
	want := signature4(secret, date, region, service, stringToSign(stamp, date+"/"+region+"/"+service+"/aws4_request", canonicalRequest(r, names, body)))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return Identity{}, errBadSig
	}
	return ident, nil
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
