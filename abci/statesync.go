package abci

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci/digestindex"
	"github.com/gobtechlab/notary/abci/snapshot"
	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/abci/txstore"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// State sync (docs/adr/0031-state-sync.md).
//
// Every Options.SnapshotInterval heights, Commit starts a goroutine that
// writes the snapshot of the height it committed (abci/snapshot), off the
// consensus path: the IAVL export of that version (IAVL's Exporter over the
// immutable tree; retention never deletes a version a snapshot being
// taken or kept needs, retention.go), every batch transaction the
// state's batch records name (from the transaction store, or from the
// block store for one a block carried whole), and the evidence log's leaves
// up to the state's log size (read from the tiles, which never change
// below it). The digest index is not carried: the joining node rebuilds it
// from the transactions, each of which it checks against its batch record.
//
// A joining node restores into restoreDir: the IAVL import (its root must
// be the app hash the light client verified), the transactions (each must
// hash to its batch record's tx_hash; all the records must be covered),
// the index built from them, and the tiles (their root must be the state's
// log root). Only then are the stores swapped into place and reopened; any
// mismatch removes restoreDir and refuses the snapshot, leaving the node
// as it was.

// Defaults of the snapshot options.
const (
	DefaultSnapshotKeepRecent = 2
	DefaultSnapshotChunkBytes = 10 << 20
)

// restoredFile records the height and block time of a restored snapshot:
// the block store of a node that joined by state sync lacks that block.
const restoredFile = "restored"

// leafBatch is the number of log leaves restored per tiles append.
const leafBatch = 1 << 14

// SetBlockSource sets where a snapshot being taken reads the batch
// transactions a block carried whole: the running node's block store
// (Options.Blocks is for the start only). Without one, Options.Blocks.
func (a *Application) SetBlockSource(b BlockSource) { a.blocks.Store(&b) }

func (a *Application) blockSource() BlockSource {
	if b := a.blocks.Load(); b != nil {
		return *b
	}
	return a.opts.Blocks
}

// SetSnapshotHook sets what is called after a snapshot is taken (restored
// false) or restored (true), with its height: the node's metrics.
func (a *Application) SetSnapshotHook(f func(height int64, restored bool)) { a.snapHook.Store(&f) }

func (a *Application) snapshotDone(height int64, restored bool) {
	if f := a.snapHook.Load(); f != nil {
		(*f)(height, restored)
	}
}

// maybeSnapshot starts the snapshot of a committed height if one is due
// and none is being taken.
func (a *Application) maybeSnapshot(height int64, t time.Time) {
	n := a.opts.SnapshotInterval
	if n <= 0 || height%n != 0 {
		return
	}
	if !a.snapBusy.CompareAndSwap(false, true) {
		a.log.Info("snapshot skipped: the previous one is still being taken", "height", height)
		return
	}
	a.snapTaking.Store(height)
	a.snapWG.Add(1)
	go func() {
		defer a.snapWG.Done()
		defer a.snapBusy.Store(false)
		defer a.snapTaking.Store(0)
		start := time.Now()
		m, err := a.TakeSnapshot(height, t)
		if err != nil {
			a.log.Error("snapshot failed", "height", height, "err", err)
			return
		}
		a.log.Info("snapshot taken", "height", height, "chunks", len(m.ChunkHashes), "took", time.Since(start))
		a.snapshotDone(height, false)
	}()
}

// TakeSnapshot writes the snapshot of the committed height, whose block
// time is t, and prunes the snapshots beyond Options.SnapshotKeepRecent.
func (a *Application) TakeSnapshot(height int64, t time.Time) (snapshot.Metadata, error) {
	view, err := a.StateAt(height)
	if err != nil {
		return snapshot.Metadata{}, err
	}
	w, err := a.snaps.Create(height, a.chunkBytes())
	if err != nil {
		return snapshot.Metadata{}, err
	}
	if err := a.writeSnapshot(w, view, t); err != nil {
		w.Abort()
		return snapshot.Metadata{}, fmt.Errorf("abci: snapshot %d: %w", height, err)
	}
	m, err := w.Close()
	if err != nil {
		return snapshot.Metadata{}, fmt.Errorf("abci: snapshot %d: %w", height, err)
	}
	keep := a.opts.SnapshotKeepRecent
	if keep <= 0 {
		keep = DefaultSnapshotKeepRecent
	}
	if err := a.snaps.Prune(keep); err != nil {
		return m, fmt.Errorf("abci: %w", err)
	}
	a.loadSnapshotFloor()
	return m, nil
}

