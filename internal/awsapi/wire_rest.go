package awsapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"

	"github.com/capstan-run/capstan/internal/awsmodel"
)

// routeREST finds the operations whose method and URI template (botocore's
// requestUri, labels by locationName) a REST request fits, and whose
// required query and header members it carries. Where several fit (S3's
// GET /{Bucket}/{Key+} is GetObject, and ListParts with ?uploadId), the one
// naming more literal query keys, then binding more of what the request
// carries, then more literal path segments, wins; those that tie are all
// returned (S3's GetBucketLifecycle and GetBucketLifecycleConfiguration
// are one request).
func (s *service) routeREST(r *http.Request) ([]route, error) {
	path := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	query := r.URL.Query()
	var best []route
	bestScore := -1
	for _, name := range s.info.Operations {
		mo := s.model.Operation(name)
		if mo == nil || mo.HTTP.Method != r.Method {
			continue
		}
		labels, score, ok := matchURI(mo.HTTP.RequestURI, path, query)
		if !ok {
			continue
		}
		bound, ok := s.carries(mo, r.Header, query)
		if !ok {
			continue
		}
		score += 10 * bound
		switch {
		case score > bestScore:
			best, bestScore = []route{{op: name, labels: labels}}, score
		case score == bestScore:
			best = append(best, route{op: name, labels: labels})
		}
	}
	if len(best) == 0 {
		return nil, fmt.Errorf("no %s operation is %s %s", s.info.Name, r.Method, r.URL.Path)
	}
	return best, nil
}

// carries reports whether a request has every required member the
// operation binds to a query key or header, and scores those it has of all
// it binds there, a required one above an optional one (UploadPartCopy's
// required x-amz-copy-source makes it, not UploadPart, the call that sends
// it).
func (s *service) carries(mo *awsmodel.Operation, h http.Header, query url.Values) (int, bool) {
	if mo.Input == nil {
		return 0, true
	}
	in := s.model.Shape(mo.Input.Shape)
	if in == nil {
		return 0, true
	}
	present := func(ref *awsmodel.Ref) bool {
		switch ref.Location {
		case "querystring":
			return query.Has(ref.LocationName)
		case "header":
			return h.Get(ref.LocationName) != ""
		}
		return false
	}
	n := 0
	for _, req := range in.Required {
		ref := in.Members[req]
		if ref == nil || (ref.Location != "querystring" && ref.Location != "header") {
			continue
		}
		if !present(ref) {
			return 0, false
		}
		n++
	}
	for _, ref := range in.Members {
		if present(ref) {
			n++
		}
	}
	return n, true
}

// matchURI matches a request path (split, still escaped) and query against
// a URI template.
func matchURI(template string, path []string, query url.Values) (map[string]string, int, bool) {
	tpath, tquery, _ := strings.Cut(template, "?")
	tsegs := strings.Split(strings.TrimPrefix(tpath, "/"), "/")
	labels := map[string]string{}
	score := 0
	// A trailing slash in the request is as good as none.
	if len(path) > 1 && path[len(path)-1] == "" && len(tsegs) < len(path) {
		path = path[:len(path)-1]
	}
	for i, t := range tsegs {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(path) {
				return nil, 0, false
			}
			v, err := url.PathUnescape(strings.Join(path[i:], "/"))
			if err != nil || v == "" {
				return nil, 0, false
			}
			labels[strings.TrimSuffix(t[1:], "+}")] = v
			path = path[:i+1]
			tsegs = tsegs[:i+1]
			break
		}
		if i >= len(path) {
			return nil, 0, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			v, err := url.PathUnescape(path[i])
			if err != nil || v == "" {
				return nil, 0, false
			}
			labels[t[1:len(t)-1]] = v
			continue
		}
		if t != path[i] {
			return nil, 0, false
		}
		score++
	}
	if len(path) != len(tsegs) {
		return nil, 0, false
	}
	if tquery != "" {
		for _, kv := range strings.Split(tquery, "&") {
			k, v, hasV := strings.Cut(kv, "=")
			if !query.Has(k) || (hasV && query.Get(k) != v) {
				return nil, 0, false
			}
			score += 100
		}
	}
	return labels, score, true
}

// readURI adds the members a REST request carries in its URI: labels and
// query-string members, converted to their types.
func (op *operation) readURI(query url.Values, labels map[string]string, m map[string]any) error {
	in := op.svc.model.Shape(op.model.Input.Shape)
	if in == nil {
		return nil
	}
	bound := map[string]bool{}
	var params *smithy.Schema // a map bound to the whole query string
	for name, ref := range in.Members {
		ms := op.schema.Input.Member(name)
		if ms == nil {
			continue
		}
		loc := ref.LocationName
		if loc == "" {
			loc = name
		}
		switch ref.Location {
		case "uri":
			if v, ok := labels[loc]; ok {
				x, err := scalar(ms, v)
				if err != nil {
					return fmt.Errorf("label %s: %w", loc, err)
				}
				m[name] = x
			}
		case "querystring":
			if _, ok := smithy.SchemaTrait[*traits.HTTPQueryParams](ms); ok {
				params = ms
				continue
			}
			bound[loc] = true
			vs, ok := query[loc]
			if !ok {
				continue
			}
			if t := ms.Type(); t == smithy.ShapeTypeList || t == smithy.ShapeTypeSet {
				l := make([]any, 0, len(vs))
				for _, v := range vs {
					x, err := scalar(ms.ListMember(), v)
					if err != nil {
						return fmt.Errorf("query %s: %w", loc, err)
					}
					l = append(l, x)
				}
				m[name] = l
				continue
			}
			x, err := scalar(ms, vs[0])
			if err != nil {
				return fmt.Errorf("query %s: %w", loc, err)
			}
			m[name] = x
		}
	}
	if params != nil {
		rest := map[string]any{}
		for k, vs := range query {
			if !bound[k] && len(vs) > 0 {
				rest[k] = vs[0]
			}
		}
		if len(rest) > 0 {
			m[params.MemberName()] = rest
		}
	}
	return nil
}

// scalar converts a label, query or form value to its member's type.
func scalar(sc *smithy.Schema, s string) (any, error) {
	switch sc.Type() {
	case smithy.ShapeTypeBoolean:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("expected a boolean, got %q", s)
		}
		return b, nil
	case smithy.ShapeTypeInteger, smithy.ShapeTypeLong, smithy.ShapeTypeShort, smithy.ShapeTypeByte, smithy.ShapeTypeIntEnum:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("expected an integer, got %q", s)
		}
		return n, nil
	case smithy.ShapeTypeFloat, smithy.ShapeTypeDouble, smithy.ShapeTypeBigDecimal:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("expected a number, got %q", s)
		}
		return f, nil
	}
	return s, nil
}
