// Package template holds the {{ ... }} references of SSM Automation
// runbooks: finding them (Refs), typed substitution (Substitute, Render),
// the system variables (System), and the JSONPath output selectors
// (ParseSelector, Convert).
package template

import (
	"fmt"
	"strings"
)

// Namespace is the prefix of a reference before its colon: "" for a
// runbook parameter or a step output, or one of the Namespace constants.
type Namespace string

// The reference namespaces SSM Automation and capstan understand.
const (
	NSNone       Namespace = ""
	NSGlobal     Namespace = "global"
	NSAutomation Namespace = "automation"
	NSVariable   Namespace = "variable"
	NSSSM        Namespace = "ssm"
	// NSKey is capstan's own: a secret from capstan's key storage.
	NSKey Namespace = "key"
)

// Known reports whether n is one of the namespaces above. Refs also returns
// references with other prefixes (such as "ssm-secure") so that a validator
// can name them; a resolver rejects them.
func (n Namespace) Known() bool {
	switch n {
	case NSNone, NSGlobal, NSAutomation, NSVariable, NSSSM, NSKey:
		return true
	}
	return false
}

// Ref is one {{ ... }} reference in a string.
type Ref struct {
	// Namespace is "" for a parameter or a step output (then Name has a dot
	// for step outputs: "step.Output"), or the prefix before the colon.
	Namespace Namespace
	// Name is the text after the namespace prefix, trimmed: "InstanceId",
	// "getInstance.InstanceId", "ACCOUNT_ID", "/my/param", "db/password".
	Name string
	// Start and End are the byte offsets of the whole "{{ ... }}" in the
	// string: s[Start:End] is the reference as written.
	Start, End int
}

// String writes the reference in its canonical form, "{{ ns:Name }}".
func (r Ref) String() string {
	if r.Namespace == NSNone {
		return "{{ " + r.Name + " }}"
	}
	return "{{ " + string(r.Namespace) + ":" + r.Name + " }}"
}

// SyntaxError is a malformed reference: an unclosed "{{", an empty
// "{{ }}" or a nested "{{ {{".
type SyntaxError struct {
	Offset int // byte offset of the offending "{{"
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template: offset %d: %s", e.Offset, e.Msg)
}

// Refs returns every reference in s, in order.
//
// Real runbooks carry "{{" that is not a reference inside scripts, and SSM
// runs them unchanged: Python's "{{{}}}" and startswith('{{'), awk's
// '{{print $2}}' (seven AWS-owned runbooks in the corpus). So only an
// attempted reference is an error: "{{" followed (after blanks) by a name
// character that never meets its "}}" or meets another "{{" first, or an
// empty "{{ }}". A "{{" followed by anything else, and a closed "{{ ... }}"
// whose content is not a reference name (it has blanks inside, or
// characters no name has), is plain text.
//
// On error, the references before the offending offset are returned too.
// SSM itself accepts such text (AWSSupport-ConfigureTrafficMirroring has
// "{{ automation:EXECUTION_ID }" with a brace missing), so a validator should
// report a SyntaxError as a warning; Substitute and Render leave the
// malformed text as it is.
func Refs(s string) ([]Ref, error) {
	var refs []Ref
	err := scan(s, false, func(r Ref) { refs = append(refs, r) })
	return refs, err
}

// scan calls fn for each reference in s. Strict, it stops at the first
// syntax error; lenient, it treats the offending "{{" as text and goes on.
func scan(s string, lenient bool, fn func(Ref)) error {
	i := 0
	for {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			return nil
		}
		start := i + j
		body := start + 2
		k := body
		for k < len(s) && isBlank(s[k]) {
			k++
		}
		switch {
		case strings.HasPrefix(s[k:], "}}"):
			if lenient {
				i = k + 2
				continue
			}
			return &SyntaxError{Offset: start, Msg: "empty reference \"{{ }}\""}
		case strings.HasPrefix(s[k:], "{{") && k > body:
			// "{{ {{p}} }}": SSM does not expand nested references.
			if lenient {
				i = k
				continue
			}
			return &SyntaxError{Offset: start, Msg: "nested reference \"{{ {{\""}
		case k >= len(s) || !isNameStart(s[k]):
			// Not a reference: skip the whole run of braces so that "{{{}}}"
			// does not turn into an empty reference at the next offset.
			i = body
			for i < len(s) && s[i] == '{' {
				i++
			}
			continue
		}
		closeAt := strings.Index(s[body:], "}}")
		openAt := strings.Index(s[body:], "{{")
		if lenient && (closeAt < 0 || openAt >= 0 && openAt < closeAt) {
			i = body
			continue
		}
		if closeAt < 0 {
			return &SyntaxError{Offset: start, Msg: "unclosed \"{{\": no \"}}\" follows"}
		}
		if openAt >= 0 && openAt < closeAt {
			return &SyntaxError{Offset: start, Msg: fmt.Sprintf("nested reference: \"{{\" at offset %d before the \"}}\"", body+openAt)}
		}
		end := body + closeAt + 2
		if r, ok := parseRef(s[body : body+closeAt]); ok {
			r.Start, r.End = start, end
			fn(r)
		}
		i = end
	}
}

// parseRef splits the content between the braces into namespace and name;
// ok is false when the content is not a reference name.
func parseRef(inner string) (Ref, bool) {
	inner = strings.TrimSpace(inner)
	if c := strings.IndexByte(inner, ':'); c > 0 && isPrefix(inner[:c]) {
		name := strings.TrimSpace(inner[c+1:])
		if name == "" || strings.ContainsAny(name, " \t\r\n{}") {
			return Ref{}, false
		}
		return Ref{Namespace: Namespace(inner[:c]), Name: name}, true
	}
	if inner == "" {
		return Ref{}, false
	}
	for i := 0; i < len(inner); i++ {
		if !isNameChar(inner[i]) {
			return Ref{}, false
		}
	}
	return Ref{Name: inner}, true
}

// isPrefix accepts namespace-like prefixes: lower-case letters and dashes,
// so that "ssm-secure:" is reported as a (unknown) namespace.
func isPrefix(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return p != ""
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isNameChar covers parameter names, step names and output names, joined
// by dots ("step.Output", "loop.CurrentIteratorValue").
func isNameChar(c byte) bool { return isNameStart(c) || c == '.' || c == '-' }
