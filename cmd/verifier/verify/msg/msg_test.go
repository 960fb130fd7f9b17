package msg

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCatalogueComplete: every key of the default language exists in every
// language, with the same placeholders, and no language has a key the
// default lacks or an empty message.
func TestCatalogueComplete(t *testing.T) {
	def := catalogue[Default]
	for _, l := range Langs {
		m := catalogue[l]
		if m == nil {
			t.Fatalf("%s: no messages", l)
		}
		for k, v := range def {
			got, ok := m[k]
			if !ok {
				t.Errorf("%s: no message %q", l, k)
				continue
			}
			if strings.TrimSpace(got) == "" && strings.TrimSpace(v) != "" {
				t.Errorf("%s: %q is empty", l, k)
			}
			if a, b := Placeholders(v), Placeholders(got); !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %q has placeholders %v, %s has %v", l, k, b, Default, a)
			}
		}
		for k := range m {
			if _, ok := def[k]; !ok {
				t.Errorf("%s: message %q is not in %s", l, k, Default)
			}
		}
	}
}

func TestFromLocale(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   Lang
	}{
		{nil, Spanish},
		{[]string{"", "", ""}, Spanish},
		{[]string{"C"}, Spanish},
		{[]string{"POSIX", "", "en_GB.UTF-8"}, Spanish},
		{[]string{"", "", "en_GB.UTF-8"}, English},
		{[]string{"", "ca_ES.UTF-8", "en_US"}, Catalan},
		{[]string{"gl_ES", "", ""}, Galician},
		{[]string{"", "", "eu_ES.UTF-8@euro"}, Basque},
		{[]string{"", "", "fr_FR.UTF-8"}, Spanish},
		{[]string{"", "", "es"}, Spanish},
	} {
		if got := FromLocale(tc.values...); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.values, got, tc.want)
		}
	}
	if _, err := Parse("fr"); err == nil {
		t.Error("fr parsed")
	}
	if l, err := Parse(" EU "); err != nil || l != Basque {
		t.Errorf("EU: %v %v", l, err)
	}
}

func TestGet(t *testing.T) {
	if got := T(English, "verdict.registered", "issuer", "{when}", "when", "today"); got != "This document was registered by {when} on today." {
		t.Errorf("values are scanned again: %q", got)
	}
	if got := Get(Basque, "no.such.key", nil); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
	if got := fill("a {b} {c", Args{"b": "B"}); got != "a B {c" {
		t.Errorf("unclosed placeholder: %q", got)
	}
	web := Prefixed(Galician, "web.")
	if web["verify"] != "Comprobar" || len(web) < 40 {
		t.Errorf("web labels: %v", web)
	}
}

func TestDate(t *testing.T) {
	for _, tc := range []struct {
		lang Lang
		t    time.Time
		want string
	}{
		{Spanish, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "1 de marzo de 2025"},
		{English, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "1 March 2025"},
		{Catalan, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), "l'1 d'abril de 2025"},
		{Catalan, time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), "el 2 de març de 2025"},
		{Catalan, time.Date(2025, 9, 11, 0, 0, 0, 0, time.UTC), "l'11 de setembre de 2025"},
		{Galician, time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC), "9 de xuño de 2025"},
		{Basque, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "2025eko martxoaren 1ean"},
		{Basque, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "2026ko martxoaren 2an"},
		{Basque, time.Date(2020, 9, 11, 0, 0, 0, 0, time.UTC), "2020ko irailaren 11n"},
		{Basque, time.Date(2010, 12, 31, 0, 0, 0, 0, time.UTC), "2010eko abenduaren 31n"},
		{Basque, time.Date(2000, 1, 15, 0, 0, 0, 0, time.UTC), "2000ko urtarrilaren 15ean"},
		{Basque, time.Date(2100, 5, 30, 0, 0, 0, 0, time.UTC), "2100eko maiatzaren 30ean"},
		{Basque, time.Date(2031, 7, 20, 0, 0, 0, 0, time.UTC), "2031ko uztailaren 20an"},
	} {
		if got := Date(tc.lang, tc.t); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.lang, tc.t.Format(time.DateOnly), got, tc.want)
		}
	}
}
