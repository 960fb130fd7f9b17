package abci

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/gobtechlab/notary/abci/internal/failpoint"
	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/ledger"
)

// The evidence log's tiles.
//
// The state keeps the log's size and compact range (ledger, evlog.go); the
// tile store in Dir/log keeps its leaves and hashes as C2SP tlog-tiles
// (abci/tlogtiles), served by the node's public endpoint. FinalizeBlock
// takes the block's leaves from the ledger; Commit stages them in the
// store's journal (one sync) before it saves the state version, and the log
// writer's goroutine writes their tiles after, off the consensus path. At
// start, catchUpLog brings the store to the committed state's log: it
// writes the staged blocks the state holds, goes back to the state's size
// if the tiles are ahead (a state rolled back), or rebuilds the missing
// blocks' leaves from the block store and the state (rebuildLog), and
// checks the root each time.

func openTiles(dir string) (*tlogtiles.Store, error) {
	s, err := tlogtiles.Open(filepath.Join(dir, logDir))
	if err != nil {
		return nil, fmt.Errorf("abci: %w", err)
	}
	s.OnTilesWritten = func(height int64) { failpoint.Hit("log-tiles-written", height) }
	return s, nil
}

// logWriter writes the tiles of committed blocks, in a goroutine.
type logWriter struct {
	target atomic.Uint64 // the log size of the state saved last
	kick   chan struct{}
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// committed tells the writer that the state holding size leaves is saved.
func (w *logWriter) committed(size uint64) {
	w.target.Store(size)
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (a *Application) startLogWriter() {
	w := &logWriter{kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	w.target.Store(a.tiles.Tree().Size)
	a.logW = w
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.kick:
				a.writeLog()
			case <-w.quit:
				a.writeLog()
				return
			}
		}
	}()
}

// stopLogWriter writes what is committed and stops the writer.
func (a *Application) stopLogWriter() {
	if w := a.logW; w != nil {
		w.once.Do(func() { close(w.quit) })
		<-w.done
	}
}

// writeLog writes the tiles of the committed blocks not written yet. An
// I/O failure is logged and retried with the next block (the tiles are
// outside consensus; a restart rebuilds them). Tiles that do not hash to the
// state's log root stop the log (tlogtiles.ErrRootMismatch): the next
// Commit that stages leaves fails, and the node stops.
func (a *Application) writeLog() {
	n, err := a.tiles.Integrate(a.logW.target.Load())
	if errors.Is(err, tlogtiles.ErrRootMismatch) {
		a.log.Error("evidence log tiles: the log stopped; the node stops at the next block with log leaves (remove the tiles directory to rebuild them)",
			"dir", a.tiles.Dir(), "err", err)
		return
	}
	if err != nil {
		a.log.Error("evidence log tiles: write", "err", err)
		return
	}
	if n > 0 {
		failpoint.Hit("log-integrated", a.tiles.Tree().Height)
	}
}

// FlushLog writes now the tiles of every committed block.
func (a *Application) FlushLog() error {
	_, err := a.tiles.Integrate(a.logW.target.Load())
	return err
}

// LogErr returns why the evidence log's tiles stopped
// (tlogtiles.ErrRootMismatch), or nil: for health checks.
func (a *Application) LogErr() error { return a.tiles.Err() }

// LogTiles returns the store of the evidence log's tiles, for serving.
func (a *Application) LogTiles() *tlogtiles.Store { return a.tiles }

// LiveTiles reads the evidence log's tiles from the store the application
// holds at each call: a reader that keeps it follows the store that a
// restored snapshot put in place of the node's (empty) one, which a
// *tlogtiles.Store taken before the restore does not.
type LiveTiles struct{ app *Application }

// LiveLogTiles returns the application's LiveTiles, for serving.
func (a *Application) LiveLogTiles() LiveTiles { return LiveTiles{a} }

func (t LiveTiles) store() *tlogtiles.Store { return t.app.servedTiles.Load() }

// Tree returns the tree the tiles hold.
func (t LiveTiles) Tree() tlogtiles.Tree { return t.store().Tree() }

// Read returns a tile.
func (t LiveTiles) Read(tile tlogtiles.Tile) ([]byte, error) { return t.store().Read(tile) }

