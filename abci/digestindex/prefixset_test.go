package digestindex

import (
	"math/rand"
	"slices"
	"testing"
)

// TestPrefixSet: contains agrees with a binary search of the whole list, for
// random prefixes, prefixes that share their top bytes (one algorithm, or
// digests chosen to crowd one range), two algorithms, and tiny lists.
func TestPrefixSet(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	random := func(n int, top uint64, mask uint64) []uint64 {
		out := make([]uint64, n)
		for i := range out {
			out[i] = top | rng.Uint64()&mask
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name   string
		sorted []uint64
	}{
		{"empty", nil},
		{"one", []uint64{1 << 56}},
		{"equal", []uint64{5, 5, 5}},
		{"extremes", []uint64{0, 1, 1<<64 - 1}},
		{"one algorithm", random(160_000, 1<<56, 1<<56-1)},
		{"crowded", append(random(10_000, 1<<56|0xabcdef<<24, 1<<24-1), random(100, 1<<56, 1<<56-1)...)},
		{"two algorithms", append(random(5_000, 1<<56, 1<<56-1), random(5_000, 2<<56, 1<<56-1)...)},
		{"small", random(7, 1<<56, 1<<56-1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			slices.Sort(c.sorted)
			s := newPrefixSet(c.sorted)
			probes := slices.Clone(c.sorted)
			for _, p := range c.sorted {
				probes = append(probes, p-1, p+1)
			}
			for range 20_000 {
				probes = append(probes, rng.Uint64(), 1<<56|rng.Uint64()&(1<<56-1))
			}
			probes = append(probes, 0, 1<<64-1)
			batch := make([]bool, len(probes))
			s.containsBatch(probes, batch)
			for i, p := range probes {
				_, want := slices.BinarySearch(c.sorted, p)
				if got := s.contains(p); got != want {
					t.Fatalf("contains(%#x) = %v, want %v", p, got, want)
				}
				if batch[i] != want {
					t.Fatalf("containsBatch: %#x %v, want %v", p, batch[i], want)
				}
			}
		})
	}
}

// BenchmarkRecheckPrefixes: a recheck's test of 10,000 digests against a
// block of 160,000, by binary search and by prefixSet, one at a time and in
// a batch (here the table and the prefixes stay in cache, as they do not in
// a loaded node).
func BenchmarkRecheckPrefixes(b *testing.B) {
	rng := rand.New(rand.NewSource(41))
	block := make([]uint64, 160_000)
	for i := range block {
		block[i] = 1<<56 | rng.Uint64()&(1<<56-1)
	}
	slices.Sort(block)
	probes := make([]uint64, 10_000)
	for i := range probes {
		probes[i] = 1<<56 | rng.Uint64()&(1<<56-1)
	}
	found := 0
	b.Run("binary-search", func(b *testing.B) {
		for b.Loop() {
			for _, p := range probes {
				if _, ok := slices.BinarySearch(block, p); ok {
					found++
				}
			}
		}
	})
	b.Run("prefix-set", func(b *testing.B) {
		s := newPrefixSet(block)
		for b.Loop() {
			for _, p := range probes {
				if s.contains(p) {
					found++
				}
			}
		}
	})
	b.Run("prefix-set-batch", func(b *testing.B) {
		s := newPrefixSet(block)
		out := make([]bool, len(probes))
		for b.Loop() {
			s.containsBatch(probes, out)
		}
	})
	if found != 0 {
		b.Fatalf("%d random probes found", found)
	}
}
