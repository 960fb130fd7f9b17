package ledger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// codeKeys returns n distinct 16-byte code keys made from a tag (the ledger
// cannot tell them from keys derived from codes).
func codeKeys(tag string, n int) []byte {
	out := make([]byte, 0, n*CodeKeySize)
	for i := 0; i < n; i++ {
		k := sha256.Sum256([]byte("test code key " + tag + itoa(i)))
		out = append(out, k[:CodeKeySize]...)
	}
	return out
}

func keyAt(keys []byte, i int) []byte { return keys[i*CodeKeySize : (i+1)*CodeKeySize] }

func codedBody(agency string, ds, keys []byte) *notaryv1.TxBody {
	b := anchorBody(agency, ds)
	b.GetAnchorBatch().CodeKeys = keys
	return b
}

// TestCodedAnchor: a coded batch's root is over key || digest, and the
// index finds each document by its key, and not by its digest.
func TestCodedAnchor(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	ds, keys := digests("coded", 5), codeKeys("coded", 5)
	mustOK(t, f.one(f.sign(aeat, codedBody("aeat", ds, keys))))
	b, err := loadBatch(f.st, 1, 0)
	if err != nil || b == nil {
		t.Fatalf("batch not stored: %v", err)
	}
	if !bytes.Equal(b.Root, BatchRoot(keys, ds)) || bytes.Equal(b.Root, MerkleRoot(ds)) || b.Count != 5 {
		t.Fatalf("batch record %v", b)
	}
	for i := 0; i < 5; i++ {
		want := Locator{Height: 1, TxIndex: 0, Leaf: uint32(i)}
		if l, ok, _ := f.idx.Lookup(pSHA2, digestAt(ds, i)); ok {
			t.Fatalf("digest %d is indexed: %v", i, l)
		}
		if l, ok, _ := f.idx.Lookup(CodeKeyIndex, CodeKeyIndexDigest(keyAt(keys, i))); !ok || l != want {
			t.Fatalf("code key %d: %v %v", i, l, ok)
		}
		leaf := rfc6962.DefaultHasher.HashLeaf(LeafData(keyAt(keys, i), digestAt(ds, i)))
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), 5, leaf, BatchInclusionPath(keys, ds, uint32(i)), b.Root); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	// The index digest of a key is the key and zeros: nothing else.
	if d := CodeKeyIndexDigest(keyAt(keys, 0)); !bytes.Equal(d[:CodeKeySize], keyAt(keys, 0)) || !bytes.Equal(d[CodeKeySize:], make([]byte, DigestSize-CodeKeySize)) {
		t.Fatalf("index digest %x", d)
	}
	if AlgorithmName(CodeKeyIndex) != "" {
		t.Fatal("CodeKeyIndex is a hash algorithm name")
	}
}

