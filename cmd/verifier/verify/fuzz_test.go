package verify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// FuzzVerify: no input makes the verifier panic or fail other than with a
// verdict, and whatever it accepts is a receipt in strict form. Each input
// is checked under the genesis bundle of a chain whose validators changed
// and under a bundle that carries a checkpoint and requires a witness's
// cosignature (receipts v2 only).
// Run with `go test -fuzz FuzzVerify ./cmd/verifier/verify/`.
func FuzzVerify(f *testing.F) {
	type bundle struct {
		trust *notaryv1.TrustBundle
		doc   []byte
	}
	var bundles []bundle
	for _, name := range []string{"valid-after-validator-changes", "valid-v2-witnessed"} {
		dir := filepath.Join(vectorsDir, name)
		trustJSON, err := os.ReadFile(filepath.Join(dir, "trust.json"))
		if err != nil {
			f.Fatal(err)
		}
		trust, err := verify.DecodeTrustBundle(trustJSON)
		if err != nil {
			f.Fatal(err)
		}
		doc, err := os.ReadFile(filepath.Join(dir, "document.txt"))
		if err != nil {
			f.Fatal(err)
		}
		bundles = append(bundles, bundle{trust, doc})
	}
	if !verify.RequiresV2(bundles[1].trust) || bundles[1].trust.WitnessThreshold == 0 {
		f.Fatal("the second bundle does not require witnesses")
	}
	entries, err := os.ReadDir(vectorsDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(vectorsDir, e.Name(), "receipt.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, bd := range bundles {
			res, err := verify.Verify(verify.Input{Receipt: b, Trust: bd.trust, Document: bytes.NewReader(bd.doc)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != verify.NotValid {
				r, err := verify.DecodeReceipt(b)
				if err != nil {
					t.Fatalf("accepted a receipt DecodeReceipt refuses: %v", err)
				}
				if verify.RequiresV2(bd.trust) && r.Version != verify.VersionLog {
					t.Fatalf("a bundle that requires v2 accepted a receipt of version %d", r.Version)
				}
			}
			_ = res.Text(verify.Spanish, nil)
			if _, err := verify.Inspect(b); err != nil && res.Verdict != verify.NotValid {
				t.Fatalf("inspect: %v", err)
			}
		}
	})
}
