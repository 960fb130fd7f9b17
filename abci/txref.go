package abci

import (
	"errors"
	"fmt"
	"time"

	"github.com/gobtechlab/notary/ledger"
)

// A block names each large transaction (TxRefMinBytes or more) by its
// hash: a reference, TxRefPrefix followed by the SHA-256 of the
// transaction's bytes (ledger.TxHash), TxRefSize bytes in all. The bytes
// travel to every validator once, before the block (the node's forwarding
// or its mempool's gossip), and are kept in the transaction store
// (abci/txstore); the block carries only the reference, so that the
// consensus engine's gossip, log and block store handle a few bytes per
// transaction instead of hundreds of kilobytes (docs/DESIGN.md, "Batch
// references"). A transaction's encoding (ledger.DecodeTx) never begins
// with a zero byte, so a reference is never a transaction; there is one
// reference per transaction.
//
// What a block means is unchanged: its execution, its results, the state
// and every receipt are those of the block with the referenced bytes in
// place of the references (ResolveTxs).
const (
	// TxRefPrefix begins a reference; like the rest of a block's bytes,
	// it never changes.
	TxRefPrefix = "\x00NBR"
	TxRefSize   = len(TxRefPrefix) + 32
	// TxRefMinBytes is the size from which PrepareProposal puts a
	// reference in place of a transaction.
	TxRefMinBytes = 1024
)

// EncodeTxRef returns the reference to the transaction whose hash is h.
func EncodeTxRef(h [32]byte) []byte {
	b := make([]byte, 0, TxRefSize)
	b = append(b, TxRefPrefix...)
	return append(b, h[:]...)
}

// DecodeTxRef returns the hash a reference names; ok is false if tx is
// not a reference.
func DecodeTxRef(tx []byte) (h [32]byte, ok bool) {
	if len(tx) != TxRefSize || string(tx[:len(TxRefPrefix)]) != TxRefPrefix {
		return h, false
	}
	copy(h[:], tx[len(TxRefPrefix):])
	return h, true
}

// BlockTx returns what a block carries for the transaction raw: its
// reference if raw is TxRefMinBytes or more, raw itself otherwise. CometBFT
// knows a committed transaction by the hash of these bytes (the tx.hash of
// its event, which broadcast_tx_commit waits for, and its /tx lookup).
func BlockTx(raw []byte) []byte {
	if len(raw) < TxRefMinBytes {
		return raw
	}
	return EncodeTxRef(ledger.TxHash(raw))
}

// BlockTxHash is the hash of a block's transaction: the referenced
// transaction's for a reference, ledger.TxHash otherwise.
func BlockTxHash(tx []byte) [32]byte {
	if h, ok := DecodeTxRef(tx); ok {
		return h
	}
	return ledger.TxHash(tx)
}

// Waits for the bytes of a referenced transaction: how long a proposal's
// are waited for before it is refused (they are normally on their way from
// the transaction's origin; a refused proposal costs a round), and a
// decided block's (a node catching up fetches them from its peers; past
// this, the node stops with an error rather than execute without them).
const (
	proposalTxWait = 2 * time.Second
	decidedTxWait  = 2 * time.Minute
	refetchEvery   = 500 * time.Millisecond
)

// ErrTxUnavailable is returned when a referenced transaction's bytes are
// neither held nor sent by a peer in time.
var ErrTxUnavailable = errors.New("abci: referenced transaction not available")

// SetFetcher sets what asks the node's peers for a referenced transaction
// this node does not hold (app/internal/txsync); the answer comes back
// through StoreTx. Without one (before the node's p2p layer runs), only
// held transactions resolve.
func (a *Application) SetFetcher(fetch func(h [32]byte)) { a.fetch.Store(&fetch) }

// SetCommitted sets what Commit calls with the hashes of the transactions
// a committed block named by reference, once the state is saved. CometBFT
// removes a committed transaction from its mempool by the hash of the bytes
// in the block, which for a reference is the reference's, so the node
// removes the referenced ones itself (app.NewNode); otherwise each would be
// rechecked and refused after every block, on every node. Commit is called
// with the mempool locked, which is what removing from it needs.
func (a *Application) SetCommitted(f func(hashes [][32]byte)) { a.committedHook.Store(&f) }

// StoreTx stores the bytes of a transaction a block may name by hash (one a
// peer sent), and reports whether they were new. Its hash is computed here;
// what the bytes are worth is decided by the block that names them.
func (a *Application) StoreTx(raw []byte) (bool, error) {
	return a.stored.Put(ledger.TxHash(raw), raw)
}

// StoredTx returns the stored bytes of the transaction whose hash is h, for
// a peer that asks; ok is false if this node does not hold them.
func (a *Application) StoredTx(h [32]byte) (raw []byte, ok bool, err error) {
	return a.stored.Get(h)
}

// ResolveTxs returns a stored block's transactions with the referenced
// bytes in place of references, from this node's transaction store.
func (a *Application) ResolveTxs(txs [][]byte) ([][]byte, error) {
	return a.resolve(txs, 0)
}

// resolve replaces references by their bytes, asking the peers for those
// not held and waiting for them up to wait.
func (a *Application) resolve(txs [][]byte, wait time.Duration) ([][]byte, error) {
	if f := a.fetch.Load(); f != nil && wait > 0 {
		// Ask for every missing one at once, not one after another.
		for _, tx := range txs {
			if h, ok := DecodeTxRef(tx); ok {
				if held, err := a.stored.Has(h); err == nil && !held {
					(*f)(h)
				}
			}
		}
	}
	var out [][]byte
	for i, tx := range txs {
		h, ok := DecodeTxRef(tx)
		if !ok {
			if out != nil {
				out[i] = tx
			}
			continue
		}
		if out == nil {
			out = make([][]byte, len(txs))
			copy(out, txs[:i])
		}
		raw, err := a.awaitTx(h, wait)
		if err != nil {
			return nil, err
		}
		out[i] = raw
	}
	if out == nil {
		return txs, nil
	}
	return out, nil
}

func (a *Application) awaitTx(h [32]byte, wait time.Duration) ([]byte, error) {
	deadline := time.Now().Add(wait)
	for asked := 0; ; asked++ {
		arrived, cancel := a.stored.Await(h)
		raw, ok, err := a.stored.Get(h)
		if err != nil || ok {
			cancel()
			return raw, err
		}
		left := time.Until(deadline)
		f := a.fetch.Load()
		if left <= 0 || f == nil {
			cancel()
			if wait > 0 && f == nil {
				return nil, fmt.Errorf("%w: %X (not held, and this node cannot ask its peers yet)", ErrTxUnavailable, h)
			}
			return nil, fmt.Errorf("%w: %X (not held, and no peer sent it within %s)", ErrTxUnavailable, h, wait)
		}
		if asked == 0 {
			a.log.Info("asking peers for a referenced transaction this node does not hold", "hash", fmt.Sprintf("%X", h))
		}
		(*f)(h)
		t := time.NewTimer(min(left, refetchEvery))
		select {
		case <-arrived:
		case <-t.C:
		}
		t.Stop()
		cancel()
	}
}

// refsOf returns the hashes a block's references name.
func refsOf(txs [][]byte) [][32]byte {
	var out [][32]byte
	for _, tx := range txs {
		if h, ok := DecodeTxRef(tx); ok {
			out = append(out, h)
		}
	}
	return out
}