// TestCodedAnchorRefused: the rules of code keys, each alone.
func TestCodedAnchorRefused(t *testing.T) {
	aeat, sepe := agencyKey("aeat"), agencyKey("sepe")
	ds, keys := digests("first", 3), codeKeys("first", 3)
	other := digests("other", 3)
	tests := []struct {
		name string
		// before are blocks run first, each one transaction that must succeed.
		before func(f *fixture) [][]byte
		// same are transactions run before tx in tx's block.
		same func(f *fixture) [][]byte
		tx   func(f *fixture) []byte
		want *Error
		// basic says ValidateBasic refuses it already.
		basic bool
	}{
		{name: "keys shorter than the digests", tx: func(f *fixture) []byte { return f.sign(aeat, codedBody("aeat", ds, keys[:2*CodeKeySize])) }, want: ErrBadCodeKeys, basic: true},
		{name: "a key one byte short", tx: func(f *fixture) []byte { return f.sign(aeat, codedBody("aeat", ds, keys[:len(keys)-1])) }, want: ErrBadCodeKeys, basic: true},
		{name: "keys longer than the digests", tx: func(f *fixture) []byte {
			return f.sign(aeat, codedBody("aeat", ds, append(append([]byte(nil), keys...), keyAt(codeKeys("x", 1), 0)...)))
		}, want: ErrBadCodeKeys, basic: true},
		{name: "a key twice in the batch", tx: func(f *fixture) []byte {
			return f.sign(aeat, codedBody("aeat", ds, cat(keyAt(keys, 0), keyAt(keys, 1), keyAt(keys, 0))))
		}, want: ErrBadCodeKeys, basic: true},
		{name: "key anchored before, another document", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, codedBody("aeat", other, keys)) }, want: ErrDuplicateCode},
		{name: "key anchored before by another agency", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte {
				return f.sign(sepe, codedBody("sepe", digestAt(other, 2), keyAt(keys, 1)))
			}, want: ErrDuplicateCode},
		{name: "key anchored earlier in the block", same: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte {
				return f.sign(sepe, codedBody("sepe", digestAt(other, 0), keyAt(keys, 2)))
			}, want: ErrDuplicateCode},
		{name: "same document and code again", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, codedBody("aeat", ds, keys)) }, want: ErrDuplicateCode},
		// A coded document's digest is not in the digest namespace: the
		// same 32 bytes anchor as another document, plain or coded.
		{name: "digest anchored plain, then with a code", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, anchorBody("aeat", ds))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, codedBody("aeat", ds, keys)) }},
		{name: "digest anchored with a code, then plain", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, anchorBody("aeat", digestAt(ds, 1))) }},
		{name: "digest anchored with a code, then with another", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte {
				return f.sign(sepe, codedBody("sepe", digestAt(ds, 1), keyAt(codeKeys("again", 1), 0)))
			}},
		{name: "a plain digest that looks like a key's index digest", before: func(f *fixture) [][]byte {
			return [][]byte{f.sign(aeat, anchorBody("aeat", CodeKeyIndexDigest(keyAt(keys, 0))))}
		}, tx: func(f *fixture) []byte { return f.sign(aeat, codedBody("aeat", ds, keys)) }},
		{name: "batch under the index value of keys", tx: func(f *fixture) []byte {
			b := codedBody("aeat", ds, keys)
			b.GetAnchorBatch().HashAlgorithm = CodeKeyIndex
			return f.sign(aeat, b)
		}, want: ErrUnknownHashAlgorithm, basic: true},
		{name: "revocation under the index value of keys", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte {
				b := revokeBody(CodeKeyIndexDigest(keyAt(keys, 0)))
				b.GetRevoke().HashAlgorithm = CodeKeyIndex
				return f.sign(aeat, b)
			}, want: ErrUnknownHashAlgorithm, basic: true},
		{name: "coded document revoked by its digest", before: func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} },
			tx: func(f *fixture) []byte { return f.sign(aeat, revokeBody(digestAt(ds, 2))) }, want: ErrNotAnchored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			if tc.before != nil {
				for _, raw := range tc.before(f) {
					mustOK(t, f.one(raw))
				}
			}
			var txs [][]byte
			if tc.same != nil {
				txs = tc.same(f)
			}
			raw := tc.tx(f)
			tx, err := DecodeTx(testChain, raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateBasic(tx); tc.basic != (err != nil) || tc.basic && !errors.Is(err, tc.want) {
				t.Fatalf("ValidateBasic: %v", err)
			}
			before := f.st.Len()
			outs := f.block(append(txs, raw)...)
			for _, o := range outs[:len(outs)-1] {
				mustOK(t, o)
			}
			out := outs[len(outs)-1]
			if tc.want == nil {
				mustOK(t, out)
				return
			}
			mustFail(t, out, tc.want)
			if len(txs) == 0 && f.st.Len() != before {
				t.Fatalf("a failed tx wrote to the state: %d keys, %d before", f.st.Len(), before)
			}
			if tc.want == ErrDuplicateCode {
				var dup *DuplicateCodeError
				ex := out.Result.GetExisting()
				if !errors.As(out.Err, &dup) || ex == nil || !bytes.Equal(ex.CodeKey, dup.Key) || len(ex.Digest) != 0 ||
					ex.Locator.Height != dup.Existing.Height || ex.Locator.LeafIndex != dup.Existing.Leaf || ex.HashAlgorithm != pSHA2 {
					t.Fatalf("duplicate code: %v, result %v", out.Err, out.Result)
				}
				if !bytes.Contains(keys, dup.Key) {
					t.Fatalf("duplicate key %x is not one of the first batch's", dup.Key)
				}
			}
		})
	}
}

// prefilterIndex is a memIndex with the node's bulk answers: as a
// DigestPrefilter (remembering what it was given, as the node's filter
// does) or as an IndexPrefilter (the mempool's view).
type prefilterIndex struct {
	memIndex
	given map[digestKey]bool
}

