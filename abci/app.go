package abci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corestore "cosmossdk.io/core/store"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/digestindex"
	"github.com/gobtechlab/notary/abci/internal/failpoint"
	"github.com/gobtechlab/notary/abci/snapshot"
	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/abci/txstore"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// AppVersion is the application protocol version reported in Info.
const AppVersion uint64 = 1

// The storage engines' directories in Options.Dir: the digest index's, the
// transaction store's, the transaction store's former name, which
// NewApplication renames, and the evidence log's tiles.
const (
	digestsDir = "digests"
	txsDir     = "txs"
	oldTxsDir  = "batches"
	logDir     = "log"
	// snapshotsDir holds the state sync snapshots (abci/snapshot), and
	// restoreDir the stores a snapshot being restored is written to.
	snapshotsDir = "snapshots"
	restoreDir   = "restore"
)

// Options configure an Application.
type Options struct {
	// Dir holds application.db (the IAVL state), digests/ (the digest
	// index, abci/digestindex), txs/ (the transaction store,
	// abci/txstore) and log/ (the evidence log's tiles, abci/tlogtiles).
	// Required.
	Dir string
	// ChainID of the chain, from the genesis document. Required: after a
	// restart InitChain is not called, but transactions must still be checked
	// against the chain id.
	ChainID string
	// IAVLCacheSize is the number of IAVL nodes kept in memory.
	IAVLCacheSize int
	// FlushThreshold bounds the bytes IAVL buffers before writing. It must
	// exceed the largest version a block can write, so that every version is
	// written in one atomic, synced batch (docs/DESIGN.md, "Crash safety").
	FlushThreshold int
	// TxCacheSize is the number of decoded transactions remembered.
	TxCacheSize int
	// TxCacheBytes bounds their memory; 0 means DefaultTxCacheBytes.
	TxCacheBytes int
	// DigestFilterBytes sizes the in-memory filter that answers most digest
	// lookups without reading the index's files (digestindex.Open); 0 means
	// the default, negative disables it.
	DigestFilterBytes int
	// UnnamedTxRetention is the number of blocks after which the
	// transaction store drops a transaction no block named (txstore.Options.
	// Retention); 0 means DefaultUnnamedTxRetention, negative keeps them
	// all.
	UnnamedTxRetention int64
	// LightRelayedChecks checks a transaction this node did not receive
	// from its sender (one relayed by a peer's mempool) with
	// ledger.Exec.RunRelayed: everything but each digest's novelty, which
	// the node that received it checked and the block decides; one whose
	// sequence is ahead of its signer's next is held (ledger.Outcome.Held)
	// until PrepareProposal can place it after the one before it. A
	// transaction is this node's own when MarkLocal named it (the gateway
	// does). Off, every CheckTx checks in full and holds nothing.
	LightRelayedChecks bool
	// OptimisticExecution executes a proposed block when ProcessProposal
	// accepts it, while the validators vote, and FinalizeBlock returns that
	// result if the decided block is the same (its hash); otherwise the work
	// is rolled back and the decided block executed. Nothing is persisted
	// before Commit either way. The Cosmos SDK's baseapp does the same.
	OptimisticExecution bool
	// Blocks gives the transactions of committed blocks, to rebuild the
	// digest index when it is behind the state, and the time of the last
	// one at start. Optional.
	Blocks BlockSource
	// Upgrades are the upgrades this binary knows, by name: at the height
	// of a scheduled upgrade (ledger.UpgradeDue) its handler migrates the
	// state before the block's transactions (a nil handler migrates
	// nothing). Optional.
	Upgrades map[string]ledger.UpgradeHandler
	// UpgradeNeeded is called, from FinalizeBlock, when the block to
	// execute is at the height of a scheduled upgrade this binary does not
	// know; the block is not executed. The node stops it there: the caller
	// logs the plan and ends the process, without returning, so that
	// neither the block nor anything after it is committed and the block
	// is replayed by the next binary. If it is nil or returns,
	// FinalizeBlock returns an *UpgradeNeededError, which stops consensus.
	UpgradeNeeded func(plan *notaryv1.UpgradePlan)
	// SnapshotInterval is the number of heights between state sync
	// snapshots (statesync.go): Commit of a multiple of it starts one, off
	// the consensus path. 0 takes none.
	SnapshotInterval int64
	// SnapshotKeepRecent is the number of snapshots kept; 0 means
	// DefaultSnapshotKeepRecent.
	SnapshotKeepRecent int
	// SnapshotChunkBytes is the size of a snapshot's chunks; 0 means
	// DefaultSnapshotChunkBytes.
	SnapshotChunkBytes int
	// RetainBlocks is the number of recent heights whose blocks and state
	// versions the node keeps (retention.go); 0 keeps every height: an
	// archive node.
	RetainBlocks int64
	// Logger receives the application's logs. Optional.
	Logger cmtlog.Logger
}

// BlockSource reads committed blocks.
type BlockSource interface {
	// BlockTxs returns the transactions of a committed block.
	BlockTxs(height int64) ([][]byte, error)
	// BlockTime returns the time of a committed block: its header's.
	BlockTime(height int64) (time.Time, error)
}

