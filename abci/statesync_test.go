package abci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci/snapshot"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// syncChain is a chain whose blocks a test records, to build snapshots.
type syncChain struct {
	a      *Application
	blocks *lockedBlocks
	// anchored are the digests its blocks anchored.
	anchored [][]byte
	seq      uint64 // the agency's next sequence
}

// newSyncChain runs ten blocks: large batches (named by hash), small ones
// (carried whole), a revocation and empty blocks; snapshots every five
// heights, in chunks of chunk bytes.
func newSyncChain(t *testing.T, dir string, chunk int) *syncChain {
	return runSyncChain(t, dir, chunk, 5, 10, true)
}

// runSyncChain runs heights blocks as newSyncChain does, with snapshots
// every interval heights; with wait, each block waits for the snapshot
// its Commit started.
func runSyncChain(t *testing.T, dir string, chunk int, interval, heights int64, wait bool) *syncChain {
	t.Helper()
	c := &syncChain{blocks: &lockedBlocks{m: memBlocks{}}}
	opts := DefaultOptions(dir, testChain)
	opts.Blocks = c.blocks
	opts.SnapshotInterval, opts.SnapshotChunkBytes = interval, chunk
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.a = a
	t.Cleanup(func() { _ = a.Close() })
	initChain(t, a)
	for h := int64(1); h <= heights; h++ {
		c.block(t, h, c.nextTxs(h)...)
		if wait {
			a.snapWG.Wait()
		}
	}
	a.snapWG.Wait()
	return c
}

// nextTxs returns the transactions of height h: a large batch (named by
// hash) and a small one (carried whole), a revocation, a small batch or
// none, by h modulo 4.
func (c *syncChain) nextTxs(h int64) [][]byte {
	var txs [][]byte
	switch h % 4 {
	case 1: // a large batch and a small one
		big, small := digestsOf(fmt.Sprint("big", h), 60), digestsOf(fmt.Sprint("small", h), 3)
		txs = [][]byte{anchorTx(c.seq, big), anchorTx(c.seq+1, small)}
		c.seq += 2
		c.anchored = append(c.anchored, splitDigests(big)...)
		c.anchored = append(c.anchored, splitDigests(small)...)
	case 2: // a revocation of an earlier digest
		txs = [][]byte{revokeBy("aeat", c.seq, c.anchored[h])}
		c.seq++
	case 3: // a small batch
		ds := digestsOf(fmt.Sprint("one", h), 2)
		txs = [][]byte{anchorTx(c.seq, ds)}
		c.seq++
		c.anchored = append(c.anchored, splitDigests(ds)...)
	}
	return txs
}

func splitDigests(ds []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(ds); i += ledger.DigestSize {
		out = append(out, ds[i:i+ledger.DigestSize])
	}
	return out
}

// block commits txs at height, recording the block as proposed.
func (c *syncChain) block(t *testing.T, h int64, txs ...[]byte) {
	t.Helper()
	ctx := context.Background()
	prep, err := c.a.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: txs, MaxTxBytes: 22 << 20, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	c.blocks.put(h, prep.Txs)
	fin := finalizeCommit(t, c.a, h, prep.Txs)
	for i, r := range fin.TxResults {
		if r.Code != abcitypes.CodeTypeOK {
			t.Fatalf("height %d tx %d: %d %s", h, i, r.Code, r.Log)
		}
	}
}

// lockedBlocks is a memBlocks a snapshot reads while the test commits.
type lockedBlocks struct {
	mu sync.Mutex
	m  memBlocks
}

func (b *lockedBlocks) put(h int64, txs [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[h] = txs
}

func (b *lockedBlocks) BlockTime(h int64) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m.BlockTime(h)
}

func (b *lockedBlocks) BlockTxs(h int64) ([][]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m.BlockTxs(h)
}

// offer offers snapshot s of the chain's height to a, with appHash.
func offer(t *testing.T, a *Application, s *abcitypes.Snapshot, appHash []byte) abcitypes.ResponseOfferSnapshot_Result {
	t.Helper()
	res, err := a.OfferSnapshot(context.Background(), &abcitypes.RequestOfferSnapshot{Snapshot: s, AppHash: appHash})
	if err != nil {
		t.Fatal(err)
	}
	return res.Result
}