func (p *prefilterIndex) Lookup(alg HashAlgorithm, d []byte) (Locator, bool, error) {
	p.given[makeDigestKey(alg, d)] = true
	return p.memIndex.Lookup(alg, d)
}

func (p *prefilterIndex) Prefilter(alg HashAlgorithm, ds []byte, absent []bool) {
	for i := range absent {
		k := makeDigestKey(alg, digestAt(ds, i))
		_, in := p.memIndex[k]
		absent[i] = !in && !p.given[k]
		p.given[k] = true
	}
}

type notIndexedIndex struct{ memIndex }

func (p notIndexedIndex) NotIndexed(alg HashAlgorithm, ds []byte, absent []bool) {
	for i := range absent {
		_, in := p.memIndex[makeDigestKey(alg, digestAt(ds, i))]
		absent[i] = !in
	}
}

// TestCodeKeysThroughPrefilters: a code key anchored before, or earlier in
// the execution, is found through every kind of index the node uses, in a
// block and in the mempool; a relayed transaction is not checked for it
// (the block decides, as for digests).
func TestCodeKeysThroughPrefilters(t *testing.T) {
	aeat, sepe := agencyKey("aeat"), agencyKey("sepe")
	ds, keys := digests("pf", 4), codeKeys("pf", 4)
	indexes := map[string]func(memIndex) DigestIndex{
		"plain":       func(m memIndex) DigestIndex { return m },
		"prefilter":   func(m memIndex) DigestIndex { return &prefilterIndex{memIndex: m, given: map[digestKey]bool{}} },
		"not indexed": func(m memIndex) DigestIndex { return notIndexedIndex{m} },
	}
	for name, mk := range indexes {
		for mode, modeName := range map[Mode]string{ModeDeliver: "deliver", ModeCheck: "check"} {
			t.Run(name+"/"+modeName, func(t *testing.T) {
				f := newFixture(t, testGenesis())
				mustOK(t, f.one(f.sign(aeat, codedBody("aeat", digestAt(ds, 0), keyAt(keys, 0)))))
				st := Store(f.st)
				if mode == ModeCheck {
					st = NewOverlay(f.st)
				}
				e, err := f.l.NewExec(st, mk(f.idx), BlockInfo{Height: f.height, Time: f.time}, mode)
				if err != nil {
					t.Fatal(err)
				}
				run := func(i uint32, raw []byte, relayed bool) Outcome {
					t.Helper()
					tx, err := DecodeTx(testChain, raw, 0)
					if err != nil {
						t.Fatal(err)
					}
					exec := e.Run
					if relayed {
						exec = e.RunRelayed
					}
					out, err := exec(i, tx)
					if err != nil {
						t.Fatal(err)
					}
					return out
				}
				// Anchored in an earlier block.
				mustFail(t, run(0, f.sign(sepe, codedBody("sepe", digestAt(ds, 1), keyAt(keys, 0))), false), ErrDuplicateCode)
				// Anchored earlier in this execution.
				mustOK(t, run(0, f.sign(aeat, codedBody("aeat", digestAt(ds, 2), keyAt(keys, 1))), false))
				mustFail(t, run(1, f.sign(sepe, codedBody("sepe", digestAt(ds, 3), keyAt(keys, 1))), false), ErrDuplicateCode)
				// New keys pass.
				mustOK(t, run(1, f.sign(sepe, codedBody("sepe", digestAt(ds, 3), keyAt(keys, 3))), false))
				if mode == ModeCheck {
					// Relayed: the key is not looked up, and not remembered.
					out := run(2, f.signSeq(aeat, 2, codedBody("aeat", digests("relayed", 1), keyAt(keys, 0))), true)
					mustOK(t, out)
				}
				var n int
				for _, en := range Entries(e.NewBatches()) {
					if en.Algorithm == CodeKeyIndex {
						n++
					}
				}
				if n != 2 {
					t.Fatalf("%d code key entries pending, want 2", n)
				}
			})
		}
	}
}

