package abci

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortKeys: the bucketed sort agrees with a comparison sort, for small
// and large inputs, one or two algorithms, and keys that share prefixes.
func TestSortKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct {
		name         string
		n            int
		algs         int
		sharedPrefix int // keys whose p repeats another's
	}{
		{"small", 100, 1, 0},
		{"large", 50000, 1, 0},
		{"large two algorithms", 50000, 2, 0},
		{"large shared prefixes", 20000, 1, 3000},
		{"one bucket", 10000, 1, 9999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := make([]byte, tc.n*recSize)
			keys := make([]sortKey, tc.n)
			for i := range keys {
				rec := recs[i*recSize : (i+1)*recSize]
				for j := 1; j < recKeySize; j++ {
					rec[j] = byte(r.Uint32())
				}
				rec[0] = byte(1 + r.IntN(tc.algs))
				if i > 0 && i <= tc.sharedPrefix {
					copy(rec[:8], recs[:8])
				}
				keys[i] = sortKey{binary.BigEndian.Uint64(rec), int32(i)}
			}
			cmp := func(a, b sortKey) int {
				if a.p != b.p {
					if a.p < b.p {
						return -1
					}
					return 1
				}
				return bytes.Compare(recs[int(a.i)*recSize:int(a.i)*recSize+recKeySize], recs[int(b.i)*recSize:int(b.i)*recSize+recKeySize])
			}
			want := slices.Clone(keys)
			slices.SortFunc(want, cmp)
			if got := sortKeys(keys, cmp); !slices.Equal(got, want) {
				t.Fatal("sortKeys disagrees with slices.SortFunc")
			}
		})
	}
}
