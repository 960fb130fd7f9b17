package abci

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// prunedNode is an application with retention whose block store the test
// prunes below the retain height each Commit returns, as CometBFT does.
type prunedNode struct {
	a      *Application
	opts   Options
	blocks *lockedBlocks
	retain int64 // the last retain height returned
}

func (n *prunedNode) open(t *testing.T) {
	t.Helper()
	a, err := NewApplication(n.opts)
	if err != nil {
		t.Fatal(err)
	}
	n.a = a
	t.Cleanup(func() { _ = a.Close() })
}

func (n *prunedNode) restart(t *testing.T, retainBlocks int64) {
	t.Helper()
	if err := n.a.Close(); err != nil {
		t.Fatal(err)
	}
	n.opts.RetainBlocks = retainBlocks
	n.open(t)
}

// commit commits the block src committed at height h, whose transactions
// src's block store holds: the referenced ones reach the node as from its
// mempool.
func (n *prunedNode) commit(t *testing.T, src *syncChain, h int64, raw [][]byte) {
	t.Helper()
	for _, tx := range raw {
		if len(tx) >= TxRefMinBytes {
			if _, err := n.a.StoreTx(tx); err != nil {
				t.Fatal(err)
			}
		}
	}
	txs, err := src.blocks.BlockTxs(h)
	if err != nil {
		t.Fatal(err)
	}
	n.blocks.put(h, txs)
	ctx := context.Background()
	fin, err := n.a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: txs, Height: h, Time: blockTimeAt(h)})
	if err != nil {
		t.Fatal(err)
	}
	if _, want, _ := src.a.LastCommit(); !bytes.Equal(fin.AppHash, want) {
		t.Fatalf("height %d: app hash differs from the archive node's", h)
	}
	res, err := n.a.Commit(ctx, &abcitypes.RequestCommit{})
	if err != nil {
		t.Fatal(err)
	}
	n.a.snapWG.Wait()
	r := res.RetainHeight
	switch {
	case n.opts.RetainBlocks == 0 && r != 0:
		t.Fatalf("height %d: retain height %d with retention off", h, r)
	case n.opts.RetainBlocks > 0 && (r < n.retain || r > h-n.opts.RetainBlocks+1 || r < 1):
		t.Fatalf("height %d: retain height %d after %d, keeping %d blocks", h, r, n.retain, n.opts.RetainBlocks)
	}
	if r > 0 {
		n.retain = r
		n.blocks.mu.Lock()
		for b := range n.blocks.m {
			if b < r {
				delete(n.blocks.m, b)
			}
		}
		n.blocks.mu.Unlock()
	}
}

// run commits heights from..to on the archive node src and on n.
func (n *prunedNode) run(t *testing.T, src *syncChain, from, to int64) {
	t.Helper()
	for h := from; h <= to; h++ {
		txs := src.nextTxs(h)
		src.block(t, h, txs...)
		n.commit(t, src, h, txs)
	}
}

// checkSameAs is checkSame once both nodes wrote their tiles.
func checkSameAs(t *testing.T, src *syncChain, a *Application) {
	t.Helper()
	if err := errors.Join(src.a.FlushLog(), a.FlushLog()); err != nil {
		t.Fatal(err)
	}
	checkSame(t, src, a)
}

// checkRefused checks that StateAt refuses a pruned height.
func checkRefused(t *testing.T, a *Application, height int64, restored bool) {
	t.Helper()
	_, err := a.StateAt(height)
	var e *EarliestStateError
	if !errors.As(err, &e) || !errors.Is(err, ledger.ErrHeightUnavailable) || e.Restored != restored ||
		e.Earliest != a.Earliest() || !strings.Contains(err.Error(), "receipt v2") {
		t.Fatalf("StateAt(%d) below the earliest %d: %v", height, a.Earliest(), err)
	}
}