// loadSnapshotFloor records the height of the oldest snapshot kept, which
// retention keeps.
func (a *Application) loadSnapshotFloor() {
	ms, err := a.snaps.List()
	if err != nil {
		a.log.Error("listing the snapshots", "err", err)
		return
	}
	var oldest int64
	for _, m := range ms {
		if oldest == 0 || m.Height < oldest {
			oldest = m.Height
		}
	}
	a.snapOldest.Store(oldest)
}

func (a *Application) chunkBytes() int {
	if a.opts.SnapshotChunkBytes > 0 {
		return a.opts.SnapshotChunkBytes
	}
	return DefaultSnapshotChunkBytes
}

// encodeHeader is the header section: height (8) | block time, Unix
// nanoseconds (8).
func encodeHeader(height int64, t time.Time) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(height))
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
}

// Batch records' keys are "batch/" + be64 height + be32 tx index.
var (
	batchStart = ledger.BatchKey(0, 0)[:len("batch/")]
	batchEnd   = []byte("batch0")
)

func (a *Application) writeSnapshot(w *snapshot.Writer, view *StateView, t time.Time) error {
	if err := w.Add(snapshot.KindHeader, encodeHeader(view.height, t)); err != nil {
		return err
	}
	exp, err := view.tree.Export()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer exp.Close()
	for {
		n, err := exp.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			break
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := w.Add(snapshot.KindNode, snapshot.EncodeNode(n)); err != nil {
			return err
		}
	}
	if err := a.writeBatchTxs(w, view); err != nil {
		return err
	}
	return a.writeLeaves(w, view)
}

// writeBatchTxs writes the transaction of each batch record, in key order:
// height (8) | tx index (4) | its bytes.
func (a *Application) writeBatchTxs(w *snapshot.Writer, view *StateView) error {
	var ferr error
	err := view.Iterate(batchStart, batchEnd, func(key, value []byte) bool {
		var b notaryv1.Batch
		if err := proto.Unmarshal(value, &b); err != nil {
			ferr = fmt.Errorf("batch record %x: %w", key, err)
			return false
		}
		raw, err := a.batchTx(&b)
		if err != nil {
			ferr = err
			return false
		}
		p := binary.BigEndian.AppendUint64(make([]byte, 0, 12+len(raw)), uint64(b.Height))
		p = binary.BigEndian.AppendUint32(p, b.TxIndex)
		ferr = w.Add(snapshot.KindTx, append(p, raw...))
		return ferr == nil
	})
	return errors.Join(err, ferr)
}

// BatchTx returns the bytes of a batch record's AnchorBatch transaction,
// checked against the record's tx_hash: from the transaction store (a
// node that joined by state sync holds there every batch transaction
// before its snapshot, the small ones among them, and no block of those
// heights), or from its block.
func (a *Application) BatchTx(b *notaryv1.Batch) ([]byte, error) { return a.batchTx(b) }

// batchTx returns the bytes of a batch's transaction: from the transaction
// store, or from its block.
func (a *Application) batchTx(b *notaryv1.Batch) ([]byte, error) {
	id := ledger.FormatBatchID(b.Height, b.TxIndex)
	if len(b.TxHash) != 32 {
		return nil, fmt.Errorf("batch %s: no transaction hash", id)
	}
	h := [32]byte(b.TxHash)
	raw, ok, err := a.stored.Get(h)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", id, err)
	}
	if !ok {
		src := a.blockSource()
		if src == nil {
			return nil, fmt.Errorf("batch %s: transaction not stored and no block store", id)
		}
		txs, err := src.BlockTxs(b.Height)
		if err != nil {
			return nil, fmt.Errorf("batch %s: %w", id, err)
		}
		if int(b.TxIndex) >= len(txs) {
			return nil, fmt.Errorf("batch %s: block %d has %d transactions", id, b.Height, len(txs))
		}
		raw = txs[b.TxIndex]
	}
	if ledger.TxHash(raw) != h {
		return nil, fmt.Errorf("batch %s: the transaction found does not hash to the batch record's", id)
	}
	return raw, nil
}