// DefaultDigestFilterBytes is the default size of the digest filter: 128
// million digests at four bytes each, at which it lets through at most
// 1e-4 of new digests. Its memory becomes resident as digests touch its
// pages (2 MB each where huge pages are available).
const DefaultDigestFilterBytes = 512 << 20

// DefaultUnnamedTxRetention is the default of Options.UnnamedTxRetention.
const DefaultUnnamedTxRetention = 10_000

// DefaultOptions returns working defaults for a node whose data is in dir.
func DefaultOptions(dir, chainID string) Options {
	return Options{
		Dir:                 dir,
		ChainID:             chainID,
		IAVLCacheSize:       200_000,
		FlushThreshold:      1 << 30,
		TxCacheSize:         50_000,
		DigestFilterBytes:   DefaultDigestFilterBytes,
		UnnamedTxRetention:  DefaultUnnamedTxRetention,
		OptimisticExecution: true,
	}
}

// Application is the notary's ABCI++ application: it translates ABCI calls
// into ledger calls and owns the IAVL tree's lifecycle. It has no business
// rules of its own. It is safe for concurrent use by CometBFT's connections
// (consensus, mempool, query), each of which serialises its own calls.
type Application struct {
	abcitypes.BaseApplication

	opts   Options
	ledger *ledger.Ledger
	log    cmtlog.Logger
	txs    *txCache
	// stored holds the transactions blocks name by hash (txref.go); fetch
	// asks peers for one (SetFetcher).
	stored *txstore.Store
	fetch  atomic.Pointer[func(h [32]byte)]
	// committedHook is told what a committed block named by reference
	// (SetCommitted).
	committedHook atomic.Pointer[func(hashes [][32]byte)]
	// blockHook is told of each committed block (SetBlockHook).
	blockHook atomic.Pointer[func(CommittedBlock)]

	// mu guards the working tree and what FinalizeBlock staged for Commit.
	mu   sync.Mutex
	db   *idb.GoLevelDB
	tree *iavl.MutableTree
	// reader reads committed versions (StateAt) through a node database
	// and cache of its own: the working tree's Set clears child pointers of
	// the cached nodes it copies, which readers of the same nodes would race
	// with.
	reader *iavl.MutableTree
	index  *digestindex.Index
	staged *stagedBlock
	// tiles holds the evidence log's tiles, written by a goroutine of
	// their own (log.go).
	tiles *tlogtiles.Store
	// servedTiles is tiles for the readers of LiveLogTiles, which outlive
	// a store a restored snapshot replaced.
	servedTiles atomic.Pointer[tlogtiles.Store]
	logW        *logWriter

	committed atomic.Pointer[commitInfo]

	// checkMu guards the mempool's view of the state.
	checkMu   sync.Mutex
	check     *ledger.Exec
	checkView *digestindex.CheckView
	checkN    uint32 // transactions accepted into the current mempool view

	local localTxs // transactions this node received from their senders

	// oeMu guards oe, the block executing ahead of FinalizeBlock.
	oeMu sync.Mutex
	oe   *optimistic

	// snaps holds the state sync snapshots (statesync.go); snapBusy is set
	// while one is taken, snapWG waits for it; restore is the snapshot
	// being restored, guarded by restoreMu.
	snaps    *snapshot.Store
	snapBusy atomic.Bool
	snapWG   sync.WaitGroup
	blocks   atomic.Pointer[BlockSource]
	snapHook atomic.Pointer[func(height int64, restored bool)]
	// snapOldest is the height of the oldest snapshot kept, snapTaking
	// that of the one being taken (0: none): retention keeps them.
	snapOldest atomic.Int64
	snapTaking atomic.Int64
	restoreMu  sync.Mutex
	restore    *restoring

	// earliest is the first state version this node holds (0: the first
	// of the chain): the snapshot it restored, or the height its
	// retention pruned to (retention.go). pruned is the earliest of the
	// last Commit, prunedTo the last version IAVL was asked to delete up
	// to (a.mu held).
	earliest atomic.Int64
	pruned   int64
	prunedTo int64
}

type stagedBlock struct {
	height int64
	time   time.Time
	hash   []byte
	run    *digestindex.BlockRun // the block's digest index entries, encoded
	log    *tlogtiles.Block      // the block's evidence log leaves, if any
	refs   [][32]byte            // what the block's references name
	res    *abcitypes.ResponseFinalizeBlock
	// batches are the block's batch transactions when retention is on:
	// Commit keeps in the transaction store those it carried whole.
	batches []*ledger.Tx
}

// CommittedBlock is what SetBlockHook's function is told of a committed
// block: its height, time and FinalizeBlock response (not to be changed).
type CommittedBlock struct {
	Height int64
	Time   time.Time
	Result *abcitypes.ResponseFinalizeBlock
}

// commitInfo is what the last Commit persisted.
type commitInfo struct {
	height int64
	hash   []byte
	time   time.Time
}

var _ abcitypes.Application = (*Application)(nil)