// TestBatchIndex: the entries a block gives the index are BatchIndex of
// its batches, for the rebuild from the block store: a coded batch's keys
// only, a plain batch's digests.
func TestBatchIndex(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	ds, keys := digests("entries", 3), codeKeys("entries", 3)
	plain := digests("plain", 2)
	e, err := f.l.NewExec(f.st, f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeDeliver)
	if err != nil {
		t.Fatal(err)
	}
	var want []IndexEntry
	for i, body := range []*notaryv1.TxBody{codedBody("aeat", ds, keys), anchorBody("aeat", plain)} {
		tx, err := DecodeTx(testChain, f.signSeq(aeat, uint64(i), body), 0)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(uint32(i), tx)
		if err != nil {
			t.Fatal(err)
		}
		mustOK(t, out)
		want = append(want, Entries([]IndexBatch{BatchIndex(body.GetAnchorBatch(), f.height, uint32(i))})...)
	}
	got := Entries(e.NewBatches())
	if len(got) != 3+2 || len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if wantAlg := map[bool]HashAlgorithm{true: CodeKeyIndex, false: pSHA2}[i < 3]; got[i].Algorithm != wantAlg {
			t.Fatalf("entry %d under %v", i, got[i].Algorithm)
		}
		if got[i].Algorithm != want[i].Algorithm || !bytes.Equal(got[i].Digest, want[i].Digest) || got[i].Locator != want[i].Locator {
			t.Fatalf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if e.Pending() != len(want) {
		t.Fatalf("Pending %d", e.Pending())
	}
}

// TestCheckCodeKeysMemo: a transaction's code keys are searched for
// duplicates once; a bad list is refused every time.
func TestCheckCodeKeysMemo(t *testing.T) {
	keys := codeKeys("memo", 1000)
	tx := &Tx{}
	if err := tx.checkCodeKeys(keys, 1000); err != nil || !tx.codeKeysOK.Load() {
		t.Fatalf("first check: %v", err)
	}
	if a := testing.AllocsPerRun(20, func() {
		if err := tx.checkCodeKeys(keys, 1000); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("memoized check allocates %v times", a)
	}
	bad := &Tx{}
	dup := cat(keys[:3*CodeKeySize], keyAt(keys, 1))
	for k := 0; k < 2; k++ {
		if err := bad.checkCodeKeys(dup, 4); !errors.Is(err, ErrBadCodeKeys) || bad.codeKeysOK.Load() {
			t.Fatalf("check %d: %v", k, err)
		}
	}
	// Keys sharing their first 8 bytes are told apart by the rest.
	near := cat(keyAt(keys, 0), keyAt(keys, 0))
	near[CodeKeySize+15] ^= 1
	if err := checkCodeKeys(near, 2); err != nil {
		t.Fatalf("near keys: %v", err)
	}
	if err := (&Tx{}).checkCodeKeys(nil, 5); err != nil {
		t.Fatalf("no keys: %v", err)
	}
}

// TestBatchRoot: a plain batch's root is MerkleRoot; a coded one's is the
// RFC 6962 root over key || digest, and every path verifies.
func TestBatchRoot(t *testing.T) {
	for n := 1; n <= 17; n++ {
		ds, keys := digests(fmt.Sprint("root", n), n), codeKeys(fmt.Sprint("root", n), n)
		if !bytes.Equal(BatchRoot(nil, ds), MerkleRoot(ds)) {
			t.Fatalf("n=%d: plain BatchRoot differs from MerkleRoot", n)
		}
		root := BatchRoot(keys, ds)
		leaves := make([][]byte, n)
		for i := range leaves {
			leaves[i] = LeafData(keyAt(keys, i), digestAt(ds, i))
			if len(leaves[i]) != CodeKeySize+DigestSize {
				t.Fatalf("leaf data of %d bytes", len(leaves[i]))
			}
		}
		if want := refRoot(leaves); !bytes.Equal(root, want) {
			t.Fatalf("n=%d: root %x, want %x", n, root, want)
		}
		for i := 0; i < n; i++ {
			leaf := rfc6962.DefaultHasher.HashLeaf(leaves[i])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(n), leaf, BatchInclusionPath(keys, ds, uint32(i)), root); err != nil {
				t.Fatalf("n=%d leaf %d: %v", n, i, err)
			}
			// The plain leaf of the same digest does not verify.
			plain := rfc6962.DefaultHasher.HashLeaf(digestAt(ds, i))
			if proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(n), plain, BatchInclusionPath(keys, ds, uint32(i)), root) == nil {
				t.Fatalf("n=%d leaf %d: the digest alone verifies", n, i)
			}
		}
	}
}

