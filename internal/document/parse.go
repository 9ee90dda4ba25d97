package document

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/value"
	"gopkg.in/yaml.v3"
)

// Parse reads a runbook in YAML or JSON (JSON is read as YAML, which keeps
// the positions of every key and value). It reports syntax errors and values
// of the wrong shape (an unknown key, a non-numeric maxAttempts) as
// diagnostics; it never panics. The Document is nil only when the source is
// not a mapping at all. Semantic checks are Validate's.
func Parse(file string, src []byte) (*Document, []Diagnostic) {
	p := &parser{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		p.errAt(syntaxPos(err), "", "syntax error: %s", syntaxMessage(err))
		return nil, p.diags
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		p.errAt(Pos{1, 1}, "", "empty document: expected a mapping with schemaVersion and mainSteps")
		return nil, p.diags
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		p.errAt(pos(top), "", "expected a mapping at the top of the document, found %s", kindName(top))
		return nil, p.diags
	}
	d := &Document{File: file, Format: YAML, Pos: pos(top), lines: bytes.Split(src, []byte("\n"))}
	if top.Style&yaml.FlowStyle != 0 {
		d.Format = JSON
	}
	p.doc = d
	p.document(top)
	return d, p.diags
}

type parser struct {
	file  string
	doc   *Document
	diags []Diagnostic
	// budget bounds alias expansion so a hostile document cannot make
	// decoding exponential.
	budget int
}

func (p *parser) errAt(at Pos, step, format string, args ...any) {
	p.add(Error, at, step, format, args...)
}

func (p *parser) add(sev Severity, at Pos, step, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{File: p.file, Line: at.Line, Column: at.Column,
		Severity: sev, Step: step, Message: fmt.Sprintf(format, args...)})
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxPos extracts the line yaml.v3 puts in its messages; it reports no
// column, so the diagnostic points at the line's start.
func syntaxPos(err error) Pos {
	if m := yamlLineRE.FindStringSubmatch(firstLine(err.Error())); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			// yaml.v3 reports the context of "did not find expected ..."
			// parser errors with a 0-based line.
			if strings.HasPrefix(m[2], "did not find expected") {
				n++
			}
			return Pos{Line: n, Column: 1}
		}
	}
	return Pos{Line: 1, Column: 1}
}

func syntaxMessage(err error) string {
	msg := firstLine(err.Error())
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		if strings.HasPrefix(s, "yaml: unmarshal errors:") {
			return strings.TrimSpace(s[i+1:])
		}
		return s[:i]
	}
	return s
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pair is one key and value of a mapping.
type pair struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// pairs lists a mapping's entries; duplicate keys are rejected by yaml.v3
// before we get here.
func pairs(n *yaml.Node) []pair {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if v == nil {
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: k.Line, Column: k.Column}
		}
		out = append(out, pair{key: k.Value, k: k, v: v})
	}
	return out
}

// decode turns a node into the decoded value types of the model.
func (p *parser) decode(n *yaml.Node) any {
	return p.decodeDepth(n, 0)
}

const maxDepth = 200

func (p *parser) decodeDepth(n *yaml.Node, depth int) any {
	n = resolve(n)
	p.budget++
	if n == nil || depth > maxDepth || p.budget > 1_000_000 {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, p.decodeDepth(c, depth+1))
		}
		return l
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for _, kv := range pairs(n) {
			m[kv.key] = p.decodeDepth(kv.v, depth+1)
		}
		return m
	}
	return nil
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return n.Value
		}
		return b
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		return n.Value
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value
		}
		return f
	}
	// Strings, and timestamps and binaries, which SSM reads as text.
	return n.Value
}

