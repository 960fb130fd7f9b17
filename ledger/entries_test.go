package ledger

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// entries returns n coded entries: the keys of codeKeys(tag, n), each with
// a tag made from digests(tag, n) (the ledger never computes a tag).
func entries(tag string, n int) []byte {
	keys, ds := codeKeys(tag, n), digests(tag, n)
	out := make([]byte, 0, n*DigestSize)
	for i := 0; i < n; i++ {
		out = append(append(out, keyAt(keys, i)...), digestAt(ds, i)[:CodeTagSize]...)
	}
	return out
}

func entriesBody(agency string, es []byte) *notaryv1.TxBody {
	b := anchorBody(agency, es)
	b.GetAnchorBatch().Coded = true
	return b
}

// TestCodedEntries: a coded batch's root is over its entries as leaves, its
// record says it is coded, and the index finds each document by the key
// its entry starts with, not by the entry.
func TestCodedEntries(t *testing.T) {
	f := newFixture(t, testGenesis())
	es := entries("entries", 5)
	mustOK(t, f.one(f.sign(agencyKey("aeat"), entriesBody("aeat", es))))
	b, err := loadBatch(f.st, 1, 0)
	if err != nil || b == nil {
		t.Fatalf("batch not stored: %v", err)
	}
	if !b.Coded || !bytes.Equal(b.Root, MerkleRoot(es)) || b.Count != 5 {
		t.Fatalf("batch record %v", b)
	}
	for i := 0; i < 5; i++ {
		e := digestAt(es, i)
		if l, ok, _ := f.idx.Lookup(pSHA2, e); ok {
			t.Fatalf("entry %d is indexed as a digest: %v", i, l)
		}
		want := Locator{Height: 1, TxIndex: 0, Leaf: uint32(i)}
		if l, ok, _ := f.idx.Lookup(CodeKeyIndex, CodeKeyIndexDigest(e[:CodeKeySize])); !ok || l != want {
			t.Fatalf("code key %d: %v %v", i, l, ok)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), 5, rfc6962.DefaultHasher.HashLeaf(e), InclusionPath(es, uint32(i)), b.Root); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	// A plain batch's record does not say coded: its encoding is the one
	// from before the field.
	mustOK(t, f.one(f.signSeq(agencyKey("aeat"), 1, anchorBody("aeat", digests("plain", 2)))))
	if p, err := loadBatch(f.st, 2, 0); err != nil || p == nil || p.Coded {
		t.Fatalf("plain batch record %v: %v", p, err)
	}
}

