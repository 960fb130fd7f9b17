package digestindex

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobtechlab/notary/ledger"
)

// TestEncodeBlockRunOrder: EncodeRun's records are the entries in key
// order, whichever way it sorts them (scattered into buckets for a large
// block of one algorithm, a comparison sort otherwise), for small and large
// blocks, one or two algorithms, digests sharing their first bytes (a
// bucket of a few, of more than 32, of all), and digests that differ only
// in their last byte.
func TestEncodeBlockRunOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct {
		name   string
		n      int
		algs   int
		shared int // digests that keep the first digest's first share bytes
		share  int
	}{
		{"small", 100, 1, 0, 0},
		{"large", 50000, 1, 0, 0},
		{"large two algorithms", 50000, 2, 0, 0},
		{"large shared 8 bytes", 20000, 1, 3000, 8},
		{"buckets over 32", 20000, 1, 40, 2},
		{"one bucket", 10000, 1, 9999, 2},
		{"all but the last byte", 5000, 1, 4999, 31},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries := make([]ledger.IndexEntry, tc.n)
			for i := range entries {
				d := make([]byte, ledger.DigestSize)
				for j := range d {
					d[j] = byte(r.Uint32())
				}
				if i > 0 && i <= tc.shared {
					copy(d[:tc.share], entries[0].Digest)
				}
				if tc.share == 31 {
					d[31] = byte(i)
					d[30] = byte(i >> 8)
					copy(d[:30], entries[0].Digest)
				}
				entries[i] = ledger.IndexEntry{Algorithm: ledger.HashAlgorithm(1 + r.IntN(tc.algs)), Digest: d, Locator: ledger.Locator{Height: 9, Leaf: uint32(i)}}
			}
			if tc.share == 31 {
				entries[0].Digest[31], entries[0].Digest[30] = 0xff, 0xff
			}
			b, err := EncodeRun(batchesOf(entries), 9)
			if err != nil {
				t.Fatal(err)
			}
			want := make([][]byte, tc.n)
			for i, e := range entries {
				want[i] = make([]byte, recSize)
				putRecord(want[i], e.Algorithm, e.Digest, e.Locator)
			}
			slices.SortFunc(want, func(a, b []byte) int { return bytes.Compare(a[:recKeySize], b[:recKeySize]) })
			if !bytes.Equal(b.recs, bytes.Join(want, nil)) {
				t.Fatal("records are not the entries in key order")
			}
		})
	}
}

// BenchmarkEncodeBlockRun is the encoding of a block of 320,000 digests, a
// large block of 32 batches of 10,000.
func BenchmarkEncodeBlockRun(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	batches := make([]ledger.IndexBatch, 32)
	for i := range batches {
		digests := make([]byte, 10000*ledger.DigestSize)
		for j := range digests {
			digests[j] = byte(r.Uint32())
		}
		batches[i] = ledger.IndexBatch{Algorithm: idxSHA2, Digests: digests, Locator: ledger.Locator{Height: 1, TxIndex: uint32(i)}}
	}
	for b.Loop() {
		if _, err := EncodeRun(batches, 1); err != nil {
			b.Fatal(err)
		}
	}
}