// NewApplication opens (or creates) the application's databases in opts.Dir.
// A last state version that was only partly written is rolled back, so that
// CometBFT's handshake replays its block.
func NewApplication(opts Options) (*Application, error) {
	if opts.Dir == "" || opts.ChainID == "" {
		return nil, errors.New("abci: Options.Dir and Options.ChainID are required")
	}
	if opts.Logger == nil {
		opts.Logger = cmtlog.NewNopLogger()
	}
	def := DefaultOptions(opts.Dir, opts.ChainID)
	if opts.IAVLCacheSize <= 0 {
		opts.IAVLCacheSize = def.IAVLCacheSize
	}
	if opts.FlushThreshold <= 0 {
		opts.FlushThreshold = def.FlushThreshold
	}
	if opts.TxCacheSize <= 0 {
		opts.TxCacheSize = def.TxCacheSize
	}
	if opts.DigestFilterBytes == 0 {
		opts.DigestFilterBytes = def.DigestFilterBytes
	}
	if opts.UnnamedTxRetention == 0 {
		opts.UnnamedTxRetention = def.UnnamedTxRetention
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("abci: %w", err)
	}
	snaps, err := snapshot.Open(filepath.Join(opts.Dir, snapshotsDir))
	if err != nil {
		return nil, fmt.Errorf("abci: %w", err)
	}
	a := &Application{
		opts:   opts,
		ledger: ledger.New(opts.ChainID),
		log:    opts.Logger,
		txs:    newTxCache(opts.TxCacheSize, opts.TxCacheBytes),
		snaps:  snaps,
	}
	if err := a.finishInstall(); err != nil {
		return nil, err
	}
	if err := a.openStores(); err != nil {
		return nil, err
	}
	return a, nil
}

// openStores opens the state, the digest index, the transaction store and
// the tiles in opts.Dir, loads the latest state version and starts the log
// writer.
func (a *Application) openStores() error {
	opts := a.opts
	db, err := idb.NewGoLevelDBWithOpts("application", opts.Dir, &opt.Options{Filter: filter.NewBloomFilter(10)})
	if err != nil {
		return fmt.Errorf("abci: open %s: %w", filepath.Join(opts.Dir, "application.db"), err)
	}
	index, err := digestindex.Open(filepath.Join(opts.Dir, digestsDir), opts.DigestFilterBytes, opts.Logger)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("abci: %w", err)
	}
	stored, err := openTxStore(opts.Dir, txstore.Options{Retention: max(opts.UnnamedTxRetention, 0), Logger: opts.Logger})
	if err != nil {
		_ = db.Close()
		_ = index.Close()
		return err
	}
	tiles, err := openTiles(opts.Dir)
	if err != nil {
		_ = db.Close()
		_ = index.Close()
		_ = stored.Close()
		return err
	}
	a.db, a.index, a.stored, a.tiles = db, index, stored, tiles
	a.servedTiles.Store(tiles)
	if err := a.load(); err != nil {
		_ = a.closeStores()
		return err
	}
	a.startLogWriter()
	return nil
}

// openTxStore opens the transaction store in dir/txs. A store from before
// the directory's rename (dir/batches) is renamed first, if dir/txs does not
// exist yet.
func openTxStore(dir string, opts txstore.Options) (*txstore.Store, error) {
	path, old := filepath.Join(dir, txsDir), filepath.Join(dir, oldTxsDir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(old); err == nil {
			if err := os.Rename(old, path); err != nil {
				return nil, fmt.Errorf("abci: rename %s to %s: %w", old, path, err)
			}
		}
	}
	s, err := txstore.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("abci: %w", err)
	}
	return s, nil
}

// growingBatchDB is the state database as IAVL sees it, except that batches
// grow as written instead of being allocated at their flush threshold: the
// threshold is set far above any version's size (so that a version is one
// atomic batch), and allocating it for every Commit would cost a gigabyte.
type growingBatchDB struct{ *idb.GoLevelDB }

func (d growingBatchDB) NewBatchWithSize(int) corestore.Batch { return d.NewBatch() }

func (a *Application) newTree() *iavl.MutableTree {
	// With retention on, old versions are deleted by IAVL's pruning
	// goroutine; its deletes are written with the next versions.
	return iavl.NewMutableTree(growingBatchDB{a.db}, a.opts.IAVLCacheSize, true, iavlLogger{a.log},
		iavl.SyncOption(true), iavl.FlushThresholdOption(a.opts.FlushThreshold),
		iavl.AsyncPruningOption(a.retainOn()))
}

// readerCacheSize is the number of IAVL nodes the reader of committed
// versions keeps in memory: the upper levels of the tree, which every proof
// reads.
const readerCacheSize = 50_000

