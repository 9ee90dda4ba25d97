package targets

import (
	"errors"
	"testing"
)

func TestLimits(t *testing.T) {
	tests := []struct {
		field, in   string
		total       int
		concurrency int // -1: not a valid MaxConcurrency
		errors      int // -1: not a valid MaxErrors
	}{
		{"default", "", 50, 10, 0},
		{"count", "3", 50, 3, 3},
		{"zero", "0", 50, -1, 0},
		{"ten percent of fifty", "10%", 50, 5, 5},
		{"ten percent of five", "10%", 5, 1, 0},
		{"ten percent of fifteen", "10%", 15, 2, 1},
		{"hundred percent", "100%", 7, 7, 7},
		{"zero percent", "0%", 7, -1, 0},
		{"more than the targets", "500", 7, 500, 500},
		{"leading zero", "05", 7, -1, -1},
		{"over a hundred percent", "101%", 7, -1, -1},
		{"negative", "-1", 7, -1, -1},
		{"words", "ten", 7, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			c, err := ParseConcurrency("MaxConcurrency", tt.in)
			if tt.concurrency < 0 {
				var inv *InvalidError
				if !errors.As(err, &inv) {
					t.Errorf("MaxConcurrency %q: err = %v, want an InvalidError", tt.in, err)
				}
			} else if err != nil {
				t.Errorf("MaxConcurrency %q: %v", tt.in, err)
			} else if got := c.Concurrency(tt.total); got != tt.concurrency {
				t.Errorf("MaxConcurrency %q of %d = %d, want %d", tt.in, tt.total, got, tt.concurrency)
			}
			e, err := ParseErrors("MaxErrors", tt.in)
			if tt.errors < 0 {
				var inv *InvalidError
				if !errors.As(err, &inv) {
					t.Errorf("MaxErrors %q: err = %v, want an InvalidError", tt.in, err)
				}
			} else if err != nil {
				t.Errorf("MaxErrors %q: %v", tt.in, err)
			} else if got := e.Errors(tt.total); got != tt.errors {
				t.Errorf("MaxErrors %q of %d = %d, want %d", tt.in, tt.total, got, tt.errors)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tag := func(k string, v ...string) Target { return Target{Key: k, Values: v} }
	tests := []struct {
		name    string
		param   string
		targets []Target
		maps    []map[string][]string
		want    string // "" valid
	}{
		{"one tag", "InstanceId", []Target{tag("tag:Env", "prod")}, nil, ""},
		{"tag and parameter values", "InstanceId", []Target{tag("tag:Env", "prod"), tag("ParameterValues", "i-1")}, nil, ""},
		{"all instances", "InstanceId", []Target{tag("AWS::EC2::Instance", "*")}, nil, ""},
		{"maps alone", "", nil, []map[string][]string{{"InstanceId": {"i-1"}}}, ""},
		{"targets with maps", "InstanceId", []Target{tag("tag:Env", "prod")}, []map[string][]string{{"InstanceId": {"i-1"}}}, "Targets and TargetMaps cannot be specified together"},
		{"two tags", "InstanceId", []Target{tag("tag:Env", "prod"), tag("tag:Team", "a")}, nil, "Only one resource group or tag can be specified at a time"},
		{"tag and group", "InstanceId", []Target{tag("tag:Env", "prod"), tag("ResourceGroup", "g")}, nil, "Only one resource group or tag can be specified at a time"},
		{"no parameter name", "", []Target{tag("tag:Env", "prod")}, nil, "TargetParameterName is required when Targets are specified"},
		{"unknown key", "InstanceId", []Target{tag("Tags", "x")}, nil, `Targets[0]: target key "Tags" is not one of ParameterValues, ResourceGroup, tag:<key>, AWS::EC2::Instance, InstanceIds`},
		{"instances not star", "InstanceId", []Target{tag("InstanceIds", "i-1")}, nil, `Targets[0]: key InstanceIds takes the single value *, got ["i-1"]`},
		{"no values", "InstanceId", []Target{tag("ParameterValues")}, nil, "Targets[0] (ParameterValues) has no values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.param, tt.targets, tt.maps)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate = %q, want %q", got, tt.want)
			}
		})
	}
}
