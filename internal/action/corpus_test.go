package action

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// corpusDir holds real runbooks (AWS-owned and community), shared read-only.
const corpusDir = "../../../shared/corpus"

// TestCorpusInputsAreDeclared: every input key a real runbook gives a
// declared action must be declared, or validation would reject runbooks SSM
// accepts. Actions with open inputs (the API request fields) are exempt.
func TestCorpusInputsAreDeclared(t *testing.T) {
	r := Builtin()
	var files, steps int
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".json" && ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc map[string]any
		if ext == ".json" {
			err = json.Unmarshal(data, &doc)
		} else {
			err = yaml.Unmarshal(data, &doc)
		}
		if err != nil || doc["schemaVersion"] != "0.3" {
			return nil // not an Automation runbook, or not ours to judge here
		}
		files++
		steps += checkSteps(t, r, path, doc["mainSteps"])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 200 {
		t.Fatalf("read only %d runbooks from %s; the corpus is missing", files, corpusDir)
	}
	t.Logf("checked %d steps in %d runbooks", steps, files)
}

func checkSteps(t *testing.T, r *Registry, path string, v any) int {
	list, _ := v.([]any)
	n := 0
	for _, s := range list {
		step, ok := s.(map[string]any)
		if !ok {
			continue
		}
		name, _ := step["action"].(string)
		e, ok := r.Lookup(name)
		if !ok {
			t.Errorf("%s: step %v: action %q is not declared", path, step["name"], name)
			continue
		}
		n++
		inputs, _ := step["inputs"].(map[string]any)
		if !e.Spec.OpenInputs {
			for k := range inputs {
				if _, ok := e.Spec.Input(k); !ok {
					t.Errorf("%s: step %v: %s input %q is not declared", path, step["name"], name, k)
				}
			}
		}
		if e.Spec.NestedSteps {
			n += checkSteps(t, r, path, inputs["Steps"])
		}
		if outs, _ := step["outputs"].([]any); len(outs) > 0 && !e.Spec.UserOutputs {
			t.Errorf("%s: step %v: %s does not take user outputs, the runbook declares some", path, step["name"], name)
		}
	}
	return n
}
