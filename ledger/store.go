package ledger

import (
	"bytes"
	"sort"
)

// Store is the state the ledger reads and writes: an ordered key-value map.
// The abci package backs it with an IAVL tree; tests use MemStore. Writes must
// be applied in the order they are made: the IAVL tree's shape, and so the app
// hash, depends on it.
type Store interface {
	// Get returns the value at key, or nil if there is none.
	Get(key []byte) ([]byte, error)
	// Set writes value at key.
	Set(key, value []byte) error
	// Delete removes key.
	Delete(key []byte) error
	// Iterate calls fn for each key in [start, end) in ascending order (a nil
	// end means no upper bound) until fn returns false.
	Iterate(start, end []byte, fn func(key, value []byte) bool) error
}

// DigestIndex finds where a digest was anchored in a committed block. It is
// kept outside the state tree (docs/DESIGN.md): it must answer exactly as if
// built from the blocks before the one being executed. An AnchorBatch
// gives it one entry per document: a plain batch each digest under the
// batch's algorithm, a coded batch each code key under CodeKeyIndex (as
// CodeKeyIndexDigest) and not its digests. Every entry is looked up (the
// uniqueness rule) before it appears in Exec.NewDigests, so an index may
// prepare for the entry it will be given when the lookup misses (the node's
// digest filter does).
type DigestIndex interface {
	// Lookup returns the locator of alg/digest if it was anchored before the
	// height being executed.
	Lookup(alg HashAlgorithm, digest []byte) (Locator, bool, error)
}

// DigestPrefilter is implemented by a DigestIndex that can rule digests out
// in bulk, faster than one Lookup each (the node's filter: its memory reads
// overlap when made together).
type DigestPrefilter interface {
	// Prefilter sets absent[i] for each digest i of the concatenated list
	// that is certainly neither in the index nor among the digests given to
	// Prefilter or Lookup earlier in this execution; it may leave any
	// absent[i] false. The digests then count as given.
	Prefilter(alg HashAlgorithm, digests []byte, absent []bool)
}

// IndexPrefilter is implemented by a DigestIndex that can rule digests out
// of the index in bulk but does not track the digests given to it (the
// mempool's view): digests it rules out are still looked for among the
// execution's pending digests.
type IndexPrefilter interface {
	// NotIndexed sets absent[i] for each digest i of the concatenated list
	// that is certainly not in the index; it may leave any absent[i] false.
	NotIndexed(alg HashAlgorithm, digests []byte, absent []bool)
}

// NoIndex is a DigestIndex with nothing in it (a fresh chain).
type NoIndex struct{}

// Lookup implements DigestIndex.
func (NoIndex) Lookup(HashAlgorithm, []byte) (Locator, bool, error) { return Locator{}, false, nil }

// MemStore is an in-memory Store, for tests and tools.
type MemStore struct {
	m map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

// Get implements Store.
func (s *MemStore) Get(key []byte) ([]byte, error) {
	v, ok := s.m[string(key)]
	if !ok {
		return nil, nil
	}
	return append([]byte{}, v...), nil
}

// Set implements Store.
func (s *MemStore) Set(key, value []byte) error {
	s.m[string(key)] = append([]byte(nil), value...)
	return nil
}

// Delete implements Store.
func (s *MemStore) Delete(key []byte) error {
	delete(s.m, string(key))
	return nil
}

// Iterate implements Store; it visits keys in sorted order.
func (s *MemStore) Iterate(start, end []byte, fn func(key, value []byte) bool) error {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		if bytes.Compare([]byte(k), start) >= 0 && (end == nil || bytes.Compare([]byte(k), end) < 0) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn([]byte(k), s.m[k]) {
			return nil
		}
	}
	return nil
}

// Len returns the number of keys.
func (s *MemStore) Len() int { return len(s.m) }

// cacheStore buffers the writes of one transaction over a parent Store, so
// that a failing transaction leaves nothing behind. Writes reach the parent in
// the order they were made.
type cacheStore struct {
	parent Store
	vals   map[string][]byte // nil value: deleted
	order  []string
}

func newCacheStore(parent Store) *cacheStore {
	return &cacheStore{parent: parent, vals: map[string][]byte{}}
}

func (c *cacheStore) Get(key []byte) ([]byte, error) {
	if v, ok := c.vals[string(key)]; ok {
		if v == nil {
			return nil, nil
		}
		return append([]byte{}, v...), nil
	}
	return c.parent.Get(key)
}

func (c *cacheStore) put(key string, v []byte) {
	if _, ok := c.vals[key]; !ok {
		c.order = append(c.order, key)
	}
	c.vals[key] = v
}

func (c *cacheStore) Set(key, value []byte) error {
	c.put(string(key), append(make([]byte, 0, len(value)), value...))
	return nil
}

func (c *cacheStore) Delete(key []byte) error {
	c.put(string(key), nil)
	return nil
}

// Iterate merges the buffered writes with the parent's keys.
func (c *cacheStore) Iterate(start, end []byte, fn func(key, value []byte) bool) error {
	type kv struct {
		k string
		v []byte
	}
	var merged []kv
	err := c.parent.Iterate(start, end, func(k, v []byte) bool {
		if _, ok := c.vals[string(k)]; !ok {
			merged = append(merged, kv{string(k), append([]byte(nil), v...)})
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, k := range c.order {
		v := c.vals[k]
		if v == nil {
			continue
		}
		if bytes.Compare([]byte(k), start) >= 0 && (end == nil || bytes.Compare([]byte(k), end) < 0) {
			merged = append(merged, kv{k, v})
		}
	}
	sort.Slice(merged, func(i, j int) bool { return merged[i].k < merged[j].k })
	for _, e := range merged {
		if !fn([]byte(e.k), e.v) {
			return nil
		}
	}
	return nil
}

// flush writes the buffered changes to the parent, in the order made.
func (c *cacheStore) flush() error {
	for _, k := range c.order {
		v := c.vals[k]
		var err error
		if v == nil {
			err = c.parent.Delete([]byte(k))
		} else {
			err = c.parent.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	c.vals = map[string][]byte{}
	c.order = nil
	return nil
}

// NewOverlay returns a Store that keeps its writes in memory over parent,
// which it never changes: the mempool's view of pending transactions.
func NewOverlay(parent Store) Store { return newCacheStore(parent) }
