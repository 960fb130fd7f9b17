package abci

import (
	"bytes"
	"hash/maphash"
	"sync"

	"github.com/gobtechlab/notary/ledger"
)

// txCache remembers decoded, signature-checked transactions by their bytes,
// so that a transaction is verified once although CheckTx, ProcessProposal
// and FinalizeBlock all see it. It is keyed by a fast non-cryptographic hash
// of the bytes (hash/maphash, a tenth of SHA-256's cost on a 321 kB batch)
// and a hit is confirmed by comparing the bytes. A decoding is deterministic, so a cached answer
// is the answer every node computes. Bounded by entries and by bytes (an
// AnchorBatch of 10,000 digests holds about 640 kB: its bytes and its
// decoded body): the oldest entries go first.
type txCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	seed     maphash.Seed
	m        map[uint64][]*ledger.Tx
	order    []*ledger.Tx // FIFO: order[head:] are the entries, oldest first
	head     int
	n        int
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
	return &txCache{max: max, maxBytes: maxBytes, seed: maphash.MakeSeed(), m: map[uint64][]*ledger.Tx{}}
}

// txCost estimates the memory of a cached transaction: its bytes, the
// decoded body (which holds a copy of the message's bytes) and overhead.
func txCost(tx *ledger.Tx) int { return 2*len(tx.Raw) + 256 }

func (c *txCache) key(raw []byte) uint64 { return maphash.Bytes(c.seed, raw) }

// get returns the cached decoding of raw.
func (c *txCache) get(raw []byte) (*ledger.Tx, bool) {
	k := c.key(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tx := range c.m[k] {
		if bytes.Equal(tx.Raw, raw) {
			return tx, true
		}
	}
	return nil, false
}

func (c *txCache) put(tx *ledger.Tx) {
	k := c.key(tx.Raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, old := range c.m[k] {
		if bytes.Equal(old.Raw, tx.Raw) {
			return
		}
	}
	c.m[k] = append(c.m[k], tx)
	c.order = append(c.order, tx)
	c.n++
	c.bytes += txCost(tx)
	for c.n > 1 && (c.n > c.max || c.bytes > c.maxBytes) {
		c.evict()
	}
	// Reclaim the consumed front of the queue once it is half of it.
	if c.head > 1024 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
}

// evict drops the oldest entry.
func (c *txCache) evict() {
	old := c.order[c.head]
	c.order[c.head] = nil
	c.head++
	c.n--
	c.bytes -= txCost(old)
	k := c.key(old.Raw)
	list := c.m[k]
	for i, tx := range list {
		if tx == old {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.m, k)
	} else {
		c.m[k] = list
	}
}
