package action

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/clock"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"PT10M", 10 * time.Minute, ""},
		{"PT1H30M", 90 * time.Minute, ""},
		{"P1D", 24 * time.Hour, ""},
		{"P1DT2H", 26 * time.Hour, ""},
		{"PT0.5S", 500 * time.Millisecond, ""},
		{"PT5S", 5 * time.Second, ""},
		{"P1W", 0, "maximum"},
		{"P6DT23H59M59S", MaxSleep, ""},
		{"P7D", 0, "maximum"},
		{"PT0S", 0, ""},
		{"pt2m", 2 * time.Minute, ""},
		{"-PT5M", 0, "negative"},
		{"10M", 0, "ISO 8601"},
		{"P", 0, "ISO 8601"},
		{"PT", 0, "nothing after T"},
		{"P5H", 0, "unexpected unit"},
		{"PT5D", 0, "unexpected unit"},
		{"PT5", 0, "number followed by a unit"},
		{"PTxS", 0, "number followed by a unit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// fixedClock is real time stopped at one instant.
type fixedClock struct {
	clock.Real
	at time.Time
}

func (c fixedClock) Now() time.Time { return c.at }

func TestSleep(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := fixedClock{at: now}
	tests := []struct {
		name    string
		inputs  map[string]any
		want    time.Time // zero: continue at once
		wantErr string
	}{
		{"duration", map[string]any{"Duration": "PT10M"}, now.Add(10 * time.Minute), ""},
		{"zero duration continues", map[string]any{"Duration": "PT0S"}, time.Time{}, ""},
		{"future timestamp", map[string]any{"Timestamp": "2025-03-01T13:00:00Z"}, now.Add(time.Hour), ""},
		{"timestamp with offset", map[string]any{"Timestamp": "2025-03-01T15:00:00+02:00"}, now.Add(time.Hour), ""},
		{"timestamp equal to now continues", map[string]any{"Timestamp": "2025-03-01T14:00:00+02:00"}, time.Time{}, ""},
		{"timestamp without zone is UTC", map[string]any{"Timestamp": "2025-03-01T12:30:00"}, now.Add(30 * time.Minute), ""},
		{"past timestamp continues", map[string]any{"Timestamp": "2020-01-01T00:00:00Z"}, time.Time{}, ""},
		{"timestamp too far", map[string]any{"Timestamp": "2025-03-09T12:00:00Z"}, time.Time{}, "maximum sleep"},
		{"bad timestamp", map[string]any{"Timestamp": "tomorrow"}, time.Time{}, "ISO 8601"},
		{"both", map[string]any{"Duration": "PT1M", "Timestamp": "2025-03-01T13:00:00Z"}, time.Time{}, "only one"},
		{"neither", map[string]any{}, time.Time{}, "Duration or Timestamp"},
		{"non-string duration", map[string]any{"Duration": int64(5)}, time.Time{}, "expected String"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := sleep{}.Run(context.Background(), &Request{Inputs: tt.inputs, Clock: clk})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !res.WaitUntil.Equal(tt.want) {
				t.Errorf("WaitUntil = %v, want %v", res.WaitUntil, tt.want)
			}
		})
	}
}

func TestWaitingActionsParkOnSignal(t *testing.T) {
	r := Builtin()
	for _, name := range []string{"aws:pause", "aws:approve"} {
		t.Run(name, func(t *testing.T) {
			e, _ := r.Lookup(name)
			res, err := e.Impl.Run(context.Background(), &Request{Inputs: map[string]any{"Approvers": []any{"alice"}}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.WaitSignal {
				t.Errorf("%s does not wait for a signal", name)
			}
		})
	}
}

func TestUpdateVariable(t *testing.T) {
	tests := []struct {
		name    string
		inputs  map[string]any
		want    map[string]any
		wantErr string
	}{
		{"string", map[string]any{"Name": "variable:Status", "Value": "done"}, map[string]any{"Status": "done"}, ""},
		{"list keeps its type", map[string]any{"Name": "variable:Ids", "Value": []any{"a", "b"}}, map[string]any{"Ids": []any{"a", "b"}}, ""},
		{"boolean", map[string]any{"Name": "variable:Done", "Value": true}, map[string]any{"Done": true}, ""},
		{"missing prefix", map[string]any{"Name": "Status", "Value": "x"}, nil, "expected variable:NAME"},
		{"empty name", map[string]any{"Name": "variable:", "Value": "x"}, nil, "expected variable:NAME"},
		{"missing value", map[string]any{"Name": "variable:Status"}, nil, "Value: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := updateVariable{}.Run(context.Background(), &Request{Inputs: tt.inputs})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Variables, tt.want) {
				t.Errorf("Variables = %v, want %v", res.Variables, tt.want)
			}
		})
	}
}