// TestCodedEntriesRefused: the rules of coded batches, each alone, and the
// one namespace of code keys shared with batches with code_keys.
func TestCodedEntriesRefused(t *testing.T) {
	aeat, sepe := agencyKey("aeat"), agencyKey("sepe")
	es := entries("first", 3)
	keys := codeKeys("first", 3)
	other := entries("other", 3)
	// sameKeys are other's entries with es's keys: another document under
	// each code.
	sameKeys := append([]byte(nil), other...)
	for i := 0; i < 3; i++ {
		copy(sameKeys[i*DigestSize:], keyAt(keys, i))
	}
	tests := []struct {
		name   string
		before func(f *fixture) [][]byte
		tx     func(f *fixture) []byte
		want   *Error
		basic  bool
	}{
		{name: "code_keys beside the entries", tx: func(f *fixture) []byte {
			b := entriesBody("aeat", es)
			b.GetAnchorBatch().CodeKeys = keys
			return f.sign(aeat, b)
		}, want: ErrBadCodeKeys, basic: true},
		{name: "a key twice, other tags", tx: func(f *fixture) []byte {
			return f.sign(aeat, entriesBody("aeat", cat(digestAt(es, 0), digestAt(es, 1), digestAt(sameKeys, 0))))
		}, want: ErrBadCodeKeys, basic: true},
		{name: "an entry one byte short", tx: func(f *fixture) []byte { return f.sign(aeat, entriesBody("aeat", es[:len(es)-1])) }, want: ErrBadDigestLength, basic: true},
		{name: "no entry", tx: func(f *fixture) []byte { return f.sign(aeat, entriesBody("aeat", nil)) }, want: ErrEmptyBatch, basic: true},
		{name: "key anchored before as an entry", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(sepe, entriesBody("sepe", digestAt(sameKeys, 1))) }, want: ErrDuplicateCode},
		{name: "key anchored before with code_keys", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", digests("v1", 3), keys))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, entriesBody("aeat", es)) }, want: ErrDuplicateCode},
		{name: "key anchored as an entry, then with code_keys", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte {
				return f.sign(aeat, codedBody("aeat", digestAt(digests("v1", 3), 2), keyAt(keys, 2)))
			}, want: ErrDuplicateCode},
		{name: "the same entries again", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, entriesBody("aeat", es)) }, want: ErrDuplicateCode},
		// An entry is not in the digest namespace: the same 32 bytes anchor
		// as a plain digest, either way round.
		{name: "entry anchored as a plain digest, then as an entry", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, anchorBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, entriesBody("aeat", es)) }},
		{name: "entry anchored, then as a plain digest", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, anchorBody("aeat", digestAt(es, 1))) }},
		{name: "revoked by its key", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, revokeCodesBody(pSHA2, keyAt(keys, 1))) }},
		{name: "revoked by its entry as a digest", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, revokeBody(digestAt(es, 1))) }, want: ErrNotAnchored},
		{name: "revoked by another agency", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, entriesBody("aeat", es))} },
			tx: func(f *fixture) []byte { return f.sign(sepe, revokeCodesBody(pSHA2, keyAt(keys, 0))) }, want: ErrNotIssuer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			out := runRule(t, f, tc.before, tc.tx, tc.want, tc.basic)
			if tc.want == ErrDuplicateCode {
				var dup *DuplicateCodeError
				if !errors.As(out.Err, &dup) || !bytes.Contains(keys, dup.Key) {
					t.Fatalf("duplicate code: %v", out.Err)
				}
			}
		})
	}
}

// TestCodeTag: the code tag is scrypt's with the documented parameters
// (the vector of docs/receipt.md, "Verification codes"), 16 bytes, and
// depends on the salt and the digest; an entry is the key and the tag.
func TestCodeTag(t *testing.T) {
	salt, _ := hex.DecodeString("79b5541aac9f8c9e1ae9a795995896352bc323832312fd862603c9bd9f17094d")
	key, _ := hex.DecodeString("ed6c57cd330b46767d8ceac622a2075a")
	digest := make([]byte, DigestSize)
	tag := CodeTag(salt, digest)
	if got := hex.EncodeToString(tag); got != codeTagVector {
		t.Fatalf("CodeTag = %s, want %s", got, codeTagVector)
	}
	other := append([]byte(nil), digest...)
	other[31] = 1
	if bytes.Equal(CodeTag(salt, other), tag) || bytes.Equal(CodeTag(other, digest), tag) {
		t.Fatal("the tag does not depend on the digest or the salt")
	}
	if e := CodedEntry(key, salt, digest); !bytes.Equal(e, cat(key, tag)) || len(e) != DigestSize {
		t.Fatalf("CodedEntry = %x", e)
	}
}

// codeTagVector is CodeTag of the vector code's salt and 32 zero bytes
// (Python's hashlib.scrypt gives the same).
const codeTagVector = "daad4470193a194e690e849bca7d57ee"

// runRule runs the transactions of before, each in a block of its own and
// required to succeed, then tx in a block: ValidateBasic must refuse tx
// exactly when basic (with want), and the block must give want (nil:
// success) without writing to the state when it fails. It returns tx's
// outcome.
func runRule(t *testing.T, f *fixture, before func(*fixture) [][]byte, tx func(*fixture) []byte, want *Error, basic bool) Outcome {
	t.Helper()
	if before != nil {
		for _, raw := range before(f) {
			mustOK(t, f.one(raw))
		}
	}
	raw := tx(f)
	decoded, err := DecodeTx(testChain, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateBasic(decoded); basic != (err != nil) || basic && !errors.Is(err, want) {
		t.Fatalf("ValidateBasic: %v", err)
	}
	n := f.st.Len()
	out := f.one(raw)
	if want == nil {
		mustOK(t, out)
		return out
	}
	mustFail(t, out, want)
	if f.st.Len() != n {
		t.Fatalf("a failed tx wrote to the state: %d keys, %d before", f.st.Len(), n)
	}
	return out
}
