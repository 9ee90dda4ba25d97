package awsapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// decodePolicy decodes an IAM policy document (the model's
// policyDocumentType: AssumeRolePolicyDocument, PolicyDocument, Document),
// which IAM returns URL-encoded; boto3 decodes them into objects, so
// runbook selectors reach inside.
func decodePolicy(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if u, err := url.QueryUnescape(s); err == nil {
		s = u
	}
	var doc any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return v
	}
	return doc
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		return int64(n), n == math.Trunc(n) && math.Abs(n) < 1<<63
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	if i, ok := toInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("unparsable time %q", x)
	}
	if f, ok := toFloat(v); ok {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not a time")
}

func plural(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "an "), "a ")
	if i := strings.Index(s, " "); i > 0 {
		return s[:i] + "s" + s[i:]
	}
	return s + "s"
}

// describeValue names a runbook value's kind, with a short excerpt.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case int, int32, int64, uint64, float64, json.Number:
		return fmt.Sprintf("number %v", x)
	case map[string]any:
		return "a map"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}
