package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
)

func benchDigests(n int) []byte {
	out := make([]byte, 0, n*DigestSize)
	var b [8]byte
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		d := sha256.Sum256(b[:])
		out = append(out, d[:]...)
	}
	return out
}

// BenchmarkMerkleRoot measures the RFC 6962 root of a batch (what
// FinalizeBlock computes once per AnchorBatch), reporting digests/s.
func BenchmarkMerkleRoot(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("digests=%d", n), func(b *testing.B) {
			ds := benchDigests(n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if len(MerkleRoot(ds)) != 32 {
					b.Fatal("bad root")
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "digests/s")
		})
	}
}

// BenchmarkInclusionPath measures the RFC 6962 inclusion proof of one leaf
// of a batch of 10,000 (what every receipt and lookup carries).
func BenchmarkInclusionPath(b *testing.B) {
	const n = 10_000
	ds := benchDigests(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(InclusionPath(ds, uint32(i%n))) == 0 {
			b.Fatal("empty path")
		}
	}
}