// refRoot is RFC 6962's MTH, written from its definition.
func refRoot(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return rfc6962.DefaultHasher.HashLeaf(leaves[0])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return rfc6962.DefaultHasher.HashChildren(refRoot(leaves[:k]), refRoot(leaves[k:]))
}

func revokeCodesBody(alg HashAlgorithm, keys []byte) *notaryv1.TxBody {
	b := revokeBody(nil)
	b.GetRevoke().HashAlgorithm, b.GetRevoke().CodeKeys = alg, keys
	return b
}

// TestRevokeCodeKeys: a coded document is revoked by its key; the record is
// at the key's revocation key and names the key, not the digest.
func TestRevokeCodeKeys(t *testing.T) {
	aeat, sepe := agencyKey("aeat"), agencyKey("sepe")
	ds, keys := digests("rk", 3), codeKeys("rk", 3)
	coded := func(f *fixture) [][]byte { return [][]byte{f.sign(aeat, codedBody("aeat", ds, keys))} }
	tests := []struct {
		name   string
		before func(f *fixture) [][]byte
		tx     func(f *fixture) []byte
		want   *Error
		basic  bool
		// revoked are the keys' positions revoked after tx.
		revoked []int
	}{
		{name: "one key", before: coded, tx: func(f *fixture) []byte { return f.sign(aeat, revokeCodesBody(pSHA2, keyAt(keys, 1))) }, revoked: []int{1}},
		{name: "two keys", before: coded, tx: func(f *fixture) []byte {
			return f.sign(aeat, revokeCodesBody(pSHA2, cat(keyAt(keys, 2), keyAt(keys, 0))))
		}, revoked: []int{0, 2}},
		{name: "unknown key", before: coded, tx: func(f *fixture) []byte {
			return f.sign(aeat, revokeCodesBody(pSHA2, cat(keyAt(keys, 0), keyAt(codeKeys("unknown", 1), 0))))
		}, want: ErrNotAnchored},
		{name: "another agency's", before: coded, tx: func(f *fixture) []byte { return f.sign(sepe, revokeCodesBody(pSHA2, keyAt(keys, 0))) }, want: ErrNotIssuer},
		{name: "already revoked", before: func(f *fixture) [][]byte {
			return append(coded(f), f.signSeq(aeat, 1, revokeCodesBody(pSHA2, keyAt(keys, 1))))
		}, tx: func(f *fixture) []byte {
			return f.sign(aeat, revokeCodesBody(pSHA2, cat(keyAt(keys, 0), keyAt(keys, 1))))
		}, want: ErrAlreadyRevoked, revoked: []int{1}},
		{name: "digests and code keys", before: coded, tx: func(f *fixture) []byte {
			b := revokeCodesBody(pSHA2, keyAt(keys, 0))
			b.GetRevoke().Digests = digestAt(ds, 0)
			return f.sign(aeat, b)
		}, want: ErrRevokeTargets, basic: true},
		{name: "neither", before: coded, tx: func(f *fixture) []byte { return f.sign(aeat, revokeCodesBody(pSHA2, nil)) }, want: ErrEmptyBatch, basic: true},
		{name: "another algorithm than the batch's", before: coded, tx: func(f *fixture) []byte {
			return f.sign(aeat, revokeCodesBody(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256, keyAt(keys, 0)))
		}, want: ErrAlgorithmMismatch},
		{name: "a key twice", before: coded, tx: func(f *fixture) []byte {
			return f.sign(aeat, revokeCodesBody(pSHA2, cat(keyAt(keys, 0), keyAt(keys, 1), keyAt(keys, 0))))
		}, want: ErrBadCodeKeys, basic: true},
		{name: "a key one byte short", before: coded, tx: func(f *fixture) []byte {
			return f.sign(aeat, revokeCodesBody(pSHA2, keys[:2*CodeKeySize-1]))
		}, want: ErrBadCodeKeys, basic: true},
		{name: "the index value of keys", before: coded, tx: func(f *fixture) []byte { return f.sign(aeat, revokeCodesBody(CodeKeyIndex, keyAt(keys, 0))) }, want: ErrUnknownHashAlgorithm, basic: true},
		{name: "plain document by its key's index digest", before: func(f *fixture) [][]byte {
			return [][]byte{f.sign(aeat, anchorBody("aeat", CodeKeyIndexDigest(keyAt(keys, 0))))}
		}, tx: func(f *fixture) []byte { return f.sign(aeat, revokeCodesBody(pSHA2, keyAt(keys, 0))) }, want: ErrNotAnchored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			runRule(t, f, tc.before, tc.tx, tc.want, tc.basic)
			for i := 0; i < 3; i++ {
				rev := &notaryv1.Revocation{}
				ok, err := load(f.st, RevocationKey(CodeKeyIndex, CodeKeyIndexDigest(keyAt(keys, i))), rev)
				if err != nil {
					t.Fatal(err)
				}
				if want := slices.Contains(tc.revoked, i); ok != want {
					t.Fatalf("key %d: revoked %v, want %v", i, ok, want)
				}
				if ok && (rev.HashAlgorithm != pSHA2 || len(rev.Digest) != 0 || !bytes.Equal(rev.CodeKey, keyAt(keys, i)) ||
					rev.BatchHeight != 1 || rev.BatchTxIndex != 0 || rev.LeafIndex != uint32(i) || rev.RevokedBy != "agency/aeat") {
					t.Fatalf("key %d: record %v", i, rev)
				}
				// Nothing under the digest.
				if ok, _ := load(f.st, RevocationKey(pSHA2, digestAt(ds, i)), &notaryv1.Revocation{}); ok {
					t.Fatalf("digest %d has a revocation record", i)
				}
			}
		})
	}
}

