// Package runbooktest runs runbook tests offline: a test file names a
// runbook, its parameters, mocks answering its AWS calls in order, and the
// result expected. No endpoint, no credentials and no network are used;
// sleeps and waits take no time.
package runbooktest

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/mock"
)

// File is one parsed test file.
type File struct {
	Path string
	// Runbook is as written: a path relative to the test file, or the name
	// of a library runbook.
	Runbook    string
	Parameters map[string]any
	Mocks      []*mock.Mock
	Expect     Expect

	lines map[string]int // line of each key ("runbook", "expect.steps.note", ...)
}

// Expect is the expected result.
type Expect struct {
	Status string
	// Outputs are the runbook outputs ("step.Output"); a scalar stands for
	// a one-element list.
	Outputs map[string]any
	// Steps are step statuses by name; Pending means the step never ran.
	Steps map[string]string
}

// Statuses an execution or a step may be expected to end with.
var statuses = []string{"Success", "Failed", "Cancelled", "TimedOut", "Pending"}

// Error places a problem in a test file.
type Error = mock.FileError

// Parse reads a test file.
func Parse(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &Error{File: path, Err: err}
	}
	f := &File{Path: path, lines: map[string]int{}}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: 1, Err: fmt.Errorf("expected a mapping with runbook, parameters, mocks and expect")}
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		f.lines[k.Value] = k.Line
		var err error
		switch k.Value {
		case "runbook":
			err = v.Decode(&f.Runbook)
		case "parameters":
			err = v.Decode(&f.Parameters)
			f.Parameters = mock.Normalize(f.Parameters)
		case "mocks":
			if f.Mocks, err = mock.FromNode(path, v); err != nil {
				return nil, err
			}
		case "expect":
			err = f.expect(v)
		default:
			err = fmt.Errorf("unknown key %q (expected runbook, parameters, mocks, expect)", k.Value)
		}
		if err != nil {
			return nil, &Error{File: path, Line: k.Line, Err: err}
		}
	}
	if f.Runbook == "" {
		return nil, &Error{File: path, Line: 1, Err: fmt.Errorf("runbook: required (a path relative to the test file, or a library runbook's name)")}
	}
	if f.Expect.Status == "" && f.Expect.Outputs == nil && f.Expect.Steps == nil {
		return nil, &Error{File: path, Line: 1, Err: fmt.Errorf("expect: required (status, outputs and/or steps)")}
	}
	return f, nil
}

func (f *File) expect(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("expect: expected a mapping of status, outputs, steps")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f.lines["expect."+k.Value] = k.Line
		switch k.Value {
		case "status":
			if err := v.Decode(&f.Expect.Status); err != nil {
				return err
			}
			if !slices.Contains(statuses[:4], f.Expect.Status) {
				return fmt.Errorf("expect.status: %q is not one of %s", f.Expect.Status, strings.Join(statuses[:4], ", "))
			}
		case "outputs":
			if err := v.Decode(&f.Expect.Outputs); err != nil {
				return fmt.Errorf("expect.outputs: %w", err)
			}
			f.Expect.Outputs = mock.Normalize(f.Expect.Outputs)
			f.keyLines("expect.outputs.", v)
		case "steps":
			if err := v.Decode(&f.Expect.Steps); err != nil {
				return fmt.Errorf("expect.steps: %w", err)
			}
			f.keyLines("expect.steps.", v)
			for name, s := range f.Expect.Steps {
				if !slices.Contains(statuses, s) {
					return fmt.Errorf("expect.steps.%s: %q is not one of %s", name, s, strings.Join(statuses, ", "))
				}
			}
		default:
			return fmt.Errorf("expect: unknown key %q (expected status, outputs, steps)", k.Value)
		}
	}
	return nil
}

func (f *File) keyLines(prefix string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f.lines[prefix+n.Content[i].Value] = n.Content[i].Line
	}
}

// checkNames refuses expectations naming steps the runbook does not have.
func (f *File) checkNames(doc *document.Document) error {
	names := doc.StepNames()
	unknown := func(key, step string) error {
		return &Error{File: f.Path, Line: f.lines[key], Err: fmt.Errorf("%s: %s", key, doc.NoStep(step))}
	}
	for _, name := range sortedKeys(f.Expect.Steps) {
		if !slices.Contains(names, name) {
			return unknown("expect.steps."+name, name)
		}
	}
	for _, key := range sortedKeys(f.Expect.Outputs) {
		step, _, ok := strings.Cut(key, ".")
		if !ok {
			return &Error{File: f.Path, Line: f.lines["expect.outputs."+key], Err: fmt.Errorf("expect.outputs.%s: expected step.Output", key)}
		}
		if !slices.Contains(names, step) {
			return unknown("expect.outputs."+key, step)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