func apply(t *testing.T, a *Application, index uint32, chunk []byte, sender string) *abcitypes.ResponseApplySnapshotChunk {
	t.Helper()
	res, err := a.ApplySnapshotChunk(context.Background(), &abcitypes.RequestApplySnapshotChunk{Index: index, Chunk: chunk, Sender: sender})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func listed(t *testing.T, a *Application) []*abcitypes.Snapshot {
	t.Helper()
	res, err := a.ListSnapshots(context.Background(), &abcitypes.RequestListSnapshots{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Snapshots
}

func loadChunk(t *testing.T, a *Application, s *abcitypes.Snapshot, i uint32) []byte {
	t.Helper()
	res, err := a.LoadSnapshotChunk(context.Background(), &abcitypes.RequestLoadSnapshotChunk{Height: s.Height, Format: s.Format, Chunk: i})
	if err != nil || res.Chunk == nil {
		t.Fatalf("chunk %d: %v", i, err)
	}
	return res.Chunk
}

// TestStateSync: snapshots taken at every fifth height, the same on two
// nodes; one restored into an empty node, with a corrupted chunk refused
// and fetched again; the restored node has the state root, answers the
// lookups, holds the tiles and the batch transactions, serves the same
// snapshot, goes on from there after a restart.
func TestStateSync(t *testing.T) {
	src := newSyncChain(t, t.TempDir(), 2048)
	snaps := listed(t, src.a)
	if len(snaps) != 2 || snaps[0].Height != 10 || snaps[1].Height != 5 || snaps[0].Chunks < 3 {
		t.Fatalf("snapshots %+v", snaps)
	}
	// A second node that ran the same blocks took the same snapshot.
	other := newSyncChain(t, t.TempDir(), 2048)
	if o := listed(t, other.a)[0]; !bytes.Equal(o.Hash, snaps[0].Hash) {
		t.Fatal("two nodes' snapshots of one height differ")
	}
	s := snaps[0]
	_, appHash, _ := src.a.LastCommit()

	dst := openApp(t, t.TempDir())
	defer func() { _ = dst.Close() }()
	// A reader of the tiles taken before the restore, as a node's public
	// endpoint and receipts take it at start.
	live := dst.LiveLogTiles()
	if r := offer(t, dst, s, appHash); r != abcitypes.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r)
	}
	for i := uint32(0); i < s.Chunks; i++ {
		chunk := loadChunk(t, src.a, s, i)
		if i == 1 {
			bad := bytes.Clone(chunk)
			bad[len(bad)/2] ^= 1
			res := apply(t, dst, i, bad, "bad-peer")
			if res.Result != abcitypes.ResponseApplySnapshotChunk_RETRY || len(res.RefetchChunks) != 1 || res.RefetchChunks[0] != 1 ||
				len(res.RejectSenders) != 1 || res.RejectSenders[0] != "bad-peer" {
				t.Fatalf("corrupted chunk: %+v", res)
			}
		}
		if res := apply(t, dst, i, chunk, "good-peer"); res.Result != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("chunk %d: %+v", i, res)
		}
	}
	info, _ := dst.Info(context.Background(), &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 10 || !bytes.Equal(info.LastBlockAppHash, appHash) {
		t.Fatalf("restored node at %d %X, want 10 %X", info.LastBlockHeight, info.LastBlockAppHash, appHash)
	}
	checkSame(t, src, dst)
	if got, want := live.Tree(), src.a.LogTiles().Tree(); got != want {
		t.Fatalf("tiles read through LiveLogTiles taken before the restore: %+v, want %+v", got, want)
	}
	if _, err := dst.StateAt(9); err == nil || !strings.Contains(err.Error(), "receipt v2") {
		t.Fatalf("a height before the snapshot: %v", err)
	}

	// A restart of the restored node, as if it had stopped while it moved
	// the restored stores into place (the log and the state not moved
	// yet): it finishes the moves. The block time of its first height is
	// its restore's; then both go on with the same block.
	dir := dst.opts.Dir
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	stopMidInstall(t, dir)
	dst = openApp(t, dir)
	checkSame(t, src, dst)
	if _, _, tm := dst.LastCommit(); !tm.Equal(blockTimeAt(10)) {
		t.Fatalf("restored block time %v, want %v", tm, blockTimeAt(10))
	}
	next := anchorTx(src.seq, digestsOf("after", 50))
	src.block(t, 11, next)
	if _, err := dst.stored.Put(ledger.TxHash(next), next); err != nil { // as from its mempool
		t.Fatal(err)
	}
	txs11, _ := src.blocks.BlockTxs(11)
	fin := finalizeCommit(t, dst, 11, txs11)
	if _, h, _ := src.a.LastCommit(); !bytes.Equal(fin.AppHash, h) {
		t.Fatal("the restored node computes another app hash at the next height")
	}
	// It serves the snapshot it restored, the same (with the same chunk
	// size).
	dst.opts.SnapshotChunkBytes = 2048
	m, err := dst.TakeSnapshot(10, blockTimeAt(10))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Hash(), s.Hash) {
		t.Fatal("the restored node's snapshot of the height differs")
	}
}

