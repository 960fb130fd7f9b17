package verify_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestVerifyCode: a coded receipt as the code route answers it (no salt,
// no document digest) verifies once bound to its code's salt and key,
// without and with the document; another file is a document mismatch;
// another key is refused; the bound receipt with the document verifies
// offline as a receipt file.
func TestVerifyCode(t *testing.T) {
	dir := filepath.Join("testdata", "vectors", "valid-coded-sha2")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	full, err := verify.DecodeReceipt(read("receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(read("trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	salt, _ := hex.DecodeString(full.Document.Salt)
	key, _ := hex.DecodeString(full.Document.CodeKey)
	doc := read("document.txt")
	served, err := verify.DecodeReceipt(read("receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	served.Document.Salt, served.Document.DocumentDigest = "", ""
	body, err := verify.EncodeReceipt(served)
	if err != nil {
		t.Fatal(err)
	}

	a := verify.CheckCodeAnswer(trust, salt, key, "http://node", 200, body)
	if !a.Found() || !a.Result.ByCode || a.Result.DocumentChecked || a.Result.Verdict != verify.Valid {
		t.Fatalf("answer: %+v", a)
	}
	digest, err := verify.HashDocument(mustAlg(t, served), bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	res, bound, err := verify.VerifyCode(served, trust, salt, key, digest)
	if err != nil || res.Verdict != verify.Valid || !res.DocumentChecked || bound.Document.DocumentDigest != full.Document.DocumentDigest {
		t.Fatalf("with the document: %v %+v", err, res)
	}
	file, err := verify.EncodeReceiptFile(bound)
	if err != nil {
		t.Fatal(err)
	}
	if off, err := verify.Verify(verify.Input{Receipt: file, Trust: trust, Document: bytes.NewReader(doc)}); err != nil || off.Verdict != verify.Valid {
		t.Fatalf("the bound receipt offline: %v %+v", err, off)
	}
	other, _ := verify.HashDocument(mustAlg(t, served), bytes.NewReader([]byte("otro documento")))
	if res, _, err := verify.VerifyCode(served, trust, salt, key, other); err != nil || res.Verdict != verify.NotValid || res.Reason != verify.ReasonDocumentMismatch {
		t.Fatalf("another file: %v %+v", err, res)
	}
	wrong := bytes.Clone(key)
	wrong[0] ^= 1
	if a := verify.CheckCodeAnswer(trust, salt, wrong, "http://node", 200, body); a.Found() || a.Err == nil || a.Err.Code != verify.LiveMismatch {
		t.Fatalf("another key: %+v", a)
	}
	wrongSalt := bytes.Clone(salt)
	wrongSalt[0] ^= 1
	if a := verify.CheckCodeAnswer(trust, wrongSalt, key, "http://node", 200, body); !a.Found() {
		// Without the document the salt is not checked: the proofs hold.
		t.Fatalf("another salt without the document: %+v", a)
	}
	if res, _, _ := verify.VerifyCode(served, trust, wrongSalt, key, digest); res.Verdict != verify.NotValid {
		t.Fatalf("another salt with the document: %+v", res)
	}
	for status, code := range map[int]verify.LiveErrorCode{404: verify.LiveNotFound, 429: verify.LiveBusy, 500: verify.LiveHTTP} {
		if a := verify.CheckCodeAnswer(trust, salt, key, "http://node", status, nil); a.Found() || a.Err.Code != code {
			t.Fatalf("HTTP %d: %+v", status, a)
		}
	}
	if a := verify.CheckCodeAnswer(trust, salt, key, "http://node", 200, []byte("{}")); a.Err == nil || a.Err.Code != verify.LiveMalformed {
		t.Fatalf("not a receipt: %+v", a)
	}
}

func mustAlg(t *testing.T, r *notaryv1.Receipt) ledger.HashAlgorithm {
	t.Helper()
	alg, err := verify.CodeAlgorithm(r)
	if err != nil {
		t.Fatal(err)
	}
	return alg
}

// TestCodeRequestPath: a code is asked for a receipt v2 under a trust
// bundle that requires receipts v2 (a log checkpoint, or witnesses'
// cosignatures), for a receipt v1 otherwise.
func TestCodeRequestPath(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, ledger.CodeKeySize)
	v1 := "/v1/code/" + hex.EncodeToString(key)
	for _, tc := range []struct {
		name  string
		trust *notaryv1.TrustBundle
		want  string
	}{
		{"no bundle", nil, v1},
		{"a genesis bundle", &notaryv1.TrustBundle{ChainId: "c"}, v1},
		{"a log checkpoint", &notaryv1.TrustBundle{ChainId: "c", LogCheckpoint: []byte("note")}, v1 + "?version=2"},
		{"witnesses required", &notaryv1.TrustBundle{ChainId: "c", WitnessThreshold: 1}, v1 + "?version=2"},
	} {
		if got := verify.CodeRequestPath(tc.trust, key); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if verify.CodePath(key) != v1 {
		t.Errorf("CodePath: %s", verify.CodePath(key))
	}
}
