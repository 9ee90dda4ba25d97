package awsapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/aws/smithy-go/transport/http/protocol/ec2query"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
	"github.com/aws/smithy-go/transport/http/protocol/restxml"
	"github.com/aws/smithy-go/transport/http/protocol/rpcv2"

	"github.com/capstan-run/capstan/internal/awsmodel"
	"github.com/capstan-run/capstan/internal/awsservice"
)

// service is one AWS service's runtime view: its model, the smithy schemas
// built from it on demand, and its protocol codec.
type service struct {
	info     awsservice.Service
	model    *awsmodel.Model
	protocol smithyhttp.ClientProtocol
	xml      bool // member locationNames are XML names, not JSON keys

	mu     sync.Mutex
	shapes map[string]*smithy.Schema      // shape name → schema
	extra  map[*smithy.Schema]*shapeExtra // per shape: what smithy's traits do not carry
	ops    map[string]*operation          // model operation name → operation

	// xmlCodec writes query and EC2 responses (see wire_query.go);
	// cborCodec reads and writes the RPC v2 CBOR that boto3 speaks to some
	// services capstan calls in JSON (see wire.go).
	xmlOnce   sync.Once
	xmlCodec  *restxml.Protocol
	cborOnce  sync.Once
	cborCodec smithyhttp.ClientProtocol
	svcSchema *smithy.ServiceSchema
}

// shapeExtra is what boto3 does client-side that no codec trait says.
type shapeExtra struct {
	name      string
	required  []string // members the model requires
	tokens    []string // idempotency token members, filled when absent
	streaming string   // the streaming payload member, if any
}

// operation is one callable operation with its schemas.
type operation struct {
	svc         *service
	name        string
	schema      *smithy.OperationSchema
	model       *awsmodel.Operation
	hostPrefix  string // "{AccountId}." with input member names
	eventStream bool
}

var services sync.Map // boto3 name → func() (*service, error)

// loadService returns the runtime view of a service, built once.
func loadService(info awsservice.Service) (*service, error) {
	f, ok := services.Load(info.Name)
	if !ok {
		f, _ = services.LoadOrStore(info.Name, sync.OnceValues(func() (*service, error) { return newService(info) }))
	}
	return f.(func() (*service, error))()
}

func newService(info awsservice.Service) (*service, error) {
	m, err := awsmodel.Load(info.Name)
	if err != nil {
		return nil, err
	}
	md := m.Metadata
	name := md.TargetPrefix
	if name == "" {
		name = strings.ReplaceAll(md.ServiceID, " ", "")
	}
	var ts []smithy.Trait
	if md.XMLNamespace != "" {
		ts = append(ts, &traits.XMLNamespace{URI: md.XMLNamespace})
	}
	if md.AWSQueryCompatible != nil {
		ts = append(ts, &traits.AWSQueryCompatible{})
	}
	ss := smithy.NewServiceSchema(smithy.NewSchema(smithy.ShapeID{Namespace: "com.amazonaws." + info.Name, Name: name}, smithy.ShapeTypeService, 0, ts...), md.APIVersion)
	s := &service{info: info, model: m, shapes: map[string]*smithy.Schema{}, extra: map[*smithy.Schema]*shapeExtra{}, ops: map[string]*operation{}, svcSchema: ss}
	switch md.Protocol {
	case "json":
		if md.JSONVersion == "1.0" {
			s.protocol = awsjson.New10(ss)
		} else {
			s.protocol = awsjson.New11(ss)
		}
	case "rest-json":
		s.protocol = restjson1.New(ss)
	case "rest-xml":
		s.protocol, s.xml = restxml.New(ss), true
	case "query":
		s.protocol, s.xml = awsquery.New(ss), true
	case "ec2":
		s.protocol, s.xml = ec2query.New(ss), true
	case "smithy-rpc-v2-cbor":
		s.protocol = rpcv2.NewCBOR(ss)
	default:
		return nil, fmt.Errorf("%s: protocol %q is %w", info.Name, md.Protocol, ErrUnsupported)
	}
	return s, nil
}

