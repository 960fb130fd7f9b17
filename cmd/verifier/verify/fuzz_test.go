package verify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// FuzzVerify: no input makes the verifier panic or fail other than with a
// verdict, and whatever it accepts is a receipt in strict form.
// Run with `go test -fuzz FuzzVerify ./cmd/verifier/verify/`.
func FuzzVerify(f *testing.F) {
	dir := filepath.Join(vectorsDir, "valid-after-validator-changes")
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
		res, err := verify.Verify(verify.Input{Receipt: b, Trust: trust, Document: bytes.NewReader(doc)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != verify.NotValid {
			if _, err := verify.DecodeReceipt(b); err != nil {
				t.Fatalf("accepted a receipt DecodeReceipt refuses: %v", err)
			}
		}
		_ = res.Text(verify.Spanish, nil)
		if _, err := verify.Inspect(b); err != nil && res.Verdict != verify.NotValid {
			t.Fatalf("inspect: %v", err)
		}
	})
}
