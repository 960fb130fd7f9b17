package abci

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Retention (docs/adr/0032-retention.md).
//
// With Options.RetainBlocks set, Commit returns a retain height, and
// CometBFT deletes the blocks below it and their state store entries,
// except what evidence verification needs: the headers, commits and
// validator sets of heights within the evidence age (consensus params
// evidence.max_age_num_blocks and max_age_duration), which its pruning
// keeps whatever the retain height and, starting the next one at the
// retain height, never deletes later: pruned as blocks commit, always
// within that age, they all stay. IAVL's pruning goroutine deletes the
// state versions below it. What receipts v2 and lookups need is kept:
// every batch record (in the latest state), every batch transaction (in
// the transaction store: those a block carried whole, the small ones and
// any large one its proposer did not name by reference, which CometBFT's
// block store alone held, are put there by Commit, before the state; those
// of blocks committed before retention was on are copied there at start,
// backfillBatchTxs), the digest index and the evidence log's tiles, which
// are never pruned.
//
// The retain height of a commit at height h is the lowest of:
//
//   - h - RetainBlocks + 1: the heights the setting keeps;
//   - the height of the oldest snapshot kept, or of one being taken: its
//     export reads that state version, and a joining node's light client
//     asks for headers from that height on;
//   - the digest index's durable height + 1, and, while the log writer is
//     behind, the tiles' height + 1: the heights their repair at start
//     reads from the block store and the state;
//   - the previous retain height + maxRetainStep;
//
// and it never goes down. The earliest state version held (Earliest) is
// the highest of the restored snapshot's height and the retain height;
// StateAt refuses a height below it with an *EarliestStateError. IAVL
// deletes the versions below the earliest of the commit before (asked
// every pruneStep versions), so that a view taken just before the base
// moved stays readable for at least a block.

// Files in Options.Dir: the earliest height retention kept (8 bytes,
// rewritten when it moves), and the marker that every batch transaction of
// a committed height is in the transaction store (removed when retention
// is off, since commits then stop putting the small ones there).
const (
	retainedFile = "retained"
	batchTxsFile = "batch-txs-stored"
)

// retainOn reports whether the node prunes.
func (a *Application) retainOn() bool { return a.opts.RetainBlocks > 0 }

// Earliest returns the earliest state version this node holds: 1 on an
// archive node, else the snapshot it joined from or the height its
// retention pruned to, whichever is higher.
func (a *Application) Earliest() int64 { return max(a.earliest.Load(), 1) }

// loadEarliest sets the earliest state version from the restored snapshot
// and what retention recorded.
func (a *Application) loadEarliest() {
	e := a.restoredHeight()
	if b, err := os.ReadFile(filepath.Join(a.opts.Dir, retainedFile)); err == nil && len(b) == 8 {
		e = max(e, int64(binary.BigEndian.Uint64(b)))
	}
	a.earliest.Store(e)
	a.pruned = e
}

// retainHeight returns the retain height of the commit of height and moves
// the earliest state version to it; 0 (keep every block) with retention
// off. Called by Commit after the state is saved and a due snapshot
// started.
func (a *Application) retainHeight(height int64) int64 {
	if !a.retainOn() {
		return 0
	}
	r := height - a.opts.RetainBlocks + 1
	for _, s := range []int64{a.snapOldest.Load(), a.snapTaking.Load()} {
		if s > 0 {
			r = min(r, s)
		}
	}
	r = min(r, a.index.DurableHeight()+1)
	if t := a.tiles.Tree(); t.Size < a.logW.target.Load() {
		r = min(r, t.Height+1)
	}
	e := a.earliest.Load()
	r = min(r, max(e, 1)+maxRetainStep)
	if r <= e {
		return max(e, 1)
	}
	a.earliest.Store(r)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(r))
	// Not synced: after a crash that lost it, the earliest height is
	// lower than the pruning's until the next commit, and StateAt of a
	// pruned height fails as unavailable rather than refused.
	if err := writeRetained(filepath.Join(a.opts.Dir, retainedFile), b[:]); err != nil {
		a.log.Error("retention: recording the earliest height", "err", err)
	}
	return r
}

// writeRetained overwrites the file's 8 bytes in place, never truncating
// it: a crash leaves the old height or the new one, not an empty file.
func writeRetained(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	return errors.Join(err, f.Close())
}

// maxRetainStep is the most heights one commit moves the retain height
// by: CometBFT deletes the blocks below it in its Commit, on the consensus
// path, so a node that turns retention on with a long history deletes it
// over many commits, not all in the first.
const maxRetainStep = 100