// TestCodedAndPlainSameDigest: a plain batch may anchor a coded document's
// digest, as another document, and revoking either leaves the other alone.
func TestCodedAndPlainSameDigest(t *testing.T) {
	aeat := agencyKey("aeat")
	ds, keys := digests("same", 2), codeKeys("same", 2)
	for _, first := range []string{"coded", "plain"} {
		for _, revoke := range []string{"coded", "plain"} {
			t.Run(first+" first/revoke "+revoke, func(t *testing.T) {
				f := newFixture(t, testGenesis())
				anchors := []*notaryv1.TxBody{codedBody("aeat", ds, keys), anchorBody("aeat", ds)}
				if first == "plain" {
					anchors[0], anchors[1] = anchors[1], anchors[0]
				}
				mustOK(t, f.one(f.sign(aeat, anchors[0])))
				mustOK(t, f.one(f.sign(aeat, anchors[1])))
				codedAt, plainAt := int64(1), int64(2)
				if first == "plain" {
					codedAt, plainAt = 2, 1
				}
				if l, ok, _ := f.idx.Lookup(pSHA2, digestAt(ds, 1)); !ok || l.Height != plainAt {
					t.Fatalf("digest lookup %v %v", l, ok)
				}
				if l, ok, _ := f.idx.Lookup(CodeKeyIndex, CodeKeyIndexDigest(keyAt(keys, 1))); !ok || l.Height != codedAt {
					t.Fatalf("key lookup %v %v", l, ok)
				}
				body := revokeBody(digestAt(ds, 1))
				if revoke == "coded" {
					body = revokeCodesBody(pSHA2, keyAt(keys, 1))
				}
				mustOK(t, f.one(f.sign(aeat, body)))
				coded := &notaryv1.Revocation{}
				codedOK, _ := load(f.st, RevocationKey(CodeKeyIndex, CodeKeyIndexDigest(keyAt(keys, 1))), coded)
				plain := &notaryv1.Revocation{}
				plainOK, _ := load(f.st, RevocationKey(pSHA2, digestAt(ds, 1)), plain)
				if codedOK != (revoke == "coded") || plainOK != (revoke == "plain") {
					t.Fatalf("coded revoked %v, plain revoked %v", codedOK, plainOK)
				}
				if codedOK && coded.BatchHeight != codedAt || plainOK && (plain.BatchHeight != plainAt || !bytes.Equal(plain.Digest, digestAt(ds, 1)) || len(plain.CodeKey) != 0) {
					t.Fatalf("records %v / %v", coded, plain)
				}
				// The other one is revoked on its own.
				other := revokeCodesBody(pSHA2, keyAt(keys, 1))
				if revoke == "coded" {
					other = revokeBody(digestAt(ds, 1))
				}
				mustOK(t, f.one(f.sign(aeat, other)))
			})
		}
	}
}