// document fills p.doc from the top-level mapping.
func (p *parser) document(top *yaml.Node) {
	d := p.doc
	d.keyPos, d.nodes = map[string]Pos{}, map[string]*yaml.Node{}
	for _, kv := range pairs(top) {
		d.keyPos[kv.key], d.nodes[kv.key] = pos(kv.v), kv.v
		switch kv.key {
		case "schemaVersion":
			d.SchemaVersion = p.text(kv, "")
		case "description":
			d.Description = p.text(kv, "")
		case "assumeRole":
			d.AssumeRole = p.text(kv, "")
		case "parameters":
			p.parameters(kv.v)
		case "variables":
			p.variables(kv.v)
		case "mainSteps":
			d.MainSteps = p.steps(kv.v, "mainSteps")
		case "outputs":
			p.outputs(kv.v)
		case "files":
			if m, ok := p.decode(kv.v).(map[string]any); ok {
				d.Files = m
			}
			p.add(Warning, pos(kv.k), "", "files (script attachments) are accepted but not supported by capstan: aws:executeScript Attachment will fail at run time")
		case "templateInformation", "executableRunBooks", "emergencyChange", "autoApprovable":
			// Change Manager templates (document type Automation.ChangeTemplate)
			// add these; they mean nothing to a run.
			p.add(Warning, pos(kv.k), "", "%s is a Change Manager template key; capstan ignores it", kv.key)
		default:
			p.errAt(pos(kv.k), "", "unknown top-level key %q: expected one of %s", kv.key, strings.Join(topKeys, ", "))
		}
	}
	if _, ok := find(top, "schemaVersion"); !ok {
		p.errAt(pos(top), "", `missing schemaVersion: expected "0.3"`)
	}
	if _, ok := find(top, "mainSteps"); !ok {
		p.errAt(pos(top), "", "missing mainSteps: expected a list of steps")
	}
}

var topKeys = []string{"description", "schemaVersion", "assumeRole", "parameters", "outputs", "variables", "mainSteps", "files"}

func find(n *yaml.Node, key string) (pair, bool) {
	for _, kv := range pairs(n) {
		if kv.key == key {
			return kv, true
		}
	}
	return pair{}, false
}

// text reads a scalar as a string. Numbers and booleans are accepted as text
// (SSM's own parser reads JSON into strings where it expects them).
func (p *parser) text(kv pair, step string) string {
	if kv.v.Kind != yaml.ScalarNode || kv.v.ShortTag() == "!!null" {
		p.errAt(pos(kv.v), step, "%s: expected a string, found %s", kv.key, kindName(kv.v))
		return ""
	}
	return kv.v.Value
}

func (p *parser) parameters(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errAt(pos(n), "", "parameters: expected a mapping of parameter names to definitions, found %s", kindName(n))
		return
	}
	for _, kv := range pairs(n) {
		if param := p.parameter(kv); param != nil {
			p.doc.Parameters = append(p.doc.Parameters, param)
		}
	}
}

var paramKeys = []string{"type", "description", "default", "allowedValues", "allowedPattern", "displayType",
	"minItems", "maxItems", "minChars", "maxChars", "minValue", "maxValue"}

func (p *parser) parameter(def pair) *Parameter {
	if def.v.Kind != yaml.MappingNode {
		p.errAt(pos(def.v), "", "parameter %s: expected a mapping with type, found %s", def.key, kindName(def.v))
		return nil
	}
	param := &Parameter{Name: def.key, Pos: pos(def.k), fieldPos: map[string]Pos{}}
	hasType := false
	for _, kv := range pairs(def.v) {
		param.fieldPos[kv.key] = pos(kv.v)
		switch kv.key {
		case "type":
			hasType = true
			param.Type = ParamType(p.text(kv, ""))
		case "description":
			param.Description = p.text(kv, "")
		case "default":
			param.Default, param.HasDefault, param.defaultNode = p.decode(kv.v), true, kv.v
		case "allowedValues":
			if kv.v.Kind != yaml.SequenceNode {
				p.errAt(pos(kv.v), "", "parameter %s: allowedValues: expected a list, found %s", def.key, kindName(kv.v))
				continue
			}
			param.AllowedValues, _ = p.decode(kv.v).([]any)
		case "allowedPattern":
			param.AllowedPattern = p.text(kv, "")
		case "displayType":
			param.DisplayType = p.text(kv, "")
		case "minItems":
			param.MinItems = p.intPtr(kv, def.key)
		case "maxItems":
			param.MaxItems = p.intPtr(kv, def.key)
		case "minChars":
			param.MinChars = p.intPtr(kv, def.key)
		case "maxChars":
			param.MaxChars = p.intPtr(kv, def.key)
		case "minValue":
			param.MinValue = p.int64Ptr(kv, def.key)
		case "maxValue":
			param.MaxValue = p.int64Ptr(kv, def.key)
		default:
			p.errAt(pos(kv.k), "", "parameter %s: unknown key %q: expected one of %s", def.key, kv.key, strings.Join(paramKeys, ", "))
		}
	}
	if !hasType {
		p.errAt(pos(def.k), "", "parameter %s: missing type", def.key)
	}
	return param
}