// TestSnapshotWhileCommitting: snapshots taken while the next blocks
// commit (a snapshot due while one is written is skipped) restore to the
// state of their height.
func TestSnapshotWhileCommitting(t *testing.T) {
	src := runSyncChain(t, t.TempDir(), 512, 2, 24, false)
	snaps := listed(t, src.a)
	if len(snaps) == 0 {
		t.Fatal("no snapshot taken")
	}
	for _, s := range snaps {
		v, err := src.a.StateAt(int64(s.Height))
		if err != nil {
			t.Fatal(err)
		}
		dst := openApp(t, t.TempDir())
		if r := offer(t, dst, s, v.Hash()); r != abcitypes.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("offer %d: %v", s.Height, r)
		}
		for i := uint32(0); i < s.Chunks; i++ {
			if res := apply(t, dst, i, loadChunk(t, src.a, s, i), "peer"); res.Result != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
				t.Fatalf("snapshot %d chunk %d: %v", s.Height, i, res.Result)
			}
		}
		if h, hash, _ := dst.LastCommit(); h != int64(s.Height) || !bytes.Equal(hash, v.Hash()) {
			t.Fatalf("snapshot %d restored at %d", s.Height, h)
		}
		_ = dst.Close()
	}
}

// stopMidInstall puts the log, the restored record and the state of the
// restored node in dir back in restoreDir, with installingFile: where a
// stop during installRestore's moves leaves them.
func stopMidInstall(t *testing.T, dir string) {
	t.Helper()
	rdir := filepath.Join(dir, restoreDir)
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{logDir, restoredFile, "application.db"} {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(rdir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rdir, installingFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkSame checks that dst holds what src holds at its last height.
func checkSame(t *testing.T, src *syncChain, dst *Application) {
	t.Helper()
	for _, d := range src.anchored {
		want, ok1, err1 := src.a.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, d)
		got, ok2, err2 := dst.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, d)
		if err1 != nil || err2 != nil || !ok1 || ok1 != ok2 || want != got {
			t.Fatalf("lookup %x: %v %v %v, source %v %v %v", d, got, ok2, err2, want, ok1, err1)
		}
	}
	if _, ok, _ := dst.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, digestsOf("never", 1)); ok {
		t.Fatal("a digest never anchored is found")
	}
	if got, want := dst.LogTiles().Tree(), src.a.LogTiles().Tree(); got.Size != want.Size || got.Root != want.Root || got.Size == 0 {
		t.Fatalf("tiles %+v, source %+v", got, want)
	}
	if err := dst.FlushLog(); err != nil {
		t.Fatal(err)
	}
	v, err := dst.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = v.Iterate(batchStart, batchEnd, func(_, value []byte) bool {
		n++
		var b notaryv1.Batch
		if proto.Unmarshal(value, &b) != nil {
			t.Error("batch record")
			return false
		}
		if _, ok, err := dst.stored.Get([32]byte(b.TxHash)); !ok || err != nil {
			t.Errorf("batch %d/%d: transaction not stored (%v)", b.Height, b.TxIndex, err)
		}
		// Receipts read it so: the restored node has no block of it.
		if raw, err := dst.BatchTx(&b); err != nil || ledger.TxHash(raw) != [32]byte(b.TxHash) {
			t.Errorf("batch %d/%d: BatchTx: %v", b.Height, b.TxIndex, err)
		}
		return true
	})
	if err != nil || n == 0 {
		t.Fatalf("%d batches: %v", n, err)
	}
}

