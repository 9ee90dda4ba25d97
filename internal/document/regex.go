package document

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// patternCache keeps compiled allowedPatterns: the same runbook is coerced on
// every start.
var patternCache sync.Map // string → *regexp.Regexp

// CompilePattern compiles an allowedPattern. SSM checks patterns with Java's
// regex engine; Go's RE2 has no equivalent for some Java constructs, and the
// error names the construct when that is why the pattern cannot be used.
func CompilePattern(pat string) (*regexp.Regexp, error) {
	if re, ok := patternCache.Load(pat); ok {
		return re.(*regexp.Regexp), nil
	}
	if c := javaOnly(pat); c != "" {
		return nil, &JavaRegexError{Pattern: pat, Construct: c}
	}
	re, err := regexp.Compile(splitRepeats(pat))
	var se *syntax.Error
	if errors.As(err, &se) && (se.Code == syntax.ErrInvalidRepeatSize || se.Code == syntax.ErrLarge) {
		// Nested counts multiply; RE2 caps the product, Java does not.
		return nil, &JavaRegexError{Pattern: pat, Construct: "nested repetition counts beyond RE2's limit of 1000"}
	}
	if err != nil {
		return nil, fmt.Errorf("pattern %q does not compile: %w", pat, err)
	}
	patternCache.Store(pat, re)
	return re, nil
}

// JavaRegexError reports a pattern that is valid Java regex but uses a
// construct RE2 (Go's regexp) cannot express.
type JavaRegexError struct {
	Pattern   string
	Construct string // e.g. "a lookahead ((?=...))"
}

func (e *JavaRegexError) Error() string {
	return fmt.Sprintf("pattern %q uses %s, a Java regex construct with no RE2 equivalent", e.Pattern, e.Construct)
}

// javaOnly names the first Java-only construct in pat, or returns "".
func javaOnly(pat string) string {
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat):
			next := pat[i+1]
			switch {
			case next >= '1' && next <= '9' && !inClass:
				return fmt.Sprintf(`a backreference (\%c)`, next)
			case next == 'k' && i+2 < len(pat) && pat[i+2] == '<':
				return `a named backreference (\k<name>)`
			case (next == 'p' || next == 'P') && strings.HasPrefix(pat[i+2:], "{java"):
				end := strings.IndexByte(pat[i:], '}')
				if end < 0 {
					end = len(pat) - i - 1
				}
				return fmt.Sprintf("a Java character class (%s)", pat[i:i+end+1])
			case next == 'Z':
				return `\Z (end of input before a final newline)`
			case next == 'G':
				return `\G (end of the previous match)`
			}
			i++
		case c == '[' && !inClass:
			inClass = true
			// A ']' right after '[' or '[^' is a literal.
			if i+1 < len(pat) && pat[i+1] == '^' {
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				i++
			}
		case c == ']' && inClass:
			inClass = false
		case c == '(' && !inClass && strings.HasPrefix(pat[i:], "(?"):
			rest := pat[i+2:]
			switch {
			case strings.HasPrefix(rest, "="):
				return "a lookahead ((?=...))"
			case strings.HasPrefix(rest, "!"):
				return "a negative lookahead ((?!...))"
			case strings.HasPrefix(rest, "<="):
				return "a lookbehind ((?<=...))"
			case strings.HasPrefix(rest, "<!"):
				return "a negative lookbehind ((?<!...))"
			case strings.HasPrefix(rest, ">"):
				return "an atomic group ((?>...))"
			}
		case (c == '+') && !inClass && i > 0 && isQuantifierEnd(pat, i-1):
			return fmt.Sprintf("a possessive quantifier (%s+)", pat[i-1:i])
		}
	}
	return ""
}

// isQuantifierEnd reports whether pat[j] ends a quantifier (*, +, ?, {n,m}),
// so that a following '+' makes it possessive.
func isQuantifierEnd(pat string, j int) bool {
	switch pat[j] {
	case '*', '+', '?', '}':
	default:
		return false
	}
	// An escaped character is a literal, not a quantifier.
	backslashes := 0
	for k := j - 1; k >= 0 && pat[k] == '\\'; k-- {
		backslashes++
	}
	if backslashes%2 == 1 {
		return false
	}
	// "(?" followed by '+' is not a quantifier either; RE2 reports it.
	if pat[j] == '?' && j > 0 && pat[j-1] == '(' {
		return false
	}
	// "a++" is possessive; "a+?" is lazy, handled by RE2.
	return true
}