// writeLeaves writes the evidence log's leaves up to the state's log size,
// read from the tiles (integrated first if the log writer is behind).
func (a *Application) writeLeaves(w *snapshot.Writer, view *StateView) error {
	l, err := view.EvidenceLog()
	if err != nil {
		return err
	}
	if a.tiles.Tree().Size < l.Size {
		if err := a.FlushLog(); err != nil {
			return fmt.Errorf("evidence log tiles: %w", err)
		}
		if a.tiles.Tree().Size < l.Size {
			return fmt.Errorf("evidence log tiles hold %d leaves, the state %d", a.tiles.Tree().Size, l.Size)
		}
	}
	for idx := uint64(0); idx*tlogtiles.TileWidth < l.Size; idx++ {
		width := int(min(tlogtiles.TileWidth, l.Size-idx*tlogtiles.TileWidth))
		b, err := a.tiles.Read(tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: idx, Width: width})
		if err != nil {
			return fmt.Errorf("evidence log tiles: %w", err)
		}
		for i := 0; i < width; i++ {
			if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
				return fmt.Errorf("evidence log tiles: entry bundle %d is short", idx)
			}
			n := int(binary.BigEndian.Uint16(b))
			if err := w.Add(snapshot.KindLeaf, b[2:2+n]); err != nil {
				return err
			}
			b = b[2+n:]
		}
	}
	return nil
}

// ListSnapshots lists the snapshots this node holds.
func (a *Application) ListSnapshots(context.Context, *abcitypes.RequestListSnapshots) (*abcitypes.ResponseListSnapshots, error) {
	ms, err := a.snaps.List()
	if err != nil {
		a.log.Error("ListSnapshots", "err", err)
		return &abcitypes.ResponseListSnapshots{}, nil
	}
	res := &abcitypes.ResponseListSnapshots{}
	for _, m := range ms {
		res.Snapshots = append(res.Snapshots, &abcitypes.Snapshot{
			Height: uint64(m.Height), Format: m.Format, Chunks: uint32(len(m.ChunkHashes)),
			Hash: m.Hash(), Metadata: m.Encode(),
		})
	}
	return res, nil
}

// LoadSnapshotChunk returns a chunk of a snapshot this node holds, as it is
// on disk (the receiver checks it); none if it holds no such chunk.
func (a *Application) LoadSnapshotChunk(_ context.Context, req *abcitypes.RequestLoadSnapshotChunk) (*abcitypes.ResponseLoadSnapshotChunk, error) {
	if req.Format != snapshot.Format {
		return &abcitypes.ResponseLoadSnapshotChunk{}, nil
	}
	b, err := a.snaps.LoadChunk(int64(req.Height), req.Chunk)
	if err != nil {
		a.log.Info("LoadSnapshotChunk", "height", req.Height, "chunk", req.Chunk, "err", err)
		return &abcitypes.ResponseLoadSnapshotChunk{}, nil
	}
	return &abcitypes.ResponseLoadSnapshotChunk{Chunk: b}, nil
}

