package ledger

import (
	"bytes"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// Sizes of ed25519 keys and signatures.
const (
	PublicKeySize = 32
	SignatureSize = 64
)

// VerifySignature reports whether sig is a valid ed25519 signature of msg by
// pub, with exactly the rules of crypto/ed25519.Verify (RFC 8032: the public
// key must decode to a curve point, S must be canonical, and R is compared in
// its encoded form, so each signature has one accepted encoding).
//
// It is written over filippo.io/edwards25519 (the upstream of the standard
// library's curve arithmetic) rather than calling crypto/ed25519, because
// that package also brings key generation, hence crypto/rand, into the state
// machine's dependencies. TestVerifySignatureMatchesStdlib and
// FuzzVerifySignature check the two agree.
func VerifySignature(pub, msg, sig []byte) bool {
	return verifySignatureParts(pub, sig, msg)
}

// ValidPublicKey reports whether pub is a 32-byte encoding of a point of
// the curve, the first check VerifySignature makes: a key that fails it can
// sign nothing.
func ValidPublicKey(pub []byte) bool {
	if len(pub) != PublicKeySize {
		return false
	}
	_, err := new(edwards25519.Point).SetBytes(pub)
	return err == nil
}

// verifySignatureParts is VerifySignature of the concatenation of msg.
func verifySignatureParts(pub, sig []byte, msg ...[]byte) bool {
	if len(pub) != PublicKeySize || len(sig) != SignatureSize || sig[63]&224 != 0 {
		return false
	}
	A, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	for _, m := range msg {
		h.Write(m)
	}
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		return false
	}
	S, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// [S]B = R + [k]A  <=>  [k](-A) + [S]B = R
	minusA := new(edwards25519.Point).Negate(A)
	R := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, minusA, S)
	return bytes.Equal(sig[:32], R.Bytes())
}