// maxRepeat is RE2's limit on a repetition count; Java has none, and AWS
// patterns write {1,1024}.
const maxRepeat = 1000

// splitRepeats rewrites X{n,m} with counts above RE2's limit as a sequence
// X{a,b}X{c,d}... of the same total, which matches the same strings.
func splitRepeats(pat string) string {
	if !strings.Contains(pat, "{") {
		return pat
	}
	var out strings.Builder
	atomStart := -1 // offset in out of the last atom
	var groups []int
	for i := 0; i < len(pat); {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat):
			atomStart = out.Len()
			j := i + 2
			if (pat[i+1] == 'p' || pat[i+1] == 'P' || pat[i+1] == 'x') && j < len(pat) && pat[j] == '{' {
				if k := strings.IndexByte(pat[j:], '}'); k >= 0 {
					j += k + 1
				}
			}
			out.WriteString(pat[i:j])
			i = j
		case c == '[':
			atomStart = out.Len()
			j := classEnd(pat, i)
			out.WriteString(pat[i:j])
			i = j
		case c == '(':
			groups = append(groups, out.Len())
			out.WriteByte(c)
			i++
		case c == ')':
			atomStart = -1
			if len(groups) > 0 {
				atomStart = groups[len(groups)-1]
				groups = groups[:len(groups)-1]
			}
			out.WriteByte(c)
			i++
		case c == '{':
			n, m, end, ok := repeatCount(pat, i)
			if !ok || atomStart < 0 || (n <= maxRepeat && m <= maxRepeat) {
				out.WriteString(pat[i:end])
				i = end
				atomStart = -1
				continue
			}
			atom := out.String()[atomStart:]
			suffix := pat[end:]
			lazy := ""
			if strings.HasPrefix(suffix, "?") {
				lazy, end = "?", end+1
			}
			var b strings.Builder
			for first := true; first || n > 0 || m > 0; first = false {
				a, z := min(n, maxRepeat), min(m, maxRepeat)
				if m < 0 {
					z = -1
				}
				if !first {
					b.WriteString(atom)
				}
				if z < 0 {
					fmt.Fprintf(&b, "{%d,}%s", a, lazy)
					break
				}
				fmt.Fprintf(&b, "{%d,%d}%s", a, z, lazy)
				n, m = n-a, m-z
			}
			out.WriteString(b.String())
			i = end
			atomStart = -1
		default:
			atomStart = out.Len()
			_, size := utf8.DecodeRuneInString(pat[i:])
			out.WriteString(pat[i : i+size])
			i += size
		}
	}
	return out.String()
}

// classEnd returns the offset just past the character class starting at i.
func classEnd(pat string, i int) int {
	j := i + 1
	if j < len(pat) && pat[j] == '^' {
		j++
	}
	if j < len(pat) && pat[j] == ']' {
		j++
	}
	for j < len(pat) {
		switch pat[j] {
		case '\\':
			j += 2
			continue
		case ']':
			return j + 1
		}
		j++
	}
	return len(pat)
}

// repeatCount reads {n}, {n,} or {n,m} at i; m is -1 for no upper bound.
func repeatCount(pat string, i int) (n, m, end int, ok bool) {
	k := strings.IndexByte(pat[i:], '}')
	if k < 0 {
		return 0, 0, i + 1, false
	}
	end = i + k + 1
	body := pat[i+1 : i+k]
	lo, hi, comma := strings.Cut(body, ",")
	n, err := strconv.Atoi(lo)
	if err != nil || n < 0 {
		return 0, 0, i + 1, false
	}
	switch {
	case !comma:
		m = n
	case hi == "":
		m = -1
	default:
		if m, err = strconv.Atoi(hi); err != nil || m < n {
			return 0, 0, i + 1, false
		}
	}
	return n, m, end, true
}