// restoring is a snapshot being restored into restoreDir.
type restoring struct {
	meta    snapshot.Metadata
	appHash []byte
	dec     *snapshot.Decoder
	dir     string
	last    snapshot.Kind
	time    time.Time

	db   *idb.GoLevelDB
	tree *iavl.MutableTree
	imp  *iavl.Importer
	view *StateView

	stored    *txstore.Store
	index     *digestindex.Index
	txs       int
	lastBatch []byte
	txHeight  int64
	hashes    [][32]byte
	batches   []ledger.IndexBatch

	tiles    *tlogtiles.Store
	rng      *compact.Range
	appended uint64
	leaves   [][]byte
}

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// OfferSnapshot accepts a snapshot of this format, whose metadata hashes to
// its hash, on a node with no committed state; it starts its restore.
func (a *Application) OfferSnapshot(_ context.Context, req *abcitypes.RequestOfferSnapshot) (*abcitypes.ResponseOfferSnapshot, error) {
	reject := func(why string, kv ...any) (*abcitypes.ResponseOfferSnapshot, error) {
		a.log.Info("snapshot refused: "+why, kv...)
		return &abcitypes.ResponseOfferSnapshot{Result: abcitypes.ResponseOfferSnapshot_REJECT}, nil
	}
	s := req.Snapshot
	if s == nil {
		return reject("none offered")
	}
	if s.Format != snapshot.Format {
		a.log.Info("snapshot refused: format", "format", s.Format, "want", snapshot.Format)
		return &abcitypes.ResponseOfferSnapshot{Result: abcitypes.ResponseOfferSnapshot_REJECT_FORMAT}, nil
	}
	if h := a.committed.Load().height; h != 0 {
		return reject("the node has committed state", "height", h)
	}
	m, err := snapshot.DecodeMetadata(s.Metadata)
	if err != nil {
		return reject("metadata", "err", err)
	}
	if !bytes.Equal(m.Hash(), s.Hash) || m.Format != s.Format || uint64(m.Height) != s.Height ||
		uint32(len(m.ChunkHashes)) != s.Chunks || len(req.AppHash) == 0 {
		return reject("the metadata does not match the snapshot", "height", s.Height)
	}
	a.restoreMu.Lock()
	defer a.restoreMu.Unlock()
	a.abortRestoreLocked()
	r, err := a.startRestore(m, req.AppHash)
	if err != nil {
		return nil, fmt.Errorf("abci: OfferSnapshot: %w", err)
	}
	a.restore = r
	a.log.Info("restoring snapshot", "height", m.Height, "chunks", len(m.ChunkHashes))
	return &abcitypes.ResponseOfferSnapshot{Result: abcitypes.ResponseOfferSnapshot_ACCEPT}, nil
}

func (a *Application) startRestore(m snapshot.Metadata, appHash []byte) (r *restoring, err error) {
	dir := filepath.Join(a.opts.Dir, restoreDir)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	r = &restoring{meta: m, appHash: bytes.Clone(appHash), dec: snapshot.NewDecoder(m), dir: dir, rng: rangeFactory.NewEmptyRange(0)}
	defer func() {
		if err != nil {
			r.close()
			_ = os.RemoveAll(dir)
		}
	}()
	if r.db, err = idb.NewGoLevelDB("application", dir); err != nil {
		return nil, err
	}
	r.tree = iavl.NewMutableTree(growingBatchDB{r.db}, 10_000, true, iavl.NewNopLogger(), iavl.SyncOption(true))
	if r.imp, err = r.tree.Import(m.Height); err != nil {
		return nil, err
	}
	// The index's filter is built when the live index opens these runs.
	if r.index, err = digestindex.Open(filepath.Join(dir, digestsDir), -1, a.log); err != nil {
		return nil, err
	}
	if r.stored, err = txstore.Open(filepath.Join(dir, txsDir), txstore.Options{Logger: a.log}); err != nil {
		return nil, err
	}
	if r.tiles, err = tlogtiles.Open(filepath.Join(dir, logDir)); err != nil {
		return nil, err
	}
	return r, nil
}

// close closes the restore's stores.
func (r *restoring) close() {
	if r.imp != nil {
		r.imp.Close()
		r.imp = nil
	}
	if r.index != nil {
		_ = r.index.Close()
		r.index = nil
	}
	if r.stored != nil {
		_ = r.stored.Close()
		r.stored = nil
	}
	if r.tiles != nil {
		_ = r.tiles.Close()
		r.tiles = nil
	}
	if r.db != nil {
		_ = r.db.Close()
		r.db = nil
	}
}