func (p *parser) int64Ptr(kv pair, param string) *int64 {
	n, ok := p.number(kv, "", "parameter "+param+": ")
	if !ok {
		return nil
	}
	return &n
}

func (p *parser) intPtr(kv pair, param string) *int {
	n, ok := p.number(kv, "", "parameter "+param+": ")
	if !ok {
		return nil
	}
	i := int(n)
	return &i
}

// number reads an integer, written as a number or as a numeric string (SSM
// accepts timeoutSeconds: "600").
func (p *parser) number(kv pair, step, prefix string) (int64, bool) {
	if kv.v.Kind == yaml.ScalarNode {
		switch v := scalar(kv.v).(type) {
		case int64:
			return v, true
		case float64:
			if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
				return int64(v), true
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return n, true
			}
		}
	}
	p.errAt(pos(kv.v), step, "%s%s: expected an integer, found %s", prefix, kv.key, kindName(kv.v))
	return 0, false
}

// boolean reads true/false, also written as the strings "true"/"false".
func (p *parser) boolean(kv pair, step string) (bool, bool) {
	if kv.v.Kind == yaml.ScalarNode {
		switch v := scalar(kv.v).(type) {
		case bool:
			return v, true
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				return true, true
			case "false":
				return false, true
			}
		}
	}
	p.errAt(pos(kv.v), step, "%s: expected true or false, found %s", kv.key, kindName(kv.v))
	return false, false
}

func (p *parser) variables(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errAt(pos(n), "", "variables: expected a mapping of variable names to definitions, found %s", kindName(n))
		return
	}
	for _, def := range pairs(n) {
		if def.v.Kind != yaml.MappingNode {
			p.errAt(pos(def.v), "", "variable %s: expected a mapping with type, found %s", def.key, kindName(def.v))
			continue
		}
		v := &Variable{Name: def.key, Pos: pos(def.k)}
		for _, kv := range pairs(def.v) {
			switch kv.key {
			case "type":
				v.Type = value.Type(p.text(kv, ""))
				if !v.Type.Valid() {
					p.errAt(pos(kv.v), "", "variable %s: unknown type %q: expected one of %s", def.key, v.Type, typeNames())
				}
			case "default":
				v.Default, v.HasDefault = p.decode(kv.v), true
			case "description":
				v.Description = p.text(kv, "")
			default:
				p.errAt(pos(kv.k), "", "variable %s: unknown key %q: expected type, default or description", def.key, kv.key)
			}
		}
		if v.Type == "" {
			p.errAt(pos(def.k), "", "variable %s: missing type", def.key)
		} else if v.HasDefault && v.Type.Valid() {
			if err := value.Check(v.Default, v.Type); err != nil {
				p.errAt(pos(def.k), "", "variable %s: default: %v", def.key, err)
			}
		}
		p.doc.Variables = append(p.doc.Variables, v)
	}
}

func typeNames() string {
	names := make([]string, len(value.Types))
	for i, t := range value.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func (p *parser) outputs(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		p.errAt(pos(n), "", `outputs: expected a list of "step.output" strings, found %s`, kindName(n))
		return
	}
	for _, c := range n.Content {
		c = resolve(c)
		if c == nil || c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" {
			p.errAt(pos(n), "", `outputs: expected a "step.output" string, found %s`, kindName(c))
			continue
		}
		step, out, ok := strings.Cut(c.Value, ".")
		if !ok || step == "" || out == "" {
			p.errAt(pos(c), "", `outputs: %q: expected "stepName.outputName"`, c.Value)
			continue
		}
		p.doc.Outputs = append(p.doc.Outputs, OutputRef{Step: step, Output: out, Pos: pos(c)})
	}
}
