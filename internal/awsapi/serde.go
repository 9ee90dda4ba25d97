package awsapi

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/document"

	"github.com/capstan-run/capstan/internal/suggest"
)

// structVal is a structure input checked against its schema, members in
// name order.
type structVal struct {
	members []memberVal
}

type memberVal struct {
	schema *smithy.Schema
	value  any // normalized: *structVal, unionVal, []any, map[string]any, scalars
}

type unionVal struct {
	variant *smithy.Schema
	value   any
}

// decoder checks runbook input against an operation's schema and
// normalizes it for the codecs.
type decoder struct {
	svc                *service
	service, operation string
	// lenient skips values that are still templates ("{{ x }}") and does
	// not require members, for checking a document before it runs.
	lenient bool
	// response checks a response an endpoint answers with: nothing is
	// required and no token is filled in.
	response bool
	// stream receives the streaming payload member's bytes.
	stream    []byte
	hasStream bool
}

func (d *decoder) fail(path, format string, args ...any) error {
	return &InputError{Service: d.service, Operation: d.operation, Path: path, Problem: fmt.Sprintf(format, args...)}
}

func (d *decoder) unknown(path, name, format string, args ...any) error {
	return &InputError{Service: d.service, Operation: d.operation, Path: path, Problem: fmt.Sprintf(format, args...), Unknown: name}
}

// skip marks a value the lenient check leaves for run time.
type skip struct{}

// value checks v against sc and returns it normalized; path names v in
// messages.
func (d *decoder) value(path string, sc *smithy.Schema, v any) (any, error) {
	if s, ok := v.(string); ok && d.lenient && strings.Contains(s, "{{") {
		return skip{}, nil
	}
	switch sc.Type() {
	case smithy.ShapeTypeStructure:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, d.fail(path, "expected a map (structure), got %s", describeValue(v))
		}
		return d.structure(path, sc, m, false)
	case smithy.ShapeTypeUnion:
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return nil, d.fail(path, "expected a map with exactly one of %s, got %s", strings.Join(slices.Sorted(maps.Keys(sc.Members())), ", "), describeValue(v))
		}
		for k, mv := range m {
			ms := sc.Member(k)
			if ms == nil {
				return nil, d.unknown(path, k, "unknown union member %q%s", k, suggestName(k, sc))
			}
			nv, err := d.value(join(path, k), ms, mv)
			if err != nil {
				return nil, err
			}
			return unionVal{variant: ms, value: nv}, nil
		}
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		rv := reflect.ValueOf(v)
		if v == nil || rv.Kind() != reflect.Slice {
			return nil, d.fail(path, "expected %s, got %s", describeSchema(sc), describeValue(v))
		}
		out := make([]any, 0, rv.Len())
		for i := range rv.Len() {
			ev, err := d.value(fmt.Sprintf("%s[%d]", path, i), sc.ListMember(), rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case smithy.ShapeTypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, d.fail(path, "expected %s, got %s", describeSchema(sc), describeValue(v))
		}
		out := make(map[string]any, len(m))
		for k, mv := range m {
			ev, err := d.value(join(path, k), sc.MapValue(), mv)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	case smithy.ShapeTypeString, smithy.ShapeTypeEnum:
		s, ok := v.(string)
		if !ok {
			return nil, d.fail(path, "expected a string, got %s", describeValue(v))
		}
		return s, nil
	case smithy.ShapeTypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, d.fail(path, "expected a boolean, got %s", describeValue(v))
		}
		return b, nil
	case smithy.ShapeTypeInteger, smithy.ShapeTypeLong, smithy.ShapeTypeShort, smithy.ShapeTypeByte, smithy.ShapeTypeIntEnum:
		n, ok := toInt(v)
		if !ok || (sc.Type() != smithy.ShapeTypeLong && (n > 1<<31-1 || n < -1<<31)) {
			return nil, d.fail(path, "expected an integer, got %s", describeValue(v))
		}
		return n, nil
	case smithy.ShapeTypeFloat, smithy.ShapeTypeDouble, smithy.ShapeTypeBigDecimal:
		f, ok := toFloat(v)
		if !ok {
			return nil, d.fail(path, "expected a number, got %s", describeValue(v))
		}
		return f, nil
	case smithy.ShapeTypeTimestamp:
		t, err := parseTime(v)
		if err != nil {
			return nil, d.fail(path, "expected a timestamp (RFC 3339 or epoch seconds), got %s", describeValue(v))
		}
		return t, nil
	case smithy.ShapeTypeBlob:
		// boto3 sends a string given for a blob as its bytes, unencoded.
		switch b := v.(type) {
		case string:
			return []byte(b), nil
		case []byte:
			return b, nil
		}
		return nil, d.fail(path, "expected a string (blob), got %s", describeValue(v))
	case smithy.ShapeTypeDocument:
		return toDocument(v), nil
	}
	return nil, d.fail(path, "members of type %v are not supported", sc.Type())
}