func (a *Application) abortRestore() {
	a.restoreMu.Lock()
	defer a.restoreMu.Unlock()
	a.abortRestoreLocked()
}

// abortRestoreLocked drops the restore in progress and what it wrote.
func (a *Application) abortRestoreLocked() {
	if a.restore == nil {
		return
	}
	a.restore.close()
	if err := os.RemoveAll(a.restore.dir); err != nil {
		a.log.Error("removing an aborted restore", "dir", a.restore.dir, "err", err)
	}
	a.restore = nil
}

// ApplySnapshotChunk checks a chunk against the snapshot's metadata and
// restores what it holds. A chunk that does not match is refetched from
// another peer, its sender refused; content that does not check against
// the verified app hash, the state's batch records or its log root refuses
// the snapshot and removes what the restore wrote.
func (a *Application) ApplySnapshotChunk(_ context.Context, req *abcitypes.RequestApplySnapshotChunk) (*abcitypes.ResponseApplySnapshotChunk, error) {
	a.restoreMu.Lock()
	defer a.restoreMu.Unlock()
	r := a.restore
	if r == nil {
		a.log.Error("snapshot chunk without a snapshot being restored", "chunk", req.Index)
		return &abcitypes.ResponseApplySnapshotChunk{Result: abcitypes.ResponseApplySnapshotChunk_REJECT_SNAPSHOT}, nil
	}
	secs, err := r.dec.Chunk(req.Index, req.Chunk)
	if errors.Is(err, snapshot.ErrChunkHash) {
		a.log.Info("snapshot chunk refused; fetching it from another peer", "height", r.meta.Height,
			"chunk", req.Index, "sender", req.Sender, "err", err)
		res := &abcitypes.ResponseApplySnapshotChunk{Result: abcitypes.ResponseApplySnapshotChunk_RETRY, RefetchChunks: []uint32{req.Index}}
		if req.Sender != "" {
			res.RejectSenders = []string{req.Sender}
		}
		return res, nil
	}
	if err == nil {
		for _, s := range secs {
			if err = a.applySection(r, s); err != nil {
				break
			}
		}
	}
	if err == nil && r.dec.Done() {
		err = a.finishRestore(r)
	}
	if err != nil {
		a.log.Error("snapshot refused", "height", r.meta.Height, "chunk", req.Index, "err", err)
		a.abortRestoreLocked()
		return &abcitypes.ResponseApplySnapshotChunk{Result: abcitypes.ResponseApplySnapshotChunk_REJECT_SNAPSHOT}, nil
	}
	if r.dec.Done() {
		a.restore = nil
		a.log.Info("snapshot restored", "height", r.meta.Height)
		a.snapshotDone(r.meta.Height, true)
	}
	return &abcitypes.ResponseApplySnapshotChunk{Result: abcitypes.ResponseApplySnapshotChunk_ACCEPT}, nil
}

// applySection restores one section; sections come in kind order, one
// header first.
func (a *Application) applySection(r *restoring, s snapshot.Section) error {
	if s.Kind < r.last || (s.Kind == snapshot.KindHeader) != (r.last == 0) {
		return fmt.Errorf("section of kind %d after kind %d", s.Kind, r.last)
	}
	r.last = s.Kind
	if s.Kind > snapshot.KindNode && r.view == nil {
		if err := r.commitImport(); err != nil {
			return err
		}
	}
	switch s.Kind {
	case snapshot.KindHeader:
		if len(s.Payload) != 16 || int64(binary.BigEndian.Uint64(s.Payload)) != r.meta.Height {
			return errors.New("bad header section")
		}
		r.time = time.Unix(0, int64(binary.BigEndian.Uint64(s.Payload[8:]))).UTC()
	case snapshot.KindNode:
		n, err := snapshot.DecodeNode(s.Payload)
		if err != nil {
			return err
		}
		if err := r.imp.Add(n); err != nil {
			return fmt.Errorf("IAVL import: %w", err)
		}
	case snapshot.KindTx:
		return a.restoreTx(r, s.Payload)
	case snapshot.KindLeaf:
		r.leaves = append(r.leaves, s.Payload)
		if err := r.rng.Append(rfc6962.DefaultHasher.HashLeaf(s.Payload), nil); err != nil {
			return err
		}
		if len(r.leaves) >= leafBatch {
			return r.appendLeaves()
		}
	}
	return nil
}

