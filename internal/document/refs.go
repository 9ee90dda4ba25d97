package document

import (
	"fmt"
	"regexp"
	"strings"
)

// tref is one {{ }} reference found in a string.
type tref struct {
	Namespace  string // "" for parameters and step outputs
	Name       string
	Start, End int // byte offsets of "{{" and just past "}}"
}

// templateRefs lists the references in s.
// TODO(template): switch to template.Refs once internal/template lands; this
// scanner covers only what validation needs.
func templateRefs(s string) ([]tref, error) {
	var out []tref
	for i := 0; ; {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			return out, nil
		}
		start := i + j
		k := strings.Index(s[start+2:], "}}")
		if k < 0 {
			return out, fmt.Errorf("unclosed {{ at offset %d", start)
		}
		end := start + 2 + k + 2
		body := strings.TrimSpace(s[start+2 : end-2])
		if !refBody.MatchString(body) {
			// Not a reference ("{{ print $2 }}" in a shell script): text.
			i = start + 2
			continue
		}
		r := tref{Name: body, Start: start, End: end}
		if ns, name, ok := strings.Cut(body, ":"); ok && !strings.Contains(ns, ".") {
			r.Namespace, r.Name = strings.TrimSpace(ns), strings.TrimSpace(name)
		}
		out = append(out, r)
		i = end
	}
}

// refBody is what a reference between {{ }} looks like: a name, a
// step.output, or namespace:name (ssm: names are parameter paths).
var refBody = regexp.MustCompile(`^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*|[a-z-]+:[^{}\s]+)$`)

var systemVariables = map[string]bool{
	"global:ACCOUNT_ID": true, "global:DATE": true, "global:DATE_TIME": true,
	"global:AWS_PARTITION": true, "global:REGION": true, "automation:EXECUTION_ID": true,
}

func knownSystemVariable(ns, name string) bool {
	return systemVariables[ns+":"+name]
}
