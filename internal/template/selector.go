package template

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ohler55/ojg/jp"
)

// Selector is a parsed JSONPath output selector (Selector of
// aws:executeAwsApi outputs, PropertySelector of the wait and assert
// actions). It is immutable and safe for concurrent use.
//
// SSM documents the subset "$" root, ".name" child, ".." deep scan and
// "[n]" index; AWS-owned runbooks also use filters
// ("[?(@.OutputKey == 'X')]") and "[*]". Everything github.com/ohler55/ojg/jp
// parses is accepted.
type Selector struct {
	src   string
	expr  jp.Expr
	multi bool // "..", "*", slices, unions and filters yield a list
	deep  bool // ".." or "*": may iterate over object members
}

// SelectorError is a selector that does not parse.
type SelectorError struct {
	Selector string
	Offset   int // byte offset of the problem in Selector
	Msg      string
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("selector %q: offset %d: %s", e.Selector, e.Offset, e.Msg)
}

// Parsed selectors are cached because the same few selectors run on every
// poll of a wait step. The cache is bounded: past the limit, selectors are
// parsed each time rather than evicting.
var (
	selectorCache  sync.Map // string → *Selector
	selectorCached atomic.Int64
)

const maxCachedSelectors = 4096

// ojg reports "<msg> at <1-based position> in <selector>".
var ojgErrAt = regexp.MustCompile(`^(.*) at (\d+) in `)

// ParseSelector parses a selector such as "$.Reservations[0].Instances[0]"
// or "$..InstanceId".
//
// Two forms that runbooks in the corpus use, and that SSM therefore
// accepts, are rewritten before parsing: a selector without the root
// ("Stacks[0].StackStatus", 12 AWS-owned uses) is taken from the root, and
// a quoted member name after a dot ("$.Outputs.'step.ImageId'[0]", 8 uses)
// is read as the bracket form "['step.ImageId']".
func ParseSelector(sel string) (*Selector, error) {
	if s, ok := selectorCache.Load(sel); ok {
		return s.(*Selector), nil
	}
	if strings.TrimSpace(sel) == "" {
		return nil, &SelectorError{Selector: sel, Offset: 0, Msg: "empty selector"}
	}
	norm, origin := normalizeSelector(sel)
	x, err := jp.ParseString(norm)
	if err != nil {
		se := &SelectorError{Selector: sel, Offset: -1, Msg: err.Error()}
		if m := ojgErrAt.FindStringSubmatch(err.Error()); m != nil {
			se.Msg = m[1]
			if n, convErr := strconv.Atoi(m[2]); convErr == nil {
				se.Offset = origin(n - 1)
			}
		}
		return nil, se
	}
	s := &Selector{src: sel, expr: x}
	for _, f := range x {
		switch f.(type) {
		case jp.Descent, jp.Wildcard:
			s.multi, s.deep = true, true
		case jp.Slice, jp.Union, *jp.Filter:
			s.multi = true
		}
	}
	if selectorCached.Load() < maxCachedSelectors {
		if _, loaded := selectorCache.LoadOrStore(sel, s); !loaded {
			selectorCached.Add(1)
		}
	}
	return s, nil
}

// normalizeSelector rewrites the lenient forms ParseSelector accepts into
// what jp parses; origin maps an offset in the result back to sel.
func normalizeSelector(sel string) (string, func(int) int) {
	var (
		b   strings.Builder
		src []int // src[i] is the offset in sel of byte i of the result
	)
	emit := func(s string, at int) {
		b.WriteString(s)
		for range len(s) {
			src = append(src, at)
		}
	}
	switch sel[0] {
	case '$':
	case '.', '[':
		emit("$", 0)
	default:
		emit("$.", 0)
	}
	for i := 0; i < len(sel); i++ {
		if sel[i] == '.' && i+1 < len(sel) && sel[i+1] == '\'' {
			if end := strings.IndexByte(sel[i+2:], '\''); end >= 0 {
				name := sel[i+2 : i+2+end]
				emit("['", i)
				for j := range len(name) {
					emit(name[j:j+1], i+2+j)
				}
				emit("']", i+2+end)
				i += 2 + end
				continue
			}
		}
		emit(sel[i:i+1], i)
	}
	return b.String(), func(off int) int {
		if off < 0 {
			return 0
		}
		if off >= len(src) {
			return len(sel)
		}
		return src[off]
	}
}

// String returns the selector as written.
func (s *Selector) String() string { return s.src }

// Select applies the selector to a decoded document (map[string]any,
// []any and scalars). A selector with "..", "*", a slice, a union or a
// filter always yields a list ([]any), even of one match; others yield the
// one matched value. ok is false when nothing matches.
//
// ".." and "*" visit the members of an object in key order (Go maps have
// none), so the resulting list is the same on every run; arrays keep their
// order.
func (s *Selector) Select(doc any) (any, bool) {
	if s.deep {
		doc = sortedView(doc)
	}
	res := s.expr.Get(doc)
	if len(res) == 0 {
		return nil, false
	}
	if !s.multi {
		return unview(res[0]), true
	}
	out := make([]any, len(res))
	for i, v := range res {
		out[i] = unview(v)
	}
	return out, true
}

// keyedView presents a map to jp with its keys sorted. Children are wrapped
// as they are reached, so only the visited part of a document is wrapped.
type keyedView struct {
	m    map[string]any
	keys []string
}

func (k *keyedView) ValueForKey(key string) (any, bool) {
	v, ok := k.m[key]
	return sortedView(v), ok
}

func (k *keyedView) Keys() []string { return k.keys }

// The setters are part of jp.Keyed; Get never calls them and the view is
// read-only.
func (k *keyedView) SetValueForKey(string, any) {}
func (k *keyedView) RemoveValueForKey(string)   {}

// indexedView wraps a list so that maps inside it are wrapped too.
type indexedView struct{ l []any }

func (x *indexedView) ValueAtIndex(i int) any {
	if i < 0 || i >= len(x.l) {
		return nil
	}
	return sortedView(x.l[i])
}

func (x *indexedView) Size() int                { return len(x.l) }
func (x *indexedView) SetValueAtIndex(int, any) {}

func sortedView(v any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return &keyedView{m: x, keys: keys}
	case []any:
		return &indexedView{l: x}
	}
	return v
}

func unview(v any) any {
	switch x := v.(type) {
	case *keyedView:
		return x.m
	case *indexedView:
		return x.l
	}
	return v
}

var (
	_ jp.Keyed   = (*keyedView)(nil)
	_ jp.Indexed = (*indexedView)(nil)
)