// operation returns the named operation's schemas, built once.
func (s *service) operation(name string) (*operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op, ok := s.ops[name]; ok {
		return op, nil
	}
	mo := s.model.Operation(name)
	if mo == nil {
		return nil, fmt.Errorf("%s: operation %q: %w", s.info.Name, name, ErrUnknownOperation)
	}
	ns := "com.amazonaws." + s.info.Name
	uri := mo.HTTP.RequestURI
	var in, out *smithy.Schema
	if mo.Input != nil {
		in = s.shape(mo.Input.Shape)
		// Labels in botocore's URIs use the members' locationNames;
		// smithy's use the member names.
		for mn, ref := range s.model.Shape(mo.Input.Shape).Members {
			if ref.Location == "uri" && ref.LocationName != "" && ref.LocationName != mn {
				uri = strings.NewReplacer("{"+ref.LocationName+"}", "{"+mn+"}", "{"+ref.LocationName+"+}", "{"+mn+"+}").Replace(uri)
			}
		}
	} else {
		in = smithy.NewSchema(smithy.ShapeID{Namespace: ns, Name: name + "Input"}, smithy.ShapeTypeStructure, 0, &traits.UnitShape{})
	}
	if mo.Output != nil {
		out = s.shape(mo.Output.Shape)
	} else {
		out = smithy.NewSchema(smithy.ShapeID{Namespace: ns, Name: name + "Output"}, smithy.ShapeTypeStructure, 0, &traits.UnitShape{})
	}
	code := mo.HTTP.ResponseCode
	if code == 0 {
		code = 200
	}
	method := mo.HTTP.Method
	if method == "" {
		method = "POST"
	}
	if uri == "" {
		uri = "/"
	}
	opSchema := smithy.NewSchema(smithy.ShapeID{Namespace: ns, Name: name}, smithy.ShapeTypeOperation, 0, &traits.HTTP{Method: method, URI: uri, Code: code})
	op := &operation{svc: s, name: name, model: mo, schema: smithy.NewOperationSchema(opSchema, in, out)}
	if mo.Input == nil {
		op.schema.Input = nil
	}
	if mo.Output == nil {
		op.schema.Output = nil
	}
	op.eventStream = op.schema.IsInputEventStream() || op.schema.IsOutputEventStream() || s.hasEventStream(mo.Input) || s.hasEventStream(mo.Output)
	if mo.Endpoint != nil && mo.Endpoint.HostPrefix != "" {
		op.hostPrefix = mo.Endpoint.HostPrefix
	}
	s.ops[name] = op
	return op, nil
}

func (s *service) hasEventStream(ref *awsmodel.Ref) bool {
	if ref == nil {
		return false
	}
	for _, m := range s.model.Shape(ref.Shape).Members {
		if t := s.model.Shape(m.Shape); t != nil && t.EventStream {
			return true
		}
	}
	return false
}

// shape returns the schema of a named shape, building it (and the shapes
// it refers to) on first use. s.mu is held.
func (s *service) shape(name string) *smithy.Schema {
	if sc, ok := s.shapes[name]; ok {
		return sc
	}
	sh := s.model.Shape(name)
	if sh == nil {
		// A dangling reference in a model: a string carries anything.
		sh = &awsmodel.Shape{Type: "string"}
	}
	var ts []smithy.Trait
	if f := timestampFormat(sh.TimestampFormat); f != "" {
		ts = append(ts, &traits.TimestampFormat{Format: f})
	}
	if sh.XMLNamespace != nil {
		ts = append(ts, &traits.XMLNamespace{URI: sh.XMLNamespace.URI, Prefix: sh.XMLNamespace.Prefix})
	}
	if sh.LocationName != "" && s.xml {
		ts = append(ts, &traits.XMLName{Name: sh.LocationName})
	}
	if sh.Flattened {
		ts = append(ts, &traits.XMLFlattened{})
	}
	if sh.Streaming {
		ts = append(ts, &traits.Streaming{})
	}
	if sh.Exception || sh.Error != nil {
		ts = append(ts, &traits.Error{})
	}
	typ := shapeType(sh)
	sc := smithy.NewSchema(smithy.ShapeID{Namespace: "com.amazonaws." + s.info.Name, Name: name}, typ, len(sh.Members), ts...)
	s.shapes[name] = sc // before the members: shapes may refer to themselves
	switch typ {
	case smithy.ShapeTypeStructure, smithy.ShapeTypeUnion:
		x := &shapeExtra{name: name, required: sh.Required}
		for _, mn := range slices.Sorted(maps.Keys(sh.Members)) {
			ref := sh.Members[mn]
			mts := s.memberTraits(ref)
			if sh.Payload == mn {
				mts = append(mts, &traits.HTTPPayload{})
			}
			target := s.shape(ref.Shape)
			sc.AddMember(mn, target, mts...)
			if ref.IdempotencyToken {
				x.tokens = append(x.tokens, mn)
			}
			if t := s.model.Shape(ref.Shape); t != nil && (t.Streaming || ref.Streaming) && t.Type == "blob" && sh.Payload == mn {
				x.streaming = mn
			}
		}
		s.extra[sc] = x
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		if sh.Member != nil {
			sc.AddMember("member", s.shape(sh.Member.Shape), s.memberTraits(sh.Member)...)
		}
	case smithy.ShapeTypeMap:
		if sh.Key != nil {
			sc.AddMember("key", s.shape(sh.Key.Shape), s.memberTraits(sh.Key)...)
		}
		if sh.Value != nil {
			sc.AddMember("value", s.shape(sh.Value.Shape), s.memberTraits(sh.Value)...)
		}
	}
	return sc
}

