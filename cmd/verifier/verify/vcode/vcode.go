package vcode

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
)

const (
	// Alphabet holds the 31 symbols of a code, in the order of their values
	// 0..30: digits and upper-case letters without 0, O, 1, I and L.
	Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	// Len is the number of symbols of a code: 19 random and the check.
	Len = 20
	// GroupLen is the number of symbols of a group in the written form.
	GroupLen = 5
	// KeySize is the size of a code's lookup key.
	KeySize = 16
	// SaltSize is the size of a code's salt.
	SaltSize = 32

	// base is the number of symbols, a prime.
	base = len(Alphabet)
	// invLen is the inverse of Len modulo base: Len*invLen = 1 (mod base).
	invLen = 14
	// written is the length of the grouped form.
	written = Len + Len/GroupLen - 1

	saltDomain = "notary/code/salt/v1"
	keyDomain  = "notary/code/key/v1"
	// KDFSalt and KDFIterations are PBKDF2's salt and iteration count in
	// the stretching of a code (Derive).
	KDFSalt       = "notary/code/kdf/v1"
	KDFIterations = 10000
)

// Code is a verification code: its 20 symbols in canonical form. The zero
// Code is not a code (IsZero); New and Parse return only valid codes.
type Code struct {
	s [Len]byte
}

// values maps an ASCII byte to its value in the alphabet plus one; 0 for a
// byte that is not a symbol.
var values = func() (v [256]byte) {
	for i := 0; i < base; i++ {
		v[Alphabet[i]] = byte(i + 1)
	}
	return v
}()

// New draws a code from r (crypto/rand.Reader in production): 19 symbols,
// each uniform over the alphabet by rejection sampling of 5-bit values (31
// is refused and drawn again), and the check symbol.
func New(r io.Reader) (Code, error) {
	var c Code
	var buf [32]byte
	n, used := 0, 0
	for i := 0; i < Len-1; {
		if used == n {
			if _, err := io.ReadFull(r, buf[:]); err != nil {
				return Code{}, fmt.Errorf("vcode: reading random bytes: %w", err)
			}
			n, used = len(buf), 0
		}
		v := buf[used] & 31
		used++
		if int(v) < base {
			c.s[i] = Alphabet[v]
			i++
		}
	}
	c.s[Len-1] = Alphabet[checkValue(&c.s)]
	return c, nil
}

// checkValue is the value of the check symbol of the first Len-1 symbols
// of s: the v with sum_{i=1..Len-1} i*v_i + Len*v = 0 (mod base).
func checkValue(s *[Len]byte) int {
	sum := 0
	for i := 0; i < Len-1; i++ {
		sum += (i + 1) * int(values[s[i]]-1)
	}
	return (base - sum%base) * invLen % base
}

// Parse reads a code as a person types it: spaces and hyphens (also the
// Unicode dashes of copied text) are dropped and letters upper-cased; then
// every character must be a symbol of the alphabet, there must be exactly
// Len of them, and the check must hold. It fails with an *Error.
func Parse(s string) (Code, error) {
	var c Code
	n := 0
	for _, r := range s {
		if isSeparator(r) {
			continue
		}
		n++
		u := r
		if 'a' <= u && u <= 'z' {
			u -= 'a' - 'A'
		}
		if u >= 0x80 || values[u] == 0 {
			return Code{}, &Error{Kind: KindSymbol, Pos: n, Char: r}
		}
		if n <= Len {
			c.s[n-1] = byte(u)
		}
	}
	switch {
	case n == 0:
		return Code{}, &Error{Kind: KindEmpty}
	case n != Len:
		return Code{}, &Error{Kind: KindLength, Len: n}
	}
	if sum(&c.s)%base != 0 {
		return Code{}, &Error{Kind: KindCheck}
	}
	return c, nil
}

// sum is sum_{i=1..Len} i*v_i of the symbols of s.
func sum(s *[Len]byte) int {
	t := 0
	for i, b := range s {
		t += (i + 1) * int(values[b]-1)
	}
	return t
}

// isSeparator reports the characters Parse drops: white space, the hyphen
// and the dashes and minus sign that copied text may hold instead.
func isSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0xa0, '-',
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
		return true
	}
	return false
}

// IsZero reports whether c is the zero Code, which is not a code.
func (c Code) IsZero() bool { return c == Code{} }

// Canonical is the form that is hashed: the 20 upper-case symbols, ASCII,
// without separators.
func (c Code) Canonical() string {
	if c.IsZero() {
		return ""
	}
	return string(c.s[:])
}

// String is the written form: four groups of five symbols joined by
// hyphens, "7KQ4M-XW9TR-2HDNP-C8VE6".
func (c Code) String() string {
	if c.IsZero() {
		return ""
	}
	var b [written]byte
	j := 0
	for i, s := range c.s {
		if i > 0 && i%GroupLen == 0 {
			b[j] = '-'
			j++
		}
		b[j] = s
		j++
	}
	return string(b[:])
}

// Secrets are what a code derives: the salt of the anchored commitment of
// the document registered under it, and the key under which the chain
// finds that document.
type Secrets struct {
	Salt [SaltSize]byte
	Key  [KeySize]byte
}

// Derive stretches the canonical form c and derives the salt and the key
// from it:
//
//	s    = PBKDF2-HMAC-SHA256(c, "notary/code/kdf/v1", 10,000 iterations, 32 bytes)
//	salt = SHA-256("notary/code/salt/v1" || s)
//	key  = SHA-256("notary/code/key/v1"  || s)[:16]
//
// The stretching is a deliberate cost (a few milliseconds): whoever
// guesses codes against the keys on the chain pays it for every guess.
// Callers that need both take them from one Derive.
func (c Code) Derive() Secrets {
	if c.IsZero() {
		return Secrets{}
	}
	s, err := pbkdf2.Key(sha256.New, string(c.s[:]), []byte(KDFSalt), KDFIterations, sha256.Size)
	if err != nil {
		// Only FIPS 140-3 mode refuses parameters, and these meet its
		// minimums (a 20-byte password, an 18-byte salt, 32-byte output).
		panic(fmt.Sprintf("vcode: PBKDF2 refused its fixed parameters: %v", err))
	}
	var buf [64]byte
	var out Secrets
	out.Salt = sha256.Sum256(append(append(buf[:0], saltDomain...), s...))
	k := sha256.Sum256(append(append(buf[:0], keyDomain...), s...))
	copy(out.Key[:], k[:KeySize])
	return out
}

// Salt is Derive's salt: the salt of the anchored commitment of the
// document registered under c.
func (c Code) Salt() [SaltSize]byte { return c.Derive().Salt }

// Key is Derive's key: the key under which the chain finds the document
// registered under c.
func (c Code) Key() [KeySize]byte { return c.Derive().Key }

// Link is the verifier link that a QR code carries: base, a "/" when base
// does not end with one, and the fragment "#code=" with the written form.
// A fragment never reaches a server nor its logs.
func (c Code) Link(base string) string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + "#code=" + c.String()
}

// MarshalText writes the written form.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a code with Parse.
func (c *Code) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = p
	return nil
}
