package awsapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"
	"github.com/aws/smithy-go/transport/http/protocol/restxml"
)

// formOf is a query or EC2 request's form: the body of a POST, the query
// string of a GET.
func formOf(r *http.Request, body []byte) (url.Values, error) {
	if r.Method == http.MethodGet {
		return r.URL.Query(), nil
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return url.Values{}, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("the form does not parse: %w", err)
	}
	return form, nil
}

// formReader decodes a query or EC2 form by the input schema, the way
// botocore's query and EC2 serializers name its keys (Name.member.1,
// Name.entry.1.key, EC2's Name.1 and capitalized locationNames).
type formReader struct {
	form     url.Values
	ec2      bool
	prefixes map[string]bool // every key and every dotted prefix of one
}

func (op *operation) readForm(form url.Values) (map[string]any, error) {
	fr := &formReader{form: form, ec2: op.svc.model.Metadata.Protocol == "ec2", prefixes: map[string]bool{}}
	for k := range form {
		for i := range len(k) {
			if k[i] == '.' {
				fr.prefixes[k[:i]] = true
			}
		}
		fr.prefixes[k] = true
	}
	v, err := fr.structure("", op.schema.Input)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (fr *formReader) key(prefix string, ms *smithy.Schema) string {
	name := ms.MemberName()
	if fr.ec2 {
		if q, ok := smithy.SchemaTrait[*traits.EC2QueryName](ms); ok {
			name = q.Name
		} else if x, ok := smithy.SchemaTrait[*traits.XMLName](ms); ok && x.Name != "" {
			name = strings.ToUpper(x.Name[:1]) + x.Name[1:]
		}
	} else if x, ok := smithy.SchemaTrait[*traits.XMLName](ms); ok && x.Name != "" {
		name = x.Name
	}
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func (fr *formReader) structure(prefix string, sc *smithy.Schema) (any, error) {
	out := map[string]any{}
	for name, ms := range sc.Members() {
		k := fr.key(prefix, ms)
		if !fr.prefixes[k] {
			continue
		}
		v, err := fr.value(k, ms)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// maxFormDepth bounds the nesting a form may claim: a recursive shape
// would otherwise let a hostile script's key nest without end.
const maxFormDepth = 32

func (fr *formReader) value(k string, sc *smithy.Schema) (any, error) {
	if strings.Count(k, ".") > 3*maxFormDepth {
		return nil, fmt.Errorf("%.60s…: nested too deep", k)
	}
	switch sc.Type() {
	case smithy.ShapeTypeStructure, smithy.ShapeTypeUnion:
		return fr.structure(k, sc)
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		lm := sc.ListMember()
		base := k
		if !fr.ec2 {
			_, flat := smithy.SchemaTrait[*traits.XMLFlattened](sc)
			name := "member"
			if x, ok := smithy.SchemaTrait[*traits.XMLName](lm); ok && x.Name != "" {
				name = x.Name
			}
			switch {
			case !flat:
				base = k + "." + name
			case name != "member":
				// A flattened list with a member name replaces the last
				// part of the key.
				if i := strings.LastIndex(k, "."); i >= 0 {
					base = k[:i+1] + name
				} else {
					base = name
				}
			}
		}
		out := []any{}
		for i := 1; fr.prefixes[base+"."+strconv.Itoa(i)]; i++ {
			v, err := fr.value(base+"."+strconv.Itoa(i), lm)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case smithy.ShapeTypeMap:
		base := k + ".entry"
		if _, flat := smithy.SchemaTrait[*traits.XMLFlattened](sc); flat {
			base = k
		}
		keyName, valueName := "key", "value"
		if x, ok := smithy.SchemaTrait[*traits.XMLName](sc.MapKey()); ok && x.Name != "" {
			keyName = x.Name
		}
		if x, ok := smithy.SchemaTrait[*traits.XMLName](sc.MapValue()); ok && x.Name != "" {
			valueName = x.Name
		}
		out := map[string]any{}
		for i := 1; fr.prefixes[base+"."+strconv.Itoa(i)]; i++ {
			e := base + "." + strconv.Itoa(i)
			mk := fr.form.Get(e + "." + keyName)
			v, err := fr.value(e+"."+valueName, sc.MapValue())
			if err != nil {
				return nil, err
			}
			out[mk] = v
		}
		return out, nil
	}
	// Strings, timestamps (ISO 8601) and blobs (base64) stay as sent, which
	// is how a runbook reads them in a response too.
	x, err := scalar(sc, fr.form.Get(k))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	return x, nil
}

// writeXML writes the output as XML with the service's namespace, through
// smithy's REST-XML writer (query and EC2 responses share its element
// naming, lists and maps), and returns what is inside the root element.
func (op *operation) writeXML(v *input) (string, error) {
	req, err := op.writeWith(op.svc.xmlWriter(), v)
	if err != nil {
		return "", err
	}
	st := req.GetStream()
	if st == nil || v.schema == nil {
		return "", nil
	}
	b, err := io.ReadAll(st)
	if err != nil {
		return "", err
	}
	return innerXML(b), nil
}

// xmlWriter is a REST-XML codec over the service's schema, built once.
func (s *service) xmlWriter() *restxml.Protocol {
	s.xmlOnce.Do(func() {
		ns := s.model.Metadata.XMLNamespace
		var ts []smithy.Trait
		if ns != "" {
			ts = append(ts, &traits.XMLNamespace{URI: ns})
		}
		id := smithy.ShapeID{Namespace: "com.amazonaws." + s.info.Name, Name: s.info.Name}
		s.xmlCodec = restxml.New(smithy.NewServiceSchema(smithy.NewSchema(id, smithy.ShapeTypeService, 0, ts...), s.model.Metadata.APIVersion))
	})
	return s.xmlCodec
}

// innerXML is what lies between a document's root tags.
func innerXML(b []byte) string {
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte("<?xml")) {
		if i := bytes.Index(b, []byte("?>")); i >= 0 {
			b = bytes.TrimSpace(b[i+2:])
		}
	}
	open := bytes.IndexByte(b, '>')
	if open < 0 || b[open-1] == '/' {
		return "" // <Root/>
	}
	end := bytes.LastIndex(b, []byte("</"))
	if end < open {
		return ""
	}
	return string(b[open+1 : end])
}

// wrapXML puts a response's members in the envelope botocore reads:
// <OpResponse><OpResult>…</OpResult><ResponseMetadata>… for query, and
// EC2's <OpResponse><requestId>…</requestId>… without a result element.
func (op *operation) wrapXML(inner string, ec2 bool) string {
	ns := op.svc.model.Metadata.XMLNamespace
	id := uuid()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, op.name, xmlText(ns))
	if ec2 {
		fmt.Fprintf(&b, "<requestId>%s</requestId>%s", id, inner)
	} else {
		result := op.name + "Result"
		if op.model.Output != nil && op.model.Output.ResultWrapper != "" {
			result = op.model.Output.ResultWrapper
		}
		fmt.Fprintf(&b, "<%s>%s</%s><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>", result, inner, result, id)
	}
	fmt.Fprintf(&b, "</%sResponse>", op.name)
	return b.String()
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
