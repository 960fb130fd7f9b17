package verify_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"
)

// TestEd25519VerificationRule pins the verification rule of Go's
// crypto/ed25519.Verify, which the verifier uses for every validator
// signature (docs/receipt.md, "Signatures"), on the cases where ed25519
// verifiers differ ("Taming the many EdDSAs", Chalkias, Garillot and
// Nikolaenko, 2020): an S not below the group order is refused; small-order
// and non-canonically encoded public keys are accepted; R must be the
// canonical encoding of the point the equation gives (so a non-canonical R
// is refused); the equation is the cofactorless [S]B = R + [k]A.
func TestEd25519VerificationRule(t *testing.T) {
	msg := []byte("notary/ed25519 rule")
	hexb := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	identity := edwards25519.NewIdentityPoint().Bytes()
	// The identity with y = p + 1 (y not reduced), and with the sign bit of
	// x set although x = 0: encodings RFC 8032 decoding refuses.
	identityYAboveP := hexb("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	identityNegZero := append(append([]byte(nil), identity[:31]...), identity[31]|0x80)
	// A point of order 8.
	order8 := hexb("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	t8, err := new(edwards25519.Point).SetBytes(order8)
	if err != nil {
		t.Fatal(err)
	}
	eight := edwards25519.NewScalar()
	if _, err := eight.SetCanonicalBytes(append([]byte{8}, make([]byte, 31)...)); err != nil {
		t.Fatal(err)
	}
	if new(edwards25519.Point).ScalarMult(eight, t8).Equal(edwards25519.NewIdentityPoint()) != 1 {
		t.Fatal("the point is not of order 8")
	}

	scalar := func(label string) *edwards25519.Scalar {
		h := sha512.Sum512([]byte(label))
		s, err := edwards25519.NewScalar().SetUniformBytes(h[:])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	challenge := func(r, a, m []byte) *edwards25519.Scalar {
		h := sha512.New()
		h.Write(r)
		h.Write(a)
		h.Write(m)
		k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// sign signs m for the public key encoding pub, whose discrete log
	// relative to its prime-order part is a: S = r + k a, R = [r]B.
	sign := func(pub []byte, a *edwards25519.Scalar, m []byte) []byte {
		r := scalar("r/" + string(m))
		rb := new(edwards25519.Point).ScalarBaseMult(r).Bytes()
		k := challenge(rb, pub, m)
		s := edwards25519.NewScalar().MultiplyAdd(k, a, r)
		return append(rb, s.Bytes()...)
	}
	// A mixed-order key: [a]B + T, T of order 8.
	a := scalar("a")
	mixed := new(edwards25519.Point).Add(new(edwards25519.Point).ScalarBaseMult(a), t8).Bytes()
	// Messages whose challenge k is, and is not, a multiple of 8: with
	// the mixed-order key the cofactorless equation holds only for the
	// first (a cofactored verifier accepts both).
	messages := func(pub []byte, a *edwards25519.Scalar) (kMult8, kNotMult8 []byte) {
		for i := 0; kMult8 == nil || kNotMult8 == nil; i++ {
			m := append(append([]byte(nil), msg...), byte(i), byte(i>>8))
			sig := sign(pub, a, m)
			if challenge(sig[:32], pub, m).Bytes()[0]&7 == 0 {
				if kMult8 == nil {
					kMult8 = m
				}
			} else if kNotMult8 == nil {
				kNotMult8 = m
			}
		}
		return kMult8, kNotMult8
	}
	kMult8, kNotMult8 := messages(mixed, a)
	zero := edwards25519.NewScalar()
	t8Mult8, t8NotMult8 := messages(order8, zero)

	seed := sha256.Sum256([]byte("ed25519 rule"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	good := ed25519.Sign(priv, msg)
	// S + L, still below 2^253: the same point equation, S not canonical.
	sPlusL := append([]byte(nil), good...)
	var carry uint16
	l := hexb("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	for i := 0; i < 32; i++ {
		v := uint16(sPlusL[32+i]) + uint16(l[i]) + carry
		sPlusL[32+i], carry = byte(v), v>>8
	}
	// S = 0 and R the identity: [0]B = R + [k]A holds for A of small order.
	zeroSig := func(r []byte) []byte { return append(append([]byte(nil), r...), make([]byte, 32)...) }

	cases := []struct {
		name string
		pub  []byte
		msg  []byte
		sig  []byte
		want bool
	}{
		{"ordinary signature", pub, msg, good, true},
		{"S not canonical (S + L)", pub, msg, sPlusL, false},
		{"S with one of the top three bits set", pub, msg, append(append([]byte(nil), good[:63]...), good[63]|0x20), false},
		{"small-order A (the identity), small-order R", identity, msg, zeroSig(identity), true},
		{"A of order 8, k a multiple of 8", order8, t8Mult8, sign(order8, zero, t8Mult8), true},
		{"A of order 8, k not a multiple of 8 (cofactorless)", order8, t8NotMult8, sign(order8, zero, t8NotMult8), false},
		{"A with y not reduced mod p", identityYAboveP, msg, zeroSig(identity), true},
		{"A with the sign bit set and x = 0", identityNegZero, msg, zeroSig(identity), true},
		{"R with y not reduced mod p", identity, msg, zeroSig(identityYAboveP), false},
		{"R with the sign bit set and x = 0", identity, msg, zeroSig(identityNegZero), false},
		{"mixed-order A, k a multiple of 8", mixed, kMult8, sign(mixed, a, kMult8), true},
		{"mixed-order A, k not a multiple of 8 (cofactorless)", mixed, kNotMult8, sign(mixed, a, kNotMult8), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ed25519.Verify(tc.pub, tc.msg, tc.sig); got != tc.want {
				t.Fatalf("crypto/ed25519.Verify = %v, want %v", got, tc.want)
			}
		})
	}
}
