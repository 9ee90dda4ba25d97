package mock

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/value"
)

// FileError places a problem in a mocks or test file.
type FileError struct {
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Load reads a YAML or JSON list of mocks (the --dry-run-responses file) and
// checks each against the service model.
func Load(path string) ([]*Mock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &FileError{File: path, Err: err}
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	return FromNode(path, root.Content[0])
}

// FromNode decodes a YAML sequence of mocks, checking each and naming the
// line of the first that is wrong.
func FromNode(file string, n *yaml.Node) ([]*Mock, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, &FileError{File: file, Line: n.Line, Err: fmt.Errorf("expected a list of mocks ({service, api, match, response | error})")}
	}
	out := make([]*Mock, 0, len(n.Content))
	for _, item := range n.Content {
		var m Mock
		if err := item.Decode(&m); err != nil {
			return nil, &FileError{File: file, Line: item.Line, Err: err}
		}
		if err := knownKeys(item, "service", "api", "match", "response", "error"); err != nil {
			return nil, &FileError{File: file, Line: item.Line, Err: err}
		}
		m.Match = Normalize(m.Match)
		m.Response = Normalize(m.Response)
		if err := m.Check(); err != nil {
			return nil, &FileError{File: file, Line: item.Line, Err: err}
		}
		out = append(out, &m)
	}
	return out, nil
}

// knownKeys refuses a mapping key that is not one of keys, so a misspelt
// "respone" is not silently a mock without a response.
func knownKeys(n *yaml.Node, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("expected a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		ok := false
		for _, want := range keys {
			ok = ok || k == want
		}
		if !ok {
			return fmt.Errorf("unknown key %q (expected one of %v)", k, keys)
		}
	}
	return nil
}

// Normalize gives a map read from YAML the numbers of decoded values
// (int64); nil stays nil.
func Normalize(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return value.FromYAML(m).(map[string]any)
}
