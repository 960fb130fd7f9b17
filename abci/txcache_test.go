package abci

import (
	"testing"

	"github.com/gobtechlab/notary/ledger"
)

// TestTxCacheBounds: the cache holds at most max entries and about
// maxBytes, evicting the oldest first.
func TestTxCacheBounds(t *testing.T) {
	tx := func(i int, size int) *ledger.Tx {
		x := &ledger.Tx{Raw: make([]byte, size)}
		x.Raw[0], x.Raw[1] = byte(i), byte(i>>8)
		return x
	}
	c := newTxCache(10, 1<<40)
	for i := 0; i < 25; i++ {
		c.put(tx(i, 10))
	}
	if c.n != 10 || len(c.m) != 10 {
		t.Fatalf("%d entries, max 10", c.n)
	}
	if _, ok := c.get(tx(14, 10).Raw); ok {
		t.Fatal("entry 14 not evicted")
	}
	if _, ok := c.get(tx(15, 10).Raw); !ok {
		t.Fatal("entry 15 evicted")
	}
	c = newTxCache(1_000_000, 5*txCost(tx(0, 1000)))
	for i := 0; i < 3000; i++ {
		c.put(tx(i, 1000))
		if c.bytes > c.maxBytes {
			t.Fatalf("after %d puts: %d bytes, limit %d", i+1, c.bytes, c.maxBytes)
		}
	}
	if c.n != 5 || len(c.order)-c.head != 5 {
		t.Fatalf("%d entries (%d queued), want 5", c.n, len(c.order)-c.head)
	}
	if _, ok := c.get(tx(2999, 1000).Raw); !ok {
		t.Fatal("newest entry evicted")
	}
	big := newTxCache(10, 100)
	big.put(tx(1, 1000))
	if _, ok := big.get(tx(1, 1000).Raw); !ok {
		t.Fatal("a transaction larger than the budget is not kept alone")
	}
}