// structure checks a structure's members; top is the operation's input.
func (d *decoder) structure(path string, sc *smithy.Schema, m map[string]any, top bool) (*structVal, error) {
	x := d.svc.extraOf(sc)
	out := &structVal{}
	for _, k := range slices.Sorted(maps.Keys(m)) { // the first problem, deterministically
		ms := sc.Member(k)
		if ms == nil {
			return nil, d.unknown(path, k, "unknown field %q%s", k, suggestName(k, sc))
		}
		if m[k] == nil {
			continue
		}
		v, err := d.value(join(path, k), ms, m[k])
		if err != nil {
			return nil, err
		}
		if _, ok := v.(skip); ok {
			continue
		}
		if top && k == x.streaming {
			d.stream, d.hasStream = v.([]byte), true
			continue
		}
		out.members = append(out.members, memberVal{schema: ms, value: v})
	}
	if d.lenient || d.response {
		return out, nil
	}
	for _, r := range x.required {
		if _, ok := m[r]; !ok {
			return nil, d.fail(path, "missing required field %q", r)
		}
	}
	for _, tok := range x.tokens {
		if _, ok := m[tok]; !ok {
			out.members = append(out.members, memberVal{schema: sc.Member(tok), value: uuid()})
		}
	}
	return out, nil
}

// uuid returns a random (version 4) UUID, which is how boto3 fills an
// idempotency token the caller left out.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// input is an operation's checked input, serialized by the codec.
type input struct {
	schema    *smithy.Schema
	root      *structVal
	stream    []byte
	hasStream bool
}

func (in *input) Serialize(s smithy.ShapeSerializer) {
	write(s, in.schema, in.root)
}

// GetPayloadStream gives a streaming payload (S3 PutObject's Body) to the
// REST codecs; nil when the operation has none or the input left it out.
func (in *input) GetPayloadStream() io.Reader {
	if !in.hasStream {
		return nil
	}
	return bytes.NewReader(in.stream)
}

func write(s smithy.ShapeSerializer, sc *smithy.Schema, v any) {
	switch x := v.(type) {
	case *structVal:
		s.WriteStruct(sc)
		for _, m := range x.members {
			write(s, m.schema, m.value)
		}
		s.CloseStruct()
	case unionVal:
		s.WriteUnion(sc, x.variant)
		write(s, x.variant, x.value)
		s.CloseUnion()
	case []any:
		s.WriteList(sc)
		for _, e := range x {
			write(s, sc.ListMember(), e)
		}
		s.CloseList()
	case map[string]any:
		s.WriteMap(sc)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			s.WriteKey(sc.MapKey(), k)
			write(s, sc.MapValue(), x[k])
		}
		s.CloseMap()
	case string:
		s.WriteString(sc, x)
	case bool:
		s.WriteBool(sc, x)
	case int64:
		switch sc.Type() {
		case smithy.ShapeTypeLong:
			s.WriteInt64(sc, x)
		case smithy.ShapeTypeShort:
			s.WriteInt16(sc, int16(x))
		case smithy.ShapeTypeByte:
			s.WriteInt8(sc, int8(x))
		default:
			s.WriteInt32(sc, int32(x))
		}
	case float64:
		if sc.Type() == smithy.ShapeTypeFloat {
			s.WriteFloat32(sc, float32(x))
		} else {
			s.WriteFloat64(sc, x)
		}
	case time.Time:
		s.WriteTime(sc, x)
	case []byte:
		s.WriteBlob(sc, x)
	case document.Value:
		s.WriteDocument(sc, x)
	}
}

// output collects a response by model member names. Members the response
// leaves out stay absent, as boto3 shows them.
type output struct {
	svc    *service
	schema *smithy.Schema
	m      map[string]any
}

func (o *output) Deserialize(d smithy.ShapeDeserializer) error {
	o.m = map[string]any{}
	return smithy.ReadStruct(d, o.schema, func(ms *smithy.Schema) error {
		return o.svc.readMember(d, ms, o.m)
	})
}

// streamingOutput is an output with a streaming payload (S3 GetObject's
// Body): the codec hands over the body, read whole into the member.
type streamingOutput struct {
	output
	member string
	body   io.ReadCloser
}

func (o *streamingOutput) SetPayloadStream(rc io.ReadCloser) { o.body = rc }

// readMember reads one member into m; a null stays absent.
func (s *service) readMember(d smithy.ShapeDeserializer, ms *smithy.Schema, m map[string]any) error {
	if isNil, err := d.ReadNil(ms); err != nil || isNil {
		return err
	}
	v, err := s.read(d, ms)
	if err != nil {
		return err
	}
	if s.info.Name == "iam" && ms.TargetID().Name == "policyDocumentType" {
		v = decodePolicy(v)
	}
	m[ms.MemberName()] = v
	return nil
}

