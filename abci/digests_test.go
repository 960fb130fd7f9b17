package abci

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestCommitLeavesDigestsInFilter: Commit does not add a block's digests
// to the filter (FinalizeBlock's lookups did); the filter must still hold
// every anchored digest (the mempool's first check, which asks the filter
// alone, never rules one out), also after a reopen.
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
	check := func(a *Application, what string) {
		t.Helper()
		h, _, _ := a.LastCommit()
		v := a.index.CheckView(h + 1)
		absent := make([]bool, len(entries))
		v.NotIndexed(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, slices.Concat(entries...), absent)
		if i := slices.Index(absent, true); i >= 0 {
			t.Fatalf("%s: anchored digest %x ruled out", what, entries[i])
		}
	}
	check(a, "after commit")
	_ = a.Close()
	b := openApp(t, dir)
	defer func() { _ = b.Close() }()
	check(b, "after reopen")
}

// TestIntraBlockDuplicates: FinalizeBlock rules most digests out with the
// filter in bulk (ledger.DigestPrefilter) and looks a digest up among the
// block's own only when the filter may hold it. A digest anchored by an
// earlier transaction of the same block is still refused; the digests of a
// transaction that failed are not anchored, so a later one may anchor them.
func TestIntraBlockDuplicates(t *testing.T) {
	a := newChain(t, t.TempDir())
	defer func() { _ = a.Close() }()
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
	defer func() { _ = a.Close() }()
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

// memBlocks is a BlockSource of the blocks a test committed.
type memBlocks map[int64][][]byte

// BlockTime is the time finalizeCommit gives height h.
func (b memBlocks) BlockTime(h int64) (time.Time, error) {
	if _, ok := b[h]; !ok {
		return time.Time{}, fmt.Errorf("no block %d", h)
	}
	return blockTimeAt(h), nil
}

func (b memBlocks) BlockTxs(h int64) ([][]byte, error) {
	txs, ok := b[h]
	if !ok {
		return nil, fmt.Errorf("no block %d", h)
	}
	return txs, nil
}

// TestIndexRebuiltAfterUnsyncedRuns: when a node stops before the
// background sync saved the last heights (HEIGHT behind the state), the
// application drops their runs at open and indexes those heights again from
// the block store; without one, it refuses to open with a clear error.
func TestIndexRebuiltAfterUnsyncedRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	agency := abcitest.Agencies[0]
	blocks := memBlocks{}
	opts := DefaultOptions(dir, testChain)
	opts.Blocks = blocks
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	var anchored [][]byte
	for h := int64(1); h <= 4; h++ {
		ds := digestsOf(fmt.Sprint("unsynced", h), 5)
		tx := identity.SignTx(testChain, abcitest.Key("agency/"+agency), &notaryv1.TxBody{Sequence: uint64(h - 1), Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
		blocks[h] = [][]byte{tx}
		if r := finalizeCommit(t, a, h, blocks[h]).TxResults[0]; r.Code != abcitypes.CodeTypeOK {
			t.Fatalf("height %d: %d %s", h, r.Code, r.Log)
		}
		anchored = append(anchored, ds)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A stop before the sync of heights 3 and 4: HEIGHT says 2.
	idxDir := filepath.Join(dir, digestsDir)
	saveIndexHeight(t, idxDir, 2)
	noBlocks := DefaultOptions(dir, testChain)
	if _, err := NewApplication(noBlocks); err == nil || !strings.Contains(err.Error(), "rebuilt from the block store") {
		t.Fatalf("open without a block store: %v", err)
	}
	saveIndexHeight(t, idxDir, 2)
	a, err = NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	for i, ds := range anchored {
		loc, ok, err := a.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, ds[:ledger.DigestSize])
		if err != nil || !ok || loc.Height != int64(i+1) {
			t.Fatalf("digest of height %d: %+v %v %v", i+1, loc, ok, err)
		}
	}
	// The mempool refuses the digests of the rebuilt heights as anchored.
	again := identity.SignTx(testChain, abcitest.Key("agency/"+agency), &notaryv1.TxBody{Sequence: 4, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: anchored[3]}}})
	a.MarkLocal(ledger.TxHash(again))
	if res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: again}); err != nil || res.Code != ledger.ErrAlreadyAnchored.Code() {
		t.Fatalf("CheckTx of height 4's digests: %v %v", res, err)
	}
}

// saveIndexHeight writes the digest index's HEIGHT file (8 bytes big-endian
// and their CRC-32C; abci/digestindex/doc.go), as a node that stopped before
// its background sync saved the later heights left it.
func saveIndexHeight(t *testing.T, dir string, h int64) {
	t.Helper()
	b := binary.BigEndian.AppendUint64(nil, uint64(h))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(filepath.Join(dir, "HEIGHT"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
