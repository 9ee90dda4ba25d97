package authz

import (
	"fmt"
	"slices"
	"strings"
)

// Condition is one key of one operator of a statement's Condition block:
// {"StringEquals": {"capstan:ExecutedBy": "${aws:username}"}}. It holds when
// the request's value for Key satisfies the operator against any of Values.
type Condition struct {
	Operator string // as written, e.g. StringLikeIfExists
	Key      string // lowercase
	Values   []string
	op       operator
	ifExists bool
}

// The condition keys capstan fills in for every request. A key a request
// does not have is absent: negated operators and IfExists then hold.
const (
	KeyUsername   = "aws:username"       // the caller's user name
	KeyExecutedBy = "capstan:ExecutedBy" // the user name that started the execution
	KeyProject    = "capstan:Project"    // the project of the document, execution or key
	KeyOwner      = "capstan:Owner"      // the user name that created the document
)

// Keys lists the condition keys, for messages.
var Keys = []string{KeyUsername, KeyExecutedBy, KeyProject, KeyOwner}

func knownKey(k string) bool {
	return slices.ContainsFunc(Keys, func(s string) bool { return strings.EqualFold(s, k) })
}

type operator struct {
	match   func(have, want string) bool
	like    bool // values are glob patterns
	negated bool
	null    bool
}

var operators = map[string]operator{
	"StringEquals":              {match: func(h, w string) bool { return h == w }},
	"StringNotEquals":           {match: func(h, w string) bool { return h == w }, negated: true},
	"StringEqualsIgnoreCase":    {match: strings.EqualFold},
	"StringNotEqualsIgnoreCase": {match: strings.EqualFold, negated: true},
	"StringLike":                {match: likeString, like: true},
	"StringNotLike":             {match: likeString, like: true, negated: true},
	"ArnEquals":                 {match: func(h, w string) bool { return h == w }},
	"ArnNotEquals":              {match: func(h, w string) bool { return h == w }, negated: true},
	"ArnLike":                   {match: likeString, like: true},
	"ArnNotLike":                {match: likeString, like: true, negated: true},
	"Null":                      {null: true},
}

func likeString(have, pattern string) bool { return glob(pattern, have, false) }

func operatorNames() []string {
	names := make([]string, 0, len(operators))
	for n := range operators {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func lookupOperator(name string) (operator, bool, bool) {
	base, ifExists := strings.CutSuffix(name, "IfExists")
	op, ok := operators[base]
	if ok && op.null && ifExists {
		return operator{}, false, false
	}
	return op, ifExists, ok
}

// holds evaluates the condition for a request. Values holding policy
// variables are filled from the request; a value whose variable the request
// lacks matches nothing.
func (c *Condition) holds(r *Request) bool {
	have, present := r.value(c.Key)
	if c.op.null {
		want := len(c.Values) > 0 && strings.EqualFold(c.Values[0], "true")
		return want != present
	}
	if !present {
		return c.ifExists || c.op.negated
	}
	matched := false
	for _, v := range c.Values {
		v, ok := expand(v, r, !c.op.like)
		if ok && c.op.match(have, v) {
			matched = true
			break
		}
	}
	return matched != c.op.negated
}

// checkVariables refuses ${...} references to keys capstan does not have
// and unterminated ones; ${*}, ${?} and ${$} stand for those characters.
func checkVariables(s string) error {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return fmt.Errorf("unterminated policy variable at %q", s[i:])
		}
		name := s[i+2 : i+j]
		if name != "*" && name != "?" && name != "$" && !knownKey(name) {
			return fmt.Errorf("unknown policy variable ${%s} (capstan knows %s)", name, strings.Join(Keys, ", "))
		}
		s = s[i+j+1:]
	}
}

// expand replaces policy variables in s with the request's values. Wildcard
// characters inside a substituted value are escaped for glob (as \* and \?)
// unless literal, so a user named "*" cannot widen a pattern. ok is false when
// a variable's key is absent from the request.
func expand(s string, r *Request, literal bool) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		switch name {
		case "*", "?":
			if !literal {
				b.WriteByte('\\')
			}
			b.WriteString(name)
			continue
		case "$":
			b.WriteByte('$')
			continue
		}
		v, ok := r.value(strings.ToLower(name))
		if !ok {
			return "", false
		}
		if literal {
			b.WriteString(v)
			continue
		}
		for _, c := range []byte(v) {
			if c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
}

// glob matches s against pattern, where * is any run of characters, ? one
// character and \ escapes the next one (only as expand writes it). fold
// compares letters without case, as IAM matches action names.
func glob(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			c := pattern[px]
			switch {
			case c == '*':
				starP, starS = px, sx
				px++
				continue
			case c == '?':
				px++
				sx++
				continue
			case c == '\\' && px+1 < len(pattern):
				if pattern[px+1] == s[sx] {
					px += 2
					sx++
					continue
				}
			case c == s[sx] || fold && lower(c) == lower(s[sx]):
				px++
				sx++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