// load opens the latest complete state version and checks the digest index.
func (a *Application) load() error {
	a.tree = a.newTree()
	version, err := a.tree.Load()
	if err != nil {
		// A version written in part (a crash between IAVL's batches) has
		// nodes but no root: Load fails. Roll back to the version before it.
		latest, lerr := a.tree.GetLatestVersion()
		if lerr != nil || latest < 1 {
			return fmt.Errorf("abci: load state: %w", err)
		}
		a.log.Error("last state version is incomplete; rolling it back so that the block is replayed",
			"version", latest, "err", err)
		_ = a.tree.Close()
		a.tree = a.newTree()
		if err := a.tree.LoadVersionForOverwriting(latest - 1); err != nil {
			return fmt.Errorf("abci: roll back incomplete version %d: %w (the state is damaged: restore a backup or resync)", latest, err)
		}
		version = a.tree.Version()
	}
	a.reader = iavl.NewMutableTree(a.db, readerCacheSize, true, iavl.NewNopLogger())
	a.loadEarliest()
	info := &commitInfo{height: version, hash: a.tree.Hash()}
	a.committed.Store(info)
	if version > 0 {
		if err := a.checkRoot(version); err != nil {
			return err
		}
		t, err := a.blockTime(version)
		if err != nil {
			return err
		}
		info.time = t
	}
	if err := a.catchUpIndex(version); err != nil {
		return err
	}
	if err := a.catchUpLog(version); err != nil {
		return err
	}
	if err := a.backfillBatchTxs(version); err != nil {
		return err
	}
	a.loadSnapshotFloor()
	return a.resetCheck()
}

// blockTime returns the time of the committed block at height, for the
// mempool's checks after a restart: the block store's header, or else the
// time a chain without params.stateless_empty_blocks records in its state.
// A block whose time is known neither way (no block store given, on such a
// chain) leaves it zero: CheckTx then judges validity periods less
// strictly until the next commit, and the block decides.
func (a *Application) blockTime(height int64) (time.Time, error) {
	if t, ok := a.restoredTime(height); ok {
		return t, nil
	}
	if a.opts.Blocks != nil {
		t, err := a.opts.Blocks.BlockTime(height)
		if err == nil {
			return t, nil
		}
		a.log.Info("block time not in the block store; reading the state's record", "height", height, "err", err)
	}
	view, err := a.StateAt(height)
	if err != nil {
		return time.Time{}, err
	}
	last, err := ledger.LastBlock(view)
	if err != nil {
		return time.Time{}, fmt.Errorf("abci: state version %d: %w", height, err)
	}
	return last.Time, nil
}

// checkRoot reads the root of the latest version back from disk and checks
// that its stored hash verifies, so that a damaged database is refused at
// start rather than serving proofs that fail.
func (a *Application) checkRoot(version int64) error {
	t, err := a.tree.GetImmutable(version)
	if err != nil {
		return fmt.Errorf("abci: state version %d is unreadable: %w (the database is damaged: restore a backup or resync)", version, err)
	}
	if !bytes.Equal(t.Hash(), a.tree.Hash()) {
		return fmt.Errorf("abci: state version %d: root hash mismatch (the database is damaged: restore a backup or resync)", version)
	}
	return nil
}

// catchUpIndex makes sure the digest index covers every committed height,
// rebuilding missing heights from the block store.
func (a *Application) catchUpIndex(version int64) error {
	indexed := a.index.IndexedHeight()
	if indexed >= version {
		return nil
	}
	if a.opts.Blocks == nil {
		if indexed == 0 && version > 0 {
			return fmt.Errorf("abci: the digest index is empty but the state is at height %d; it must be rebuilt from the block store", version)
		}
		return fmt.Errorf("abci: the digest index stops at height %d, the state is at %d; it must be rebuilt from the block store", indexed, version)
	}
	a.log.Info("rebuilding the digest index from the block store", "from", indexed+1, "to", version)
	return a.rebuildIndex(indexed+1, version)
}

