package awsapi

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsservice"
)

type botoModel struct {
	Operations map[string]struct {
		Input  *struct{ Shape string } `json:"input"`
		Output *struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]struct {
		Type    string                            `json:"type"`
		Members map[string]struct{ Shape string } `json:"members"`
		Member  *struct{ Shape string }           `json:"member"`
		Value   *struct{ Shape string }           `json:"value"`
	} `json:"shapes"`
}

// TestNamesMatchBotocore walks every operation's Go input and output types
// alongside botocore's shapes and checks that each Go field comes out under
// the model's member name: the generated table and the runtime mapping
// together are what runbook selectors see.
func TestNamesMatchBotocore(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		t.Fatalf("botocore is installed on every machine of this project; locating it failed: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	checked := 0
	for _, name := range Services() {
		svc, _ := awsservice.Lookup(name)
		m := loadBoto(t, filepath.Join(dir, "data", svc.Name, svc.APIVersion))
		ct := reflect.TypeOf(factories[name](testConfig("http://127.0.0.1:1")))
		seen := map[reflect.Type]bool{}
		var walk func(path string, gt reflect.Type, shape string)
		walk = func(path string, gt reflect.Type, shapeName string) {
			for gt.Kind() == reflect.Pointer {
				gt = gt.Elem()
			}
			sh, ok := m.Shapes[shapeName]
			if !ok {
				return
			}
			switch {
			case gt.Kind() == reflect.Slice && sh.Member != nil:
				walk(path+"[]", gt.Elem(), sh.Member.Shape)
			case gt.Kind() == reflect.Map && sh.Value != nil:
				walk(path+"{}", gt.Elem(), sh.Value.Shape)
			case gt.Kind() == reflect.Struct && gt != timeType && sh.Type == "structure":
				if seen[gt] {
					return
				}
				seen[gt] = true
				s := shapeOf(name, gt)
				for _, f := range s.fields {
					gf := gt.Field(f.index)
					if mem, ok := sh.Members[f.model]; ok {
						checked++
						walk(path+"."+f.model, gf.Type, mem.Shape)
						continue
					}
					for mn := range sh.Members {
						if strings.EqualFold(mn, gf.Name) {
							t.Errorf("%s %s: Go field %s comes out as %q, model says %q", name, path, gf.Name, f.model, mn)
						}
					}
					// Otherwise the SDK is newer than botocore: a member
					// botocore does not know yet.
				}
			}
		}
		for opName, op := range m.Operations {
			meth, ok := ct.MethodByName(opName)
			if !ok {
				continue // botocore newer than the SDK
			}
			if op.Input != nil {
				walk(opName+"Input", meth.Type.In(2), op.Input.Shape)
			}
			if op.Output != nil {
				walk(opName+"Output", meth.Type.Out(0), op.Output.Shape)
			}
		}
	}
	if checked < 10000 {
		t.Errorf("checked only %d members", checked)
	}
	t.Logf("checked %d struct members", checked)
}

func loadBoto(t *testing.T, dir string) *botoModel {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "service-2.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var m botoModel
	if err := json.NewDecoder(gz).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, service, api string
		input              map[string]any
		wantErr            string
	}{
		{"literal input fits", "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"i-1"}}, ""},
		{"templates are skipped", "ec2", "DescribeInstances", map[string]any{"InstanceIds": "{{ InstanceIds }}", "MaxResults": "{{ n }}"}, ""},
		{"template inside a list", "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"{{ Id }}"}}, ""},
		{"typo", "ec2", "DescribeInstances", map[string]any{"InstanceIdz": []any{"i-1"}}, `unknown field "InstanceIdz" (did you mean "InstanceIds"?)`},
		{"wrong integer", "ec2", "DescribeInstances", map[string]any{"MaxResults": "ten"}, `MaxResults: expected an integer, got string "ten"`},
		{"nested path", "ssm", "SendCommand", map[string]any{"DocumentName": "d", "Parameters": map[string]any{"commands": "ls"}}, `Parameters.commands: expected a list of strings`},
		{"union member", "dynamodb", "GetItem", map[string]any{"TableName": "t", "Key": map[string]any{"pk": map[string]any{"Q": "x"}}}, `Key.pk: unknown union member "Q"`},
		{"camelCase op", "sns", "publish", map[string]any{"TopicArn": "arn", "Message": "m"}, ""},
		{"service without client", "migration-hub-refactor-spaces", "ListApplications", nil, "not supported"},
		{"unknown service", "ec3", "DescribeInstances", nil, "unknown service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.service, tc.api, tc.input)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
