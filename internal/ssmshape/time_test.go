package ssmshape_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/ssmshape"
)

// The API writes a timestamp as epoch seconds (what the aws CLI and SDKs
// parse); capstan's --output json writes RFC 3339. Both read back.
func TestTimeFormats(t *testing.T) {
	at := time.Date(2024, 1, 2, 15, 4, 5, 678_000_000, time.UTC)
	for _, c := range []struct {
		format ssmshape.TimeFormat
		want   string
	}{
		{ssmshape.EpochSeconds, `1704207845.678`},
		{ssmshape.RFC3339, `"2024-01-02T15:04:05.678Z"`},
	} {
		b, err := json.Marshal(ssmshape.At(at, c.format))
		if err != nil || string(b) != c.want {
			t.Errorf("format %d: %s (%v), want %s", c.format, b, err, c.want)
		}
		var back ssmshape.Time
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(at) || back.Format != c.format {
			t.Errorf("reading %s: %v %v %d", b, back, err, back.Format)
		}
	}
	if ssmshape.At(time.Time{}, ssmshape.EpochSeconds) != nil {
		t.Error("a zero time must be left out, as SSM does")
	}
	var bad ssmshape.Time
	if err := json.Unmarshal([]byte(`true`), &bad); err == nil {
		t.Error("a non-time was accepted")
	}
}
