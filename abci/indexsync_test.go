package abci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// TestDigestIndexSyncsInBackground: a block's run answers lookups when
// saveBlock returns (from memory until it is written), its file is written
// under its own name and HEIGHT follows once the background sync has run,
// and close leaves HEIGHT at the last height saved.
func TestDigestIndexSyncsInBackground(t *testing.T) {
	dir := t.TempDir()
	m := newIdxModel(11)
	x := openIdx(t, dir, 1<<16)
	x.syncMu.Lock() // holds the background sync: the runs stay in memory
	for h := int64(1); h <= 3; h++ {
		m.save(t, x, m.nextHeight(500, idxSHA2, nil))
		x.mu.RLock()
		inMemory := x.runs[len(x.runs)-1].mem != nil
		x.mu.RUnlock()
		if !inMemory {
			t.Fatalf("height %d's run is not held in memory", h)
		}
		m.check(t, x, -1, fmt.Sprintf("height %d saved", h))
	}
	x.syncMu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := readHeight(x.dir)
		if err != nil {
			t.Fatal(err)
		}
		if h == 3 {
			for h := int64(1); h <= 3; h++ {
				if _, err := os.Stat(idxRunPath(x, h, h)); err != nil {
					t.Fatalf("height %d's run after HEIGHT names it: %v", h, err)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HEIGHT is %d 10 s after height 3 was saved", h)
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	closeIdx(t, x)
	if h, err := readHeight(filepath.Join(dir, indexDirName)); err != nil || h != 4 {
		t.Fatalf("HEIGHT after close: %d, %v; want 4", h, err)
	}
	x = openIdx(t, dir, 1<<16)
	defer closeIdx(t, x)
	m.check(t, x, -1, "after reopening")
}

// memBlocks is a BlockSource of the blocks a test committed.
type memBlocks map[int64][][]byte

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
	idxDir := filepath.Join(dir, indexDirName)
	if err := writeHeight(idxDir, 2); err != nil {
		t.Fatal(err)
	}
	noBlocks := DefaultOptions(dir, testChain)
	if _, err := NewApplication(noBlocks); err == nil || !strings.Contains(err.Error(), "rebuilt from the block store") {
		t.Fatalf("open without a block store: %v", err)
	}
	if err := writeHeight(idxDir, 2); err != nil {
		t.Fatal(err)
	}
	a, err = NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i, ds := range anchored {
		loc, ok, err := a.index.lookup(ledger.HashAlgorithm(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256), ds[:ledger.DigestSize], 5)
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

// TestDigestIndexWriteFailure: when the background sync cannot write a
// block's run, the next save tries again itself and fails with the disk's
// error (Commit stops there); once the disk takes the writes again, the
// next save succeeds and every digest is found.
func TestDigestIndexWriteFailure(t *testing.T) {
	dir := t.TempDir()
	m := newIdxModel(13)
	x, err := openDigestIndex(dir, 1<<16, nil) // its log would fail the test
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdx(t, x)
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	if err := x.syncRuns(); err != nil {
		t.Fatal(err)
	}
	// The directory goes away: the next run cannot be written.
	x.syncMu.Lock()
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	hidden := x.dir + ".away"
	if err := os.Rename(x.dir, hidden); err != nil {
		t.Fatal(err)
	}
	x.syncMu.Unlock()
	if err := x.syncRuns(); err == nil {
		t.Fatal("the run was written without its directory")
	}
	if err := x.save(m.nextHeight(500, idxSHA2, nil), m.height+1); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("save after a failed write: %v; want the disk's error", err)
	}
	if err := os.Rename(hidden, x.dir); err != nil {
		t.Fatal(err)
	}
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	m.check(t, x, -1, "after the disk came back")
	if err := x.syncRuns(); err != nil {
		t.Fatal(err)
	}
	if h, err := readHeight(x.dir); err != nil || h != m.height {
		t.Fatalf("HEIGHT %d, %v; want %d", h, err, m.height)
	}
}