// TestStateSyncRejects: snapshots that are not of this format, whose
// metadata does not match, or whose content does not check against the
// verified app hash or the state are refused, the node's data left as it
// was; a good snapshot is restored after them.
func TestStateSyncRejects(t *testing.T) {
	src := newSyncChain(t, t.TempDir(), 1024)
	s := listed(t, src.a)[0]
	_, appHash, _ := src.a.LastCommit()
	dst := openApp(t, t.TempDir())
	defer func() { _ = dst.Close() }()

	other := *s
	other.Format = 7
	if r := offer(t, dst, &other, appHash); r != abcitypes.ResponseOfferSnapshot_REJECT_FORMAT {
		t.Fatalf("other format: %v", r)
	}
	other = *s
	other.Hash = bytes.Repeat([]byte{1}, 32)
	if r := offer(t, dst, &other, appHash); r != abcitypes.ResponseOfferSnapshot_REJECT {
		t.Fatalf("hash not of the metadata: %v", r)
	}

	// Snapshots re-encoded with one change, so that every chunk matches
	// its hash and only the content is wrong.
	sections := readSections(t, src.a, s)
	mutations := []struct {
		name   string
		change func([]snapshot.Section) []snapshot.Section
		hash   []byte
	}{
		{"other app hash", nil, bytes.Repeat([]byte{2}, 32)},
		{"a transaction changed", func(ss []snapshot.Section) []snapshot.Section {
			i := indexOf(ss, snapshot.KindTx)
			ss[i].Payload = bytes.Clone(ss[i].Payload)
			ss[i].Payload[len(ss[i].Payload)-1] ^= 1
			return ss
		}, appHash},
		{"a transaction missing", func(ss []snapshot.Section) []snapshot.Section {
			i := indexOf(ss, snapshot.KindTx)
			return append(ss[:i:i], ss[i+1:]...)
		}, appHash},
		{"a log leaf missing", func(ss []snapshot.Section) []snapshot.Section {
			i := indexOf(ss, snapshot.KindLeaf)
			return append(ss[:i:i], ss[i+1:]...)
		}, appHash},
		{"a state node missing", func(ss []snapshot.Section) []snapshot.Section {
			i := indexOf(ss, snapshot.KindNode)
			return append(ss[:i:i], ss[i+1:]...)
		}, appHash},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			secs := append([]snapshot.Section(nil), sections...)
			if m.change != nil {
				secs = m.change(secs)
			}
			bad, load := writeSections(t, s.Height, secs)
			if r := offer(t, dst, bad, m.hash); r != abcitypes.ResponseOfferSnapshot_ACCEPT {
				t.Fatalf("offer: %v", r)
			}
			var last abcitypes.ResponseApplySnapshotChunk_Result
			for i := uint32(0); i < bad.Chunks; i++ {
				if last = apply(t, dst, i, load(i), "peer").Result; last != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
					break
				}
			}
			if last != abcitypes.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
				t.Fatalf("last result %v", last)
			}
			if h, _, _ := dst.LastCommit(); h != 0 {
				t.Fatalf("node at height %d after a refused snapshot", h)
			}
			if _, err := os.Stat(filepath.Join(dst.opts.Dir, restoreDir)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("restore directory left: %v", err)
			}
		})
	}
	// A restore left unfinished by a stop is removed at the next start.
	ddir := dst.opts.Dir
	if r := offer(t, dst, s, appHash); r != abcitypes.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r)
	}
	apply(t, dst, 0, loadChunk(t, src.a, s, 0), "peer")
	dst.restoreMu.Lock()
	dst.restore.close() // as a stop leaves it: the files, no restore
	dst.restore = nil
	dst.restoreMu.Unlock()
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	dst = openApp(t, ddir)
	if _, err := os.Stat(filepath.Join(ddir, restoreDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unfinished restore left: %v", err)
	}
	// The good one, after all those.
	if r := offer(t, dst, s, appHash); r != abcitypes.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r)
	}
	for i := uint32(0); i < s.Chunks; i++ {
		if res := apply(t, dst, i, loadChunk(t, src.a, s, i), "peer"); res.Result != abcitypes.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("chunk %d: %v", i, res.Result)
		}
	}
	checkSame(t, src, dst)
	// A node with state refuses snapshots.
	if r := offer(t, dst, s, appHash); r != abcitypes.ResponseOfferSnapshot_REJECT {
		t.Fatalf("offer to a node with state: %v", r)
	}
}

func indexOf(ss []snapshot.Section, k snapshot.Kind) int {
	for i, s := range ss {
		if s.Kind == k {
			return i
		}
	}
	panic(fmt.Sprintf("no section of kind %d", k))
}

func readSections(t *testing.T, a *Application, s *abcitypes.Snapshot) []snapshot.Section {
	t.Helper()
	m, err := snapshot.DecodeMetadata(s.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	d := snapshot.NewDecoder(m)
	var out []snapshot.Section
	for i := uint32(0); i < s.Chunks; i++ {
		secs, err := d.Chunk(i, loadChunk(t, a, s, i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, secs...)
	}
	return out
}

func writeSections(t *testing.T, height uint64, secs []snapshot.Section) (*abcitypes.Snapshot, func(uint32) []byte) {
	t.Helper()
	st, err := snapshot.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Create(int64(height), 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if err := w.Add(s.Kind, s.Payload); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return &abcitypes.Snapshot{Height: height, Format: m.Format, Chunks: uint32(len(m.ChunkHashes)), Hash: m.Hash(), Metadata: m.Encode()},
		func(i uint32) []byte {
			b, err := st.LoadChunk(int64(height), i)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
}
