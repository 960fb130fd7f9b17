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
// and a hit is confirmed by comparing the bytes. The bytes a node checks
// are mostly the very slice it is later given (the mempool's, and the
// transaction store's for a reference), so a transaction is also found by
// its bytes' address and length, without hashing or comparing them: the
// same memory holds the same bytes, since bytes given to the application
// are never modified (a Tx keeps them as its Raw). A decoding is deterministic, so a
// cached answer is the answer every node computes. Bounded by entries and
// by bytes (an AnchorBatch of 10,000 digests holds about 640 kB: its bytes
// and its decoded body): the oldest entries go first.
type txCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	seed     maphash.Seed
	m        map[uint64][]*ledger.Tx
	byData   map[dataKey]*ledger.Tx // by the address and length of Raw
	order    []*ledger.Tx           // FIFO: order[head:] are the entries, oldest first
	head     int
	n        int
}

// dataKey names the memory of a transaction's bytes.
type dataKey struct {
	p *byte
	n int
}

func dataOf(raw []byte) (dataKey, bool) {
	if len(raw) == 0 {
		return dataKey{}, false
	}
	return dataKey{&raw[0], len(raw)}, true
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
	return &txCache{max: max, maxBytes: maxBytes, seed: maphash.MakeSeed(), m: map[uint64][]*ledger.Tx{}, byData: map[dataKey]*ledger.Tx{}}
}

// txCost estimates the memory of a cached transaction: its bytes, the
// decoded body (which holds a copy of the message's bytes) and overhead.
func txCost(tx *ledger.Tx) int { return 2*len(tx.Raw) + 256 }

func (c *txCache) key(raw []byte) uint64 { return maphash.Bytes(c.seed, raw) }

// get returns the cached decoding of raw; on a miss, the hash of raw for
// put.
func (c *txCache) get(raw []byte) (*ledger.Tx, uint64, bool) {
	if d, ok := dataOf(raw); ok {
		c.mu.Lock()
		tx, ok := c.byData[d]
		c.mu.Unlock()
		if ok {
			return tx, 0, true
		}
	}
	k := c.key(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tx := range c.m[k] {
		if bytes.Equal(tx.Raw, raw) {
			return tx, 0, true
		}
	}
	return nil, k, false
}

// put adds tx, whose bytes hash to k (get).
func (c *txCache) put(tx *ledger.Tx, k uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, old := range c.m[k] {
		if bytes.Equal(old.Raw, tx.Raw) {
			return
		}
	}
	c.m[k] = append(c.m[k], tx)
	if d, ok := dataOf(tx.Raw); ok {
		c.byData[d] = tx
	}
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
	if d, ok := dataOf(old.Raw); ok && c.byData[d] == old {
		delete(c.byData, d)
	}
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
