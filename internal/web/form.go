package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/value"
)

// field is one input of a runbook's form, generated from its parameter.
type field struct {
	Name        string
	Type        string
	Description string
	Kind        string // text, number, checkbox, select, list, map, json
	Required    bool   // no default: the form must give a value
	Value       string // the value shown (default, or what was submitted)
	Checked     bool
	Items       []string    // list: one input per item
	Pairs       [][2]string // map: key/value rows
	Options     []string    // select: the allowedValues
	Pattern     string      // allowedPattern, checked in the browser too
	Min, Max    string      // minValue/maxValue
	MinLen      string      // minChars
	MaxLen      string      // maxChars
	// Rules are the messages the browser shows for each broken rule, worded
	// as the server (document.Coerce) words them; "%v" stands for the value.
	Rules map[string]string
	Error string // the server's message for this field
	// Nodes are the instances an instance id field offers (free text is
	// still accepted); NodesNote says why there are none when the
	// inventory could not be read.
	Nodes     []nodeOption
	NodesNote string
	// KeyPaths are the key-storage paths the field may take its value from
	// (only the path is sent); KeyPath is the one chosen. Secret fields
	// offer them from the start and never echo a typed value.
	KeyPaths []keyOption
	KeyPath  string
	Secret   bool
}

// fields builds the form of d, filled with the submitted values when form
// is not nil, else with the defaults, offering ch where it fits.
func fields(d *document.Document, form url.Values, ch choices) []field {
	out := make([]field, 0, len(d.Parameters))
	for _, p := range d.Parameters {
		f := field{Name: p.Name, Type: string(p.Type), Description: p.Description, Required: !p.HasDefault}
		switch p.Type.Value() {
		case value.Boolean:
			f.Kind = "checkbox"
		case value.Integer:
			f.Kind = "number"
		case value.StringList:
			f.Kind = "list"
		case value.StringMap:
			f.Kind = "map"
		case value.MapList:
			f.Kind = "json"
		default:
			f.Kind = "text"
		}
		if len(p.AllowedValues) > 0 && (f.Kind == "text" || f.Kind == "number") {
			f.Kind = "select"
			for _, a := range p.AllowedValues {
				f.Options = append(f.Options, fmt.Sprint(a))
			}
		}
		f.Pattern = p.AllowedPattern
		f.Min, f.Max, f.MinLen, f.MaxLen = optInt(p.MinValue), optInt(p.MaxValue), optInt(p.MinChars), optInt(p.MaxChars)
		f.Rules = rules(p)
		if instanceParam(p) && (f.Kind == "text" || f.Kind == "list") {
			f.Nodes, f.NodesNote = ch.nodes, ch.nodesNote
		}
		if keyParam(p) && f.Kind == "text" {
			f.KeyPaths, f.Secret = ch.keys, secretParam(p)
		}
		if form == nil {
			fillDefault(&f, p)
		} else {
			fillSubmitted(&f, form)
		}
		out = append(out, f)
	}
	return out
}

func optInt[T int | int64](v *T) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(int64(*v), 10)
}

// rules words the browser's messages as document.Coerce words the server's,
// so a user reads the same sentence wherever a value is refused (a test
// holds the two together).
func rules(p *document.Parameter) map[string]string {
	value := func(rule string) string {
		return (&document.ParameterError{Name: p.Name, Value: "%v", Rule: rule}).Error()
	}
	r := map[string]string{"required": (&document.ParameterError{Name: p.Name, Rule: "required (it has no default)"}).Error()}
	if p.AllowedPattern != "" {
		r["pattern"] = value("does not match allowedPattern " + p.AllowedPattern)
	}
	if p.MinValue != nil {
		r["min"] = value(fmt.Sprintf("must be at least %d (minValue)", *p.MinValue))
	}
	if p.MaxValue != nil {
		r["max"] = value(fmt.Sprintf("must be at most %d (maxValue)", *p.MaxValue))
	}
	if p.MinChars != nil {
		r["minlength"] = value(fmt.Sprintf("at least %d characters required (minChars), got %%n", *p.MinChars))
	}
	if p.MaxChars != nil {
		r["maxlength"] = value(fmt.Sprintf("at most %d characters allowed (maxChars), got %%n", *p.MaxChars))
	}
	return r
}

