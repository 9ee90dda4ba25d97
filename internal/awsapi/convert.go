package awsapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/document"

	"github.com/capstan-run/capstan/internal/suggest"
)

// field is one exported member of an SDK struct, under its model name.
type field struct {
	index int
	model string
}

// shape is the cached view of one SDK struct type.
type shape struct {
	fields  []field
	byModel map[string]int // model name → position in fields
}

var shapes sync.Map // reflect.Type → *shape

var (
	timeType    = reflect.TypeFor[time.Time]()
	bytesType   = reflect.TypeFor[[]byte]()
	readerType  = reflect.TypeFor[io.Reader]()
	docType     = reflect.TypeFor[document.Marshaler]()
	unmarshaler = reflect.TypeFor[document.Unmarshaler]()
	// unionByType maps a union member type to its model member name.
	unionByType = func() map[reflect.Type]string {
		m := map[reflect.Type]string{}
		for _, members := range unionMembers {
			for name, t := range members {
				m[t] = name
			}
		}
		return m
	}()
)

// shapeOf returns the model view of an SDK struct type of a service.
func shapeOf(service string, t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s := &shape{byModel: map[string]int{}}
	svc := fieldNames[service]
	override := typeFieldNames[service][t.Name()]
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		name := f.Name
		if m, ok := override[name]; ok {
			name = m
		} else if m, ok := svc[name]; ok {
			name = m
		}
		s.byModel[name] = len(s.fields)
		s.fields = append(s.fields, field{index: i, model: name})
	}
	actual, _ := shapes.LoadOrStore(t, s)
	return actual.(*shape)
}

// decoder fills SDK input structs from runbook values.
type decoder struct {
	service, operation string
	// lenient skips values that are still templates ("{{ x }}"), for
	// checking a document before it runs.
	lenient bool
}

func (d *decoder) fail(path, format string, args ...any) error {
	return &InputError{Service: d.service, Operation: d.operation, Path: path, Problem: fmt.Sprintf(format, args...)}
}

// decode converts v to a value of type t; path names v in messages.
func (d *decoder) decode(path string, v any, t reflect.Type) (reflect.Value, error) {
	if v == nil {
		return reflect.Zero(t), nil
	}
	if s, ok := v.(string); ok && d.lenient && strings.Contains(s, "{{") {
		return reflect.Zero(t), nil
	}
	if t.Kind() == reflect.Pointer {
		ev, err := d.decode(path, v, t.Elem())
		if err != nil {
			return reflect.Value{}, err
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(ev)
		return p, nil
	}
	out := reflect.New(t).Elem()
	switch {
	case t == timeType:
		tm, err := parseTime(v)
		if err != nil {
			return reflect.Value{}, d.fail(path, "expected a timestamp (RFC 3339 or epoch seconds), got %s", describeValue(v))
		}
		out.Set(reflect.ValueOf(tm))
		return out, nil
	case t == bytesType:
		// boto3 sends a string given for a blob as its bytes, unencoded.
		switch b := v.(type) {
		case string:
			out.SetBytes([]byte(b))
		case []byte:
			out.SetBytes(b)
		default:
			return reflect.Value{}, d.fail(path, "expected a string (blob), got %s", describeValue(v))
		}
		return out, nil
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return reflect.Value{}, d.fail(path, "expected a string, got %s", describeValue(v))
		}
		out.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return reflect.Value{}, d.fail(path, "expected a boolean, got %s", describeValue(v))
		}
		out.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := toInt(v)
		if !ok || out.OverflowInt(n) {
			return reflect.Value{}, d.fail(path, "expected an integer, got %s", describeValue(v))
		}
		out.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, ok := toFloat(v)
		if !ok {
			return reflect.Value{}, d.fail(path, "expected a number, got %s", describeValue(v))
		}
		out.SetFloat(f)
	case reflect.Slice:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice {
			return reflect.Value{}, d.fail(path, "expected %s, got %s", describeType(t), describeValue(v))
		}
		out = reflect.MakeSlice(t, rv.Len(), rv.Len())
		for i := range rv.Len() {
			ev, err := d.decode(fmt.Sprintf("%s[%d]", path, i), rv.Index(i).Interface(), t.Elem())
			if err != nil {
				return reflect.Value{}, err
			}
			out.Index(i).Set(ev)
		}
	case reflect.Map:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			return reflect.Value{}, d.fail(path, "expected %s, got %s", describeType(t), describeValue(v))
		}
		out = reflect.MakeMapWithSize(t, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			ev, err := d.decode(join(path, k), iter.Value().Interface(), t.Elem())
			if err != nil {
				return reflect.Value{}, err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return reflect.Value{}, d.fail(path, "expected a map (structure), got %s", describeValue(v))
		}
		if err := d.decodeStruct(path, m, out); err != nil {
			return reflect.Value{}, err
		}
	case reflect.Interface:
		return d.decodeUnion(path, v, t)
	default:
		return reflect.Value{}, d.fail(path, "fields of Go kind %s are not supported", t.Kind())
	}
	return out, nil
}

// decodeStruct fills the struct value out from m, by model member name.
func (d *decoder) decodeStruct(path string, m map[string]any, out reflect.Value) error {
	s := shapeOf(d.service, out.Type())
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the first problem deterministically
	for _, k := range keys {
		i, ok := s.byModel[k]
		if !ok {
			return d.fail(path, "unknown field %q%s", k, suggestMember(k, s))
		}
		f := out.Type().Field(s.fields[i].index)
		fv, err := d.decode(join(path, k), m[k], f.Type)
		if err != nil {
			return err
		}
		out.Field(s.fields[i].index).Set(fv)
	}
	return nil
}

