package webapi_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"
	"github.com/gobtechlab/notary/cmd/verifier/verify/webapi"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestVerifyCodeV2: under a trust bundle that carries a log checkpoint,
// a code's request asks for a receipt v2 (under the genesis bundle, v1);
// the receipt v2 a node builds verifies by code, alone and with the
// document, its status taken from the live answers, the source's among
// them; a receipt v1 is refused under that bundle.
func TestVerifyCodeV2(t *testing.T) {
	ctx := context.Background()
	c := receipttest.New(t, receipttest.Options{EvidenceLog: true})
	code := vcodetest.Code("WEB-V2")
	sec := code.Derive()
	doc := []byte("a document registered under a code, proven by a receipt v2")
	sum := sha256.Sum256(doc)
	sha2 := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	c.AnchorCoded(sha2, "", [][]byte{sec.Key[:]}, [][]byte{ledger.SaltedDigest(sha2, sec.Salt[:], sum[:])})
	c.Empty(1)
	if err := c.App.FlushLog(); err != nil {
		t.Fatal(err)
	}
	c.SignCheckpoint(1, "hacienda", "interior", "justicia")
	b := c.Builder()
	b.Log = c.LogSource()
	rc, err := b.ReceiptV2ByCode(ctx, sec.Key[:])
	if err != nil {
		t.Fatal(err)
	}
	node, err := verify.EncodeReceipt(rc)
	if err != nil {
		t.Fatal(err)
	}
	live, err := b.LiveStatusByCode(ctx, sec.Key[:])
	if err != nil {
		t.Fatal(err)
	}
	liveBody, err := verify.EncodeLiveStatus(live)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.EncodeTrustBundle(c.LogTrustBundle())
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := verify.EncodeTrustBundle(c.TrustBundle())
	if err != nil {
		t.Fatal(err)
	}

	if got := webapi.ParseCodeFor(code.String(), "en", trust); !got.OK || got.CodePath != "/v1/code/"+got.Key+"?version=2" || got.ReceiptVersion != 2 {
		t.Fatalf("under a v2 bundle: %+v", got)
	}
	for name, tb := range map[string][]byte{"genesis bundle": genesis, "no bundle": nil, "not a bundle": []byte("{}")} {
		if got := webapi.ParseCodeFor(code.String(), "en", tb); !got.OK || got.CodePath != "/v1/code/"+got.Key || got.ReceiptVersion != 1 {
			t.Errorf("%s: %+v", name, got)
		}
	}

	const source = "https://a.example"
	base := webapi.CodeRequest{Code: code.String(), Receipt: node, Source: source, Trust: trust, Lang: "en",
		Live: []webapi.LiveAnswer{{Endpoint: source, Status: 200, Body: liveBody}}}
	alone := webapi.VerifyCode(base)
	if alone.Verdict != verify.Valid || alone.Facts == nil || alone.Facts.Revoked || alone.DocumentChecked || alone.Live == nil || alone.Live.Checked != 1 || alone.Live.Tried != 1 {
		t.Fatalf("code alone: %+v", alone)
	}
	if len(alone.Steps) == 0 || alone.Steps[0].Name != "code" {
		t.Errorf("steps: %+v", alone.Steps)
	}
	withDoc := base
	withDoc.Document = doc
	got := webapi.VerifyCode(withDoc)
	if got.Verdict != verify.Valid || !got.DocumentChecked || got.ReceiptFile == "" {
		t.Fatalf("with the document: %+v", got)
	}
	res, err := verify.Verify(verify.Input{Receipt: []byte(got.ReceiptFile), Trust: c.LogTrustBundle(), Document: strings.NewReader(string(doc))})
	if err != nil || res.Verdict != verify.Valid || res.Proven.Version != 2 {
		t.Fatalf("the full receipt v2: %v %+v", err, res)
	}
	noLive := base
	noLive.Live = nil
	if got := webapi.VerifyCode(noLive); got.Verdict == verify.NotValid || got.Live == nil || got.Live.Checked != 0 {
		t.Fatalf("no live answer: %+v", got)
	}

	v1, err := b.CodeReceipt(ctx, sec.Key[:])
	if err != nil {
		t.Fatal(err)
	}
	v1Body, err := verify.EncodeReceipt(v1)
	if err != nil {
		t.Fatal(err)
	}
	refused := base
	refused.Receipt = v1Body
	if got := webapi.VerifyCode(refused); got.Verdict != verify.NotValid {
		t.Fatalf("a receipt v1 under a v2 bundle: %+v", got)
	}
}
