package template

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/capstan-run/capstan/internal/value"
)

// describeInstances is shaped like an EC2 DescribeInstances response.
const describeInstances = `{
  "Reservations": [{"Instances": [{
    "InstanceId": "i-1", "State": {"Name": "running", "Code": 16}, "EbsOptimized": false,
    "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "env", "Value": "prod"}],
    "BlockDeviceMappings": [
      {"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-1", "Status": "attached"}},
      {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeId": "vol-2", "Status": "attached"}}]}]},
    {"Instances": [{"InstanceId": "i-2", "State": {"Name": "stopped", "Code": 80}}]}],
  "Stacks": [{"Outputs": [{"OutputKey": "LambdaFunctionName", "OutputValue": "fn"}, {"OutputKey": "Other", "OutputValue": "o"}]}],
  "Members": {"zeta": {"Id": "z"}, "alpha": {"Id": "a"}, "mid": {"Id": "m"}, "beta": {"Id": "b"}},
  "Quoted": {"step.ImageId": ["ami-1"]},
  "Nothing": null
}`

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSelect(t *testing.T) {
	doc := decode(t, describeInstances)
	tests := []struct {
		sel    string
		want   string // JSON of the match
		wantOK bool
	}{
		{"$.Reservations[0].Instances[0].InstanceId", `"i-1"`, true},
		{"$.Reservations[0].Instances[0].State.Code", `16`, true},
		{"$.Reservations[0].Instances[0].EbsOptimized", `false`, true},
		{"$.Reservations[0].Instances[0].BlockDeviceMappings[0]", `{"DeviceName":"/dev/xvda","Ebs":{"Status":"attached","VolumeId":"vol-1"}}`, true},
		{"$.Reservations[0].Instances[0].BlockDeviceMappings[-1].Ebs.VolumeId", `"vol-2"`, true},
		{"$.Reservations..BlockDeviceMappings..VolumeId", `["vol-1","vol-2"]`, true},
		{"$..InstanceId", `["i-1","i-2"]`, true},
		{"$.Reservations[*].Instances[*].InstanceId", `["i-1","i-2"]`, true},
		{"$.Reservations[1].Instances[*].InstanceId", `["i-2"]`, true},
		{"$..Tags[?(@.Key == 'Name')].Value", `["web"]`, true},
		{"$.Stacks[0].Outputs[?(@.OutputKey == 'LambdaFunctionName')].OutputValue", `["fn"]`, true},
		{"$.Reservations[0].Instances[0].BlockDeviceMappings[0:1].DeviceName", `["/dev/xvda"]`, true},
		{"$.Members.*.Id", `["a","b","m","z"]`, true},
		{"$.Members..Id", `["a","b","m","z"]`, true},
		{"$.Nothing", `null`, true},
		{"$.Missing", ``, false},
		{"Reservations[0].Instances[0].State.Name", `"running"`, true},
		{".Reservations[1].Instances[0].InstanceId", `"i-2"`, true},
		{"$.Quoted.'step.ImageId'[0]", `"ami-1"`, true},
		{"$.Quoted['step.ImageId'][0]", `"ami-1"`, true},
		{"$.Reservations[7]", ``, false},
		{"$..NoSuchKey", ``, false},
		{"$.Stacks[0].Outputs[?(@.OutputKey == 'x')].OutputValue", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			s, err := ParseSelector(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Select(doc)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (got %#v)", ok, tt.wantOK, got)
			}
			if !ok {
				return
			}
			if want := decode(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Fatalf("Select = %#v, want %s", got, tt.want)
			}
		})
	}
}

// Object members come out in key order on every run, whatever Go's map
// iteration order.
func TestSelectDeterministicOverObjects(t *testing.T) {
	s, err := ParseSelector("$..Id")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		doc := decode(t, `{"q":{"Id":1},"c":{"Id":2},"x":{"Id":3},"a":{"Id":4},"k":{"Id":5},"f":{"Id":6}}`)
		got, _ := s.Select(doc)
		if want := []any{4.0, 2.0, 6.0, 5.0, 1.0, 3.0}; !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: %v, want %v", i, got, want)
		}
	}
}

func TestSelectReturnsTheDocumentsOwnValues(t *testing.T) {
	doc := decode(t, describeInstances)
	s, _ := ParseSelector("$..BlockDeviceMappings")
	got, _ := s.Select(doc)
	l := got.([]any)
	if _, ok := l[0].([]any); !ok {
		t.Fatalf("deep match is %T, want the plain []any of the document", l[0])
	}
	m := l[0].([]any)[0]
	if _, ok := m.(map[string]any); !ok {
		t.Fatalf("element is %T, want map[string]any", m)
	}
}