// commitImport ends the IAVL import and checks its root against the app
// hash the light client verified.
func (r *restoring) commitImport() error {
	err := r.imp.Commit()
	r.imp = nil
	if err != nil {
		return fmt.Errorf("IAVL import: %w", err)
	}
	if got := r.tree.Hash(); !bytes.Equal(got, r.appHash) {
		return fmt.Errorf("the restored state's root is %X, the verified app hash %X", got, r.appHash)
	}
	t, err := r.tree.GetImmutable(r.meta.Height)
	if err != nil {
		return err
	}
	r.view = &StateView{tree: t, height: r.meta.Height}
	return nil
}

// restoreTx checks a batch transaction against its batch record, stores it
// and collects its index entries.
func (a *Application) restoreTx(r *restoring, p []byte) error {
	if len(p) < 12 {
		return errors.New("short transaction section")
	}
	height, txIndex, raw := int64(binary.BigEndian.Uint64(p)), binary.BigEndian.Uint32(p[8:]), p[12:]
	key := ledger.BatchKey(height, txIndex)
	id := ledger.FormatBatchID(height, txIndex)
	if r.lastBatch != nil && bytes.Compare(key, r.lastBatch) <= 0 {
		return fmt.Errorf("batch %s out of order", id)
	}
	r.lastBatch = key
	v, err := r.view.Get(key)
	if err != nil {
		return err
	}
	var b notaryv1.Batch
	if v == nil || proto.Unmarshal(v, &b) != nil {
		return fmt.Errorf("batch %s: no batch record", id)
	}
	hash := ledger.TxHash(raw)
	if !bytes.Equal(hash[:], b.TxHash) {
		return fmt.Errorf("batch %s: the transaction does not hash to the batch record's", id)
	}
	tx, err := a.ledger.DecodeTx(raw)
	if err != nil {
		return fmt.Errorf("batch %s: %w", id, err)
	}
	m := tx.Body.GetAnchorBatch()
	if m == nil {
		return fmt.Errorf("batch %s is not an AnchorBatch", id)
	}
	if height != r.txHeight {
		if err := r.flushTxs(); err != nil {
			return err
		}
		r.txHeight = height
	}
	if _, err := r.stored.Put(hash, raw); err != nil {
		return err
	}
	r.hashes = append(r.hashes, hash)
	r.batches = append(r.batches, ledger.BatchIndex(m, height, txIndex))
	r.txs++
	return nil
}

// flushTxs names the transactions of one height in the store and saves
// their index entries.
func (r *restoring) flushTxs() error {
	if r.txHeight == 0 {
		return nil
	}
	if err := r.stored.Named(r.txHeight, r.hashes); err != nil {
		return err
	}
	if err := r.index.Save(r.batches, r.txHeight); err != nil {
		return err
	}
	r.hashes, r.batches = nil, nil
	return nil
}

// appendLeaves appends the leaves collected to the tiles.
func (r *restoring) appendLeaves() error {
	if len(r.leaves) == 0 {
		return nil
	}
	root, err := r.rng.GetRootHash(nil)
	if err != nil {
		return err
	}
	b := tlogtiles.Block{Height: r.meta.Height, Start: r.appended, Size: r.rng.End(), Root: tlog.Hash(root), Leaves: r.leaves}
	if err := r.tiles.Append(b); err != nil {
		return err
	}
	r.appended, r.leaves = b.Size, nil
	return nil
}

