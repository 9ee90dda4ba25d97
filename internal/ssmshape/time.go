package ssmshape

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// TimeFormat is how a shape's timestamps are written: the one difference
// between the SSM API's responses and capstan's own --output json.
type TimeFormat int

const (
	// RFC3339 is capstan's --output json and stored records.
	RFC3339 TimeFormat = iota
	// EpochSeconds is the AWS JSON protocol's form: seconds since the
	// epoch as a JSON number, with millisecond precision.
	EpochSeconds
)

// Time is a timestamp of SSM's shapes, written in its Format.
type Time struct {
	time.Time
	Format TimeFormat
}

// At is t in format f, nil for the zero time (SSM leaves such fields out).
func At(t time.Time, f TimeFormat) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{Time: t, Format: f}
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.Format == EpochSeconds {
		return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)), nil
	}
	return json.Marshal(t.Time)
}

// UnmarshalJSON implements json.Unmarshaler; it reads either form.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		t.Format = RFC3339
		return json.Unmarshal(b, &t.Time)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: expected RFC 3339 or epoch seconds", b)
	}
	t.Time, t.Format = time.UnixMilli(int64(f*1000)).UTC(), EpochSeconds
	return nil
}
