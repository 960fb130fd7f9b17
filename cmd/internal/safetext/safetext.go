package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean reports whether s is valid UTF-8 and every rune of it is
// printable (unicode.IsPrint: the space is the only blank).
func Clean(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Quote returns s unchanged if it is clean, else s as a double-quoted Go
// string literal with its non-printable runes escaped ("a\nb", "\x1b[2J").
// Use it for a value printed as a field of a text: a file name, an id, a
// name.
func Quote(s string) string {
	if Clean(s) {
		return s
	}
	return strconv.Quote(s)
}

// Escape returns s with each non-printable rune escaped in place (\n, \t,
// \x1b, \u202e) and each invalid byte as \xNN; printable text, quotes and
// backslashes included, is kept as it is. Use it for a message composed
// of fixed text and untrusted values, such as an error printed on one
// line.
func Escape(s string) string {
	if Clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}
