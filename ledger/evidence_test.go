package ledger

import (
	"bytes"
	"errors"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func TestAnchorAndRevoke(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	ds := digests("docs", 5)
	out := f.one(f.sign(aeat, anchorBody("aeat", ds)))
	mustOK(t, out)
	loc := out.Result.GetBatch()
	if loc.Height != 1 || loc.TxIndex != 0 {
		t.Fatalf("batch locator %v", loc)
	}
	b, err := loadBatch(f.st, 1, 0)
	if err != nil || b == nil {
		t.Fatalf("batch not stored: %v", err)
	}
	if b.Count != 5 || b.AgencyId != "aeat" || !bytes.Equal(b.Root, MerkleRoot(ds)) || !b.Time.AsTime().Equal(genesisTime) {
		t.Fatalf("batch record %v", b)
	}
	// Every digest is findable with its leaf index.
	for i := 0; i < 5; i++ {
		l, ok, _ := f.idx.Lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, digestAt(ds, i))
		if !ok || l != (Locator{Height: 1, TxIndex: 0, Leaf: uint32(i)}) {
			t.Fatalf("digest %d: %v %v", i, l, ok)
		}
	}
	// Anchoring again names the existing record, and stores nothing.
	before := f.st.Len()
	out = f.one(f.sign(aeat, anchorBody("aeat", digestAt(ds, 3))))
	mustFail(t, out, ErrAlreadyAnchored)
	var dup *DuplicateError
	if !errors.As(out.Err, &dup) || dup.Existing != (Locator{Height: 1, TxIndex: 0, Leaf: 3}) {
		t.Fatalf("duplicate error %v", out.Err)
	}
	if ex := out.Result.GetExisting(); ex == nil || ex.Locator.LeafIndex != 3 || ex.Locator.Height != 1 {
		t.Fatalf("duplicate result %v", out.Result)
	}
	if f.st.Len() != before {
		t.Fatalf("a failed tx wrote to the state")
	}
	// Revoke by the issuer.
	mustOK(t, f.one(f.sign(aeat, revokeBody(digestAt(ds, 1)))))
	rev := &notaryv1.Revocation{}
	if ok, _ := load(f.st, RevocationKey(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, digestAt(ds, 1)), rev); !ok {
		t.Fatalf("revocation not stored")
	}
	if rev.RevokedBy != "agency/aeat" || rev.LeafIndex != 1 || rev.Height != 3 {
		t.Fatalf("revocation %v", rev)
	}
	mustFail(t, f.one(f.sign(aeat, revokeBody(digestAt(ds, 1)))), ErrAlreadyRevoked)
}

func TestDuplicateInSameBlock(t *testing.T) {
	f := newFixture(t, testGenesis())
	ds := digests("same-block", 3)
	a := f.signSeq(agencyKey("aeat"), 0, anchorBody("aeat", ds))
	b := f.signSeq(agencyKey("sepe"), 0, anchorBody("sepe", digestAt(ds, 2)))
	outs := f.block(a, b)
	mustOK(t, outs[0])
	mustFail(t, outs[1], ErrAlreadyAnchored)
	if ex := outs[1].Result.GetExisting(); ex.Locator.Height != 1 || ex.Locator.TxIndex != 0 || ex.Locator.LeafIndex != 2 {
		t.Fatalf("existing %v", ex)
	}
}

