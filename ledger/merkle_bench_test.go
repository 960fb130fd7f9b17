package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
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

// BenchmarkDecodeValidate measures what each node does once per
// transaction it first sees, before running it: DecodeTx (envelope and
// body, canonical form, signature, hash) and ValidateBasic (digest and
// code key checks), for an AnchorBatch of 10,000 documents: plain, coded
// (entries) and with code_keys (the earlier coded form). It reports
// ns/doc.
func BenchmarkDecodeValidate(b *testing.B) {
	const n = 10_000
	for _, name := range []string{"plain", "coded", "code-keys"} {
		var keys []byte
		ds := benchDigests(n)
		if name == "code-keys" {
			keys = make([]byte, 0, n*CodeKeySize)
			for i := 0; i < n; i++ {
				k := sha256.Sum256(ds[i*DigestSize : (i+1)*DigestSize])
				keys = append(keys, k[:CodeKeySize]...)
			}
		}
		raw := signTx(testChain, agencyKey("aeat"), &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds, CodeKeys: keys, Coded: name == "coded"}}})
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				tx, err := DecodeTx(testChain, raw, 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := ValidateBasic(tx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/doc")
		})
	}
}
