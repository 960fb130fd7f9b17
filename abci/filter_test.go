package abci

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"slices"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func filterDigest(tag byte, i int) []byte {
	var b [9]byte
	b[0] = tag
	binary.BigEndian.PutUint64(b[1:], uint64(i))
	d := sha256.Sum256(b[:])
	return d[:]
}

// TestDigestFilter: no false negatives, few false positives, and the
// algorithm is part of the key.
func TestDigestFilter(t *testing.T) {
	const n = 100_000
	f := newDigestFilter(n * 10 / 8) // 10 bits per key
	for i := 0; i < n; i++ {
		f.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i))
	}
	for i := 0; i < n; i++ {
		if !f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i)) {
			t.Fatalf("false negative for digest %d", i)
		}
	}
	fp := 0
	for i := 0; i < n; i++ {
		if f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('b', i)) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.03 {
		t.Fatalf("false-positive rate %.4f at 10 bits per key", rate)
	}
	other := 0
	for i := 0; i < 1000; i++ {
		if f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256, filterDigest('a', i)) {
			other++
		}
	}
	if other > 100 {
		t.Fatalf("%d of 1000 digests found under the other algorithm", other)
	}
	if newDigestFilter(63) != nil {
		t.Fatal("a filter smaller than one block")
	}
}

// TestDigestFilterCapacity: filled to its capacity, the filter lets through
// at most 0.01 % of absent digests (each costs a page read per run).
func TestDigestFilterCapacity(t *testing.T) {
	f := newDigestFilter(256 << 10)
	n := f.capacity()
	if n != 256<<10*8/filterBitsPerKey {
		t.Fatalf("capacity %d", n)
	}
	for i := 0; i < n; i++ {
		f.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i))
	}
	fp := 0
	const probes = 200_000
	for i := 0; i < probes; i++ {
		if f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('b', i)) {
			fp++
		}
	}
	if rate := float64(fp) / probes; rate > 0.0001 {
		t.Fatalf("false-positive rate %.5f at capacity", rate)
	}
	t.Logf("false positives at capacity: %d of %d", fp, probes)
}

