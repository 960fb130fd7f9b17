package digestindex

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/gobtechlab/notary/ledger"
)

// digestFilter is a blocked Bloom filter over every digest in the digest
// index: it answers "certainly not anchored" without reading the runs.
// Nearly every lookup is for a new digest (the uniqueness rule in CheckTx
// and FinalizeBlock), and without the filter each would read a page of
// every run.
//
// It is a cache, never an answer: a "maybe" goes to the index, so a false
// positive costs only the lookup it would have cost anyway, and there are no
// false negatives because a digest is added before its index entry is
// written (and every entry of the index is added when the filter is built at
// start). Its size is fixed; as it fills, false positives rise towards the
// cost without a filter, never to a wrong answer.
//
// Each key sets 8 bits in one 512-bit block (one cache line). Digests are
// outputs of cryptographic hash functions, so their bytes serve as the
// filter's hash; the algorithm byte is mixed in so that equal bytes under
// two algorithms are distinct keys. The block and seven of the bits come
// from the first 16 bytes, and the eighth mixes in the next 8, so the index
// digests of code keys (16 bytes of hash, then zeros) are spread as digests
// are.
type digestFilter struct {
	words  []uint64 // len = 8 * blocks
	blocks uint64
}

const filterBlockWords = 8 // 512 bits

// newDigestFilter returns a filter of about size bytes, or nil if size < 64.
// Its words are outside the Go heap where the system allows (allocWords),
// released when the filter is garbage: every method that reads them keeps
// the filter alive until it returns (runtime.KeepAlive).
func newDigestFilter(size int) *digestFilter {
	if size < filterBlockWords*8 {
		return nil
	}
	blocks := uint64(size) / (filterBlockWords * 8)
	n := int(blocks * filterBlockWords)
	words, free, ok := allocWords(n)
	if !ok {
		return &digestFilter{words: make([]uint64, n), blocks: blocks}
	}
	f := &digestFilter{words: words, blocks: blocks}
	runtime.SetFinalizer(f, func(*digestFilter) { free() })
	return f
}

// filterBitsPerKey is the load a filter is sized for: 32 bits per digest,
// filled to capacity, let through at most 1e-4 of absent digests
// (TestDigestFilterCapacity); fewer bits per digest let through many more.
// Each that passes costs a page read from every kept run of the index, on
// the critical path of the block that looks it up.
const filterBitsPerKey = 32

// capacity is the number of digests the filter is sized for.
func (f *digestFilter) capacity() int {
	return int(f.blocks * filterBlockWords * 64 / filterBitsPerKey)
}

// positions returns the block's first word and the 8 bit positions of a key.
func (f *digestFilter) positions(alg ledger.HashAlgorithm, digest []byte) (base uint64, pos [8]uint16) {
	var d [32]byte
	copy(d[:], digest)
	h1 := binary.LittleEndian.Uint64(d[0:8]) ^ uint64(alg)*0x9e3779b97f4a7c15
	h2 := binary.LittleEndian.Uint64(d[8:16])
	h3 := binary.LittleEndian.Uint64(d[16:24])
	blk, _ := bits.Mul64(h1, f.blocks)
	for i := 0; i < 7; i++ {
		pos[i] = uint16(h2>>(9*i)) & 511
	}
	// h1's low bits, which the block barely depends on, go into the last
	// position: a code key's index digest (ledger.CodeKeyIndexDigest) has
	// its 16 bytes of hash first and zeros after, so h3 alone would give
	// every key the same eighth bit.
	pos[7] = uint16(h3^h1) & 511
	return blk * filterBlockWords, pos
}

// add records a digest. Safe for concurrent use with mayContain.
func (f *digestFilter) add(alg ledger.HashAlgorithm, digest []byte) {
	base, pos := f.positions(alg, digest)
	for _, p := range pos {
		atomic.OrUint64(&f.words[base+uint64(p>>6)], 1<<(p&63))
	}
	runtime.KeepAlive(f)
}

// mayContain reports false only if the digest was never added.
func (f *digestFilter) mayContain(alg ledger.HashAlgorithm, digest []byte) bool {
	base, pos := f.positions(alg, digest)
	defer runtime.KeepAlive(f)
	for _, p := range pos {
		if atomic.LoadUint64(&f.words[base+uint64(p>>6)])&(1<<(p&63)) == 0 {
			return false
		}
	}
	return true
}

// mayContainAdd is mayContain, then add: the block's cache line is touched
// once. FinalizeBlock looks up every digest it anchors, so its lookups add
// them here, and Commit does not fetch each line again; a digest added for a
// transaction that then fails is a false positive, which costs a lookup and
// never changes an answer.
func (f *digestFilter) mayContainAdd(alg ledger.HashAlgorithm, digest []byte) bool {
	base, pos := f.positions(alg, digest)
	all := true
	for _, p := range pos {
		w := &f.words[base+uint64(p>>6)]
		bit := uint64(1) << (p & 63)
		if atomic.LoadUint64(w)&bit == 0 {
			all = false
			atomic.OrUint64(w, bit)
		}
	}
	runtime.KeepAlive(f)
	return all
}

// mayContainAddBatch is mayContainAdd for each digest of a concatenated list,
// setting absent[i] when digest i was certainly not in the filter. It works
// in groups: first it only reads the first word of each digest's block, a
// tight loop of independent loads whose cache misses the processor overlaps,
// then it tests and sets the bits of blocks now in cache. One at a time, each
// digest would wait for its own miss.
func (f *digestFilter) mayContainAddBatch(alg ledger.HashAlgorithm, digests []byte, absent []bool) {
	f.batch(alg, digests, absent, true)
}

// mayContainBatch is mayContainAddBatch without adding: the mempool's checks.
func (f *digestFilter) mayContainBatch(alg ledger.HashAlgorithm, digests []byte, absent []bool) {
	f.batch(alg, digests, absent, false)
}

func (f *digestFilter) batch(alg ledger.HashAlgorithm, digests []byte, absent []bool, add bool) {
	const group = 64
	var sink uint64
	for g := 0; g < len(absent); g += group {
		n := min(group, len(absent)-g)
		for i := 0; i < n; i++ {
			sink += atomic.LoadUint64(&f.words[f.blockOf(alg, digests[(g+i)*ledger.DigestSize:])])
		}
		for i := g; i < g+n; i++ {
			d := digests[i*ledger.DigestSize : (i+1)*ledger.DigestSize]
			if add {
				absent[i] = !f.mayContainAdd(alg, d)
			} else {
				absent[i] = !f.mayContain(alg, d)
			}
		}
	}
	prefetchSink.Store(sink) // keeps the loads
	runtime.KeepAlive(f)
}

var prefetchSink atomic.Uint64

// blockOf returns the index of the first word of a digest's block (as
// positions does).
func (f *digestFilter) blockOf(alg ledger.HashAlgorithm, digest []byte) uint64 {
	h1 := binary.LittleEndian.Uint64(digest[0:8]) ^ uint64(alg)*0x9e3779b97f4a7c15
	blk, _ := bits.Mul64(h1, f.blocks)
	return blk * filterBlockWords
}