// HashReader reads the hashes of the tree the tiles hold.
func (t LiveTiles) HashReader() tlog.HashReader { return t.store().HashReader() }

// EvidenceLog returns the evidence log of the committed state at height (0:
// the latest): its size and root.
func (a *Application) EvidenceLog(height int64) (ledger.EvidenceLog, error) {
	v, err := a.StateAt(height)
	if err != nil {
		return ledger.EvidenceLog{}, err
	}
	return v.EvidenceLog()
}

// EvidenceLog returns the evidence log of the state: its size and root.
func (v *StateView) EvidenceLog() (ledger.EvidenceLog, error) { return ledger.LoadEvidenceLog(v) }

// logBlock returns the evidence log leaves a block executed by e appended,
// nil if none, with the working state's log size and root.
func (a *Application) logBlock(e *ledger.Exec, height int64) (*tlogtiles.Block, error) {
	start, leaves := e.LogLeaves()
	if len(leaves) == 0 {
		return nil, nil
	}
	l, err := ledger.LoadEvidenceLog(workingStore{a.tree})
	if err != nil {
		return nil, err
	}
	return &tlogtiles.Block{Height: height, Start: start, Size: l.Size, Root: tlog.Hash(l.Root), Leaves: leaves}, nil
}

// catchUpLog makes the tile store hold the log of the committed state at
// version.
func (a *Application) catchUpLog(version int64) error {
	want := ledger.EvidenceLog{Root: emptyLogRoot()}
	if version > 0 {
		var err error
		if want, err = a.EvidenceLog(version); err != nil {
			return fmt.Errorf("abci: evidence log at height %d: %w", version, err)
		}
	}
	wantRoot := tlog.Hash(want.Root)
	// The staged blocks the saved state holds; a block staged but not
	// saved is replayed, and staged again.
	if _, err := a.tiles.Integrate(want.Size); err != nil && !errors.Is(err, tlogtiles.ErrGap) {
		if errors.Is(err, tlogtiles.ErrRootMismatch) {
			return fmt.Errorf("abci: evidence log tiles: %w (remove %s to rebuild them)", err, a.tiles.Dir())
		}
		return fmt.Errorf("abci: %w", err)
	}
	if err := a.tiles.DropStaged(); err != nil {
		return fmt.Errorf("abci: %w", err)
	}
	tree := a.tiles.Tree()
	switch {
	case tree.Size == want.Size && tree.Root == wantRoot:
		return nil
	case tree.Size > want.Size:
		a.log.Info("the evidence log tiles are ahead of the state; going back", "tiles", tree.Size, "state", want.Size)
		if err := a.tiles.Reset(version, want.Size, wantRoot); err != nil {
			return fmt.Errorf("abci: evidence log tiles: %w (remove %s to rebuild them)", err, a.tiles.Dir())
		}
		return nil
	case tree.Size < want.Size:
		a.log.Info("rebuilding the evidence log tiles from the block store", "tiles", tree.Size, "state", want.Size)
		if err := a.rebuildLog(tree, version); err != nil {
			return fmt.Errorf("abci: rebuild the evidence log tiles: %w (copy the tiles directory %s from another node: it is the same on every node)", err, a.tiles.Dir())
		}
		return nil
	default:
		return fmt.Errorf("abci: the evidence log tiles hold %d leaves with root %x, the state's log root is %x (remove %s to rebuild them)", tree.Size, tree.Root[:], want.Root, a.tiles.Dir())
	}
}

// emptyLogRoot is the root of the empty log.
func emptyLogRoot() []byte {
	l, _ := ledger.LoadEvidenceLog(ledger.NewMemStore())
	return l.Root
}