// TestRetention: a node that turns retention on after twelve blocks (its
// small batch transactions then in the block store only) prunes blocks and
// state versions below a retain height that keeps the setting's window
// and its snapshot; it answers lookups, finds every batch transaction and
// holds the same tiles as an archive node; it refuses the pruned heights'
// state; its snapshot restores; it restarts pruned, and with retention
// off keeps what is left.
func TestRetention(t *testing.T) {
	src := runSyncChain(t, t.TempDir(), 2048, 0, 0, false)
	n := &prunedNode{blocks: &lockedBlocks{m: memBlocks{}}}
	n.opts = DefaultOptions(t.TempDir(), testChain)
	n.opts.Blocks = n.blocks
	n.opts.SnapshotInterval, n.opts.SnapshotKeepRecent, n.opts.SnapshotChunkBytes = 10, 1, 2048
	n.open(t)
	initChain(t, n.a)
	n.run(t, src, 1, 12)
	if n.a.Earliest() != 1 {
		t.Fatalf("earliest %d on an archive node", n.a.Earliest())
	}

	n.restart(t, 4)
	if _, err := os.Stat(filepath.Join(n.opts.Dir, batchTxsFile)); err != nil {
		t.Fatalf("batch transactions not copied to the transaction store: %v", err)
	}
	n.run(t, src, 13, 45)
	// Kept: the last 4 heights and the snapshot of height 40.
	if n.retain <= 12 || n.retain > 40 || n.a.Earliest() != n.retain {
		t.Fatalf("retain height %d, earliest %d", n.retain, n.a.Earliest())
	}
	if _, err := n.blocks.BlockTxs(1); err == nil {
		t.Fatal("block 1 not pruned")
	}
	checkRefused(t, n.a, 1, false)
	checkRefused(t, n.a, n.retain-1, false)
	if _, err := n.a.StateAt(n.retain); err != nil {
		t.Fatal(err)
	}
	// IAVL's pruning goroutine deletes the old versions; its deletes are
	// written with a later version.
	deadline := time.Now().Add(time.Minute)
	for h := int64(46); n.a.tree.VersionExists(1); h++ {
		if time.Now().After(deadline) {
			t.Fatal("state version 1 not pruned")
		}
		time.Sleep(100 * time.Millisecond)
		n.run(t, src, h, h)
	}
	checkSameAs(t, src, n.a)
	checkBatchTxs(t, n.a, true)

	// The snapshot the node kept restores.
	snaps := listed(t, n.a)
	if len(snaps) != 1 || int64(snaps[0].Height) < n.retain {
		t.Fatalf("snapshots %+v, retain height %d", snaps, n.retain)
	}
	s := snaps[0]
	view, err := src.a.StateAt(int64(s.Height))
	if err != nil {
		t.Fatal(err)
	}
	dst := openApp(t, t.TempDir())
	defer func() { _ = dst.Close() }()
	if r := offer(t, dst, s, view.Hash()); r != abcitypes.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r)
	}
	for i := uint32(0); i < s.Chunks; i++ {
		if res := apply(t, dst, i, loadChunk(t, n.a, s, i), "peer"); res.Result != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("chunk %d: %+v", i, res)
		}
	}
	if dst.Earliest() != int64(s.Height) {
		t.Fatalf("restored node's earliest %d, snapshot %d", dst.Earliest(), s.Height)
	}
	checkRefused(t, dst, int64(s.Height)-1, true)
	checkBatchTxs(t, dst, true)

	// A restart keeps the earliest height; the node goes on pruning.
	earliest := n.a.Earliest()
	last, _, _ := n.a.LastCommit()
	n.restart(t, 4)
	if n.a.Earliest() != earliest {
		t.Fatalf("earliest %d after a restart, %d before", n.a.Earliest(), earliest)
	}
	checkRefused(t, n.a, earliest-1, false)
	checkSameAs(t, src, n.a)
	n.run(t, src, last+1, last+12)
	if n.retain <= earliest {
		t.Fatalf("retain height %d after a restart, %d before", n.retain, earliest)
	}
	checkSameAs(t, src, n.a)

	// Retention off: nothing more is pruned, the pruned heights stay
	// refused.
	earliest = n.a.Earliest()
	last, _, _ = n.a.LastCommit()
	n.restart(t, 0)
	if _, err := os.Stat(filepath.Join(n.opts.Dir, batchTxsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marker kept with retention off: %v", err)
	}
	n.run(t, src, last+1, last+4)
	if n.a.Earliest() != earliest {
		t.Fatalf("earliest %d with retention off, %d before", n.a.Earliest(), earliest)
	}
	checkRefused(t, n.a, earliest-1, false)
	// The new small batches are in the block store only.
	checkBatchTxs(t, n.a, false)
}

