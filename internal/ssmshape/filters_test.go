package ssmshape

import (
	"errors"
	"testing"
	"time"
)

func TestFiltersRefuseAsSSMDoes(t *testing.T) {
	eleven := make([]string, 11)
	for _, tc := range []struct {
		name    string
		run     func() error
		code    string
		message string
	}{
		{"unknown execution key", func() error { _, err := ExecutionFilter([]Filter{{Key: "Colour", Values: []string{"x"}}}); return err },
			"InvalidFilterKey", "The filter key Colour is not valid"},
		{"unknown key without values", func() error { _, err := ExecutionFilter([]Filter{{Key: "Colour"}}); return err },
			"InvalidFilterKey", "The filter key Colour is not valid"},
		{"no values", func() error { _, err := ExecutionFilter([]Filter{{Key: "ExecutionId"}}); return err },
			"InvalidFilterValue", "The filter ExecutionId takes 1 to 10 values"},
		{"eleven values", func() error {
			_, err := ExecutionFilter([]Filter{{Key: "ExecutionStatus", Values: eleven}})
			return err
		},
			"InvalidFilterValue", "The filter ExecutionStatus takes 1 to 10 values"},
		{"not a time", func() error {
			_, err := ExecutionFilter([]Filter{{Key: "StartTimeAfter", Values: []string{"yesterday"}}})
			return err
		}, "InvalidFilterValue", "The filter value yesterday of StartTimeAfter is not a valid time: expected RFC 3339 (2024-01-02T15:04:05Z) or epoch seconds"},
		{"unknown step key", func() error { _, err := StepFilter([]Filter{{Key: "Status", Values: []string{"Failed"}}}); return err },
			"InvalidFilterKey", "The filter key Status is not valid"},
		{"step time without value", func() error { _, err := StepFilter([]Filter{{Key: "StartTimeBefore"}}); return err },
			"InvalidFilterValue", "The filter StartTimeBefore needs a value"},
		{"unknown document key", func() error {
			_, err := DocumentFilter([]Filter{{Key: "Colour", Values: []string{"x"}}}, nil, "1")
			return err
		},
			"InvalidFilterKey", "The filter key Colour is not valid"},
	} {
		err := tc.run()
		var fe *FilterError
		if !errors.As(err, &fe) || fe.Code != tc.code || fe.Message != tc.message {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.message)
		}
	}
}

func TestFiltersRead(t *testing.T) {
	f, err := ExecutionFilter([]Filter{
		{Key: "ExecutionStatus", Values: []string{"Failed", "TimedOut"}},
		{Key: "DocumentNamePrefix", Values: []string{"Team-"}},
		{Key: "StartTimeAfter", Values: []string{"1700000000.5"}},
		{Key: "StartTimeBefore", Values: []string{"2024-01-02"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Statuses) != 2 || f.DocumentNamePrefix != "Team-" || !f.StartTimeAfter.Equal(time.UnixMilli(1700000000500)) ||
		!f.StartTimeBefore.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("execution filter %+v", f)
	}
	d, err := DocumentFilter([]Filter{{Key: "Owner", Values: []string{"Self"}}, {Key: "tag:team", Values: []string{"ops"}}},
		[]DocumentFilterItem{{Key: "name", Value: "Team-"}, {Key: "documentType", Value: "Automation"}}, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	if d.NamePrefix != "Team-" || len(d.Owners) != 1 || d.Owners[0] != "123456789012" || len(d.DocumentTypes) != 1 || d.Tags["team"][0] != "ops" {
		t.Errorf("document filter %+v", d)
	}
	at := At(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), EpochSeconds)
	match, err := StepFilter([]Filter{{Key: "StepName", Values: []string{"nap"}}, {Key: "StartTimeAfter", Values: []string{"2024-01-01"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !match(StepExecution{StepName: "nap", ExecutionStartTime: at}) || match(StepExecution{StepName: "put", ExecutionStartTime: at}) || match(StepExecution{StepName: "nap"}) {
		t.Error("step filter matches the wrong steps")
	}
}