// pruneStep is the number of versions IAVL is asked to delete at once:
// each request writes (and syncs) what its pruning goroutine deleted so
// far, on the consensus path.
const pruneStep = 16

// pruneState asks IAVL's pruning goroutine to delete the state versions
// below the earliest of the previous commit, pruneStep versions or more at
// a time (a.mu held).
func (a *Application) pruneState() {
	to := a.pruned - 1
	a.pruned = a.earliest.Load()
	if !a.retainOn() || to < 1 || to < a.prunedTo+pruneStep {
		return
	}
	if err := a.tree.DeleteVersionsTo(to); err != nil {
		a.log.Error("retention: pruning state versions", "to", to, "err", err)
		return
	}
	a.prunedTo = to
}

// isBatch reports whether the transaction's execution wrote a batch
// record: with retention on, Commit puts those the block carried whole in
// the transaction store before CometBFT may delete the block.
func isBatch(tx *ledger.Tx, out ledger.Outcome) bool {
	return out.Err == nil && tx.Body.GetAnchorBatch() != nil
}

// putBatchTxs puts in the transaction store the batch transactions of a
// block that it carried whole, not named by one of refs, and returns their
// hashes, for Named. A block carries each transaction under TxRefMinBytes
// whole, and any larger one its proposer did not name by reference
// (ProcessProposal accepts that).
func (a *Application) putBatchTxs(txs []*ledger.Tx, refs [][32]byte) ([][32]byte, error) {
	var named map[[32]byte]bool
	if len(refs) > 0 {
		named = make(map[[32]byte]bool, len(refs))
		for _, h := range refs {
			named[h] = true
		}
	}
	hs := make([][32]byte, 0, len(txs))
	for _, tx := range txs {
		if named[tx.Hash] {
			continue // stored already, and named with the block's references
		}
		if _, err := a.stored.Put(tx.Hash, tx.Raw); err != nil {
			return nil, err
		}
		hs = append(hs, tx.Hash)
	}
	return hs, nil
}

// backfillBatchTxs, at start, makes the transaction store hold every batch
// transaction of the committed state when retention is on (the small ones
// of blocks committed before it was on are in the block store only), or
// removes the marker that it does when retention is off.
func (a *Application) backfillBatchTxs(version int64) error {
	marker := filepath.Join(a.opts.Dir, batchTxsFile)
	if !a.retainOn() {
		if err := os.Remove(marker); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("abci: %w", err)
		}
		return nil
	}
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	var hs [][32]byte
	if version > 0 {
		view, err := a.StateAt(version)
		if err != nil {
			return err
		}
		var ferr error
		err = view.Iterate(batchStart, batchEnd, func(key, value []byte) bool {
			var b notaryv1.Batch
			if err := proto.Unmarshal(value, &b); err != nil {
				ferr = fmt.Errorf("batch record %x: %w", key, err)
				return false
			}
			if len(b.TxHash) != 32 {
				ferr = fmt.Errorf("batch record %x: no transaction hash", key)
				return false
			}
			if held, err := a.stored.Has([32]byte(b.TxHash)); err != nil || held {
				ferr = err
				return err == nil
			}
			raw, err := a.batchTx(&b)
			if err != nil {
				ferr = err
				return false
			}
			if _, err := a.stored.Put([32]byte(b.TxHash), raw); err != nil {
				ferr = err
				return false
			}
			hs = append(hs, [32]byte(b.TxHash))
			return true
		})
		if err := errors.Join(err, ferr); err != nil {
			return fmt.Errorf("abci: retention: copying the batch transactions to the transaction store: %w", err)
		}
		if err := a.stored.Named(version, hs); err != nil {
			return fmt.Errorf("abci: retention: %w", err)
		}
		if len(hs) > 0 {
			a.log.Info("retention: batch transactions copied from the block store to the transaction store", "count", len(hs))
		}
	}
	f, err := os.Create(marker)
	if err != nil {
		return fmt.Errorf("abci: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close(), syncDir(a.opts.Dir)); err != nil {
		return fmt.Errorf("abci: %w", err)
	}
	return nil
}

// iavlLogger passes the working tree's warnings and errors to the
// application's log: those of IAVL's pruning goroutine, which retries a
// failed pruning every second and tells no caller, among them.
type iavlLogger struct{ log cmtlog.Logger }

func (l iavlLogger) Info(string, ...any)  {}
func (l iavlLogger) Debug(string, ...any) {}

func (l iavlLogger) Warn(msg string, keyVals ...any) {
	l.log.Info("state tree (IAVL): "+msg, keyVals...)
}

func (l iavlLogger) Error(msg string, keyVals ...any) {
	l.log.Error("state tree (IAVL): "+msg, keyVals...)
}
