package awsmodel

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDataMatchesBotocore rereads botocore's models (installed on every
// machine of this project with the aws CLI) and checks that the embedded
// data holds the same operations and shapes, with the same members, as the
// version it was generated from: a stale or truncated generation fails here.
func TestDataMatchesBotocore(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		t.Fatalf("botocore is installed on every machine of this project; locating it failed: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data")
	entries, err := data.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 400 {
		t.Fatalf("%d models embedded, want every botocore service", len(entries))
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".gz")
		m, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f, err := os.Open(filepath.Join(dir, name, m.Metadata.APIVersion, "service-2.json.gz"))
		if err != nil {
			t.Errorf("%s: %v (regenerate with go generate ./internal/awsmodel/)", name, err)
			continue
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var boto struct {
			Operations map[string]json.RawMessage `json:"operations"`
			Shapes     map[string]struct {
				Members map[string]json.RawMessage `json:"members"`
			} `json:"shapes"`
		}
		err = json.NewDecoder(zr).Decode(&boto)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(boto.Operations) != len(m.operations) || len(boto.Shapes) != len(m.shapes) {
			t.Errorf("%s: %d operations and %d shapes, botocore has %d and %d", name, len(m.operations), len(m.shapes), len(boto.Operations), len(boto.Shapes))
			continue
		}
		for op := range boto.Operations {
			if m.Operation(op) == nil {
				t.Errorf("%s: operation %s missing", name, op)
			}
		}
		for sn, bs := range boto.Shapes {
			sh := m.Shape(sn)
			if sh == nil {
				t.Errorf("%s: shape %s missing", name, sn)
				continue
			}
			var got, want []string
			for k := range sh.Members {
				got = append(got, k)
			}
			for k := range bs.Members {
				want = append(want, k)
			}
			if len(got) != len(want) {
				t.Errorf("%s: shape %s has members %v, botocore %v", name, sn, got, want)
			}
		}
	}
}

func TestLoadUnknown(t *testing.T) {
	if _, err := Load("nosuchservice"); err == nil || !reflect.DeepEqual(err.Error(), "nosuchservice: no model for service") {
		t.Errorf("Load(nosuchservice) = %v", err)
	}
}
