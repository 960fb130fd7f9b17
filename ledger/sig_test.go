package ledger

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
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

// TestEncodeSigned: EncodeSigned gives the bytes of the envelope encoded
// from the body's encoding and its signature over SignBytes, for bodies of
// every size class of their length field, chain ids long and empty, keys
// and signatures present or not; DecodeTx reads them back.
func TestEncodeSigned(t *testing.T) {
	k := testKey("encode")
	sign := func(m []byte) []byte { return ed25519.Sign(k, m) }
	var bodies []*notaryv1.TxBody
	for _, n := range []int{0, 1, 3, 4, 127, 128, 5000, 10_000} {
		ds := make([]byte, n*DigestSize)
		for i := range ds {
			ds[i] = byte(i * 7)
		}
		var keys []byte
		if n%2 == 1 {
			keys = ds[:n*CodeKeySize]
		}
		bodies = append(bodies, &notaryv1.TxBody{Sequence: uint64(n), Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds, CodeKeys: keys}}})
	}
	bodies = append(bodies, &notaryv1.TxBody{}, &notaryv1.TxBody{Nonce: make([]byte, 16), ValidUntilHeight: 9,
		Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{ProposalId: 3}}})
	for _, chainID := range []string{testChain, "", strings.Repeat("c", 200)} {
		for i, body := range bodies {
			for j, signer := range []struct {
				pub  []byte
				sign func([]byte) []byte
			}{{pub(k), sign}, {nil, sign}, {pub(k), func([]byte) []byte { return nil }}} {
				body := proto.Clone(body).(*notaryv1.TxBody)
				got := EncodeSigned(chainID, signer.pub, body, signer.sign)
				bb := Encode(body)
				want := Encode(&notaryv1.Tx{Body: bb, PubKey: signer.pub, Signature: signer.sign(SignBytes(chainID, bb))})
				if !bytes.Equal(got, want) {
					t.Fatalf("chain %q body %d: EncodeSigned differs from the envelope's encoding", chainID, i)
				}
				if chainID == "" || j > 0 || body.Msg == nil {
					continue
				}
				tx, err := DecodeTx(chainID, got, 0)
				if err != nil {
					t.Fatalf("chain %q body %d: %v", chainID, i, err)
				}
				if !proto.Equal(tx.Body, body) {
					t.Fatalf("chain %q body %d: decoded body differs", chainID, i)
				}
			}
		}
	}
}
