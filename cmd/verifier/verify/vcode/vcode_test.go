package vcode_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

type vectors struct {
	LinkBase string `json:"link_base"`
	Valid    []struct {
		Input     string `json:"input"`
		Code      string `json:"code"`
		Canonical string `json:"canonical"`
		Key       string `json:"key"`
		Salt      string `json:"salt"`
	} `json:"valid"`
	Links   []refusal `json:"links"`
	Invalid []refusal `json:"invalid"`
}

// refusal is an input and either the code read from it or the error.
type refusal struct {
	Input string `json:"input"`
	Code  string `json:"code"`
	Kind  string `json:"kind"`
	Pos   int    `json:"pos"`
	Char  string `json:"char"`
	Len   int    `json:"len"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVectors: the known codes give the key and salt of testdata (computed
// there independently of this package), and each refused input the error
// kind, position and character written there.
func TestVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Valid) == 0 || len(v.Invalid) == 0 || len(v.Links) == 0 {
		t.Fatal("empty vectors")
	}
	for _, tc := range v.Valid {
		t.Run("valid/"+tc.Input, func(t *testing.T) {
			c, err := vcode.Parse(tc.Input)
			if err != nil {
				t.Fatal(err)
			}
			if c.String() != tc.Code || c.Canonical() != tc.Canonical {
				t.Errorf("got %s %s, want %s %s", c, c.Canonical(), tc.Code, tc.Canonical)
			}
			key, salt := c.Key(), c.Salt()
			if hex.EncodeToString(key[:]) != tc.Key {
				t.Errorf("key %x, want %s", key, tc.Key)
			}
			if hex.EncodeToString(salt[:]) != tc.Salt {
				t.Errorf("salt %x, want %s", salt, tc.Salt)
			}
			if want := v.LinkBase + "/#code=" + tc.Code; c.Link(v.LinkBase) != want {
				t.Errorf("link %s, want %s", c.Link(v.LinkBase), want)
			}
		})
	}
	for _, tc := range v.Invalid {
		t.Run("invalid/"+tc.Input, func(t *testing.T) {
			_, err := vcode.Parse(tc.Input)
			checkRefusal(t, tc, err)
		})
	}
	for _, tc := range v.Links {
		t.Run("link/"+tc.Input, func(t *testing.T) {
			c, err := vcode.ParseLink(tc.Input)
			if tc.Kind != "" {
				checkRefusal(t, tc, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.String() != tc.Code {
				t.Errorf("got %s, want %s", c, tc.Code)
			}
		})
	}
}

func checkRefusal(t *testing.T, tc refusal, err error) {
	t.Helper()
	var e *vcode.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want a *vcode.Error of kind %s", err, tc.Kind)
	}
	if e.Kind.String() != tc.Kind || e.Pos != tc.Pos || e.Len != tc.Len {
		t.Errorf("got kind %s pos %d len %d, want %s %d %d", e.Kind, e.Pos, e.Len, tc.Kind, tc.Pos, tc.Len)
	}
	var char rune
	if tc.Char != "" {
		char, _ = utf8.DecodeRuneInString(tc.Char)
	}
	if e.Char != char {
		t.Errorf("char %q, want %q", e.Char, char)
	}
	if vcode.KindOf(err) != e.Kind {
		t.Errorf("KindOf %v, want %v", vcode.KindOf(err), e.Kind)
	}
}

// TestErrorText: each kind reads as a plain sentence with what is wrong,
// and the confusable characters get the hint.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{"no code"}},
		{"7KQ4M", []string{"5 characters", "has 20"}},
		{"7KQ4M-XW0TR", []string{"character 8", `'0'`, "never use 0, O, 1, I or L"}},
		{"7KQ4M-XWoTR", []string{"character 8", `'o'`, "never use 0, O, 1, I or L"}},
		{"7KQ4M-XW?TR", []string{"character 8", `'?'`}},
		{"7KQ4M-XW9TR-2HDNP-C8VE7", []string{"mistyped", "swapped"}},
	} {
		_, err := vcode.Parse(tc.in)
		if err == nil {
			t.Fatalf("%q accepted", tc.in)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q does not say %q", tc.in, err, w)
			}
		}
		if strings.Contains(tc.in, "?") && strings.Contains(err.Error(), "never use") {
			t.Errorf("%q: hint for a character that is not confusable: %q", tc.in, err)
		}
	}
	if _, err := vcode.ParseLink("https://verify.example/"); vcode.KindOf(err) != vcode.KindLink || !strings.Contains(err.Error(), "link") {
		t.Errorf("link without code: %v", err)
	}
	if vcode.KindOf(errors.New("other")) != 0 {
		t.Error("KindOf of a foreign error")
	}
}

// newCodes draws n codes from a seeded generator, the same on every run.
func newCodes(t testing.TB, n int, seed uint64) []vcode.Code {
	t.Helper()
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	codes := make([]vcode.Code, n)
	for i := range codes {
		c, err := vcode.New(r)
		if err != nil {
			t.Fatal(err)
		}
		codes[i] = c
	}
	return codes
}

// refused fails the test unless Parse refuses s with the check error.
func refused(t *testing.T, s []byte, what string) {
	t.Helper()
	_, err := vcode.Parse(string(s))
	if vcode.KindOf(err) != vcode.KindCheck {
		t.Fatalf("%s: %s gives %v, want the check error", what, s, err)
	}
}

// TestMistakesCaught is the 10,000-case test: for each of 10,000 random
// codes, one random symbol changed to another, two random positions with
// different symbols swapped, and two adjacent different symbols swapped;
// Parse refuses every one with the check error.
func TestMistakesCaught(t *testing.T) {
	rnd := mrand.New(mrand.NewPCG(27, 1))
	for i, c := range newCodes(t, 10000, 1) {
		s := []byte(c.Canonical())
		if _, err := vcode.Parse(string(s)); err != nil {
			t.Fatalf("code %d: %s refused: %v", i, s, err)
		}

		m := bytes.Clone(s)
		p := rnd.IntN(vcode.Len)
		m[p] = vcode.Alphabet[(strings.IndexByte(vcode.Alphabet, m[p])+1+rnd.IntN(len(vcode.Alphabet)-1))%len(vcode.Alphabet)]
		refused(t, m, "one symbol changed")

		m = bytes.Clone(s)
		for {
			p, q := rnd.IntN(vcode.Len), rnd.IntN(vcode.Len)
			if m[p] != m[q] {
				m[p], m[q] = m[q], m[p]
				break
			}
		}
		refused(t, m, "two symbols swapped")

		m = bytes.Clone(s)
		for {
			p := rnd.IntN(vcode.Len - 1)
			if m[p] != m[p+1] {
				m[p], m[p+1] = m[p+1], m[p]
				break
			}
		}
		refused(t, m, "two adjacent symbols swapped")
	}
}

// TestMistakesCaughtExhaustive: for 1,000 random codes, every substitution
// of one symbol and every transposition of two different symbols is
// refused with the check error.
func TestMistakesCaughtExhaustive(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 50
	}
	for _, c := range newCodes(t, n, 2) {
		s := []byte(c.Canonical())
		for p := range s {
			for j := 0; j < len(vcode.Alphabet); j++ {
				if vcode.Alphabet[j] == s[p] {
					continue
				}
				m := bytes.Clone(s)
				m[p] = vcode.Alphabet[j]
				refused(t, m, "one symbol changed")
			}
			for q := p + 1; q < len(s); q++ {
				if s[p] == s[q] {
					continue
				}
				m := bytes.Clone(s)
				m[p], m[q] = m[q], m[p]
				refused(t, m, "two symbols swapped")
			}
		}
	}
}

// TestNewUniform: New's symbols are spread evenly over the alphabet (a
// chi-square test over 20,000 codes), and the check makes every code valid.
func TestNewUniform(t *testing.T) {
	var counts [len(vcode.Alphabet)]int
	total := 0
	for _, c := range newCodes(t, 20000, 3) {
		for _, b := range []byte(c.Canonical())[:vcode.Len-1] {
			counts[strings.IndexByte(vcode.Alphabet, b)]++
			total++
		}
	}
	expected := float64(total) / float64(len(counts))
	chi := 0.0
	for _, n := range counts {
		d := float64(n) - expected
		chi += d * d / expected
	}
	// 30 degrees of freedom: p = 1e-6 at about 80.
	if chi > 80 {
		t.Errorf("chi-square %.1f over %v", chi, counts)
	}
}

// TestNewReader: New skips the 5-bit value 31 (rejection sampling) and
// passes a reader's error on.
func TestNewReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    io.Reader
		want string // canonical form, or "" for an error
	}{
		{"zeros", bytes.NewReader(make([]byte, 32)), "22222222222222222222"},
		// 0xff & 31 = 31 is refused: the symbols come from the zeros after.
		{"rejected", io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{0xff}, 32)), bytes.NewReader(make([]byte, 32))), "22222222222222222222"},
		{"high bits ignored", bytes.NewReader(bytes.Repeat([]byte{0xe0 | 30}, 32)), "ZZZZZZZZZZZZZZZZZZZU"},
		{"only rejected", bytes.NewReader(bytes.Repeat([]byte{0x1f}, 64)), ""},
		{"short", bytes.NewReader(make([]byte, 10)), ""},
		{"error", iotest.ErrReader(errors.New("no entropy")), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := vcode.New(tc.r)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %s, want an error", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Canonical() != tc.want {
				t.Errorf("got %s, want %s", c.Canonical(), tc.want)
			}
		})
	}
	c, err := vcode.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := vcode.Parse(c.String()); err != nil || p != c {
		t.Fatalf("crypto/rand code %s: parsed %s, %v", c, p, err)
	}
}

// TestForms: written form, canonical form, link, text marshalling and the
// zero Code.
func TestForms(t *testing.T) {
	c, err := vcode.Parse("7kq4mxw9tr2hdnpc8ve6")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{c.String(), "7KQ4M-XW9TR-2HDNP-C8VE6"},
		{c.Canonical(), "7KQ4MXW9TR2HDNPC8VE6"},
		{c.Link("https://verify.example"), "https://verify.example/#code=7KQ4M-XW9TR-2HDNP-C8VE6"},
		{c.Link("https://verify.example/"), "https://verify.example/#code=7KQ4M-XW9TR-2HDNP-C8VE6"},
		{c.Link("https://verify.example/notary"), "https://verify.example/notary/#code=7KQ4M-XW9TR-2HDNP-C8VE6"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	b, err := json.Marshal(map[string]vcode.Code{"code": c})
	if err != nil || string(b) != `{"code":"7KQ4M-XW9TR-2HDNP-C8VE6"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var m map[string]vcode.Code
	if err := json.Unmarshal(b, &m); err != nil || m["code"] != c {
		t.Fatalf("unmarshal: %v %v", m, err)
	}
	if err := json.Unmarshal([]byte(`{"code":"7KQ4M-XW9TR-2HDNP-C8VE7"}`), &m); vcode.KindOf(err) != vcode.KindCheck {
		t.Fatalf("unmarshal of a wrong code: %v", err)
	}
	var zero vcode.Code
	if !zero.IsZero() || c.IsZero() || zero.String() != "" || zero.Canonical() != "" {
		t.Error("zero Code")
	}
}