// memberTraits turns botocore's member attributes into smithy traits.
func (s *service) memberTraits(ref *awsmodel.Ref) []smithy.Trait {
	var ts []smithy.Trait
	switch ref.Location {
	case "header":
		ts = append(ts, &traits.HTTPHeader{Name: ref.LocationName})
	case "headers":
		ts = append(ts, &traits.HTTPPrefixHeaders{Prefix: ref.LocationName})
	case "querystring":
		if t := s.model.Shape(ref.Shape); t != nil && t.Type == "map" {
			ts = append(ts, &traits.HTTPQueryParams{})
		} else {
			ts = append(ts, &traits.HTTPQuery{Name: ref.LocationName})
		}
	case "uri":
		ts = append(ts, &traits.HTTPLabel{})
	case "statusCode":
		ts = append(ts, &traits.HTTPResponseCode{})
	case "":
		if ref.LocationName != "" {
			if s.xml {
				ts = append(ts, &traits.XMLName{Name: ref.LocationName})
			} else {
				ts = append(ts, &traits.JSONName{Name: ref.LocationName})
			}
		}
	}
	if ref.QueryName != "" {
		ts = append(ts, &traits.EC2QueryName{Name: ref.QueryName})
	}
	if ref.Flattened {
		ts = append(ts, &traits.XMLFlattened{})
	}
	if ref.XMLAttribute {
		ts = append(ts, &traits.XMLAttribute{})
	}
	if ref.XMLNamespace != nil {
		ts = append(ts, &traits.XMLNamespace{URI: ref.XMLNamespace.URI, Prefix: ref.XMLNamespace.Prefix})
	}
	if ref.Streaming {
		ts = append(ts, &traits.Streaming{})
	}
	if f := timestampFormat(ref.TimestampFormat); f != "" {
		ts = append(ts, &traits.TimestampFormat{Format: f})
	}
	if ref.HostLabel {
		ts = append(ts, &traits.HostLabel{})
	}
	if ref.JSONValue {
		ts = append(ts, &traits.MediaType{Type: "application/json"})
	}
	if ref.EventPayload {
		ts = append(ts, &traits.EventPayload{})
	}
	return ts
}

func shapeType(sh *awsmodel.Shape) smithy.ShapeType {
	switch sh.Type {
	case "structure":
		switch {
		case sh.Document:
			return smithy.ShapeTypeDocument
		case sh.Union:
			return smithy.ShapeTypeUnion
		}
		return smithy.ShapeTypeStructure
	case "list":
		return smithy.ShapeTypeList
	case "map":
		return smithy.ShapeTypeMap
	case "boolean":
		return smithy.ShapeTypeBoolean
	case "integer":
		return smithy.ShapeTypeInteger
	case "long":
		return smithy.ShapeTypeLong
	case "float":
		return smithy.ShapeTypeFloat
	case "double":
		return smithy.ShapeTypeDouble
	case "timestamp":
		return smithy.ShapeTypeTimestamp
	case "blob":
		return smithy.ShapeTypeBlob
	}
	return smithy.ShapeTypeString
}

// timestampFormat maps botocore's timestamp formats to smithy's.
func timestampFormat(f string) string {
	switch f {
	case "iso8601":
		return "date-time"
	case "unixTimestamp":
		return "epoch-seconds"
	case "rfc822":
		return "http-date"
	}
	return ""
}

// extraOf returns what boto3 knows about a structure beyond its traits:
// member schemas share their target's members, so the target's name finds
// it.
func (s *service) extraOf(sc *smithy.Schema) *shapeExtra {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.extra[sc]; ok {
		return x
	}
	name := sc.ID().Name
	if name == "" {
		name = sc.TargetID().Name
	}
	if t, ok := s.shapes[name]; ok {
		if x, ok := s.extra[t]; ok {
			s.extra[sc] = x
			return x
		}
	}
	x := &shapeExtra{name: name}
	s.extra[sc] = x
	return x
}