// checkBatchTxs checks that BatchTx finds the transaction of every batch
// record and, with stored, that the transaction store holds it.
func checkBatchTxs(t *testing.T, a *Application, stored bool) {
	t.Helper()
	v, err := a.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	small := 0
	err = v.Iterate(batchStart, batchEnd, func(_, value []byte) bool {
		var b notaryv1.Batch
		if proto.Unmarshal(value, &b) != nil {
			t.Error("batch record")
			return false
		}
		if _, ok, err := a.stored.Get([32]byte(b.TxHash)); stored && (!ok || err != nil) {
			t.Errorf("batch %d/%d: transaction not stored (%v)", b.Height, b.TxIndex, err)
		}
		raw, err := a.BatchTx(&b)
		if err != nil {
			t.Errorf("batch %d/%d: %v", b.Height, b.TxIndex, err)
		}
		if len(raw) < TxRefMinBytes {
			small++
		}
		return true
	})
	if err != nil || small == 0 {
		t.Fatalf("%d small batches: %v", small, err)
	}
}

// TestRetentionBatchCarriedWhole: with retention on, Commit keeps in the
// transaction store every batch transaction its block carried whole: a
// small one, and a large one its proposer did not name by reference
// (ProcessProposal accepts it); one named by reference is stored already.
// Each is found once CometBFT has deleted the block.
func TestRetentionBatchCarriedWhole(t *testing.T) {
	opts := DefaultOptions(t.TempDir(), testChain)
	opts.RetainBlocks = 10
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	initChain(t, a)
	named, whole, small := anchorTx(0, digestsOf("named", 60)), anchorTx(1, digestsOf("whole", 60)), anchorTx(2, digestsOf("small", 2))
	if len(whole) < TxRefMinBytes || len(small) >= TxRefMinBytes {
		t.Fatalf("transactions of %d and %d bytes", len(whole), len(small))
	}
	if _, err := a.StoreTx(named); err != nil {
		t.Fatal(err)
	}
	fin := finalizeCommit(t, a, 1, [][]byte{BlockTx(named), whole, small})
	for i, r := range fin.TxResults {
		if r.Code != 0 {
			t.Fatalf("tx %d: %s", i, r.Log)
		}
	}
	for _, raw := range [][]byte{named, whole, small} {
		got, ok, err := a.stored.Get(ledger.TxHash(raw))
		if err != nil || !ok || !bytes.Equal(got, raw) {
			t.Fatalf("%d-byte batch transaction not in the transaction store (%v)", len(raw), err)
		}
	}
	// No block store: every batch transaction comes from the store.
	checkBatchTxs(t, a, true)
}

// TestRetentionStep: a node that turns retention on with a long history
// moves its retain height by at most maxRetainStep a commit, so that
// CometBFT deletes the old blocks over many commits, not all in one.
func TestRetentionStep(t *testing.T) {
	opts := DefaultOptions(t.TempDir(), testChain)
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	initChain(t, a)
	last := int64(2*maxRetainStep + 50)
	for h := int64(1); h <= last; h++ {
		finalizeCommit(t, a, h, nil)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	opts.RetainBlocks = 10
	if a, err = NewApplication(opts); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	ctx := context.Background()
	want := []int64{1 + maxRetainStep, 1 + 2*maxRetainStep, last + 3 - opts.RetainBlocks + 1}
	for i, w := range want {
		h := last + 1 + int64(i)
		if _, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Height: h, Time: blockTimeAt(h)}); err != nil {
			t.Fatal(err)
		}
		res, err := a.Commit(ctx, &abcitypes.RequestCommit{})
		if err != nil {
			t.Fatal(err)
		}
		if res.RetainHeight != w || a.Earliest() != w {
			t.Fatalf("height %d: retain height %d, earliest %d, want %d", h, res.RetainHeight, a.Earliest(), w)
		}
	}
}
