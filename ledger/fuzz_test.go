package ledger

import (
	"bytes"
	"errors"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// FuzzDecodeTx: any bytes either fail decoding with a registered error, or
// are a canonical transaction (re-encoding gives the same bytes) that the
// state machine accepts or refuses with a registered error — never a panic,
// never a store error, and a refused transaction changes nothing.
func FuzzDecodeTx(f *testing.F) {
	aeat := agencyKey("aeat")
	f.Add(signTx(testChain, aeat, anchorBody("aeat", digests("fuzz", 3))))
	f.Add(signTx(testChain, aeat, revokeBody(digests("fuzz", 1))))
	f.Add(signTx(testChain, citizenKey("ana"), &notaryv1.TxBody{Msg: &notaryv1.TxBody_WithdrawConsent{WithdrawConsent: &notaryv1.WithdrawConsent{ConsentId: "00"}}}))
	f.Add(signTx(testChain, ministryGov("hacienda"), &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{MinistryId: "hacienda", ProposalId: 1, Option: 1}}}))
	f.Add(signTx(testChain, aeat, enrollBody("aeat", pub(citizenKey("fuzz")))))
	x := xchg{requester: "aeat", provider: "sepe", subject: SubjectID(pub(citizenKey("ana"))), category: "tax", purpose: "statistics", mandate: "ley"}
	f.Add(signTx(testChain, aeat, confirmed(x.body(), agencyKey("sepe"), testChain)))
	// Unordered: valid, spent in the fixture's first block, expired, beyond
	// the window, and with each replay field ill-formed.
	f.Add(signUnordered(aeat, testNonce("fuzz"), 5, anchorBody("aeat", digests("fuzz-u", 2))))
	f.Add(signUnordered(aeat, testNonce("fuzz-spent"), 5, anchorBody("aeat", digests("fuzz-u", 1))))
	f.Add(signUnordered(aeat, testNonce("fuzz"), 1, anchorBody("aeat", digests("fuzz-u", 1))))
	f.Add(signUnordered(aeat, testNonce("fuzz"), 1000, revokeBody(digests("fuzz", 1))))
	f.Add(signUnordered(aeat, make([]byte, MinNonceBytes-1), 5, anchorBody("aeat", digests("fuzz-u", 1))))
	f.Add(signTx(testChain, aeat, &notaryv1.TxBody{Sequence: 3, Nonce: testNonce("fuzz"), ValidUntilHeight: 5, Msg: anchorBody("aeat", digests("fuzz-u", 1)).Msg}))
	f.Add(signTx(testChain, aeat, &notaryv1.TxBody{ValidUntilHeight: 5, Msg: anchorBody("aeat", digests("fuzz-u", 1)).Msg}))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := DecodeTx(testChain, raw, 0)
		if err != nil {
			if CodeOf(err) == CodeInternal {
				t.Fatalf("unregistered decode error: %v", err)
			}
			return
		}
		var env notaryv1.Tx
		if err := DecodeCanonical(raw, &env); err != nil || !bytes.Equal(Encode(&env), raw) {
			t.Fatalf("accepted a non-canonical transaction")
		}
		_ = ValidateBasic(tx)
		f := newFixture(t, testGenesis())
		mustOK(t, f.one(f.sign(aeat, anchorBody("aeat", digests("fuzz", 3)))))
		mustOK(t, f.one(signUnordered(aeat, testNonce("fuzz-spent"), 6, anchorBody("aeat", digests("fuzz-spent", 1)))))
		before := snapshot(f.st)
		e, err := f.l.NewExec(f.st, f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeDeliver)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(0, tx)
		var se *StoreError
		if err != nil || errors.As(out.Err, &se) {
			t.Fatalf("store error from a transaction: %v %v", err, out.Err)
		}
		if out.Err != nil {
			if CodeOf(out.Err) == CodeInternal {
				t.Fatalf("unregistered error: %v", out.Err)
			}
			if snapshot(f.st) != before {
				t.Fatalf("a refused transaction changed the state")
			}
		}
	})
}

// FuzzMerkle: every inclusion path of a batch verifies with an independent
// RFC 6962 verifier, and a flipped bit in the path or the leaf does not.
func FuzzMerkle(f *testing.F) {
	f.Add(uint16(1), uint16(0), uint8(0))
	f.Add(uint16(7), uint16(6), uint8(3))
	f.Add(uint16(1000), uint16(511), uint8(200))
	f.Fuzz(func(t *testing.T, n, i uint16, flip uint8) {
		size := int(n%1024) + 1
		idx := int(i) % size
		ds := digests("fuzz-merkle", size)
		root := MerkleRoot(ds)
		path := InclusionPath(ds, uint32(idx))
		leaf := LeafHash(digestAt(ds, idx))
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), leaf, path, root); err != nil {
			t.Fatalf("n=%d i=%d: %v", size, idx, err)
		}
		if len(path) > 0 {
			p := int(flip) % len(path)
			bad := make([][]byte, len(path))
			for j := range path {
				bad[j] = append([]byte(nil), path[j]...)
			}
			bad[p][int(flip)%32] ^= 1 << (flip % 8)
			if proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), leaf, bad, root) == nil {
				t.Fatalf("tampered path verified")
			}
		}
		badLeaf := append([]byte(nil), leaf...)
		badLeaf[int(flip)%32] ^= 1
		if proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), badLeaf, path, root) == nil {
			t.Fatalf("tampered leaf verified")
		}
	})
}