// TestBadInput checks that each kind of bad transaction fails with its own
// stable code and stores nothing.
func TestBadInput(t *testing.T) {
	aeat, sepe, ro := agencyKey("aeat"), agencyKey("sepe"), agencyKey("readonly")
	anchored := digests("anchored", 2)
	good := func() *notaryv1.TxBody { return anchorBody("aeat", digests("fresh", 2)) }
	with := func(mod func(m *notaryv1.AnchorBatch)) *notaryv1.TxBody {
		b := good()
		mod(b.GetAnchorBatch())
		return b
	}
	validRaw := signTx(testChain, aeat, &notaryv1.TxBody{Sequence: 1, Msg: good().Msg})
	tests := []struct {
		name string
		raw  func(f *fixture) []byte
		want *Error
	}{
		{"malformed bytes", func(*fixture) []byte { return []byte{0xff, 0x01, 0x02} }, ErrMalformedTx},
		{"empty bytes", func(*fixture) []byte { return nil }, ErrMalformedTx},
		{"unknown field", func(*fixture) []byte { return append(append([]byte(nil), validRaw...), 0x20, 0x01) }, ErrNonCanonical},
		{"non-canonical re-encoding", func(*fixture) []byte { return reorder(t, validRaw) }, ErrNonCanonical},
		{"wrong chain id", func(*fixture) []byte {
			return signTx("other-chain", aeat, &notaryv1.TxBody{Sequence: 1, Msg: good().Msg})
		}, ErrWrongChain},
		{"bad signature", func(*fixture) []byte { return corruptSignature(t, validRaw) }, ErrBadSignature},
		{"replayed sequence", func(f *fixture) []byte { return f.signSeq(aeat, 0, good()) }, ErrSequenceReplayed},
		{"skipped sequence", func(f *fixture) []byte { return f.signSeq(aeat, 5, good()) }, ErrSequenceSkipped},
		{"signer without permission", func(f *fixture) []byte { return f.sign(ro, anchorBody("readonly", digests("x", 1))) }, ErrUnauthorized},
		{"unknown signer", func(f *fixture) []byte { return f.sign(testKey("nobody"), anchorBody("aeat", digests("x", 1))) }, ErrUnknownSigner},
		{"agency mismatch", func(f *fixture) []byte { return f.sign(aeat, anchorBody("sepe", digests("x", 1))) }, ErrSignerMismatch},
		{"oversize batch", func(f *fixture) []byte {
			return f.sign(aeat, anchorBody("aeat", digests("big", int(DefaultParams().MaxDigestsPerBatch)+1)))
		}, ErrBatchTooLarge},
		{"empty batch", func(f *fixture) []byte { return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.Digests = nil })) }, ErrEmptyBatch},
		{"unknown hash algorithm", func(f *fixture) []byte {
			return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.HashAlgorithm = 9 }))
		}, ErrUnknownHashAlgorithm},
		{"unspecified hash algorithm", func(f *fixture) []byte {
			return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.HashAlgorithm = 0 }))
		}, ErrUnknownHashAlgorithm},
		{"wrong digest length", func(f *fixture) []byte {
			return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.Digests = m.Digests[:40] }))
		}, ErrBadDigestLength},
		{"duplicate digest in batch", func(f *fixture) []byte {
			return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.Digests = append(m.Digests, m.Digests[:32]...) }))
		}, ErrDuplicateInBatch},
		{"label too long", func(f *fixture) []byte {
			return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.Label = string(bytes.Repeat([]byte("x"), 257)) }))
		}, ErrTextTooLong},
		{"label with control character", func(f *fixture) []byte {
			return f.sign(aeat, with(func(m *notaryv1.AnchorBatch) { m.Label = "a\x07b" }))
		}, ErrInvalidText},
		{"already anchored", func(f *fixture) []byte { return f.sign(aeat, anchorBody("aeat", digestAt(anchored, 0))) }, ErrAlreadyAnchored},
		{"revoke never anchored", func(f *fixture) []byte { return f.sign(aeat, revokeBody(digests("never", 1))) }, ErrNotAnchored},
		{"revoke anchored by another agency", func(f *fixture) []byte { return f.sign(sepe, revokeBody(digestAt(anchored, 1))) }, ErrNotIssuer},
		{"revoke without reason", func(f *fixture) []byte {
			b := revokeBody(digestAt(anchored, 1))
			b.GetRevoke().Reason = 0
			return f.sign(aeat, b)
		}, ErrInvalidReason},
		{"no message", func(f *fixture) []byte { return f.sign(aeat, &notaryv1.TxBody{}) }, ErrNoMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			mustOK(t, f.one(f.sign(aeat, anchorBody("aeat", anchored))))
			before := snapshot(f.st)
			out := f.one(tc.raw(f))
			mustFail(t, out, tc.want)
			if after := snapshot(f.st); after != before {
				t.Fatalf("state changed by a rejected transaction")
			}
		})
	}
}

// snapshot renders a MemStore for equality checks, leaving out the chain
// meta record that every block updates.
func snapshot(s *MemStore) string {
	var b bytes.Buffer
	_ = s.Iterate(nil, nil, func(k, v []byte) bool {
		if bytes.Equal(k, MetaKey()) {
			return true
		}
		b.Write(k)
		b.WriteByte(0)
		b.Write(v)
		b.WriteByte(0)
		return true
	})
	return b.String()
}

// reorder re-encodes a valid tx with its fields in reverse order: the same
// message, non-canonical bytes.
func reorder(t *testing.T, raw []byte) []byte {
	var env notaryv1.Tx
	if err := proto.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	var out []byte
	out = appendBytesField(out, 3, env.Signature)
	out = appendBytesField(out, 2, env.PubKey)
	out = appendBytesField(out, 1, env.Body)
	return out
}

func appendBytesField(b []byte, num int, v []byte) []byte {
	b = append(b, byte(num<<3|2))
	n := len(v)
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	b = append(b, byte(n))
	return append(b, v...)
}

func corruptSignature(t *testing.T, raw []byte) []byte {
	var env notaryv1.Tx
	if err := proto.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	env.Signature[10] ^= 0x01
	return Encode(&env)
}

func TestMerkleMatchesRFC6962(t *testing.T) {
	if got := MerkleRoot(nil); !bytes.Equal(got, rfc6962.DefaultHasher.EmptyRoot()) {
		t.Fatalf("empty root %x", got)
	}
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 100, 1000, 4095, 4096, 4097, 10000} {
		ds := digests("merkle", n)
		root := MerkleRoot(ds)
		for _, i := range []int{0, n / 3, n / 2, n - 1} {
			path := InclusionPath(ds, uint32(i))
			leaf := rfc6962.DefaultHasher.HashLeaf(digestAt(ds, i))
			if !bytes.Equal(leaf, LeafHash(digestAt(ds, i))) {
				t.Fatalf("leaf hash differs")
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(n), leaf, path, root); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
		}
	}
}