// finishRestore checks what the snapshot restored against the state, and
// installs it in place of the node's (empty) stores.
func (a *Application) finishRestore(r *restoring) error {
	if r.view == nil {
		if err := r.commitImport(); err != nil {
			return err
		}
	}
	if err := r.flushTxs(); err != nil {
		return err
	}
	if err := r.appendLeaves(); err != nil {
		return err
	}
	records := 0
	if err := r.view.Iterate(batchStart, batchEnd, func(_, _ []byte) bool { records++; return true }); err != nil {
		return err
	}
	if records != r.txs {
		return fmt.Errorf("%d batch transactions for %d batch records", r.txs, records)
	}
	l, err := r.view.EvidenceLog()
	if err != nil {
		return err
	}
	if tr := r.tiles.Tree(); tr.Size != l.Size || !bytes.Equal(tr.Root[:], l.Root) {
		return fmt.Errorf("the restored log holds %d leaves with root %x, the state's %d with root %x", tr.Size, tr.Root[:], l.Size, l.Root)
	}
	if err := r.index.Save(nil, r.meta.Height); err != nil {
		return err
	}
	if err := r.index.Sync(); err != nil {
		return err
	}
	if err := r.stored.Named(r.meta.Height, nil); err != nil {
		return err
	}
	r.close()
	return a.installRestore(r)
}

// installRestore replaces the node's stores with the restored ones and
// reopens them. The state goes last: until it is in place the node has no
// committed state, and a new restore starts over.
func (a *Application) installRestore(r *restoring) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.closeStores(); err != nil {
		return err
	}
	err := a.swapIn(r)
	if oerr := a.openStores(); oerr != nil {
		return errors.Join(err, oerr)
	}
	return err
}

// installingFile, in restoreDir, says that the restored stores are
// complete and being moved into place: a node that stops before the moves
// are done finishes them at its next start (finishInstall).
const installingFile = "installing"

// restoredNames are what a restore moves into opts.Dir, in order: the
// state last.
var restoredNames = []string{digestsDir, txsDir, logDir, restoredFile, "application.db"}

// swapIn moves the restored stores into place (the node's closed).
func (a *Application) swapIn(r *restoring) error {
	rec := binary.BigEndian.AppendUint64(nil, uint64(r.meta.Height))
	rec = binary.BigEndian.AppendUint64(rec, uint64(r.time.UnixNano()))
	if err := os.WriteFile(filepath.Join(r.dir, restoredFile), rec, 0o600); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(r.dir, installingFile))
	if err != nil {
		return err
	}
	if err := errors.Join(f.Sync(), f.Close(), syncDir(r.dir)); err != nil {
		return err
	}
	return a.moveRestored()
}

// moveRestored moves what restoreDir holds of restoredNames into place,
// then removes restoreDir.
func (a *Application) moveRestored() error {
	dir := filepath.Join(a.opts.Dir, restoreDir)
	for _, name := range restoredNames {
		src, dst := filepath.Join(dir, name), filepath.Join(a.opts.Dir, name)
		if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
			continue // moved before a stop
		}
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			return err
		}
	}
	if err := syncDir(a.opts.Dir); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// finishInstall, at start, finishes moving a restore that was complete
// when the node stopped, or removes one that was not (the node had no
// state then, and has none now).
func (a *Application) finishInstall() error {
	dir := filepath.Join(a.opts.Dir, restoreDir)
	if _, err := os.Stat(filepath.Join(dir, installingFile)); err == nil {
		a.log.Info("finishing the install of a restored snapshot", "dir", dir)
		if err := a.moveRestored(); err != nil {
			return fmt.Errorf("abci: install the restored snapshot in %s: %w", dir, err)
		}
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("abci: %w", err)
	}
	return nil
}

// restoredHeight returns the height of the snapshot this node restored, 0
// if none.
func (a *Application) restoredHeight() int64 {
	b, err := os.ReadFile(filepath.Join(a.opts.Dir, restoredFile))
	if err != nil || len(b) != 16 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// restoredTime returns the block time of height if it is the height of the
// snapshot this node restored.
func (a *Application) restoredTime(height int64) (time.Time, bool) {
	b, err := os.ReadFile(filepath.Join(a.opts.Dir, restoredFile))
	if err != nil || len(b) != 16 || int64(binary.BigEndian.Uint64(b)) != height {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[8:]))).UTC(), true
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return f.Sync()
}