func fillDefault(f *field, p *document.Parameter) {
	if !p.HasDefault {
		if f.Kind == "list" {
			f.Items = []string{""}
		}
		if f.Kind == "map" {
			f.Pairs = [][2]string{{"", ""}}
		}
		return
	}
	switch v := p.Default.(type) {
	case bool:
		f.Checked = v
	case []any:
		for _, e := range v {
			if f.Kind == "list" {
				f.Items = append(f.Items, fmt.Sprint(e))
			}
		}
		if f.Kind == "json" {
			b, _ := json.Marshal(v)
			f.Value = string(b)
		}
	case map[string]any:
		for k, e := range v {
			f.Pairs = append(f.Pairs, [2]string{k, fmt.Sprint(e)})
		}
	case nil:
	default:
		f.Value = fmt.Sprint(v)
		f.Checked = f.Value == "true"
	}
	if f.Kind == "list" {
		f.Items = append(f.Items, "")
	}
	if f.Kind == "map" {
		f.Pairs = append(f.Pairs, [2]string{"", ""})
	}
}

func fillSubmitted(f *field, form url.Values) {
	f.Value = form.Get(f.Name)
	f.KeyPath = form.Get(f.Name + keySuffix)
	if f.Secret || f.KeyPath != "" {
		f.Value = ""
	}
	f.Checked = form.Get(f.Name) == "true"
	f.Items = append(form[f.Name], "")
	keys, vals := form[f.Name+".k"], form[f.Name+".v"]
	for i, k := range keys {
		if i < len(vals) {
			f.Pairs = append(f.Pairs, [2]string{k, vals[i]})
		}
	}
	f.Pairs = append(f.Pairs, [2]string{"", ""})
}

// parameters turns a submitted form into StartAutomationExecution's
// parameters. A field left empty that has a default is left out, so the
// default applies as it does on the command line; so is one whose value
// comes from key storage (keyParameters).
func parameters(d *document.Document, form url.Values) map[string][]string {
	out := map[string][]string{}
	fromKeys := keyParameters(d, form)
	for _, p := range d.Parameters {
		name := p.Name
		if _, ok := fromKeys[name]; ok {
			continue
		}
		switch p.Type.Value() {
		case value.Boolean:
			if form.Get(name) == "true" {
				out[name] = []string{"true"}
			} else {
				out[name] = []string{"false"}
			}
		case value.StringList:
			var items []string
			for _, v := range form[name] {
				if v = strings.TrimSpace(v); v != "" {
					items = append(items, v)
				}
			}
			if len(items) > 0 || !p.HasDefault {
				out[name] = items
			}
		case value.StringMap:
			m := map[string]string{}
			keys, vals := form[name+".k"], form[name+".v"]
			for i, k := range keys {
				if k = strings.TrimSpace(k); k != "" && i < len(vals) {
					m[k] = vals[i]
				}
			}
			if len(m) > 0 || !p.HasDefault {
				b, _ := json.Marshal(m)
				out[name] = []string{string(b)}
			}
		default:
			// An empty field gives no value: the default applies, or the
			// parameter is reported missing, as on the command line.
			v, ok := form[name]
			if !ok || v[0] == "" {
				continue
			}
			out[name] = []string{v[0]}
		}
	}
	return out
}

// fieldErrors sorts the parameter errors in err by parameter; the rest is
// returned as one message.
func fieldErrors(err error) (map[string]string, string) {
	byField := map[string]string{}
	params, others := document.SplitErrors(err)
	for _, pe := range params {
		if byField[pe.Name] == "" {
			byField[pe.Name] = pe.Error()
		}
	}
	rest := make([]string, len(others))
	for i, e := range others {
		rest[i] = e.Error()
	}
	return byField, strings.Join(rest, "; ")
}
