package msg

import (
	"fmt"
	"sort"
	"strings"
)

// Lang is a language of the catalogue: a lowercase ISO 639-1 code.
type Lang string

// Languages.
const (
	Spanish  Lang = "es"
	English  Lang = "en"
	Catalan  Lang = "ca"
	Galician Lang = "gl"
	Basque   Lang = "eu"
)

// Default is the language when nothing chooses one.
const Default = Spanish

// Langs lists the languages, the default first.
var Langs = []Lang{Spanish, English, Catalan, Galician, Basque}

var catalogue = map[Lang]map[string]string{
	Spanish:  es,
	English:  en,
	Catalan:  ca,
	Galician: gl,
	Basque:   eu,
}

// Parse parses a language code (es, en, ca, gl, eu; case-insensitive).
func Parse(s string) (Lang, error) {
	l := Lang(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := catalogue[l]; ok {
		return l, nil
	}
	return "", fmt.Errorf("language %q: want es, en, ca, gl or eu", s)
}

// FromLocale chooses the language of POSIX locale values, given in
// precedence order (LC_ALL, LC_MESSAGES, LANG): the first non-empty one
// decides, by its language part (es_ES.UTF-8 is es). A locale of another
// language, C or POSIX, or none at all, gives the default, Spanish.
func FromLocale(values ...string) Lang {
	for _, v := range values {
		if v == "" {
			continue
		}
		code, _, _ := strings.Cut(v, "_")
		code, _, _ = strings.Cut(code, ".")
		code, _, _ = strings.Cut(code, "@")
		if l, err := Parse(code); err == nil {
			return l
		}
		return Default
	}
	return Default
}

// Args are the values of a message's placeholders.
type Args map[string]string

// Get returns the message key in lang with its placeholders replaced; a
// language without the key falls back to Spanish, and an unknown key is
// returned as it is.
func Get(lang Lang, key string, args Args) string {
	s, ok := catalogue[lang][key]
	if !ok {
		if s, ok = catalogue[Default][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return s
	}
	return fill(s, args)
}

// T is Get with the placeholders given as name, value pairs.
func T(lang Lang, key string, pairs ...string) string {
	args := make(Args, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		args[pairs[i]] = pairs[i+1]
	}
	return Get(lang, key, args)
}

// fill replaces every {name} of s with args[name]; a placeholder without a
// value stays as it is. Values are not scanned again.
func fill(s string, args Args) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+1 : i+j]
		b.WriteString(s[:i])
		if v, ok := args[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

// Placeholders returns the placeholder names of a message text, sorted and
// without repeats.
func Placeholders(s string) []string {
	seen := map[string]bool{}
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		name := s[i+1 : i+j]
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		s = s[i+j+1:]
	}
	sort.Strings(out)
	return out
}

// Keys returns the keys of the catalogue, sorted.
func Keys() []string {
	out := make([]string, 0, len(catalogue[Default]))
	for k := range catalogue[Default] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Prefixed returns the messages of lang whose key starts with prefix, keyed
// by the rest of the key: Prefixed(l, "web.") gives the web page's labels.
func Prefixed(lang Lang, prefix string) map[string]string {
	out := map[string]string{}
	for _, k := range Keys() {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = Get(lang, k, nil)
		}
	}
	return out
}
