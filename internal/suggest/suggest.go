// Package suggest finds the name a user probably meant, so that a typo in a
// runbook, a flag or an API input reads as one ("did you mean ...?").
package suggest

import (
	"sort"
	"strings"
)

// Closest returns the candidate nearest to word by case-insensitive edit
// distance, when it is near enough to be a likely typo: at most
// max(2, len(word)/3) edits. Ties go to the alphabetically first candidate,
// so the answer does not depend on the order of a map.
func Closest(word string, candidates []string) (string, bool) {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	w := strings.ToLower(word)
	best, bestD := "", -1
	for _, c := range sorted {
		if d := Distance(w, strings.ToLower(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(word)/3) {
		return "", false
	}
	return best, true
}

// Distance is the Levenshtein edit distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
