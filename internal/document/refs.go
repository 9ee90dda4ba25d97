package document

import (
	"github.com/capstan-run/capstan/internal/template"
)

// tref is one {{ }} reference found in a string.
type tref struct {
	Namespace  string // "" for parameters and step outputs
	Name       string
	Start, End int // byte offsets of "{{" and just past "}}"
}

// templateRefs lists the references in s (template.Refs: text that is not
// a reference, such as awk's '{{print $2}}', is skipped).
func templateRefs(s string) ([]tref, error) {
	refs, err := template.Refs(s)
	out := make([]tref, len(refs))
	for i, r := range refs {
		out[i] = tref{Namespace: string(r.Namespace), Name: r.Name, Start: r.Start, End: r.End}
	}
	return out, err
}

func knownSystemVariable(ns, name string) bool {
	return template.KnownSystemVariable(template.Namespace(ns), name)
}
