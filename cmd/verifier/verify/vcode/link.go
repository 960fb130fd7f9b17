package vcode

import "strings"

// ParseLink reads a code from a verifier link (Link's form: the code in the
// "code" parameter of the fragment, "https://verify.example/#code=...") or,
// when s is no link, as a bare code with Parse. The link's base is not
// checked: the code alone is what is read from it.
func ParseLink(s string) (Code, error) {
	s = strings.TrimSpace(s)
	frag, ok := fragment(s)
	if !ok {
		return Parse(s)
	}
	for _, p := range strings.Split(frag, "&") {
		name, value, _ := strings.Cut(p, "=")
		if name != "code" {
			continue
		}
		if v, ok := unescape(value); ok {
			value = v
		}
		return Parse(value)
	}
	return Code{}, &Error{Kind: KindLink}
}

// fragment is the fragment of the link s, and whether s is a link: it has a
// fragment or a scheme ("https://").
func fragment(s string) (string, bool) {
	if _, f, ok := strings.Cut(s, "#"); ok {
		return f, true
	}
	return "", strings.Contains(s, "://")
}

// unescape decodes the %XX escapes and the "+" (a space) of a query value,
// as net/url's QueryUnescape does; ok is false for a malformed escape.
// Package vcode links no net package: the web verifier's core, which has
// no networking, reads links with it.
func unescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