// TestDigestIndexFilter: lookups agree with and without the filter, also
// after a reopen that rebuilds the filter from the index.
func TestDigestIndexFilter(t *testing.T) {
	dir := t.TempDir()
	x, err := openDigestIndex(dir, 1<<16, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entries []ledger.IndexEntry
	for i := 0; i < 500; i++ {
		entries = append(entries, ledger.IndexEntry{Algorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: filterDigest('a', i),
			Locator: ledger.Locator{Height: 5, TxIndex: 1, Leaf: uint32(i)}})
	}
	if err := x.save(entries, 5); err != nil {
		t.Fatal(err)
	}
	check := func(x *digestIndex, what string) {
		t.Helper()
		for i := 0; i < 500; i++ {
			loc, ok, err := x.lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i), 6)
			if err != nil || !ok || loc.Leaf != uint32(i) {
				t.Fatalf("%s: digest %d: %v %v %v", what, i, loc, ok, err)
			}
			if _, ok, _ := x.lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i), 5); ok {
				t.Fatalf("%s: digest %d visible below its height", what, i)
			}
			if _, ok, _ := x.lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('b', i), 6); ok {
				t.Fatalf("%s: digest never saved found", what)
			}
		}
	}
	check(x, "filter")
	if err := x.close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1 << 16, -1} {
		y, err := openDigestIndex(dir, size, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (y.filter == nil) != (size < 0) {
			t.Fatalf("size %d: filter %v", size, y.filter != nil)
		}
		check(y, "reopened")
		if err := y.close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCommitLeavesDigestsInFilter: Commit no longer adds a block's digests
// to the filter (FinalizeBlock's lookups did); every anchored digest must
// still be in it, also after a reopen.
func TestCommitLeavesDigestsInFilter(t *testing.T) {
	dir := t.TempDir()
	a := newChain(t, dir)
	blocks := chainBlocks(4, 300)
	var entries [][]byte
	for i, txs := range blocks {
		finalizeCommit(t, a, int64(i+1), txs)
		for _, raw := range txs {
			tx, err := a.ledger.DecodeTx(raw)
			if err != nil {
				t.Fatal(err)
			}
			if m := tx.Body.GetAnchorBatch(); m != nil {
				for j := 0; j < len(m.Digests); j += ledger.DigestSize {
					entries = append(entries, m.Digests[j:j+ledger.DigestSize])
				}
			}
		}
	}
	if len(entries) == 0 {
		t.Fatal("no digests anchored")
	}
	check := func(x *digestIndex, what string) {
		for _, d := range entries {
			if !x.filter.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, d) {
				t.Fatalf("%s: anchored digest %x not in the filter", what, d)
			}
		}
	}
	check(a.index, "after commit")
	a.Close()
	b := openApp(t, dir)
	defer b.Close()
	check(b.index, "after reopen")
}

// TestIntraBlockDuplicates: FinalizeBlock rules most digests out with the
// filter in bulk (ledger.DigestPrefilter) and looks a digest up among the
// block's own only when the filter may hold it. A digest anchored by an
// earlier transaction of the same block is still refused; the digests of a
// transaction that failed are not anchored, so a later one may anchor them.
func TestIntraBlockDuplicates(t *testing.T) {
	a := newChain(t, t.TempDir())
	defer a.Close()
	agency := abcitest.Agencies[0]
	signer := "agency/" + agency
	seq := uint64(0)
	anchor := func(ds []byte) []byte {
		raw := identity.SignTx(testChain, abcitest.Key(signer), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
		seq++
		return raw
	}
	first := digestsOf("intra-a", 50)
	other := digestsOf("intra-b", 50)
	txs := [][]byte{
		anchor(first), // ok
		anchor(append(slices.Clone(other[:64]), first[32*7:32*8]...)), // repeats a digest of tx 0: refused
	}
	seq--                            // the refused transaction did not use its sequence
	txs = append(txs, anchor(other)) // the refused one's digests: ok
	res := finalizeCommit(t, a, 1, txs)
	want := []uint32{abcitypes.CodeTypeOK, 35, abcitypes.CodeTypeOK}
	for i, r := range res.TxResults {
		if r.Code != want[i] {
			t.Fatalf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
	for i := 0; i < 50; i++ {
		for _, ds := range [][]byte{first, other} {
			if _, ok, err := a.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, ds[i*32:(i+1)*32]); !ok || err != nil {
				t.Fatalf("digest %d not anchored: %v", i, err)
			}
		}
	}
}

// TestMempoolDuplicates: the mempool's check rules digests out of the index
// with the filter in bulk (ledger.IndexPrefilter) but still refuses a digest
// that a transaction checked earlier, and not yet committed, carries; and one
// the index holds.
func TestMempoolDuplicates(t *testing.T) {
	a := newChain(t, t.TempDir())
	defer a.Close()
	signer := "agency/" + abcitest.Agencies[0]
	seq := uint64(0)
	anchor := func(ds []byte) []byte {
		raw := identity.SignTx(testChain, abcitest.Key(signer), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: abcitest.Agencies[0], HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
		seq++
		return raw
	}
	check := func(name string, tx []byte, want uint32) {
		t.Helper()
		a.MarkLocal(ledger.TxHash(tx)) // as a gateway does: checked in full
		res, err := a.CheckTx(context.Background(), &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_New})
		if err != nil || res.Code != want {
			t.Fatalf("%s: code %d (%s) %v, want %d", name, res.GetCode(), res.GetLog(), err, want)
		}
	}
	committed := digestsOf("mempool-a", 40)
	finalizeCommit(t, a, 1, [][]byte{anchor(committed)})
	pending := digestsOf("mempool-b", 40)
	check("new digests", anchor(pending), abcitypes.CodeTypeOK)
	check("a pending digest", anchor(append(digestsOf("mempool-c", 3), pending[32*5:32*6]...)), 35)
	seq--
	check("a committed digest", anchor(append(digestsOf("mempool-d", 3), committed[32*9:32*10]...)), 35)
	seq--
	check("new digests again", anchor(digestsOf("mempool-e", 40)), abcitypes.CodeTypeOK)
}

// TestDigestFilterReleased: filters outside the Go heap are released when
// garbage, and one in use is not (it would fault).
func TestDigestFilterReleased(t *testing.T) {
	keep := newDigestFilter(1 << 20)
	for i := 0; i < 64; i++ {
		f := newDigestFilter(16 << 20)
		f.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i))
		keep.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('k', i))
		if !f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i)) {
			t.Fatal("false negative")
		}
		runtime.GC()
	}
	for i := 0; i < 64; i++ {
		if !keep.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('k', i)) {
			t.Fatalf("false negative for digest %d after collections", i)
		}
	}
}
