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
		put(c, tx(i, 10))
	}
	if c.n != 10 || len(c.m) != 10 || len(c.byData) != 10 {
		t.Fatalf("%d entries, max 10", c.n)
	}
	if _, _, ok := c.get(tx(14, 10).Raw); ok {
		t.Fatal("entry 14 not evicted")
	}
	if _, _, ok := c.get(tx(15, 10).Raw); !ok {
		t.Fatal("entry 15 evicted")
	}
	c = newTxCache(1_000_000, 5*txCost(tx(0, 1000)))
	for i := 0; i < 3000; i++ {
		put(c, tx(i, 1000))
		if c.bytes > c.maxBytes {
			t.Fatalf("after %d puts: %d bytes, limit %d", i+1, c.bytes, c.maxBytes)
		}
	}
	if c.n != 5 || len(c.order)-c.head != 5 || len(c.byData) != 5 {
		t.Fatalf("%d entries (%d queued), want 5", c.n, len(c.order)-c.head)
	}
	if _, _, ok := c.get(tx(2999, 1000).Raw); !ok {
		t.Fatal("newest entry evicted")
	}
	big := newTxCache(10, 100)
	put(big, tx(1, 1000))
	if _, _, ok := big.get(tx(1, 1000).Raw); !ok {
		t.Fatal("a transaction larger than the budget is not kept alone")
	}
}

func put(c *txCache, tx *ledger.Tx) {
	if _, k, ok := c.get(tx.Raw); !ok {
		c.put(tx, k)
	}
}

// TestTxCacheLookups: a transaction is found by the slice it was cached
// with, by a copy of its bytes, and not by other bytes of the same length
// (nor after its eviction, by either).
func TestTxCacheLookups(t *testing.T) {
	c := newTxCache(2, 1<<20)
	x := &ledger.Tx{Raw: []byte("transaction one")}
	put(c, x)
	for name, raw := range map[string][]byte{"same slice": x.Raw, "copy": []byte("transaction one")} {
		if got, _, ok := c.get(raw); !ok || got != x {
			t.Fatalf("%s: %v, %v", name, got, ok)
		}
	}
	if _, _, ok := c.get([]byte("transaction two")); ok {
		t.Fatal("other bytes found")
	}
	put(c, &ledger.Tx{Raw: []byte("transaction two")})
	put(c, &ledger.Tx{Raw: []byte("transaction six")})
	for name, raw := range map[string][]byte{"same slice": x.Raw, "copy": []byte("transaction one")} {
		if _, _, ok := c.get(raw); ok {
			t.Fatalf("%s: found after eviction", name)
		}
	}
	if len(c.byData) != 2 {
		t.Fatalf("%d entries by address, want 2", len(c.byData))
	}
}