// rebuildIndex indexes the batches of heights [from, to] from the block store;
// a transaction created a batch if and only if its batch record is in the state.
func (a *Application) rebuildIndex(from, to int64) error {
	view, err := a.StateAt(to)
	if err != nil {
		return err
	}
	for h := from; h <= to; h++ {
		txs, err := a.opts.Blocks.BlockTxs(h)
		if err == nil {
			txs, err = a.ResolveTxs(txs)
		}
		if err != nil {
			return fmt.Errorf("abci: rebuild digest index at height %d: %w", h, err)
		}
		var batches []ledger.IndexBatch
		for i, raw := range txs {
			rec, err := view.Get(ledger.BatchKey(h, uint32(i)))
			if err != nil {
				return err
			}
			if rec == nil {
				continue
			}
			tx, err := a.ledger.DecodeTx(raw)
			if err != nil {
				return fmt.Errorf("abci: rebuild digest index: batch %s: %w", ledger.FormatBatchID(h, uint32(i)), err)
			}
			m := tx.Body.GetAnchorBatch()
			if m == nil {
				return fmt.Errorf("abci: rebuild digest index: batch %s is not an AnchorBatch", ledger.FormatBatchID(h, uint32(i)))
			}
			// Its digests and, for a coded batch, its code keys.
			batches = append(batches, ledger.BatchIndex(m, h, uint32(i)))
		}
		if err := a.index.Save(batches, h); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the databases; it waits for a snapshot being taken.
func (a *Application) Close() error {
	a.abortOptimistic()
	a.snapWG.Wait()
	a.abortRestore()
	return a.closeStores()
}

// closeStores closes what openStores opened.
func (a *Application) closeStores() error {
	var errs []error
	if a.tiles != nil {
		a.stopLogWriter()
		errs = append(errs, a.tiles.Close())
	}
	if a.index != nil {
		errs = append(errs, a.index.Close())
	}
	if a.stored != nil {
		errs = append(errs, a.stored.Close())
	}
	if a.tree != nil {
		// Stops IAVL's pruning goroutine (retention).
		errs = append(errs, a.tree.Close())
	}
	if a.db != nil {
		errs = append(errs, a.db.Close())
	}
	return errors.Join(errs...)
}

// SetBlockHook sets what Commit calls with each block it committed, once
// the state is saved (the node's metrics). It runs on the consensus path:
// it must be quick.
func (a *Application) SetBlockHook(f func(CommittedBlock)) { a.blockHook.Store(&f) }

// IndexStats returns the digest index's size.
func (a *Application) IndexStats() digestindex.Stats { return a.index.Stats() }

// TxStoreBytes returns the size of the transaction store's segment files.
func (a *Application) TxStoreBytes() (int64, error) { return a.stored.Bytes() }

// TxStoreDropped returns the number of transactions no block named that
// the transaction store dropped since the node started
// (Options.UnnamedTxRetention).
func (a *Application) TxStoreDropped() uint64 { return a.stored.Dropped() }

// Ledger returns the state machine.
func (a *Application) Ledger() *ledger.Ledger { return a.ledger }

// LastCommit returns the last committed height, its app hash and block time.
func (a *Application) LastCommit() (int64, []byte, time.Time) {
	c := a.committed.Load()
	return c.height, c.hash, c.time
}

// StateAt returns the committed state at height (0: the latest).
func (a *Application) StateAt(height int64) (*StateView, error) {
	last := a.committed.Load().height
	if height == 0 {
		height = last
	}
	if height < 1 || height > last {
		return nil, fmt.Errorf("%w: height %d, committed heights are 1..%d", ledger.ErrHeightUnavailable, height, last)
	}
	if e := a.earliest.Load(); height < e {
		return nil, &EarliestStateError{Height: height, Earliest: e, Restored: e == a.restoredHeight()}
	}
	// Committed nodes are read through the reader's own node database,
	// never through the working tree's.
	t, err := a.reader.GetImmutable(height)
	if err != nil {
		return nil, fmt.Errorf("%w: height %d: %v", ledger.ErrHeightUnavailable, height, err)
	}
	return &StateView{tree: t, height: height}, nil
}

// MarkLocal names a transaction this node received from its sender, before
// it is handed to the mempool: its CheckTx and rechecks are full ones (see
// Options.LightRelayedChecks).
func (a *Application) MarkLocal(hash [32]byte) { a.local.add(hash) }

// localTxs is a bounded set of transaction hashes, oldest forgotten first.
type localTxs struct {
	mu    sync.Mutex
	set   map[[32]byte]struct{}
	order [][32]byte
}

// maxLocalTxs bounds localTxs: far more than a mempool holds of one node's
// own large transactions.
const maxLocalTxs = 1 << 14

func (l *localTxs) add(h [32]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.set == nil {
		l.set = make(map[[32]byte]struct{})
	}
	if _, ok := l.set[h]; ok {
		return
	}
	l.set[h] = struct{}{}
	l.order = append(l.order, h)
	if len(l.order) > maxLocalTxs {
		delete(l.set, l.order[0])
		l.order = l.order[1:]
	}
}

func (l *localTxs) has(h [32]byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.set[h]
	return ok
}

// LookupDigest finds a digest anchored at a committed height.
func (a *Application) LookupDigest(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return a.index.Lookup(alg, digest, a.committed.Load().height+1)
}

// LookupCodeKey finds the document anchored under a verification code key
// (ledger.CodeKeySize bytes) at a committed height: the locator of its
// digest.
func (a *Application) LookupCodeKey(key []byte) (ledger.Locator, bool, error) {
	if len(key) != ledger.CodeKeySize {
		return ledger.Locator{}, false, nil
	}
	return a.LookupDigest(ledger.CodeKeyIndex, ledger.CodeKeyIndexDigest(key))
}

// DecodeTx decodes and checks a transaction as the ledger does, through the
// application's cache: the gateway's decoding is then the one CheckTx uses.
func (a *Application) DecodeTx(raw []byte) (*ledger.Tx, error) { return a.decode(raw) }

// decode returns the checked transaction, from the cache if it was seen.
func (a *Application) decode(raw []byte) (*ledger.Tx, error) {
	tx, k, ok := a.txs.get(raw)
	if ok {
		return tx, nil
	}
	tx, err := a.ledger.DecodeTx(raw)
	if err != nil {
		return nil, err
	}
	a.txs.put(tx, k)
	return tx, nil
}

// decodeValid decodes a transaction and applies the state-independent checks.
func (a *Application) decodeValid(raw []byte) (*ledger.Tx, error) {
	tx, err := a.decode(raw)
	if err != nil {
		return nil, err
	}
	if err := ledger.ValidateBasic(tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// Info reports the last committed height and app hash.
func (a *Application) Info(context.Context, *abcitypes.RequestInfo) (*abcitypes.ResponseInfo, error) {
	c := a.committed.Load()
	return &abcitypes.ResponseInfo{
		Data:             "notary",
		Version:          "1",
		AppVersion:       AppVersion,
		LastBlockHeight:  c.height,
		LastBlockAppHash: c.hash,
	}, nil
}

// InitChain writes the genesis state and returns the genesis validators.
func (a *Application) InitChain(_ context.Context, req *abcitypes.RequestInitChain) (*abcitypes.ResponseInitChain, error) {
	if req.ChainId != a.opts.ChainID {
		return nil, fmt.Errorf("abci: InitChain for chain %q, the application is configured for %q", req.ChainId, a.opts.ChainID)
	}
	var g notaryv1.GenesisState
	if err := protojson.Unmarshal(req.AppStateBytes, &g); err != nil {
		return nil, fmt.Errorf("abci: genesis app_state: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.InitialHeight > 1 {
		a.tree.SetInitialVersion(uint64(req.InitialHeight))
	}
	vals, err := a.ledger.InitGenesis(workingStore{a.tree}, &g, req.InitialHeight)
	if err != nil {
		return nil, fmt.Errorf("abci: genesis: %w", err)
	}
	res := &abcitypes.ResponseInitChain{AppHash: a.tree.WorkingHash()}
	for _, v := range vals {
		res.Validators = append(res.Validators, abcitypes.Ed25519ValidatorUpdate(v.PubKey, v.Power))
	}
	return res, nil
}

// resetCheck starts a new mempool view on the last committed state.
func (a *Application) resetCheck() error {
	c := a.committed.Load()
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	prev := a.check
	a.check = nil
	if c.height == 0 {
		return nil // no state yet: CheckTx refuses until the first commit
	}
	view, err := a.StateAt(c.height)
	if err != nil {
		return err
	}
	cv := a.index.CheckView(c.height + 1)
	e, err := a.ledger.NewExec(ledger.NewOverlay(view), cv,
		ledger.BlockInfo{Height: c.height + 1, Time: c.time}, ledger.ModeCheck)
	if err != nil {
		return fmt.Errorf("abci: mempool state: %w", err)
	}
	// The rechecks refill the view with about as many digests as the last
	// one held: its map of pending digests is made that size at once rather
	// than grown (rehashed) by doubling.
	if prev != nil {
		e.Reserve(prev.Pending())
	}
	a.check, a.checkView, a.checkN = e, cv, 0
	return nil
}

// CheckTx checks a transaction against the committed state plus the
// transactions already accepted into the mempool.
func (a *Application) CheckTx(_ context.Context, req *abcitypes.RequestCheckTx) (*abcitypes.ResponseCheckTx, error) {
	tx, err := a.decodeValid(req.Tx)
	if err != nil {
		return checkResult(err, nil), nil
	}
	if len(req.Tx) >= TxRefMinBytes && req.Type != abcitypes.CheckTxType_Recheck {
		// Kept whatever this check says: a block may name it by reference.
		if _, err := a.stored.Put(tx.Hash, req.Tx); err != nil {
			a.log.Error("CheckTx: transaction store failure", "err", err)
			return checkResult(err, nil), nil
		}
	}
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	if a.check == nil {
		return checkResult(errNotReady, nil), nil
	}
	a.checkView.SetRecheck(req.Type == abcitypes.CheckTxType_Recheck)
	run := a.check.Run
	if a.opts.LightRelayedChecks && !a.local.has(tx.Hash) {
		run = a.check.RunRelayed
	}
	out, err := run(a.checkN, tx)
	if err == nil && out.Err == nil && !out.Held {
		a.checkN++
	}
	if err != nil {
		a.log.Error("CheckTx: store failure", "err", err)
		return checkResult(err, nil), nil
	}
	return checkResult(out.Err, out.Result), nil
}

var errNotReady = errors.New("the chain has no committed state yet")

func checkResult(err error, result *notaryv1.TxResult) *abcitypes.ResponseCheckTx {
	code, space, log := resultOf(err)
	res := &abcitypes.ResponseCheckTx{Code: code, Codespace: space, Log: log}
	if result != nil {
		res.Data = ledger.Encode(result)
	}
	return res
}

// PrepareProposal keeps the mempool's transactions that pass the
// state-independent checks, in the order ledger.ProposalOrder gives against
// the committed state (a held transaction after the one before it), up to
// the block size. Each transaction of TxRefMinBytes or more is named by its
// hash (txref.go), its bytes stored and synced first.
func (a *Application) PrepareProposal(_ context.Context, req *abcitypes.RequestPrepareProposal) (*abcitypes.ResponsePrepareProposal, error) {
	valid := make([]*ledger.Tx, 0, len(req.Txs))
	for _, raw := range req.Txs {
		if tx, err := a.decodeValid(raw); err == nil {
			valid = append(valid, tx)
		}
	}
	order, err := a.proposalOrder(valid)
	if err != nil {
		return nil, err
	}
	var txs [][]byte
	var size int64
	for _, i := range order {
		raw := valid[i].Raw
		if size+int64(len(raw)) > req.MaxTxBytes {
			break
		}
		size += int64(len(raw))
		if len(raw) < TxRefMinBytes {
			txs = append(txs, raw)
			continue
		}
		if _, err := a.stored.Put(valid[i].Hash, raw); err != nil {
			return nil, fmt.Errorf("abci: PrepareProposal: %w", err)
		}
		txs = append(txs, EncodeTxRef(valid[i].Hash))
	}
	if err := a.stored.Sync(); err != nil {
		return nil, fmt.Errorf("abci: PrepareProposal: %w", err)
	}
	return &abcitypes.ResponsePrepareProposal{Txs: txs}, nil
}

// proposalOrder is ledger.ProposalOrder against the last committed state;
// before the first commit, the mempool's order.
func (a *Application) proposalOrder(txs []*ledger.Tx) ([]int, error) {
	if a.committed.Load().height == 0 {
		order := make([]int, len(txs))
		for i := range order {
			order[i] = i
		}
		return order, nil
	}
	view, err := a.StateAt(0)
	if err != nil {
		return nil, fmt.Errorf("abci: PrepareProposal: %w", err)
	}
	order, err := ledger.ProposalOrder(view, txs)
	if err != nil {
		return nil, fmt.Errorf("abci: PrepareProposal: %w", err)
	}
	return order, nil
}

// ProcessProposal refuses a block carrying a transaction that fails the
// state-independent checks: malformed, non-canonical, for another chain,
// badly signed, or carrying an ill-formed message; and a block naming by
// reference a transaction whose bytes do not arrive within
// proposalTxWait. The referenced bytes are synced to disk before the
// block is accepted, so that a block this node voted for can be executed
// after a crash.
func (a *Application) ProcessProposal(_ context.Context, req *abcitypes.RequestProcessProposal) (*abcitypes.ResponseProcessProposal, error) {
	txs, err := a.resolve(req.Txs, proposalTxWait)
	if err != nil {
		if !errors.Is(err, ErrTxUnavailable) {
			return nil, fmt.Errorf("abci: ProcessProposal: %w", err)
		}
		a.log.Info("rejecting proposal", "height", req.Height, "err", err)
		return &abcitypes.ResponseProcessProposal{Status: abcitypes.ResponseProcessProposal_REJECT}, nil
	}
	if err := a.stored.Sync(); err != nil {
		return nil, fmt.Errorf("abci: ProcessProposal: %w", err)
	}
	for i, raw := range txs {
		if _, err := a.decodeValid(raw); err != nil {
			a.log.Info("rejecting proposal", "height", req.Height, "tx", i, "err", err)
			return &abcitypes.ResponseProcessProposal{Status: abcitypes.ResponseProcessProposal_REJECT}, nil
		}
	}
	a.startOptimistic(req, txs)
	return &abcitypes.ResponseProcessProposal{Status: abcitypes.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock executes a decided block on the working tree and returns the
// working hash, or takes the result of its optimistic execution. Nothing is
// persisted before Commit.
func (a *Application) FinalizeBlock(_ context.Context, req *abcitypes.RequestFinalizeBlock) (*abcitypes.ResponseFinalizeBlock, error) {
	failpoint.Hit("finalize-before", req.Height)
	if err := a.checkUpgrade(req.Height); err != nil {
		return nil, err
	}
	txs, err := a.resolve(req.Txs, decidedTxWait)
	if err != nil {
		return nil, fmt.Errorf("abci: FinalizeBlock %d: %w", req.Height, err)
	}
	res, ok := a.takeOptimistic(req, txs)
	if !ok {
		a.mu.Lock()
		var s *stagedBlock
		var err error
		res, s, err = a.execute(req.Height, req.Time, txs, nil)
		if err == nil {
			s.refs = refsOf(req.Txs)
			a.staged = s
		}
		a.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	failpoint.Hit("finalize-after", req.Height)
	return res, nil
}

// execute runs a block's transactions on the working tree (a.mu held) and
// returns FinalizeBlock's response and what Commit is to persist. A non-nil
// stop, once set, ends it between transactions with errExecutionStopped.
func (a *Application) execute(height int64, t time.Time, txs [][]byte, stop *atomic.Bool) (*abcitypes.ResponseFinalizeBlock, *stagedBlock, error) {
	if want := a.tree.WorkingVersion(); height != want {
		return nil, nil, fmt.Errorf("abci: FinalizeBlock for height %d, the state expects %d", height, want)
	}
	if a.staged != nil {
		return nil, nil, fmt.Errorf("abci: FinalizeBlock for height %d twice without Commit", height)
	}
	upgraded, err := a.applyUpgrade(height)
	if err != nil {
		return nil, nil, err
	}
	info := ledger.BlockInfo{Height: height, Time: t}
	e, err := a.ledger.NewExec(workingStore{a.tree}, a.index.ExecView(height), info, ledger.ModeDeliver)
	if err != nil {
		return nil, nil, fmt.Errorf("abci: FinalizeBlock %d: %w", height, err)
	}
	var size int
	for _, raw := range txs {
		size += len(raw)
	}
	e.Reserve(size / ledger.DigestSize) // at most this many digests
	res := &abcitypes.ResponseFinalizeBlock{TxResults: make([]*abcitypes.ExecTxResult, len(txs))}
	var batches []*ledger.Tx
	for i, raw := range txs {
		if stop != nil && stop.Load() {
			return nil, nil, errExecutionStopped
		}
		r := &abcitypes.ExecTxResult{}
		res.TxResults[i] = r
		tx, err := a.decodeValid(raw)
		if err != nil {
			r.Code, r.Codespace, r.Log = resultOf(err)
			continue
		}
		out, err := e.Run(uint32(i), tx)
		if err != nil {
			// A storage failure: the block cannot be executed here. Stop
			// rather than record a result other nodes would not compute.
			return nil, nil, fmt.Errorf("abci: FinalizeBlock %d tx %d: %w", height, i, err)
		}
		r.Code, r.Codespace, r.Log = resultOf(out.Err)
		if out.Result != nil {
			r.Data = ledger.Encode(out.Result)
		}
		r.Events = toEvents(out.Events)
		if a.retainOn() && isBatch(tx, out) {
			batches = append(batches, tx)
		}
	}
	end, err := e.End()
	if err != nil {
		return nil, nil, fmt.Errorf("abci: FinalizeBlock %d end: %w", height, err)
	}
	res.Events = toEvents(append(upgraded, end.Events...))
	for _, v := range end.ValidatorUpdates {
		res.ValidatorUpdates = append(res.ValidatorUpdates, abcitypes.Ed25519ValidatorUpdate(v.PubKey, v.Power))
	}
	res.AppHash = a.tree.WorkingHash()
	run, err := digestindex.EncodeRun(e.NewBatches(), height)
	if err != nil {
		return nil, nil, fmt.Errorf("abci: FinalizeBlock %d: digest index: %w", height, err)
	}
	lb, err := a.logBlock(e, height)
	if err != nil {
		return nil, nil, fmt.Errorf("abci: FinalizeBlock %d: evidence log: %w", height, err)
	}
	return res, &stagedBlock{height: height, time: t, hash: res.AppHash, run: run, log: lb, res: res, batches: batches}, nil
}

func toEvents(evs []ledger.Event) []abcitypes.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]abcitypes.Event, len(evs))
	for i, ev := range evs {
		out[i].Type = ev.Type
		for _, at := range ev.Attributes {
			out[i].Attributes = append(out[i].Attributes, abcitypes.EventAttribute{Key: at.Key, Value: at.Value, Index: true})
		}
	}
	return out
}

// Commit persists what FinalizeBlock staged: the block's digest index
// entries and evidence log leaves, then the state version (one synced
// batch), before it returns; the log's tiles are written after, by their
// own goroutine.
func (a *Application) Commit(context.Context, *abcitypes.RequestCommit) (*abcitypes.ResponseCommit, error) {
	a.mu.Lock()
	s := a.staged
	if s == nil {
		a.mu.Unlock()
		return nil, errors.New("abci: Commit without FinalizeBlock")
	}
	// The referenced bytes, and that this block names them, are durable
	// before the state that depends on them (a block fetched while catching
	// up was not synced by ProcessProposal); so are the batch transactions
	// the block carried whole, which retention keeps (retention.go).
	named := s.refs
	if len(s.batches) > 0 {
		hs, err := a.putBatchTxs(s.batches, s.refs)
		if err != nil {
			a.mu.Unlock()
			return nil, fmt.Errorf("abci: Commit %d: %w", s.height, err)
		}
		named = append(slices.Clip(named), hs...)
	}
	if err := a.stored.Named(s.height, named); err != nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("abci: Commit %d: %w", s.height, err)
	}
	failpoint.Hit("commit-before-index", s.height)
	if err := a.index.SaveRun(s.run, s.height); err != nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("abci: Commit %d: %w", s.height, err)
	}
	// The block's log leaves are durable before the state that counts
	// them (log.go).
	if s.log != nil {
		if err := a.tiles.Stage(*s.log); err != nil {
			a.mu.Unlock()
			return nil, fmt.Errorf("abci: Commit %d: %w", s.height, err)
		}
	}
	failpoint.Hit("commit-before-save", s.height)
	hash, version, err := a.tree.SaveVersion()
	if err != nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("abci: Commit %d: save state: %w", s.height, err)
	}
	if version != s.height || !bytes.Equal(hash, s.hash) {
		// Broken invariant: the persisted state is not the one whose hash
		// this node announced in FinalizeBlock.
		panic(fmt.Sprintf("abci: Commit saved version %d hash %X, FinalizeBlock returned height %d hash %X",
			version, hash, s.height, s.hash))
	}
	failpoint.Hit("commit-after-save", s.height)
	if s.log != nil {
		a.logW.committed(s.log.Size)
	}
	a.pruneState()
	a.staged = nil
	a.committed.Store(&commitInfo{height: version, hash: hash, time: s.time})
	a.mu.Unlock()
	a.stored.Forget(s.refs)
	if f := a.committedHook.Load(); f != nil && len(s.refs) > 0 {
		(*f)(s.refs)
	}
	if f := a.blockHook.Load(); f != nil {
		(*f)(CommittedBlock{Height: s.height, Time: s.time, Result: s.res})
	}
	if err := a.resetCheck(); err != nil {
		return nil, err
	}
	a.maybeSnapshot(s.height, s.time)
	failpoint.Hit("commit-after", s.height)
	return &abcitypes.ResponseCommit{RetainHeight: a.retainHeight(s.height)}, nil
}
