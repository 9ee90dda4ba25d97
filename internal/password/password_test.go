package password

import (
	"strings"
	"testing"
)

func TestCheckRefusesShortAndLong(t *testing.T) {
	for _, tc := range []struct {
		pw, want string
	}{
		{"short", "too short: at least 8"},
		{strings.Repeat("x", 73), "too long: at most 72 bytes"},
	} {
		if err := Check(tc.pw); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%d bytes) = %v, want %q", len(tc.pw), err, tc.want)
		}
	}
	if err := Check("correct horse"); err != nil {
		t.Errorf("Check(a good password) = %v", err)
	}
}

func TestHashMatchesOnlyItsPassword(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !Matches(h, "correct horse") {
		t.Error("the hash does not match its password")
	}
	if Matches(h, "correct horsE") {
		t.Error("the hash matches another password")
	}
	if _, err := Hash("short"); err == nil {
		t.Error("Hash hashed a password Check refuses")
	}
}
