// Package awsmodel holds the AWS service models capstan calls services
// from: botocore's models (what boto3, the aws CLI and so SSM's
// aws:executeAwsApi read), reduced by ./gen to what calling needs and
// embedded gzipped, one file per service, each parsed on first use.
package awsmodel

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
)

//go:embed data/*.gz
var data embed.FS

// Model is one service's model in botocore's form. Operations and shapes
// are decoded when first asked for: a call needs a few of EC2's 4,000
// shapes, and decoding them all would cost more than the call.
type Model struct {
	Metadata Metadata

	mu         sync.Mutex
	operations map[string][]byte // name → JSON
	shapes     map[string][]byte
	ops        map[string]*Operation
	decoded    map[string]*Shape
}

// Operation returns the named operation, or nil.
func (m *Model) Operation(name string) *Operation {
	m.mu.Lock()
	defer m.mu.Unlock()
	if op, ok := m.ops[name]; ok {
		return op
	}
	raw, ok := m.operations[name]
	if !ok {
		return nil
	}
	op := &Operation{}
	if err := json.Unmarshal(raw, op); err != nil {
		// The data is generated and embedded: a failure is a broken build.
		panic(fmt.Sprintf("awsmodel: operation %s is corrupt (rebuild capstan): %v", name, err))
	}
	m.ops[name] = op
	return op
}

// Shape returns the named shape, or nil.
func (m *Model) Shape(name string) *Shape {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sh, ok := m.decoded[name]; ok {
		return sh
	}
	raw, ok := m.shapes[name]
	if !ok {
		return nil
	}
	sh := &Shape{}
	if err := json.Unmarshal(raw, sh); err != nil {
		panic(fmt.Sprintf("awsmodel: shape %s is corrupt (rebuild capstan): %v", name, err))
	}
	m.decoded[name] = sh
	return sh
}

// Metadata describes the service as a whole.
type Metadata struct {
	APIVersion         string    `json:"apiVersion"`
	EndpointPrefix     string    `json:"endpointPrefix"`
	GlobalEndpoint     string    `json:"globalEndpoint"`
	JSONVersion        string    `json:"jsonVersion"`
	Protocol           string    `json:"protocol"` // the one capstan speaks
	ServiceID          string    `json:"serviceId"`
	SignatureVersion   string    `json:"signatureVersion"`
	SigningName        string    `json:"signingName"`
	TargetPrefix       string    `json:"targetPrefix"`
	XMLNamespace       string    `json:"xmlNamespace"`
	AWSQueryCompatible *struct{} `json:"awsQueryCompatible"`
}

// Operation is one API of the service.
type Operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input    *Ref `json:"input"`
	Output   *Ref `json:"output"`
	Endpoint *struct {
		HostPrefix string `json:"hostPrefix"`
	} `json:"endpoint"`
	Idempotent           bool   `json:"idempotent"`
	Readonly             bool   `json:"readonly"`
	AuthType             string `json:"authtype"`
	HTTPChecksumRequired bool   `json:"httpChecksumRequired"`
	HTTPChecksum         *struct {
		RequestChecksumRequired bool `json:"requestChecksumRequired"`
	} `json:"httpChecksum"`
	UnsignedPayload bool `json:"unsignedPayload"`
}

// ChecksumRequired reports whether the service refuses requests without a
// body checksum (S3's DeleteObjects, PutBucketLifecycleConfiguration, …).
func (o *Operation) ChecksumRequired() bool {
	return o.HTTPChecksumRequired || (o.HTTPChecksum != nil && o.HTTPChecksum.RequestChecksumRequired)
}

// Ref points at a shape, with the attributes of the place it is used in
// (a member of a structure, the member of a list, an operation's input).
type Ref struct {
	Shape            string        `json:"shape"`
	Location         string        `json:"location"` // header, headers, querystring, uri, statusCode
	LocationName     string        `json:"locationName"`
	QueryName        string        `json:"queryName"`
	Flattened        bool          `json:"flattened"`
	XMLAttribute     bool          `json:"xmlAttribute"`
	XMLNamespace     *XMLNamespace `json:"xmlNamespace"`
	Streaming        bool          `json:"streaming"`
	IdempotencyToken bool          `json:"idempotencyToken"`
	JSONValue        bool          `json:"jsonvalue"`
	HostLabel        bool          `json:"hostLabel"`
	TimestampFormat  string        `json:"timestampFormat"`
	EventPayload     bool          `json:"eventpayload"`
	ResultWrapper    string        `json:"resultWrapper"`
}

