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
var patternCache sync.Map // string → *Pattern

// Pattern is a compiled allowedPattern. SSM checks patterns with Java's regex
// engine; capstan translates them for Go's RE2. What RE2 can express is
// translated exactly (\uXXXX escapes and surrogate pairs, POSIX \p{Alpha}
// classes, counts above 1000). The Java constructs it cannot express
// (lookarounds, possessive quantifiers, atomic groups, backreferences) are
// dropped or widened, which only lets more values through: a value the
// translation refuses, Java refuses too.
type Pattern struct {
	re *regexp.Regexp // nil: nothing can be checked
	// Loosened names the Java constructs left out of the check, in order
	// of appearance; empty when the check is exactly Java's.
	Loosened []string
}

// MatchString reports whether s matches: exactly when Loosened is empty,
// otherwise false only for values the Java pattern refuses as well.
func (p *Pattern) MatchString(s string) bool {
	return p.re == nil || p.re.MatchString(s)
}

// CompilePattern compiles an allowedPattern; the error is for a pattern
// that is not a regular expression in Java either.
func CompilePattern(pat string) (*Pattern, error) {
	if p, ok := patternCache.Load(pat); ok {
		return p.(*Pattern), nil
	}
	src, loosened, checkable := javaToRE2(pat)
	p := &Pattern{Loosened: loosened}
	if checkable {
		re, err := regexp.Compile(splitRepeats(src))
		var se *syntax.Error
		switch {
		case errors.As(err, &se) && (se.Code == syntax.ErrInvalidRepeatSize || se.Code == syntax.ErrLarge):
			// Nested counts multiply; RE2 caps the product, Java does not.
			p.Loosened = append(p.Loosened, "nested repetition counts beyond RE2's limit of 1000")
		case err != nil:
			return nil, fmt.Errorf("pattern %q does not compile: %w", pat, err)
		default:
			p.re = re
		}
	}
	patternCache.Store(pat, p)
	return p, nil
}

// javaPOSIX maps Java's POSIX property classes (US-ASCII, as RE2's) to
// RE2 class names.
var javaPOSIX = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit", "Alnum": "alnum",
	"Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank", "Cntrl": "cntrl", "XDigit": "xdigit", "Space": "space",
}

