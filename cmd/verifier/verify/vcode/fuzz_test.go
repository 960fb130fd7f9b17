package vcode_test

import (
	"errors"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

// FuzzParse: no input makes Parse or ParseLink panic; what Parse accepts
// reads back the same from its written form, its canonical form and its
// link, and what it refuses is a *vcode.Error with a kind.
// Run with `go test -fuzz FuzzParse ./cmd/verifier/verify/vcode/`.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "-", "7KQ4M-XW9TR-2HDNP-C8VE6", "7kq4m xw9tr 2hdnp c8ve6", "7KQ4M-XW9TR-2HDNP-C8VE7",
		"7KQ4M-XW0TR-2HDNP-C8VE6", "22222222222222222222", "https://verify.example/#code=7KQ4M-XW9TR-2HDNP-C8VE6",
		"#code=%zz", "\xff\xfe", "7KQ4M–XW9TR–2HDNP–C8VE6",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := vcode.Parse(s)
		if err != nil {
			var e *vcode.Error
			if !errors.As(err, &e) || e.Kind == 0 || e.Error() == "" {
				t.Fatalf("%q: error %v", s, err)
			}
		} else {
			if c.IsZero() {
				t.Fatalf("%q: zero code accepted", s)
			}
			for _, form := range []string{c.String(), c.Canonical()} {
				if p, err := vcode.Parse(form); err != nil || p != c {
					t.Fatalf("%q: %q reads as %v, %v", s, form, p, err)
				}
			}
			if p, err := vcode.ParseLink(c.Link("https://verify.example")); err != nil || p != c {
				t.Fatalf("%q: link reads as %v, %v", s, p, err)
			}
		}
		if l, err := vcode.ParseLink(s); err == nil && l.IsZero() {
			t.Fatalf("%q: ParseLink accepted the zero code", s)
		} else if err != nil && vcode.KindOf(err) == 0 {
			t.Fatalf("%q: ParseLink error %v", s, err)
		}
	})
}