// read reads one value of schema sc as runbook data: structures as maps by
// member name, unions as a map of their one member, timestamps RFC 3339,
// blobs base64.
func (s *service) read(d smithy.ShapeDeserializer, sc *smithy.Schema) (any, error) {
	switch sc.Type() {
	case smithy.ShapeTypeStructure:
		m := map[string]any{}
		err := smithy.ReadStruct(d, sc, func(ms *smithy.Schema) error { return s.readMember(d, ms, m) })
		return m, err
	case smithy.ShapeTypeUnion:
		m := map[string]any{}
		err := smithy.ReadUnion(d, sc, func(ms *smithy.Schema) error { return s.readMember(d, ms, m) })
		return m, err
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		out := []any{}
		lm := sc.ListMember()
		err := smithy.ReadList(d, sc, func() error {
			if isNil, err := d.ReadNil(lm); err != nil || isNil {
				out = append(out, nil)
				return err
			}
			v, err := s.read(d, lm)
			out = append(out, v)
			return err
		})
		return out, err
	case smithy.ShapeTypeMap:
		out := map[string]any{}
		mv := sc.MapValue()
		err := smithy.ReadMap(d, sc, func(k string) error {
			if isNil, err := d.ReadNil(mv); err != nil || isNil {
				out[k] = nil
				return err
			}
			v, err := s.read(d, mv)
			out[k] = v
			return err
		})
		return out, err
	case smithy.ShapeTypeBoolean:
		var v bool
		err := d.ReadBool(sc, &v)
		return v, err
	case smithy.ShapeTypeInteger, smithy.ShapeTypeIntEnum:
		var v int32
		err := d.ReadInt32(sc, &v)
		return int64(v), err
	case smithy.ShapeTypeLong:
		var v int64
		err := d.ReadInt64(sc, &v)
		return v, err
	case smithy.ShapeTypeShort:
		var v int16
		err := d.ReadInt16(sc, &v)
		return int64(v), err
	case smithy.ShapeTypeByte:
		var v int8
		err := d.ReadInt8(sc, &v)
		return int64(v), err
	case smithy.ShapeTypeFloat:
		var v float32
		err := d.ReadFloat32(sc, &v)
		return float64(v), err
	case smithy.ShapeTypeDouble, smithy.ShapeTypeBigDecimal:
		var v float64
		err := d.ReadFloat64(sc, &v)
		return v, err
	case smithy.ShapeTypeTimestamp:
		var v time.Time
		err := d.ReadTime(sc, &v)
		return v.UTC().Format(time.RFC3339), err
	case smithy.ShapeTypeBlob:
		var v []byte
		err := d.ReadBlob(sc, &v)
		return base64.StdEncoding.EncodeToString(v), err
	case smithy.ShapeTypeDocument:
		var v document.Value
		err := d.ReadDocument(sc, &v)
		return fromDocument(v), err
	}
	var v string
	err := d.ReadString(sc, &v)
	return v, err
}

// payloadValue shows a streaming payload as boto3's body.read().decode()
// would: the text when it is UTF-8, else base64 like any other blob.
func payloadValue(b []byte) any {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func toDocument(v any) document.Value {
	switch x := v.(type) {
	case nil:
		return document.Null{}
	case bool:
		return document.Boolean(x)
	case string:
		return document.String(x)
	case map[string]any:
		m := document.Map{}
		for k, e := range x {
			m[k] = toDocument(e)
		}
		return m
	case []any:
		l := make(document.List, len(x))
		for i, e := range x {
			l[i] = toDocument(e)
		}
		return l
	}
	if f, ok := toFloat(v); ok {
		return document.Number(fmt.Sprint(f))
	}
	return document.String(fmt.Sprint(v))
}

func fromDocument(v document.Value) any {
	switch x := v.(type) {
	case document.Boolean:
		return bool(x)
	case document.String:
		return string(x)
	case document.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case document.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = fromDocument(e)
		}
		return m
	case document.List:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = fromDocument(e)
		}
		return l
	}
	return nil
}

// describeSchema names an input type the way a runbook author thinks of it.
func describeSchema(sc *smithy.Schema) string {
	switch sc.Type() {
	case smithy.ShapeTypeTimestamp:
		return "a timestamp"
	case smithy.ShapeTypeBlob:
		return "a string (blob)"
	case smithy.ShapeTypeString, smithy.ShapeTypeEnum:
		return "a string"
	case smithy.ShapeTypeBoolean:
		return "a boolean"
	case smithy.ShapeTypeInteger, smithy.ShapeTypeLong, smithy.ShapeTypeShort, smithy.ShapeTypeByte:
		return "an integer"
	case smithy.ShapeTypeFloat, smithy.ShapeTypeDouble:
		return "a number"
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		return "a list of " + plural(describeSchema(sc.ListMember()))
	case smithy.ShapeTypeMap:
		return "a map of " + plural(describeSchema(sc.MapValue()))
	}
	return "a map (structure)"
}

// suggestName offers the closest member name, so a typo reads as one.
func suggestName(name string, sc *smithy.Schema) string {
	if m, ok := suggest.Closest(name, slices.Sorted(maps.Keys(sc.Members()))); ok {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}
