package runbooktest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsservice"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/mock"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

// corpusDir holds real runbooks (AWS-owned and community), shared read-only.
const corpusDir = "../../../shared/corpus"

// TestCorpusWithGeneratedMocks writes a test for every corpus runbook that
// needs no script, with mocks generated from its steps (responses holding
// the properties its selectors and waits look for), runs each once to learn
// its result, then runs them all again expecting that result: a run with
// the same mocks must end the same way. It logs the tests per second of
// the second pass.
func TestCorpusWithGeneratedMocks(t *testing.T) {
	reg := action.Builtin()
	dir := t.TempDir()
	var files []string
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".json" && ext != ".yaml" && ext != ".yml" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, diags := document.Load(path, src, reg)
		if doc == nil || document.HasErrors(diags) || usesScripts(doc.MainSteps, reg) {
			return nil
		}
		abs, _ := filepath.Abs(path)
		test := generate(t, abs, doc, reg)
		if test == nil {
			return nil
		}
		f := filepath.Join(dir, fmt.Sprintf("t%03d.test.yaml", len(files)))
		if err := os.WriteFile(f, test, 0o600); err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("only %d corpus runbooks without scripts; the corpus is missing", len(files))
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := &Runner{Actions: reg, Store: db, Timeout: 5 * time.Second}
	ctx := context.Background()
	// First pass: learn each test's result.
	statuses := map[string]int{}
	for _, f := range files {
		res := r.Run(ctx, f)
		status := "Success"
		for _, p := range res.Problems {
			if s, ok := strings.CutPrefix(p, "status "); ok {
				status, _, _ = strings.Cut(s, ",")
			}
		}
		statuses[status]++
		b, _ := os.ReadFile(f)
		if err := os.WriteFile(f, []byte(strings.Replace(string(b), "status: Success", "status: "+status, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	passed := 0
	var skipped time.Duration
	for _, f := range files {
		res := r.Run(ctx, f)
		skipped += res.Skipped
		if res.Passed {
			passed++
		} else {
			t.Errorf("second run differs from the first: %s", res)
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d corpus tests with generated mocks (ending %v), %d passed, in %s: %.1f tests/s, %s of waiting skipped", len(files), statuses, passed, elapsed.Round(time.Millisecond), float64(len(files))/elapsed.Seconds(), skipped.Round(time.Hour))
}

// generate writes a test of doc: placeholder parameters, a mock for every
// operation its steps call, expecting Success (fixed after the first run).
func generate(t *testing.T, runbook string, doc *document.Document, reg *action.Registry) []byte {
	params := map[string]any{}
	for _, p := range doc.Parameters {
		if p.HasDefault {
			continue
		}
		placeholder := "x-1"
		switch {
		case len(p.AllowedValues) > 0:
			placeholder = fmt.Sprint(p.AllowedValues[0])
		case strings.Contains(string(p.Type), "Role::Arn") || strings.Contains(p.Name, "AssumeRole") || strings.HasSuffix(p.Name, "RoleArn"):
			placeholder = "arn:aws:iam::123456789012:role/runbook"
		case strings.Contains(string(p.Type), "Instance::Id") || strings.HasPrefix(p.Name, "InstanceId"):
			placeholder = "i-0123456789abcdef0"
		}
		switch {
		case p.Type.IsList():
			params[p.Name] = []any{placeholder}
		case p.Type == "Integer":
			params[p.Name] = 1
		case p.Type == "Boolean":
			params[p.Name] = true
		case p.Type == "StringMap":
			params[p.Name] = map[string]any{}
		case p.Type == "MapList":
			params[p.Name] = []any{}
		default:
			params[p.Name] = placeholder
		}
	}
	if _, err := doc.Coerce(document.Inputs{Typed: params}); err != nil {
		// Placeholders its patterns refuse: not a runbook this test can run.
		return nil
	}
	var mocks []*mock.Mock
	var walk func([]*document.Step)
	walk = func(steps []*document.Step) {
		for _, s := range steps {
			walk(s.Steps)
			e, ok := reg.Lookup(s.Action)
			if !ok {
				continue
			}
			svc, _ := s.Inputs["Service"].(string)
			api, _ := s.Inputs["Api"].(string)
			if svc != "" && api != "" && !strings.Contains(svc+api, "{{") {
				m := &mock.Mock{Service: svc, API: api, Response: map[string]any{}}
				if sel, ok := s.Inputs["PropertySelector"].(string); ok {
					want := "x"
					if d, ok := s.Inputs["DesiredValues"].([]any); ok && len(d) > 0 {
						want = fmt.Sprint(d[0])
					}
					put(m.Response, sel, want)
				}
				for _, o := range s.Outputs {
					put(m.Response, o.Selector, "x")
				}
				if m.Check() != nil {
					m.Response = map[string]any{}
				}
				if m.Check() == nil {
					mocks = append(mocks, m)
				}
				continue
			}
			acts, _ := e.Spec.IAM(s.Inputs)
			for _, a := range acts {
				prefix, op, _ := strings.Cut(a, ":")
				for _, sv := range awsservice.All() {
					if o, ok := sv.Operation(op); ok && sv.IAMPrefix == prefix {
						mocks = append(mocks, &mock.Mock{Service: sv.Name, API: o, Response: map[string]any{}})
						break
					}
				}
			}
		}
	}
	walk(doc.MainSteps)
	out, err := yaml.Marshal(map[string]any{
		"runbook":    runbook,
		"parameters": params,
		"mocks":      mocks,
		"expect":     map[string]any{"status": "Success"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// put sets the value a simple selector ($.A.B[0].C) reads.
func put(root map[string]any, sel string, v any) {
	path := strings.TrimPrefix(strings.TrimPrefix(sel, "$"), ".")
	if path == "" || strings.ContainsAny(path, "*?()'\"") || strings.Contains(path, "..") {
		return
	}
	cur := root
	parts := strings.Split(path, ".")
	for i, part := range parts {
		name, idx, list := strings.Cut(part, "[")
		last := i == len(parts)-1
		if !list {
			if last {
				cur[name] = v
				return
			}
			next, ok := cur[name].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[name] = next
			}
			cur = next
			continue
		}
		if idx != "0]" {
			return
		}
		l, ok := cur[name].([]any)
		if !ok || len(l) == 0 {
			l = []any{map[string]any{}}
			cur[name] = l
		}
		if last {
			l[0] = v
			return
		}
		next, ok := l[0].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
}
