package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"Filters", "InstanceIds", "MaxResults", "NextToken"}
	tests := []struct {
		word, want string
		ok         bool
	}{
		{"Filterz", "Filters", true},
		{"instanceids", "InstanceIds", true},
		{"MaxResult", "MaxResults", true},
		{"Banana", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := Closest(tc.word, names)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", tc.word, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := Closest("x", nil); ok {
		t.Error("a suggestion from no candidates")
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"kitten", "sitting", 3}, {"abc", "abc", 0}, {"", "abc", 3}} {
		if got := Distance(tc.a, tc.b); got != tc.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
