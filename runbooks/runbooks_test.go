package runbooks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/document"
)

// awsOwned is the read-only corpus of AWS-owned runbooks (JSON), by name,
// in the shared folder beside the repository.
const awsOwned = "../../shared/corpus/aws-owned"

// required are the runbooks the library promises.
var required = []string{
	"AWS-StartEC2Instance", "AWS-StopEC2Instance", "AWS-RestartEC2Instance", "AWS-TerminateEC2Instance",
	"AWS-AttachIAMToInstance", "AWS-CreateImage", "AWS-DeleteImage", "AWS-CreateSnapshot", "AWS-DeleteSnapshot",
	"Capstan-SetAutoScalingCapacity", "Capstan-QueryCloudWatchLogs",
	"Capstan-AthenaQuery", "Capstan-CreateLogStream", "Capstan-CreateInstanceFromSnapshot", "Capstan-ECSExecuteCommand",
	"Capstan-ECSStopTask", "Capstan-ECSStoppedTaskErrors", "Capstan-EnableVPCFlowLogs", "Capstan-CreateVPCPeering",
}

func load(t *testing.T, name string) *document.Document {
	t.Helper()
	src, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) found nothing", name)
	}
	doc, diags := document.Load(name+".yaml", src, action.Builtin())
	for _, d := range diags {
		t.Errorf("%s", d)
	}
	if doc == nil {
		t.Fatalf("%s did not load", name)
	}
	return doc
}

func TestLibraryValidates(t *testing.T) {
	names := Names()
	for _, n := range required {
		if !slices.Contains(names, n) {
			t.Errorf("library lacks %s (has %v)", n, names)
		}
	}
	for _, name := range names {
		doc := load(t, name)
		if doc.SchemaVersion != "0.3" {
			t.Errorf("%s: schemaVersion %q", name, doc.SchemaVersion)
		}
		if doc.AssumeRole != "{{ AutomationAssumeRole }}" {
			t.Errorf("%s: assumeRole %q", name, doc.AssumeRole)
		}
		var role *document.Parameter
		for _, p := range doc.Parameters {
			if p.Name == "AutomationAssumeRole" {
				role = p
			}
		}
		if role == nil || role.Type != "String" || !role.HasDefault || role.Default != "" {
			t.Errorf("%s: AutomationAssumeRole must be a String defaulting to \"\", got %+v", name, role)
		}
		if strings.TrimSpace(doc.Description) == "" {
			t.Errorf("%s: no description", name)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, bad := range []string{"", "nope", "../runbooks", "AWS-StartEC2Instance.yaml", "runbooks_test.go"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found something", bad)
		}
	}
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(f, ".yaml"))
	}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want the yaml files %v", got, want)
	}
}

// TestSameParametersAsAWS compares each library runbook with the AWS-owned
// runbook of the same name, when the corpus has it: a user's parameters
// must carry over unchanged.
func TestSameParametersAsAWS(t *testing.T) {
	compared := 0
	for _, name := range Names() {
		raw, err := os.ReadFile(filepath.Join(awsOwned, name+".json"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var aws struct {
			Parameters map[string]struct {
				Type string `json:"type"`
			} `json:"parameters"`
			Outputs []string `json:"outputs"`
		}
		if err := json.Unmarshal(raw, &aws); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		compared++
		doc := load(t, name)
		ours := map[string]string{}
		for _, p := range doc.Parameters {
			ours[p.Name] = string(p.Type)
		}
		for pn, p := range aws.Parameters {
			if got, ok := ours[pn]; !ok {
				t.Errorf("%s: AWS's parameter %s (%s) is missing", name, pn, p.Type)
			} else if got != p.Type {
				t.Errorf("%s: parameter %s is %s, AWS's is %s", name, pn, got, p.Type)
			}
		}
		for pn := range ours {
			if _, ok := aws.Parameters[pn]; !ok {
				t.Errorf("%s: parameter %s is not in AWS's runbook", name, pn)
			}
		}
		var outs []string
		for _, o := range doc.Outputs {
			outs = append(outs, o.Step+"."+o.Output)
		}
		for _, o := range aws.Outputs {
			if !slices.Contains(outs, o) {
				t.Errorf("%s: AWS's output %s is missing (have %v)", name, o, outs)
			}
		}
	}
	if compared < 4 {
		t.Errorf("compared %d runbooks with the corpus in %s; expected at least 4", compared, awsOwned)
	}
}

// TestCapstanParametersForm checks that every parameter of capstan's own
// runbooks tells the user what to enter (the UI builds its form from these):
// a description, and an allowed pattern or allowed values for all but
// Booleans; a pattern must accept the parameter's default, and reject an
// empty value when the parameter is required.
func TestCapstanParametersForm(t *testing.T) {
	for _, name := range Names() {
		if !strings.HasPrefix(name, "Capstan-") {
			continue
		}
		doc := load(t, name)
		for _, p := range doc.Parameters {
			if strings.TrimSpace(p.Description) == "" {
				t.Errorf("%s: parameter %s has no description", name, p.Name)
			}
			if p.Type == "Boolean" || len(p.AllowedValues) > 0 {
				continue
			}
			if p.AllowedPattern == "" {
				t.Errorf("%s: parameter %s (%s) has neither allowedPattern nor allowedValues", name, p.Name, p.Type)
				continue
			}
			re, err := regexp.Compile(p.AllowedPattern)
			if err != nil {
				t.Errorf("%s: parameter %s: %v", name, p.Name, err)
				continue
			}
			if p.HasDefault && !re.MatchString(fmt.Sprint(p.Default)) {
				t.Errorf("%s: parameter %s: default %v does not match %s", name, p.Name, p.Default, p.AllowedPattern)
			}
			if !p.HasDefault && re.MatchString("") {
				t.Errorf("%s: required parameter %s: pattern %s accepts an empty value", name, p.Name, p.AllowedPattern)
			}
		}
	}
}