// javaToRE2 rewrites a Java pattern in RE2 syntax. loosened names the
// constructs widened or dropped; checkable is false when the pattern holds
// a construct whose RE2 reading would differ silently (class intersection
// or union), so no check is made at all.
func javaToRE2(pat string) (out string, loosened []string, checkable bool) {
	var b strings.Builder
	note := func(c string) {
		for _, l := range loosened {
			if l == c {
				return
			}
		}
		loosened = append(loosened, c)
	}
	inClass := false
	lastQuant := false // the last token written was a quantifier
	for i := 0; i < len(pat); {
		c := pat[i]
		afterQuant := lastQuant
		lastQuant = false
		switch {
		case c == '\\' && i+1 < len(pat):
			next := pat[i+1]
			switch {
			case next == 'u' && i+6 <= len(pat) && isHex(pat[i+2:i+6]):
				r, _ := strconv.ParseUint(pat[i+2:i+6], 16, 32)
				n := 6
				if r >= 0xD800 && r <= 0xDBFF && strings.HasPrefix(pat[i+6:], "\\u") && i+12 <= len(pat) && isHex(pat[i+8:i+12]) {
					if lo, _ := strconv.ParseUint(pat[i+8:i+12], 16, 32); lo >= 0xDC00 && lo <= 0xDFFF {
						// A surrogate pair is one code point in UTF-16.
						r, n = 0x10000+(r-0xD800)<<10+(lo-0xDC00), 12
					}
				}
				if r >= 0xD800 && r <= 0xDFFF {
					if !inClass {
						note("a lone UTF-16 surrogate")
						return "", loosened, false
					}
					// [\uD800-\uDBFF][\uDC00-\uDFFF] is every supplementary
					// code point; a narrower surrogate range is widened to it.
					if !strings.HasPrefix(strings.ToUpper(pat[i:]), `\UD800-\UDBFF][\UDC00-\UDFFF]`) {
						note("a partial UTF-16 surrogate range")
					}
					b.WriteString(`\x{10000}-\x{10FFFF}`)
					i = skipSurrogateRange(pat, i+n)
					continue
				}
				fmt.Fprintf(&b, `\x{%X}`, r)
				i += n
				continue
			case (next == 'p' || next == 'P') && i+2 < len(pat) && pat[i+2] == '{':
				end := strings.IndexByte(pat[i:], '}')
				if end < 0 {
					break
				}
				name := pat[i+3 : i+end]
				b.WriteString(javaProperty(name, next == 'P', inClass, note))
				i += end + 1
				continue
			case next >= '1' && next <= '9' && !inClass:
				note(fmt.Sprintf(`a backreference (\%c)`, next))
				b.WriteString(`(?s:.*)`)
				i += 2
				continue
			case next == 'k' && strings.HasPrefix(pat[i+2:], "<") && !inClass:
				note(`a named backreference (\k<name>)`)
				end := strings.IndexByte(pat[i:], '>')
				if end < 0 {
					end = len(pat) - i - 1
				}
				b.WriteString(`(?s:.*)`)
				i += end + 1
				continue
			case next == 'Z':
				note(`\Z (end of input before a final line terminator)`)
				b.WriteString(`(?:\r?\n)?\z`)
				i += 2
				continue
			case next == 'G':
				note(`\G (end of the previous match)`)
				i += 2
				continue
			case next == 'h':
				b.WriteString(` \t\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`)
				if !inClass {
					s := b.String()
					b.Reset()
					b.WriteString(s[:len(s)-len(` \t\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`)])
					b.WriteString(`[ \t\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]`)
				}
				i += 2
				continue
			case next == 'e':
				b.WriteString(`\x1B`)
				i += 2
				continue
			}
			b.WriteString(pat[i : i+2])
			i += 2
			continue
		case c == '[' && inClass:
			if strings.HasPrefix(pat[i:], "[:") {
				break
			}
			// Java's class union ([a[bc]]) reads differently in RE2.
			note("a nested character class ([a[b]])")
			return "", loosened, false
		case c == '&' && inClass && strings.HasPrefix(pat[i:], "&&"):
			note("a class intersection ([a-z&&[^b]])")
			return "", loosened, false
		case c == '[':
			inClass = true
			b.WriteByte(c)
			i++
			if i < len(pat) && pat[i] == '^' {
				b.WriteByte('^')
				i++
			}
			if i < len(pat) && pat[i] == ']' {
				b.WriteString(`\]`)
				i++
			}
			continue
		case c == ']' && inClass:
			inClass = false
		case c == '(' && !inClass && strings.HasPrefix(pat[i:], "(?"):
			rest := pat[i+2:]
			var what string
			switch {
			case strings.HasPrefix(rest, "="):
				what = "a lookahead ((?=...))"
			case strings.HasPrefix(rest, "!"):
				what = "a negative lookahead ((?!...))"
			case strings.HasPrefix(rest, "<="):
				what = "a lookbehind ((?<=...))"
			case strings.HasPrefix(rest, "<!"):
				what = "a negative lookbehind ((?<!...))"
			case strings.HasPrefix(rest, ">"):
				note("an atomic group ((?>...))")
				b.WriteString("(?:")
				i += 3
				continue
			}
			if what != "" {
				// A lookaround only restricts what matches: leaving it out
				// widens the pattern.
				note(what)
				i = groupEnd(pat, i)
				continue
			}
		case c == '+' && !inClass && afterQuant:
			note(fmt.Sprintf("a possessive quantifier (%s+)", pat[i-1:i]))
			i++
			continue
		case (c == '*' || c == '+' || c == '?') && !inClass && !afterQuant && i > 0 && pat[i-1] != '(':
			lastQuant = true
		case c == '?' && !inClass && afterQuant:
			// Lazy (a+?): RE2 has it, and nothing may follow.
		case c == '{' && !inClass:
			if _, _, end, ok := repeatCount(pat, i); ok {
				b.WriteString(pat[i:end])
				i = end
				lastQuant = true
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(pat[i:])
		b.WriteString(pat[i : i+size])
		i += size
	}
	return b.String(), loosened, true
}

// javaProperty translates \p{name} (or \P{name} when negated).
func javaProperty(name string, negated, inClass bool, note func(string)) string {
	if posix, ok := javaPOSIX[name]; ok {
		switch {
		case inClass && negated:
			return "[:^" + posix + ":]"
		case inClass:
			return "[:" + posix + ":]"
		case negated:
			return "[^[:" + posix + ":]]"
		}
		return "[[:" + posix + ":]]"
	}
	re2 := strings.TrimPrefix(name, "Is")
	if strings.HasPrefix(name, "java") || strings.HasPrefix(name, "In") {
		// Java's own classes (javaLowerCase) and Unicode blocks (InGreek)
		// have no RE2 name: widened to any character.
		note(fmt.Sprintf(`a Java character class (\p{%s})`, name))
		if negated {
			re2 = "Cs" // matches no UTF-8 text: \P{...} widened keeps nothing out
			negated = false
		} else {
			return anyChar(inClass)
		}
	}
	if _, err := syntax.Parse(`\p{`+re2+`}`, syntax.Perl); err != nil {
		note(fmt.Sprintf(`a character property RE2 does not know (\p{%s})`, name))
		return anyChar(inClass)
	}
	if negated {
		return `\P{` + re2 + `}`
	}
	return `\p{` + re2 + `}`
}

func anyChar(inClass bool) string {
	if inClass {
		return `\x00-\x{10FFFF}`
	}
	return `[\x00-\x{10FFFF}]`
}

// skipSurrogateRange skips the rest of a surrogate range ("-\uDBFF") and
// a directly following low-surrogate class ("][\uDC00-\uDFFF"), which the
// supplementary range written for it already covers.
func skipSurrogateRange(pat string, i int) int {
	if strings.HasPrefix(pat[i:], `-\u`) && i+7 <= len(pat) {
		i += 7
	}
	if low := `][\UDC00-\UDFFF]`; strings.HasPrefix(strings.ToUpper(pat[i:]), low) {
		return i + len(low) - 1
	}
	return i
}

// groupEnd returns the offset just past the group opening at i.
func groupEnd(pat string, i int) int {
	depth := 0
	for j := i; j < len(pat); j++ {
		switch pat[j] {
		case '\\':
			j++
		case '[':
			j = classEnd(pat, j) - 1
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(pat)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return len(s) > 0
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