func TestParseSelectorErrors(t *testing.T) {
	tests := []struct {
		sel    string
		offset int
	}{
		{"", 0},
		{"   ", 0},
		{"Reservations[0]]", 15},
		{"$.Outputs.'a.b'[", 16},
		{"$.[", 3},
		{"$.a]", 3},
		{"$['a", 4},
		{"$.a[?(@.x==]", 11},
	}
	for _, tt := range tests {
		_, err := ParseSelector(tt.sel)
		var se *SelectorError
		if !errors.As(err, &se) {
			t.Errorf("ParseSelector(%q) = %v, want *SelectorError", tt.sel, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(err.Error(), "offset") {
			t.Errorf("ParseSelector(%q): offset %d (%v), want %d", tt.sel, se.Offset, err, tt.offset)
		}
	}
}

func TestParseSelectorCachedAndConcurrent(t *testing.T) {
	a, _ := ParseSelector("$.Reservations[0].Instances[0].InstanceId")
	b, _ := ParseSelector("$.Reservations[0].Instances[0].InstanceId")
	if a != b {
		t.Error("the same selector parsed twice is not cached")
	}
	doc := decode(t, describeInstances)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := ParseSelector("$.Members..Id")
			if err != nil {
				t.Error(err)
				return
			}
			if got, _ := s.Select(doc); !reflect.DeepEqual(got, []any{"a", "b", "m", "z"}) {
				t.Errorf("concurrent Select = %v", got)
			}
		}()
	}
	wg.Wait()
}

func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		in   any
		typ  value.Type
		want any
	}{
		{"string", "i-1", value.String, "i-1"},
		{"integer to string", int64(16), value.String, "16"},
		{"float to string", 16.0, value.String, "16"},
		{"bool to string", false, value.String, "false"},
		{"one-element list to string", []any{"fn"}, value.String, "fn"},
		{"integer", 16.0, value.Integer, int64(16)},
		{"int64", int64(-3), value.Integer, int64(-3)},
		{"numeric string", "42", value.Integer, int64(42)},
		{"one-element list to integer", []any{7.0}, value.Integer, int64(7)},
		{"bool", true, value.Boolean, true},
		{"TRUE string", "TRUE", value.Boolean, true},
		{"False string", "False", value.Boolean, false},
		{"string list", []any{"a", 1.0, true}, value.StringList, []any{"a", "1", "true"}},
		{"empty list", []any{}, value.StringList, []any{}},
		{"scalar to list", "vol-1", value.StringList, []any{"vol-1"}},
		{"[]string", []string{"a"}, value.StringList, []any{"a"}},
		{"string map with nesting", map[string]any{"Ebs": map[string]any{"VolumeId": "v"}}, value.StringMap, map[string]any{"Ebs": map[string]any{"VolumeId": "v"}}},
		{"map list", []any{map[string]any{"K": "v"}}, value.MapList, []any{map[string]any{"K": "v"}}},
		{"any", []any{nil}, value.Any, []any{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Convert(tt.in, tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Convert(%#v, %s) = %#v, want %#v", tt.in, tt.typ, got, tt.want)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
		typ  value.Type
		why  string
	}{
		{"map to string", map[string]any{"a": "b"}, value.String, "map"},
		{"two-element list to string", []any{"a", "b"}, value.String, "list of 2 values"},
		{"null to string", nil, value.String, "null"},
		{"fraction to integer", 1.5, value.Integer, "whole number"},
		{"huge to integer", 1e19, value.Integer, "int64 range"},
		{"word to integer", "ten", value.Integer, "decimal integer"},
		{"yes to boolean", "yes", value.Boolean, `"true" or "false"`},
		{"number to boolean", 1.0, value.Boolean, "integer 1"},
		{"nested list to string list", []any{[]any{"a"}}, value.StringList, "element 0"},
		{"null in string list", []any{"a", nil}, value.StringList, "element 1 is null"},
		{"list to string map", []any{}, value.StringMap, "not an object"},
		{"strings to map list", []any{"a"}, value.MapList, "element 0"},
		{"map to map list", map[string]any{}, value.MapList, "not a list"},
		{"unknown type", "a", value.Type("Float"), "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Convert(tt.in, tt.typ)
			var ce *ConvertError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want *ConvertError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.why) || !strings.Contains(msg, string(tt.typ)) || !strings.HasPrefix(msg, "selected value ") {
				t.Errorf("message %q: want the value, %s and %q", msg, tt.typ, tt.why)
			}
		})
	}
}

// Select then Convert, as an executeAwsApi output does.
func TestSelectAndConvertOutputs(t *testing.T) {
	doc := decode(t, describeInstances)
	tests := []struct {
		sel  string
		typ  value.Type
		want any
	}{
		{"$.Reservations..BlockDeviceMappings..VolumeId", value.StringList, []any{"vol-1", "vol-2"}},
		{"$.Stacks[0].Outputs[?(@.OutputKey == 'LambdaFunctionName')].OutputValue", value.String, "fn"},
		{"$.Reservations[0].Instances[0].State.Code", value.Integer, int64(16)},
		{"$.Reservations[0].Instances[0].EbsOptimized", value.Boolean, false},
		{"$.Reservations[0].Instances[0].Tags", value.MapList, decode(t, `[{"Key":"Name","Value":"web"},{"Key":"env","Value":"prod"}]`)},
		{"$.Reservations[0].Instances[0].BlockDeviceMappings[0]", value.StringMap, decode(t, `{"DeviceName":"/dev/xvda","Ebs":{"Status":"attached","VolumeId":"vol-1"}}`)},
	}
	for _, tt := range tests {
		s, err := ParseSelector(tt.sel)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := s.Select(doc)
		if !ok {
			t.Fatalf("%s matched nothing", tt.sel)
		}
		got, err := Convert(raw, tt.typ)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s as %s = %#v, %v; want %#v", tt.sel, tt.typ, got, err, tt.want)
		}
	}
}
