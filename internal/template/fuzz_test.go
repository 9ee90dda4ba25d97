package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/value"
	"gopkg.in/yaml.v3"
)

// corpusSeeds returns up to n corpus strings holding "{{", shortest first
// so that the fuzzer starts from readable inputs.
func corpusSeeds(t testing.TB, n int) []string {
	seen := map[string]bool{}
	var out []string
	for _, strs := range corpusStrings(t) {
		for _, s := range strs {
			if strings.Contains(s, "{{") && len(s) < 400 && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) < len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out[:min(n, len(out))]
}

// corpusSelectors returns every Selector and PropertySelector in the corpus.
func corpusSelectors(t testing.TB) []string {
	t.Helper()
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "Selector" || k == "PropertySelector") {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc any
		switch filepath.Ext(path) {
		case ".json":
			_ = json.Unmarshal(b, &doc)
		case ".yaml", ".yml":
			_ = yaml.Unmarshal(b, &doc)
		}
		walk(doc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The selectors of real runbooks must all parse, or those runbooks fail.
func TestCorpusSelectorsParse(t *testing.T) {
	sels := corpusSelectors(t)
	if len(sels) < 1000 {
		t.Fatalf("found %d selectors in the corpus, want over a thousand", len(sels))
	}
	for _, s := range sels {
		if _, err := ParseSelector(s); err != nil {
			t.Errorf("corpus selector: %v", err)
		}
	}
}

func FuzzRefs(f *testing.F) {
	for _, s := range corpusSeeds(f, 200) {
		f.Add(s)
	}
	f.Add("{{ {{p}} }}")
	f.Add("{{")
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := Refs(s)
		prev := 0
		for _, r := range refs {
			if r.Start < prev || r.End <= r.Start || r.End > len(s) {
				t.Fatalf("bad offsets %d:%d after %d in %q", r.Start, r.End, prev, s)
			}
			prev = r.End
			text := s[r.Start:r.End]
			one, err := Refs(text)
			if err != nil || len(one) != 1 || one[0].Name != r.Name || one[0].Namespace != r.Namespace {
				t.Fatalf("reference %q alone gives %+v, %v; want %+v", text, one, err, r)
			}
			again, err := Refs(r.String())
			if err != nil || len(again) != 1 || again[0].Name != r.Name || again[0].Namespace != r.Namespace {
				t.Fatalf("canonical form %q gives %+v, %v", r.String(), again, err)
			}
		}
		if err == nil && !strings.Contains(s, "{{") && len(refs) != 0 {
			t.Fatalf("refs without braces in %q", s)
		}
		// A resolver that gives each reference back as written leaves s
		// as it was.
		got, rerr := Render(s, ResolverFunc(func(r Ref) (any, error) { return s[r.Start:r.End], nil }))
		if rerr != nil || got != s {
			t.Fatalf("identity Render(%q) = %q, %v", s, got, rerr)
		}
	})
}

func FuzzSubstitute(f *testing.F) {
	for _, s := range corpusSeeds(f, 200) {
		f.Add(s)
	}
	f.Add("{{ InstanceIds }}")
	f.Fuzz(func(t *testing.T, s string) {
		// Typed values chosen by the name's length, so every kind occurs.
		kinds := []any{"str", int64(4), true, []any{"a", "b"}, map[string]any{"k": "v"}, 1.5, nil}
		r := ResolverFunc(func(ref Ref) (any, error) { return kinds[len(ref.Name)%len(kinds)], nil })
		got, err := Substitute(s, r)
		if err != nil {
			t.Fatalf("Substitute(%q): %v", s, err)
		}
		refs, _ := scanAll(s)
		if len(refs) == 0 {
			if got != s {
				t.Fatalf("Substitute(%q) without references = %#v", s, got)
			}
			if out, err := Render(s, r); err != nil || out != s {
				t.Fatalf("Render(%q) without references = %q, %v", s, out, err)
			}
		}
		if _, whole := wholeRef(s); !whole {
			if _, ok := got.(string); !ok {
				t.Fatalf("Substitute(%q) with text around references gave %T", s, got)
			}
		}
		list, err := Substitute([]any{s, s}, r)
		if err != nil {
			t.Fatal(err)
		}
		if l := list.([]any); len(l)%2 != 0 {
			t.Fatalf("two equal elements substituted to an odd count: %#v", l)
		}
	})
}

// scanAll is the lenient scan Substitute uses.
func scanAll(s string) ([]Ref, error) {
	var refs []Ref
	err := scan(s, true, func(r Ref) { refs = append(refs, r) })
	return refs, err
}

func FuzzSelector(f *testing.F) {
	for _, s := range corpusSelectors(f) {
		f.Add(s)
	}
	f.Add("$..[?(@.Key=='Name')].Value")
	var doc any
	if err := json.Unmarshal([]byte(describeInstances), &doc); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sel string) {
		s, err := ParseSelector(sel)
		if err != nil {
			if _, ok := err.(*SelectorError); !ok {
				t.Fatalf("ParseSelector(%q) error %T, want *SelectorError", sel, err)
			}
			return
		}
		a, okA := s.Select(doc)
		b, okB := s.Select(doc)
		if okA != okB || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q selects %#v then %#v", sel, a, b)
		}
		if okA && s.multi {
			if _, isList := a.([]any); !isList {
				t.Fatalf("%q is multi-valued but gave %T", sel, a)
			}
		}
		for _, typ := range value.Types {
			if v, err := Convert(a, typ); err == nil {
				if cerr := value.Check(v, typ); cerr != nil {
					t.Fatalf("Convert(%#v, %s) = %#v, which fails value.Check: %v", a, typ, v, cerr)
				}
			}
		}
	})
}