// decodeUnion fills a union (a Go interface): the value is a map with
// exactly one member, as boto3 takes it.
func (d *decoder) decodeUnion(path string, v any, t reflect.Type) (reflect.Value, error) {
	members, ok := unionMembers[t]
	if !ok {
		if t.Implements(docType) || docType.Implements(t) {
			return reflect.Value{}, d.fail(path, "document-typed fields are not supported yet")
		}
		return reflect.Value{}, d.fail(path, "no member registry for union %s", t)
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		names := make([]string, 0, len(members))
		for n := range members {
			names = append(names, n)
		}
		sort.Strings(names)
		return reflect.Value{}, d.fail(path, "expected a map with exactly one of %s, got %s", strings.Join(names, ", "), describeValue(v))
	}
	for k, mv := range m {
		mt, ok := members[k]
		if !ok {
			return reflect.Value{}, d.fail(path, "unknown union member %q", k)
		}
		member := reflect.New(mt) // union members are pointer receivers
		vf, ok := mt.FieldByName("Value")
		if !ok {
			return reflect.Value{}, d.fail(path, "union member %s has no Value", mt)
		}
		fv, err := d.decode(join(path, k), mv, vf.Type)
		if err != nil {
			return reflect.Value{}, err
		}
		member.Elem().FieldByIndex(vf.Index).Set(fv)
		if !member.Type().Implements(t) {
			return reflect.Value{}, d.fail(path, "union member %s does not implement %s", mt, t)
		}
		out := reflect.New(t).Elem()
		out.Set(member)
		return out, nil
	}
	panic("unreachable")
}

// encode converts an SDK value to runbook data with model member names. It
// reports false for values boto3 would leave out (nil pointers).
func encode(service string, v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		if v.Kind() == reflect.Interface {
			return encodeInterface(service, v.Elem())
		}
		return encode(service, v.Elem())
	}
	t := v.Type()
	switch {
	case t == timeType:
		return v.Interface().(time.Time).UTC().Format(time.RFC3339), true
	case t == bytesType:
		if v.IsNil() {
			return nil, false
		}
		return base64.StdEncoding.EncodeToString(v.Bytes()), true
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		out := make([]any, 0, v.Len())
		for i := range v.Len() {
			e, ok := encode(service, v.Index(i))
			if !ok {
				e = nil
			}
			out = append(out, e)
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			if e, ok := encode(service, iter.Value()); ok {
				out[iter.Key().String()] = e
			}
		}
		return out, true
	case reflect.Struct:
		return encodeStruct(service, v), true
	}
	return nil, false
}

func encodeStruct(service string, v reflect.Value) map[string]any {
	s := shapeOf(service, v.Type())
	out := make(map[string]any, len(s.fields))
	for _, f := range s.fields {
		if e, ok := encode(service, v.Field(f.index)); ok {
			if service == "iam" && policyFields[f.model] {
				e = decodePolicy(e)
			}
			out[f.model] = e
		}
	}
	return out
}

// policyFields are the IAM members that carry URL-encoded policy JSON;
// boto3 decodes them into objects, so runbook selectors reach inside.
var policyFields = map[string]bool{"AssumeRolePolicyDocument": true, "PolicyDocument": true}

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

// encodeInterface handles the two kinds of Go interface in SDK outputs:
// unions, shown as {member: value} as boto3 shows them, and documents.
func encodeInterface(service string, v reflect.Value) (any, bool) {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := unionByType[t]; ok {
		inner, ok := encode(service, reflect.Indirect(v).FieldByName("Value"))
		if !ok {
			inner = nil
		}
		return map[string]any{name: inner}, true
	}
	if v.Type().Implements(unmarshaler) {
		var out any
		if err := v.Interface().(document.Unmarshaler).UnmarshalSmithyDocument(&out); err == nil {
			return out, true
		}
	}
	// An unknown union member (a newer API than this SDK) keeps its tag.
	if tag := reflect.Indirect(v).FieldByName("Tag"); tag.IsValid() && tag.Kind() == reflect.String {
		val, _ := encode(service, reflect.Indirect(v).FieldByName("Value"))
		return map[string]any{tag.String(): val}, true
	}
	return encode(service, v)
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

// describeType names a Go input type the way a runbook author thinks of it.
func describeType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "a timestamp"
	case t == bytesType:
		return "a string (blob)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of " + plural(describeType(t.Elem()))
	case reflect.Map:
		return "a map of " + plural(describeType(t.Elem()))
	case reflect.Struct, reflect.Interface:
		return "a map (structure)"
	}
	return t.String()
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

// suggestMember offers the closest member name, so a typo reads as one.
func suggestMember(name string, s *shape) string {
	members := make([]string, 0, len(s.byModel))
	for m := range s.byModel {
		members = append(members, m)
	}
	if m, ok := suggest.Closest(name, members); ok {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

// streaming reports whether a struct type carries a stream (S3 GetObject's
// Body, event streams), which aws:executeAwsApi cannot express.
func streaming(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := reflect.PointerTo(t).MethodByName("GetStream"); ok {
		return true
	}
	for i := range t.NumField() {
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Interface && (ft == readerType || ft.Implements(readerType)) {
			return true
		}
	}
	return false
}
