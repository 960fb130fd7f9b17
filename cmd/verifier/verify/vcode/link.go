package vcode

import (
	"net/url"
	"strings"
)

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
		if v, err := url.QueryUnescape(value); err == nil {
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