// rebuildLog appends to the tiles the leaves of the blocks after tree's up
// to version, from the block store and the state of each height: a batch
// record of a block's transaction, and the revocation records of a Revoke
// transaction that wrote them (in message order). Each block's leaves must
// give the state's log size and root at its height; a block whose leaves
// cannot be told from its transactions alone fails the rebuild, with the
// advice to copy the tiles from another node. Those blocks are: one with a
// governance revocation; one where a Revoke that failed names a record
// that a later Revoke of the block wrote with the same signer's agency and
// reason (the failed one is credited with it). The transactions' result
// codes would tell, but they are in CometBFT's state store
// (LoadFinalizeBlockResponse), which the block source does not reach.
func (a *Application) rebuildLog(tree tlogtiles.Tree, version int64) error {
	if a.opts.Blocks == nil {
		return errors.New("no block store")
	}
	size := tree.Size
	for h := max(tree.Height+1, 1); h <= version; h++ {
		view, err := a.StateAt(h)
		if err != nil {
			return err
		}
		l, err := view.EvidenceLog()
		if err != nil {
			return err
		}
		if l.Size == size {
			continue
		}
		leaves, err := a.blockLeaves(view, h)
		if err != nil {
			return fmt.Errorf("height %d: %w", h, err)
		}
		b := tlogtiles.Block{Height: h, Start: size, Size: l.Size, Root: tlog.Hash(l.Root), Leaves: leaves}
		if size+uint64(len(leaves)) != l.Size {
			return fmt.Errorf("height %d: %d leaves found in the block, the state's log grew by %d", h, len(leaves), l.Size-size)
		}
		if err := a.tiles.Append(b); err != nil {
			return fmt.Errorf("height %d: %w", h, err)
		}
		size = l.Size
	}
	return nil
}

// blockLeaves derives the log leaves of the block at height from its
// transactions and the state at that height.
func (a *Application) blockLeaves(view *StateView, height int64) ([][]byte, error) {
	txs, err := a.opts.Blocks.BlockTxs(height)
	if err == nil {
		txs, err = a.ResolveTxs(txs)
	}
	if err != nil {
		return nil, err
	}
	var leaves [][]byte
	claimed := map[string]bool{}
	for i, raw := range txs {
		tx, err := a.ledger.DecodeTx(raw)
		if err != nil {
			continue
		}
		switch {
		case tx.Body.GetAnchorBatch() != nil:
			key := ledger.BatchKey(height, uint32(i))
			v, err := view.Get(key)
			if err != nil {
				return nil, err
			}
			if v != nil {
				leaves = append(leaves, ledger.EncodeLogLeaf(ledger.LogLeafBatch, key, v))
			}
		case tx.Body.GetRevoke() != nil:
			ls, err := revokeLeaves(view, height, tx, claimed)
			if err != nil {
				return nil, err
			}
			leaves = append(leaves, ls...)
		}
	}
	return leaves, nil
}

// revokeLeaves returns the revocation records a Revoke transaction wrote at
// height, in message order, or none if it failed: it succeeded if every
// record it names was written at that height by its signer's agency and by
// no earlier transaction of the block.
func revokeLeaves(view *StateView, height int64, tx *ledger.Tx, claimed map[string]bool) ([][]byte, error) {
	m := tx.Body.GetRevoke()
	acct, err := ledger.LoadAccount(view, tx.Signer)
	if err != nil || acct == nil {
		return nil, err
	}
	var keys [][]byte
	if len(m.CodeKeys) > 0 {
		for i := 0; i+ledger.CodeKeySize <= len(m.CodeKeys); i += ledger.CodeKeySize {
			keys = append(keys, ledger.CodeRevocationKey(m.CodeKeys[i:i+ledger.CodeKeySize]))
		}
	} else {
		for i := 0; i+ledger.DigestSize <= len(m.Digests); i += ledger.DigestSize {
			keys = append(keys, ledger.RevocationKey(m.HashAlgorithm, m.Digests[i:i+ledger.DigestSize]))
		}
	}
	var leaves [][]byte
	for _, key := range keys {
		rev, v, err := ledger.LoadRevocationRecord(view, key)
		if err != nil {
			return nil, err
		}
		if rev == nil || rev.Height != height || rev.RevokedBy != "agency/"+acct.Owner || claimed[string(key)] ||
			rev.Reason != m.Reason || rev.ReasonText != m.ReasonText {
			return nil, nil
		}
		leaves = append(leaves, ledger.EncodeLogLeaf(ledger.LogLeafRevocation, key, v))
	}
	for _, key := range keys {
		claimed[string(key)] = true
	}
	return leaves, nil
}