// XMLNamespace is an XML namespace declaration.
type XMLNamespace struct {
	Prefix string `json:"prefix"`
	URI    string `json:"uri"`
}

// Shape is a named type of the model.
type Shape struct {
	Type            string          `json:"type"` // structure, list, map, string, integer, long, boolean, timestamp, blob, float, double
	Members         map[string]*Ref `json:"members"`
	Member          *Ref            `json:"member"`
	Key             *Ref            `json:"key"`
	Value           *Ref            `json:"value"`
	Required        []string        `json:"required"`
	Error           *ErrorInfo      `json:"error"`
	Exception       bool            `json:"exception"`
	Union           bool            `json:"union"`
	Payload         string          `json:"payload"`
	TimestampFormat string          `json:"timestampFormat"`
	Flattened       bool            `json:"flattened"`
	LocationName    string          `json:"locationName"`
	XMLNamespace    *XMLNamespace   `json:"xmlNamespace"`
	Streaming       bool            `json:"streaming"`
	Document        bool            `json:"document"`
	Event           bool            `json:"event"`
	EventStream     bool            `json:"eventstream"`
	Wrapper         bool            `json:"wrapper"`
	Sparse          bool            `json:"sparse"`
}

// ErrorInfo is the error trait of an exception shape.
type ErrorInfo struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
}

// ErrUnknownService is returned by Load for a name with no model.
var ErrUnknownService = fmt.Errorf("no model for service")

var models sync.Map // service name → func() (*Model, error)

// Load returns the model of the service with boto3's name (as in
// awsservice's table), parsing it on first use; later calls share it.
// Callers must not modify the model.
func Load(service string) (*Model, error) {
	f, ok := models.Load(service)
	if !ok {
		f, _ = models.LoadOrStore(service, sync.OnceValues(func() (*Model, error) { return parse(service) }))
	}
	return f.(func() (*Model, error))()
}

// ReadMetadata returns a service's metadata without parsing the rest of
// its model: a server that must tell 424 services apart by signing name
// reads only this much of each.
func ReadMetadata(service string) (Metadata, error) {
	var md Metadata
	raw, err := data.ReadFile("data/" + service + ".gz")
	if err != nil {
		return md, fmt.Errorf("%s: %w", service, ErrUnknownService)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return md, fmt.Errorf("%s model: %w", service, err)
	}
	line, err := bufio.NewReader(zr).ReadBytes('\n')
	if err != nil {
		return md, fmt.Errorf("%s model: %w", service, err)
	}
	if err := json.Unmarshal(line, &md); err != nil {
		return md, fmt.Errorf("%s model: %w", service, err)
	}
	return md, nil
}

func parse(service string) (*Model, error) {
	raw, err := data.ReadFile("data/" + service + ".gz")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", service, ErrUnknownService)
	}
	b, err := gunzip(raw)
	if err != nil {
		return nil, fmt.Errorf("%s model: %w", service, err)
	}
	// The layout (see gen): the metadata as JSON on the first line, then
	// "o NAME JSON" per operation and "s NAME JSON" per shape.
	m := &Model{operations: map[string][]byte{}, shapes: map[string][]byte{}, ops: map[string]*Operation{}, decoded: map[string]*Shape{}}
	first, rest, _ := bytes.Cut(b, []byte("\n"))
	if err := json.Unmarshal(first, &m.Metadata); err != nil {
		return nil, fmt.Errorf("%s model: %w", service, err)
	}
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		tag, after, ok1 := bytes.Cut(line, []byte(" "))
		name, js, ok2 := bytes.Cut(after, []byte(" "))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s model: malformed line %.40q", service, line)
		}
		switch string(tag) {
		case "o":
			m.operations[string(name)] = js
		case "s":
			m.shapes[string(name)] = js
		}
	}
	return m, nil
}

// gunzip decompresses into a buffer of the size gzip's trailer records, so
// a 1 MB model is not copied through a growing buffer.
func gunzip(raw []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if n := len(raw); n >= 4 {
		buf.Grow(int(binary.LittleEndian.Uint32(raw[n-4:])) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
