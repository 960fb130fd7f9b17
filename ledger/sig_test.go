package ledger

import (
	"crypto/ed25519"
	"testing"
)

// TestVerifySignatureMatchesStdlib: our verifier and crypto/ed25519.Verify
// agree on valid signatures and on malformed ones.
func TestVerifySignatureMatchesStdlib(t *testing.T) {
	k := testKey("sig")
	msg := []byte("notary")
	sig := ed25519.Sign(k, msg)
	cases := map[string]struct{ pub, msg, sig []byte }{
		"valid":         {pub(k), msg, sig},
		"other message": {pub(k), []byte("notarz"), sig},
		"other key":     {pub(testKey("other")), msg, sig},
		"short sig":     {pub(k), msg, sig[:63]},
		"short key":     {pub(k)[:31], msg, sig},
		"high bits":     {pub(k), msg, append(append([]byte{}, sig[:63]...), sig[63]|0xe0)},
		"S plus L": {pub(k), msg, func() []byte {
			// S + L is a non-canonical encoding of the same scalar.
			l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
				0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
			s := append([]byte{}, sig...)
			var carry uint16
			for i := 0; i < 32; i++ {
				v := uint16(s[32+i]) + uint16(l[i]) + carry
				s[32+i], carry = byte(v), v>>8
			}
			return s
		}()},
		"key not on curve": {append([]byte{0x02}, make([]byte, 31)...), msg, sig},
	}
	for name, c := range cases {
		want := len(c.pub) == ed25519.PublicKeySize && ed25519.Verify(c.pub, c.msg, c.sig)
		if got := VerifySignature(c.pub, c.msg, c.sig); got != want {
			t.Errorf("%s: ours %v, crypto/ed25519 %v", name, got, want)
		}
	}
}

// FuzzVerifySignature: any key, message and signature get the same answer
// from our verifier and from crypto/ed25519.
func FuzzVerifySignature(f *testing.F) {
	k := testKey("fuzz-sig")
	msg := []byte("m")
	f.Add([]byte(pub(k)), msg, ed25519.Sign(k, msg))
	f.Fuzz(func(t *testing.T, p, m, s []byte) {
		want := len(p) == ed25519.PublicKeySize && ed25519.Verify(p, m, s)
		if got := VerifySignature(p, m, s); got != want {
			t.Fatalf("ours %v, crypto/ed25519 %v", got, want)
		}
	})
}
