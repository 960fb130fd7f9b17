package digestindex

import (
	"math/bits"
	"slices"
	"sync/atomic"
)

// prefixSet answers whether a key prefix is among a block's, kept sorted.
// A table of where each range of prefix values starts narrows a lookup to a
// few prefixes before the binary search: two table entries and a short
// search instead of a binary search's log2(n) dependent steps over the
// whole block (BenchmarkRecheckPrefixes).
// Prefixes crowded into one range (digests chosen to share their first
// bytes) cost a binary search of that range, never more.
type prefixSet struct {
	sorted   []uint64
	min, max uint64
	shift    uint
	starts   []uint32 // starts[i]: the first prefix p with (p-min)>>shift >= i
}

// prefixSetBits bounds the table: 2^18 entries (1 MB) at most.
const prefixSetBits = 18

// newPrefixSet indexes sorted, which it keeps and must not change.
func newPrefixSet(sorted []uint64) *prefixSet {
	s := &prefixSet{sorted: sorted}
	n := len(sorted)
	if n == 0 {
		return s
	}
	s.min, s.max = sorted[0], sorted[n-1]
	b := min(max(bits.Len(uint(n))-2, 1), prefixSetBits) // about 2 to 4 prefixes a range
	if span := bits.Len64(s.max - s.min); span > b {
		s.shift = uint(span - b)
	}
	ranges := int((s.max-s.min)>>s.shift) + 1
	s.starts = make([]uint32, ranges+1)
	j := 0
	for i := 0; i < ranges; i++ {
		for j < n && int((sorted[j]-s.min)>>s.shift) < i {
			j++
		}
		s.starts[i] = uint32(j)
	}
	s.starts[ranges] = uint32(n)
	return s
}

// contains reports whether p is one of the prefixes.
func (s *prefixSet) contains(p uint64) bool {
	if len(s.sorted) == 0 || p < s.min || p > s.max {
		return false
	}
	i := (p - s.min) >> s.shift
	_, found := slices.BinarySearch(s.sorted[s.starts[i]:s.starts[i+1]], p)
	return found
}

// containsBatch sets found[i] to contains(ps[i]). It works in groups, as the
// digest filter does: it first reads each prefix's table entry, then the
// first prefix of each range, loads independent of each other whose cache
// misses the processor overlaps, and then searches ranges now in cache.
// One at a time, each lookup waits for its own two misses: in a node under
// load the table and the prefixes are rarely in cache.
func (s *prefixSet) containsBatch(ps []uint64, found []bool) {
	const group = 64
	var idx [group]uint64
	var sink uint64
	for g := 0; g < len(ps); g += group {
		n := min(group, len(ps)-g)
		for i := 0; i < n; i++ {
			idx[i] = 0
			if p := ps[g+i]; len(s.sorted) > 0 && p >= s.min && p <= s.max {
				idx[i] = (p-s.min)>>s.shift + 1 // 0: out of range
				sink += uint64(s.starts[idx[i]-1])
			}
		}
		for i := 0; i < n; i++ {
			if idx[i] != 0 {
				if st := s.starts[idx[i]-1]; int(st) < len(s.sorted) {
					sink += s.sorted[st]
				}
			}
		}
		for i := 0; i < n; i++ {
			found[g+i] = false
			if k := idx[i]; k != 0 {
				_, found[g+i] = slices.BinarySearch(s.sorted[s.starts[k-1]:s.starts[k]], ps[g+i])
			}
		}
	}
	prefixSetSink.Store(sink) // keeps the loads
}

var prefixSetSink atomic.Uint64
