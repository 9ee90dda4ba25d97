package action

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEvalConditionOperators(t *testing.T) {
	tests := []struct {
		name string
		cond map[string]any
		want bool
	}{
		{"StringEquals match", map[string]any{"Variable": "running", "StringEquals": "running"}, true},
		{"StringEquals case differs", map[string]any{"Variable": "Running", "StringEquals": "running"}, false},
		{"StringEquals bool variable renders True", map[string]any{"Variable": true, "StringEquals": "True"}, true},
		{"StringEquals integer variable", map[string]any{"Variable": int64(3), "StringEquals": "3"}, true},
		{"EqualsIgnoreCase", map[string]any{"Variable": "Linux", "EqualsIgnoreCase": "LINUX"}, true},
		{"EqualsIgnoreCase differs", map[string]any{"Variable": "Linux", "EqualsIgnoreCase": "Windows"}, false},
		{"StartsWith", map[string]any{"Variable": "ami-123", "StartsWith": "ami-"}, true},
		{"StartsWith no", map[string]any{"Variable": "i-123", "StartsWith": "ami-"}, false},
		{"EndsWith", map[string]any{"Variable": "report.csv", "EndsWith": ".csv"}, true},
		{"EndsWith no", map[string]any{"Variable": "report.csv", "EndsWith": ".json"}, false},
		{"Contains substring", map[string]any{"Variable": "Amazon Linux 2", "Contains": "Linux"}, true},
		{"Contains substring no", map[string]any{"Variable": "Windows", "Contains": "Linux"}, false},
		{"Contains list element", map[string]any{"Variable": []any{"a", "bc"}, "Contains": "bc"}, true},
		{"Contains list is not substring", map[string]any{"Variable": []any{"abc"}, "Contains": "b"}, false},
		{"NumericEquals int", map[string]any{"Variable": int64(5), "NumericEquals": int64(5)}, true},
		{"NumericEquals float vs int", map[string]any{"Variable": 5.0, "NumericEquals": int64(5)}, true},
		{"NumericEquals numeric string", map[string]any{"Variable": "5", "NumericEquals": 5.0}, true},
		{"NumericEquals no", map[string]any{"Variable": int64(4), "NumericEquals": int64(5)}, false},
		{"NumericGreater", map[string]any{"Variable": int64(6), "NumericGreater": int64(5)}, true},
		{"NumericGreater equal is false", map[string]any{"Variable": int64(5), "NumericGreater": int64(5)}, false},
		{"NumericLesser", map[string]any{"Variable": 1.5, "NumericLesser": int64(2)}, true},
		{"NumericLesser no", map[string]any{"Variable": int64(2), "NumericLesser": int64(2)}, false},
		{"NumericGreaterOrEquals equal", map[string]any{"Variable": int64(5), "NumericGreaterOrEquals": int64(5)}, true},
		{"NumericGreaterOrEquals less", map[string]any{"Variable": int64(4), "NumericGreaterOrEquals": int64(5)}, false},
		{"NumericLesserOrEquals equal", map[string]any{"Variable": int64(5), "NumericLesserOrEquals": int64(5)}, true},
		{"NumericLesserOrEquals greater", map[string]any{"Variable": int64(6), "NumericLesserOrEquals": int64(5)}, false},
		{"BooleanEquals true", map[string]any{"Variable": true, "BooleanEquals": true}, true},
		{"BooleanEquals false vs true", map[string]any{"Variable": false, "BooleanEquals": true}, false},
		{"BooleanEquals string variable", map[string]any{"Variable": "False", "BooleanEquals": false}, true},
		{"NextStep is ignored", map[string]any{"NextStep": "x", "Variable": "a", "StringEquals": "a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EvalCondition(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("EvalCondition(%v) = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func eq(v, w string) map[string]any { return map[string]any{"Variable": v, "StringEquals": w} }

func TestEvalConditionCombinations(t *testing.T) {
	yes, no := eq("a", "a"), eq("a", "b")
	tests := []struct {
		name string
		cond map[string]any
		want bool
	}{
		{"And all true", map[string]any{"And": []any{yes, yes}}, true},
		{"And one false", map[string]any{"And": []any{yes, no}}, false},
		{"Or one true", map[string]any{"Or": []any{no, yes}}, true},
		{"Or all false", map[string]any{"Or": []any{no, no}}, false},
		{"Not true", map[string]any{"Not": yes}, false},
		{"Not false", map[string]any{"Not": no}, true},
		{"And of Or and Not", map[string]any{"And": []any{
			map[string]any{"Or": []any{no, yes}},
			map[string]any{"Not": no},
		}}, true},
		{"Not of And", map[string]any{"Not": map[string]any{"And": []any{yes, no}}}, true},
		{"Or of Not", map[string]any{"Or": []any{map[string]any{"Not": yes}, no}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EvalCondition(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvalConditionErrors(t *testing.T) {
	tests := []struct {
		name string
		cond map[string]any
		want []string // fragments of the message
	}{
		{"non-numeric under NumericEquals", map[string]any{"Variable": "abc", "NumericEquals": int64(1)}, []string{"NumericEquals", `"abc" is not a number`}},
		{"non-numeric operand", map[string]any{"Variable": int64(1), "NumericGreater": "x"}, []string{"NumericGreater", "operand"}},
		{"non-boolean under BooleanEquals", map[string]any{"Variable": "yes", "BooleanEquals": true}, []string{"BooleanEquals", `"yes" is not a boolean`}},
		{"unknown operator", map[string]any{"Variable": "a", "StringMatches": "a"}, []string{"StringMatches", "unsupported operator"}},
		{"missing Variable", map[string]any{"StringEquals": "a"}, []string{"StringEquals", "missing Variable"}},
		{"no operator", map[string]any{"Variable": "a"}, []string{"no operator"}},
		{"two operators", map[string]any{"Variable": "a", "StringEquals": "a", "StartsWith": "a"}, []string{"more than one operator"}},
		{"nested error path", map[string]any{"And": []any{eq("a", "a"), map[string]any{"Not": map[string]any{"Variable": "x", "NumericLesser": int64(1)}}}}, []string{"And[1].Not", "NumericLesser"}},
		{"And not a list", map[string]any{"And": "x"}, []string{"And", "non-empty list"}},
		{"empty Or", map[string]any{"Or": []any{}}, []string{"Or", "non-empty list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EvalCondition(tt.cond)
			var ce *ConditionError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want a *ConditionError", err)
			}
			for _, f := range tt.want {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not mention %q", err, f)
				}
			}
		})
	}
}

func TestBranch(t *testing.T) {
	choices := []any{
		map[string]any{"NextStep": "linux", "Variable": "Linux", "StringEquals": "Linux"},
		map[string]any{"NextStep": "big", "Variable": int64(10), "NumericGreater": int64(5)},
	}
	tests := []struct {
		name    string
		inputs  map[string]any
		want    string
		wantErr string
	}{
		{"first match wins", map[string]any{"Choices": choices, "Default": "d"}, "linux", ""},
		{"second choice", map[string]any{"Choices": []any{
			map[string]any{"NextStep": "linux", "Variable": "Windows", "StringEquals": "Linux"},
			choices[1],
		}}, "big", ""},
		{"no match goes to Default", map[string]any{"Choices": []any{eq("a", "b")}, "Default": "fallback"}, "fallback", ""},
		{"no match no Default continues", map[string]any{"Choices": []any{eq("a", "b")}}, "", ""},
		{"error names the choice", map[string]any{"Choices": []any{
			eq("a", "b"),
			map[string]any{"NextStep": "x", "Variable": "abc", "NumericEquals": int64(1)},
		}}, "", "choice 1: condition: NumericEquals"},
		{"matching choice without NextStep", map[string]any{"Choices": []any{eq("a", "a")}}, "", "has no NextStep"},
		{"missing Choices", map[string]any{}, "", "Choices: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := branch{}.Run(context.Background(), &Request{Inputs: tt.inputs})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.NextStep != tt.want {
				t.Errorf("NextStep = %q, want %q", res.NextStep, tt.want)
			}
		})
	}
}
