package abci

import (
	"sync"

	"github.com/gobtechlab/notary/ledger"
)

// txCache remembers decoded, signature-checked transactions by hash, so that
// a transaction is verified once although CheckTx, ProcessProposal and
// FinalizeBlock all see it. A decoding is deterministic, so a cached answer
// is the answer every node computes. Bounded by entries and by bytes (an
// AnchorBatch of 10,000 digests holds about 640 kB: its bytes and its
// decoded body): the oldest entries go first.
type txCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	m        map[[32]byte]*ledger.Tx
	order    [][32]byte // FIFO: order[head:] are the entries, oldest first
	head     int
}

// DefaultTxCacheBytes bounds the memory the transaction cache holds.
const DefaultTxCacheBytes = 64 << 20

func newTxCache(max, maxBytes int) *txCache {
	if max < 1 {
		max = 1
	}
	if maxBytes < 1 {
		maxBytes = DefaultTxCacheBytes
	}
	return &txCache{max: max, maxBytes: maxBytes, m: map[[32]byte]*ledger.Tx{}}
}

// txCost estimates the memory of a cached transaction: its bytes, the
// decoded body (which holds a copy of the message's bytes) and overhead.
func txCost(tx *ledger.Tx) int { return 2*len(tx.Raw) + 256 }

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
	c.m[tx.Hash] = tx
	c.order = append(c.order, tx.Hash)
	c.bytes += txCost(tx)
	for len(c.m) > 1 && (len(c.m) > c.max || c.bytes > c.maxBytes) {
		old := c.order[c.head]
		c.head++
		c.bytes -= txCost(c.m[old])
		delete(c.m, old)
	}
	// Reclaim the consumed front of the queue once it is half of it.
	if c.head > 1024 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
}
