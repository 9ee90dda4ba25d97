// Package schedule runs runbooks on EventBridge Scheduler's expressions,
// cron(...) and rate(...), durably: each run is claimed in the store before
// it starts, so a run is never started twice, by one server or by several.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Expr is a parsed schedule expression.
type Expr interface {
	// Next returns the first run strictly after t.
	Next(t time.Time) time.Time
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Parse reads cron(min hour day-of-month month day-of-week year) or
// rate(N minute|minutes|hour|hours|day|days), in the time zone loc. As in
// EventBridge, day-of-week counts 1 (SUN) to 7 (SAT), one of day-of-month
// and day-of-week is ?, and year is * or a list or range of years; L, W and
// # are not supported.
func Parse(s string, loc *time.Location) (Expr, error) {
	s = strings.TrimSpace(s)
	if in, ok := cut(s, "rate("); ok {
		return parseRate(s, in)
	}
	in, ok := cut(s, "cron(")
	if !ok {
		return nil, fmt.Errorf("schedule %q: expected cron(minutes hours day-of-month month day-of-week year) or rate(N minutes|hours|days)", s)
	}
	f := strings.Fields(in)
	if len(f) != 6 {
		return nil, fmt.Errorf("schedule %q: cron takes 6 fields (minutes hours day-of-month month day-of-week year), got %d", s, len(f))
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, fmt.Errorf("schedule %q: exactly one of day-of-month and day-of-week must be ?", s)
	}
	if strings.ContainsAny(in, "LW#") {
		return nil, fmt.Errorf("schedule %q: L, W and # are not supported", s)
	}
	years, err := parseYears(f[5])
	if err != nil {
		return nil, fmt.Errorf("schedule %q: year: %w", s, err)
	}
	dow, err := shiftDow(f[4])
	if err != nil {
		return nil, fmt.Errorf("schedule %q: day-of-week: %w", s, err)
	}
	dom := f[2]
	if dom == "?" {
		dom = "*"
	}
	spec, err := cronParser.Parse(strings.Join([]string{f[0], f[1], dom, f[3], dow}, " "))
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", s, err)
	}
	return cronExpr{spec: spec, loc: loc, years: years}, nil
}

func cut(s, prefix string) (string, bool) {
	in, ok := strings.CutPrefix(s, prefix)
	if !ok || !strings.HasSuffix(in, ")") {
		return "", false
	}
	return strings.TrimSuffix(in, ")"), true
}

// shiftDow turns EventBridge's day-of-week numbers (1 = SUN) into cron's
// (0 = SUN); names and ? pass through.
func shiftDow(f string) (string, error) {
	if f == "?" {
		return "*", nil
	}
	var b strings.Builder
	num := ""
	flush := func() error {
		if num == "" {
			return nil
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > 7 {
			return fmt.Errorf("%s: expected 1 (SUN) to 7 (SAT)", num)
		}
		b.WriteString(strconv.Itoa(n - 1))
		num = ""
		return nil
	}
	for i, r := range f {
		if r >= '0' && r <= '9' && (i == 0 || f[i-1] != '/') {
			num += string(r)
			continue
		}
		if err := flush(); err != nil {
			return "", err
		}
		b.WriteRune(r)
	}
	if err := flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// parseYears reads the year field: nil for *, else the years allowed.
func parseYears(f string) (map[int]bool, error) {
	if f == "*" {
		return nil, nil
	}
	out := map[int]bool{}
	for _, part := range strings.Split(f, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 1970 || a > 2199 {
			return nil, fmt.Errorf("%q: expected * or years 1970-2199", f)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b > 2199 {
				return nil, fmt.Errorf("%q: expected * or years 1970-2199", f)
			}
		}
		for y := a; y <= b; y++ {
			out[y] = true
		}
	}
	return out, nil
}

type cronExpr struct {
	spec  cron.Schedule
	loc   *time.Location
	years map[int]bool
}

func (c cronExpr) Next(t time.Time) time.Time {
	t = t.In(c.loc)
	for range 1000 {
		t = c.spec.Next(t)
		if t.IsZero() || c.years == nil || c.years[t.Year()] {
			return t
		}
		if maxYear(c.years) < t.Year() {
			return time.Time{}
		}
	}
	return time.Time{}
}

func maxYear(y map[int]bool) int {
	m := 0
	for k := range y {
		m = max(m, k)
	}
	return m
}

type rateExpr struct{ every time.Duration }

func parseRate(s, in string) (Expr, error) {
	n, unit, _ := strings.Cut(strings.TrimSpace(in), " ")
	v, err := strconv.Atoi(n)
	if err != nil || v < 1 {
		return nil, fmt.Errorf("schedule %q: rate takes a positive whole number and a unit, e.g. rate(5 minutes)", s)
	}
	var d time.Duration
	switch strings.TrimSpace(unit) {
	case "minute", "minutes":
		d = time.Minute
	case "hour", "hours":
		d = time.Hour
	case "day", "days":
		d = 24 * time.Hour
	default:
		return nil, fmt.Errorf("schedule %q: rate unit %q: expected minutes, hours or days", s, unit)
	}
	if (v == 1) != !strings.HasSuffix(strings.TrimSpace(unit), "s") {
		return nil, fmt.Errorf("schedule %q: write rate(1 %s) in the singular and rate(N %ss) in the plural, as EventBridge does", s, strings.TrimSuffix(unit, "s"), strings.TrimSuffix(unit, "s"))
	}
	return rateExpr{every: time.Duration(v) * d}, nil
}

// Next runs rates on whole multiples of the interval since the Unix epoch,
// so every server computes the same runs.
func (r rateExpr) Next(t time.Time) time.Time {
	return t.Truncate(r.every).Add(r.every)
}
