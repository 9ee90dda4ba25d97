package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParseEventBridgeExpressions(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Thursday 3 December 2026, 07:30 in Berlin.
	from := time.Date(2026, 12, 3, 7, 30, 0, 0, berlin)
	for _, tc := range []struct {
		expr string
		want time.Time
	}{
		{"cron(0 8 ? * MON-FRI *)", time.Date(2026, 12, 3, 8, 0, 0, 0, berlin)},
		{"cron(0 8 ? * 2-6 *)", time.Date(2026, 12, 3, 8, 0, 0, 0, berlin)}, // 2-6 is MON-FRI
		{"cron(0 8 ? * 1 *)", time.Date(2026, 12, 6, 8, 0, 0, 0, berlin)},   // 1 is Sunday
		{"cron(15 10 1 * ? *)", time.Date(2027, 1, 1, 10, 15, 0, 0, berlin)},
		{"cron(0 0 1 1 ? 2028)", time.Date(2028, 1, 1, 0, 0, 0, 0, berlin)},
		{"cron(0/15 * * * ? *)", time.Date(2026, 12, 3, 7, 45, 0, 0, berlin)},
		{"rate(5 minutes)", time.Date(2026, 12, 3, 6, 35, 0, 0, time.UTC)},
		{"rate(1 hour)", time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)},
	} {
		e, err := Parse(tc.expr, berlin)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := e.Next(from); !got.Equal(tc.want) {
			t.Errorf("%s: next after %s = %s, want %s", tc.expr, from, got, tc.want)
		}
	}
	for expr, msg := range map[string]string{
		"0 8 * * *":            "expected cron(",
		"cron(0 8 * * *)":      "cron takes 6 fields",
		"cron(0 8 * * MON *)":  "exactly one of day-of-month and day-of-week must be ?",
		"cron(0 8 ? * 9 *)":    "expected 1 (SUN) to 7 (SAT)",
		"cron(0 8 L * ? *)":    "not supported",
		"cron(0 8 1 * ? 1900)": "years 1970-2199",
		"cron(61 8 1 * ? *)":   "cron(61",
		"rate(0 minutes)":      "positive whole number",
		"rate(5 weeks)":        "expected minutes, hours or days",
		"rate(1 minutes)":      "singular",
	} {
		if _, err := Parse(expr, time.UTC); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Parse(%q) = %v, want an error with %q", expr, err, msg)
		}
	}
}
