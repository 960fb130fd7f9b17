package abci

import (
	"sync"

	"github.com/gobtechlab/notary/ledger"
)

// txCache remembers decoded, signature-checked transactions by hash, so that
// a transaction is verified once although CheckTx, ProcessProposal and
// FinalizeBlock all see it. A decoding is deterministic, so a cached answer
// is the answer every node computes. Bounded: the oldest entries go first.
type txCache struct {
	mu    sync.Mutex
	max   int
	m     map[[32]byte]*ledger.Tx
	order [][32]byte
	next  int
}

func newTxCache(max int) *txCache {
	if max < 1 {
		max = 1
	}
	return &txCache{max: max, m: make(map[[32]byte]*ledger.Tx, max)}
}

func (c *txCache) get(h [32]byte) (*ledger.Tx, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, ok := c.m[h]
	return tx, ok
}

func (c *txCache) put(tx *ledger.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[tx.Hash]; ok {
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, tx.Hash)
	} else {
		delete(c.m, c.order[c.next])
		c.order[c.next] = tx.Hash
		c.next = (c.next + 1) % c.max
	}
	c.m[tx.Hash] = tx
}
