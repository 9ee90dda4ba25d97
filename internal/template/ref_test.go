package template

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRefs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Ref
	}{
		{"no refs", "plain text", nil},
		{"tight", "{{InstanceId}}", []Ref{{Name: "InstanceId", Start: 0, End: 14}}},
		{"spaced", "{{ InstanceId }}", []Ref{{Name: "InstanceId", Start: 0, End: 16}}},
		{"step output", "{{ getInstance.InstanceId }}", []Ref{{Name: "getInstance.InstanceId", End: 28}}},
		{"loop iterator", "{{ loopName.CurrentIteratorValue }}", []Ref{{Name: "loopName.CurrentIteratorValue", End: 35}}},
		{"ssm", "{{ssm:/a/b}}", []Ref{{Namespace: NSSSM, Name: "/a/b", End: 12}}},
		{"key", "{{ key:db/password }}", []Ref{{Namespace: NSKey, Name: "db/password", End: 21}}},
		{"variable", "{{ variable:Counter }}", []Ref{{Namespace: NSVariable, Name: "Counter", End: 22}}},
		{"global", "{{global:REGION}}", []Ref{{Namespace: NSGlobal, Name: "REGION", End: 17}}},
		{"automation", "{{automation:EXECUTION_ID}}", []Ref{{Namespace: NSAutomation, Name: "EXECUTION_ID", End: 27}}},
		{"space after colon", "{{ global: REGION }}", []Ref{{Namespace: NSGlobal, Name: "REGION", End: 20}}},
		{"unknown namespace kept for the validator", "{{ssm-secure:/x}}", []Ref{{Namespace: "ssm-secure", Name: "/x", End: 17}}},
		{"embedded in an ARN", "arn:aws:iam::{{global:ACCOUNT_ID}}:role/x",
			[]Ref{{Namespace: NSGlobal, Name: "ACCOUNT_ID", Start: 13, End: 34}}},
		{"two refs", "UpdateLinuxAmi_from_{{SourceAmiId}}_on_{{global:DATE_TIME}}", []Ref{
			{Name: "SourceAmiId", Start: 20, End: 35},
			{Namespace: NSGlobal, Name: "DATE_TIME", Start: 39, End: 59},
		}},
		{"python format braces are text", `PH_TAG_VAL_STR = "{{{}}}"`, nil},
		{"startswith('{{') is text", `if x.startswith('{{'):`, nil},
		{"awk program is text", `awk '{{print $2}}'`, nil},
		{"ref after text braces", `"{{{}}}" {{ P }}`, []Ref{{Name: "P", Start: 9, End: 16}}},
		{"newline inside braces", "{{\n  P\n}}", []Ref{{Name: "P", End: 9}}},
		{"single braces", "{ P }", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Refs(tt.in)
			if err != nil {
				t.Fatalf("Refs(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Refs(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			for _, r := range got {
				if !strings.HasPrefix(tt.in[r.Start:r.End], "{{") || !strings.HasSuffix(tt.in[r.Start:r.End], "}}") {
					t.Errorf("offsets %d:%d do not cover the braces: %q", r.Start, r.End, tt.in[r.Start:r.End])
				}
			}
		})
	}
}

func TestRefsErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		offset int
		msg    string
		before int // references returned before the error
	}{
		{"unclosed", "abc {{ InstanceId", 4, "unclosed", 0},
		{"unclosed after a good ref", "{{ A }} {{B", 8, "unclosed", 1},
		{"empty", "x{{ }}", 1, "empty", 0},
		{"empty tight", "{{}}", 0, "empty", 0},
		{"nested", "{{ {{p}} }}", 0, "nested", 0},
		{"nested after name", "{{ a {{p}} }}", 0, "nested", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := Refs(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Refs(%q) error = %v, want *SyntaxError", tt.in, err)
			}
			if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got offset %d msg %q, want offset %d containing %q", se.Offset, se.Msg, tt.offset, tt.msg)
			}
			if len(refs) != tt.before {
				t.Errorf("got %d refs before the error, want %d", len(refs), tt.before)
			}
		})
	}
}

func TestNamespaceKnown(t *testing.T) {
	for _, tt := range []struct {
		ns   Namespace
		want bool
	}{{NSNone, true}, {NSGlobal, true}, {NSAutomation, true}, {NSVariable, true}, {NSSSM, true}, {NSKey, true}, {"ssm-secure", false}, {"foo", false}} {
		if got := tt.ns.Known(); got != tt.want {
			t.Errorf("Namespace(%q).Known() = %v, want %v", tt.ns, got, tt.want)
		}
	}
}

const corpusDir = "/work/shared/corpus"

// corpusStrings returns every string value in every runbook of the corpus.
func corpusStrings(t testing.TB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := filepath.Ext(path)
		if d.IsDir() || (ext != ".json" && ext != ".yaml" && ext != ".yml") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc any
		if ext == ".json" {
			err = json.Unmarshal(b, &doc)
		} else {
			err = yaml.Unmarshal(b, &doc)
		}
		if err != nil {
			return nil // a few community files are not runbooks; the parser's tests own them
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				out[path] = append(out[path], x)
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(doc)
		return nil
	})
	if err != nil {
		t.Fatalf("reading the corpus: %v", err)
	}
	if len(out) < 300 {
		t.Fatalf("read %d runbooks from %s, want the whole corpus", len(out), corpusDir)
	}
	return out
}

// Every runbook in the corpus runs on SSM. Refs must accept the script text
// that looks like braces, and reject only the one real typo AWS shipped.
func TestRefsCorpus(t *testing.T) {
	n := 0
	var rejected []string
	for path, strs := range corpusStrings(t) {
		for _, s := range strs {
			refs, err := Refs(s)
			if err != nil {
				rejected = append(rejected, filepath.Base(path))
				t.Logf("%s: %v in %.100q", filepath.Base(path), err, s)
			}
			n += len(refs)
		}
	}
	if want := []string{"AWSSupport-ConfigureTrafficMirroring.json"}; !reflect.DeepEqual(rejected, want) {
		t.Errorf("Refs rejected strings in %v, want only %v (its \"{{ automation:EXECUTION_ID }\" lacks a brace)", rejected, want)
	}
	if n < 4000 {
		t.Errorf("found %d references in the corpus, want thousands", n)
	}
	t.Logf("%d references", n)
}
