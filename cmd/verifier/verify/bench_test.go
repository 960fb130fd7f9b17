package verify_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// BenchmarkVerify measures the verification of one receipt file (decoding,
// every signature and proof, the document), with 4, 10 and 100 validators, and
// reports the receipt's size: the indented file and the canonical bytes.
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{4, 10, 100} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			var ms []receipttest.Ministry
			if n != 4 {
				for i := 0; i < n; i++ {
					ms = append(ms, receipttest.Ministry{ID: fmt.Sprintf("m%03d", i), Name: fmt.Sprintf("Ministerio %d", i), Power: 10})
				}
			}
			f := newFixture(b, fixtureOpts{chain: receipttest.Options{Ministries: ms}, later: 1})
			canon, err := verify.EncodeReceipt(f.receipt)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := verify.Verify(verify.Input{Receipt: f.file, Trust: f.trust, Document: bytes.NewReader(f.doc)})
				if err != nil || res.Verdict != verify.Valid {
					b.Fatalf("%v %+v", err, res)
				}
			}
			b.ReportMetric(float64(len(f.file)), "file-bytes")
			b.ReportMetric(float64(len(canon)), "canonical-bytes")
		})
	}
}

// BenchmarkVerifyV2 measures the verification of one receipt v2 file
// (decoding, the checkpoint's signatures, the log inclusion proof of 25
// hashes, the batch's Merkle path, the document) with 4 and 10
// validators, all signing, under a genesis bundle, and reports its size.
// The receipt is built as makeV2 builds it: the leaf of a v1 receipt's
// batch at index 20,000,017 of a log of 33,550,001 leaves.
func BenchmarkVerifyV2(b *testing.B) {
	for _, n := range []int{4, 10} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			var ms []receipttest.Ministry
			var ids []string
			if n != 4 {
				for i := 0; i < n; i++ {
					ms = append(ms, receipttest.Ministry{ID: fmt.Sprintf("m%03d", i), Name: fmt.Sprintf("Ministerio %d", i), Power: 10})
					ids = append(ids, ms[i].ID)
				}
			}
			f := newFixture(b, fixtureOpts{chain: receipttest.Options{Ministries: ms}, later: 1})
			r := makeV2(b, f, v2Opts{signers: ids})
			file := encode(b, r)
			canon, err := verify.EncodeReceipt(r)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := verify.Verify(verify.Input{Receipt: file, Trust: f.trust, Document: bytes.NewReader(f.doc)})
				if err != nil || res.Verdict != verify.Valid {
					b.Fatalf("%v %+v", err, res)
				}
			}
			b.ReportMetric(float64(len(file)), "file-bytes")
			b.ReportMetric(float64(len(canon)), "canonical-bytes")
		})
	}
}
