package abci

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/syndtr/goleveldb/leveldb"

	"github.com/gobtechlab/notary/ledger"
)

// TestUnnamedTxRetention: a transaction a node stored but no block named
// is dropped by its transaction store after UnnamedTxRetention blocks;
// when a block names it later, the node fetches it from the proposer (as
// app/internal/txsync does), computes the proposer's state, and keeps it
// from then on. What blocks named is kept.
func TestUnnamedTxRetention(t *testing.T) {
	ctx := context.Background()
	open := func() *Application {
		o := DefaultOptions(t.TempDir(), testChain)
		o.UnnamedTxRetention = 2
		a, err := NewApplication(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		initChain(t, a)
		return a
	}
	proposer, other := open(), open()
	named := anchorTx(0, digestsOf("named", 100))
	late := anchorTx(1, digestsOf("late", 100))
	if len(named) < TxRefMinBytes {
		t.Fatalf("a transaction of %d bytes is not named by reference", len(named))
	}
	for _, a := range []*Application{proposer, other} {
		block(t, a, 1, named)
	}
	// other receives late from its sender, and no block names it.
	if res, err := other.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: late}); err != nil || res.Code != 0 {
		t.Fatalf("CheckTx: %v %v", res, err)
	}
	height := int64(1)
	deadline := time.Now().Add(30 * time.Second)
	for other.TxStoreDropped() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("late not dropped after %d blocks", height)
		}
		height++
		for _, a := range []*Application{proposer, other} {
			block(t, a, height)
		}
		time.Sleep(20 * time.Millisecond) // the collector runs after Commit
	}
	lateHash := ledger.TxHash(late)
	if _, ok, err := other.StoredTx(lateHash); ok || err != nil {
		t.Fatalf("late after it was dropped: %v %v", ok, err)
	}
	// A block names it: the proposer stores it from its mempool, other
	// asks its peers.
	height++
	commitFetched(ctx, t, proposer, other, late, height)
	// Named now: kept however many blocks follow.
	dropped := other.TxStoreDropped()
	for range 6 {
		height++
		for _, a := range []*Application{proposer, other} {
			block(t, a, height)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, raw := range [][]byte{named, late} {
		for _, a := range []*Application{proposer, other} {
			if got, ok, err := a.StoredTx(ledger.TxHash(raw)); err != nil || !ok || !bytes.Equal(got, raw) {
				t.Fatalf("a named transaction: %v %v", ok, err)
			}
		}
	}
	if got := other.TxStoreDropped(); got != dropped {
		t.Fatalf("dropped %d more", got-dropped)
	}
}

// TestTxInRemovedSegment: a transaction whose index entry points into a
// transaction-store segment that does not exist (a drop lost in a power
// loss, its segment compacted away) counts as not held: when a block names
// it, the node fetches it from the proposer, computes the proposer's state,
// and holds it from then on.
func TestTxInRemovedSegment(t *testing.T) {
	ctx := context.Background()
	otherOpts := DefaultOptions(t.TempDir(), testChain)
	open := func(o Options, fresh bool) *Application {
		a, err := NewApplication(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		if fresh {
			initChain(t, a)
		}
		return a
	}
	proposer, other := open(DefaultOptions(t.TempDir(), testChain), true), open(otherOpts, true)
	named := anchorTx(0, digestsOf("named", 100))
	late := anchorTx(1, digestsOf("late", 100))
	for _, a := range []*Application{proposer, other} {
		block(t, a, 1, named)
	}
	if res, err := other.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: late}); err != nil || res.Code != 0 {
		t.Fatalf("CheckTx: %v %v", res, err)
	}
	for _, a := range []*Application{proposer, other} {
		block(t, a, 2)
	}
	lateHash := ledger.TxHash(late)
	if _, ok, err := other.StoredTx(lateHash); !ok || err != nil {
		t.Fatalf("late before the damage: %v %v", ok, err)
	}
	// The entry of late points into a segment that does not exist.
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	idx, err := leveldb.OpenFile(filepath.Join(otherOpts.Dir, txsDir, "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := idx.Get(lateHash[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(v, 1<<20)
	if err := idx.Put(lateHash[:], v, nil); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	other = open(otherOpts, false)
	if _, ok, err := other.StoredTx(lateHash); ok || err != nil {
		t.Fatalf("late in a segment that does not exist: %v %v", ok, err)
	}
	commitFetched(ctx, t, proposer, other, late, 3)
	if got, ok, err := other.StoredTx(lateHash); err != nil || !ok || !bytes.Equal(got, late) {
		t.Fatalf("late after the block: %v %v", ok, err)
	}
}

// commitFetched has proposer propose, at height, a block naming late by
// reference, which other does not hold: other asks its fetcher, which
// takes it from proposer; both execute and commit the block and reach the
// same app hash.
func commitFetched(ctx context.Context, t *testing.T, proposer, other *Application, late []byte, height int64) {
	t.Helper()
	lateHash := ledger.TxHash(late)
	asked := 0
	other.SetFetcher(func(h [32]byte) {
		asked++
		raw, ok, err := proposer.StoredTx(h)
		if err != nil || !ok {
			t.Errorf("the proposer does not hold %X: %v", h, err)
			return
		}
		go func() { _, _ = other.StoreTx(raw) }()
	})
	prep, err := proposer.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: [][]byte{late}, MaxTxBytes: 1 << 20, Height: height})
	if err != nil || len(prep.Txs) != 1 || !bytes.Equal(prep.Txs[0], EncodeTxRef(lateHash)) {
		t.Fatalf("PrepareProposal: %q %v", prep.Txs, err)
	}
	tm, hash := t0.Add(time.Duration(height)*time.Second), []byte("late block")
	var hashes [][]byte
	for _, a := range []*Application{proposer, other} {
		proc, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: prep.Txs, Height: height, Time: tm, Hash: hash})
		if err != nil || proc.Status != abcitypes.ResponseProcessProposal_ACCEPT {
			t.Fatalf("ProcessProposal: %v %v", proc, err)
		}
		fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: prep.Txs, Height: height, Time: tm, Hash: hash})
		if err != nil || fin.TxResults[0].Code != 0 {
			t.Fatalf("FinalizeBlock: %v %v", fin, err)
		}
		if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, fin.AppHash)
	}
	if asked == 0 || !bytes.Equal(hashes[0], hashes[1]) {
		t.Fatalf("other asked %d times; app hashes %X and %X", asked, hashes[0], hashes[1])
	}
}
