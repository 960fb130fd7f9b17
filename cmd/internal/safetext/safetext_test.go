package safetext_test

import (
	"testing"

	"github.com/gobtechlab/notary/cmd/internal/safetext"
)

func TestQuoteAndEscape(t *testing.T) {
	cases := []struct {
		in, quote, escape string
	}{
		{"informe 2026.pdf", "informe 2026.pdf", "informe 2026.pdf"},
		{"Agencia \"Tributaria\" \\ año ñ €", "Agencia \"Tributaria\" \\ año ñ €", "Agencia \"Tributaria\" \\ año ñ €"},
		{"", "", ""},
		{"a\nanchored\tb.pdf", `"a\nanchored\tb.pdf"`, `a\nanchored\tb.pdf`},
		{"x\r\x1b[2Jok", `"x\r\x1b[2Jok"`, `x\r\x1b[2Jok`},
		{"fdp.\u202etxt", `"fdp.\u202etxt"`, `fdp.\u202etxt`},
		{"zero\u200bwidth", `"zero\u200bwidth"`, `zero\u200bwidth`},
		{"bad\xffbyte", `"bad\xffbyte"`, `bad\xffbyte`},
		{"del\x7f", `"del\x7f"`, `del\x7f`},
		{"c1\u0085", `"c1\u0085"`, `c1\u0085`},
		{"\"quoted\"\n", `"\"quoted\"\n"`, `"quoted"\n`},
	}
	for _, tc := range cases {
		if got := safetext.Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.quote)
		}
		if got := safetext.Escape(tc.in); got != tc.escape {
			t.Errorf("Escape(%q) = %s, want %s", tc.in, got, tc.escape)
		}
		if safetext.Clean(tc.in) != (tc.in == tc.quote) {
			t.Errorf("Clean(%q) = %v", tc.in, !(tc.in == tc.quote))
		}
	}
}
