package public_test

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// v2Bundle is the chain's trust bundle carrying the latest valid
// checkpoint of its log (so it requires receipts v2).
func v2Bundle(t *testing.T, c *receipttest.Chain) *notaryv1.TrustBundle {
	t.Helper()
	tb := c.LogTrustBundle()
	if err := verify.CheckTrustBundle(tb); err != nil {
		t.Fatal(err)
	}
	if !verify.RequiresV2(tb) {
		t.Fatal("the bundle does not require receipts v2")
	}
	return tb
}

// TestCodeV2: /v1/code/<key>?version=2 answers the document's receipt v2
// (the builder's ReceiptV2ByCode) that VerifyCode accepts under a bundle
// requiring v2, with a content ETag (304 on If-None-Match) and a
// checkpoint's Cache-Control; before a signed checkpoint covers the batch
// it is 503 no_checkpoint_yet with Retry-After; an absent key is the v1
// route's very 404; a bad version is 400; a chain without the evidence log
// is 501; the rate limit covers it.
func TestCodeV2(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{EvidenceLog: true})
	code := "7KQ4MXW9TR2HDNPC8VE6"
	salt, key := vcodetest.Secrets(code)
	d := receipttest.Digest("coded-v2")
	c.AnchorCoded(sha2, "", [][]byte{testCodeKey("OTHER"), key}, [][]byte{receipttest.Digest("other"), d})
	c.Empty(1)
	if err := c.App.FlushLog(); err != nil {
		t.Fatal(err)
	}
	bld := c.Builder()
	bld.Log = c.LogSource()
	b := &chainBackend{Builder: bld}
	base := serve(t, app.PublicConfig{RatePerSecond: 1e6, Burst: 1e6}, b, public.Options{})
	url := base + public.CodePrefix + hex.EncodeToString(key)
	v2 := url + "?" + public.CodeVersionParam + "=" + public.CodeVersionV2

	r := get(t, "GET", v2)
	checkError(t, "before a signed checkpoint", r, http.StatusServiceUnavailable, "no_checkpoint_yet")
	if r.header.Get("Retry-After") != "5" || !strings.Contains(r.body, "receipt v1") {
		t.Fatalf("before a signed checkpoint: %v %s", r.header, r.body)
	}
	if v1 := get(t, "GET", url); v1.code != 200 {
		t.Fatalf("v1 meanwhile: %d %s", v1.code, v1.body)
	}

	c.SignCheckpoint(1, "hacienda", "interior", "justicia")
	r = get(t, "GET", v2)
	if r.code != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "public, max-age=5" ||
		r.header.Get("ETag") == "" || r.header.Get("Last-Modified") != "" {
		t.Fatalf("v2: %d %v %s", r.code, r.header, r.body)
	}
	rc, err := verify.DecodeReceipt([]byte(r.body))
	if err != nil {
		t.Fatalf("the answer is not a canonical receipt: %v", err)
	}
	want, err := bld.ReceiptV2ByCode(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if wantBody, _ := verify.EncodeReceipt(want); string(wantBody) != r.body {
		t.Fatal("the answer is not the builder's receipt v2 of the key")
	}
	if rc.Version != 2 || rc.Document.CodeKey != hex.EncodeToString(key) || rc.Document.Salt != "" || rc.Status != nil {
		t.Fatalf("receipt v2: %v", rc)
	}
	tb := v2Bundle(t, c)
	res, _, err := verify.VerifyCode(rc, tb, salt, key, nil)
	if err != nil || res.Verdict != verify.Valid || !res.ByCode || res.Proven == nil || res.Proven.Version != 2 || res.Proven.Log == nil {
		t.Fatalf("VerifyCode under a v2 bundle: %v %+v", err, res)
	}
	if got := verify.CheckCodeAnswer(tb, salt, key, base, r.code, []byte(r.body)); !got.Found() {
		t.Fatalf("CheckCodeAnswer: %+v", got.Err)
	}
	v1, err := verify.DecodeReceipt([]byte(get(t, "GET", url+"?version=1").body))
	if err != nil {
		t.Fatal(err)
	}
	if res, _, err := verify.VerifyCode(v1, tb, salt, key, nil); err != nil || res.Verdict != verify.NotValid || res.Reason != verify.ReasonReceiptV2Required {
		t.Fatalf("a receipt v1 under the v2 bundle: %v %+v", err, res)
	}
	if nm := get(t, "GET", v2, "If-None-Match: "+r.header.Get("ETag")); nm.code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", nm.code)
	}

	// Absent keys: the v1 route's very answer.
	absent := base + public.CodePrefix + hex.EncodeToString(testCodeKey("ABSENT"))
	a1, a2 := get(t, "GET", absent), get(t, "GET", absent+"?version=2")
	checkError(t, "absent key, v2", a2, 404, "not_found")
	if a1.body != a2.body {
		t.Fatalf("absent key: v1 %s, v2 %s", a1.body, a2.body)
	}

	for _, q := range []string{"?version=3", "?version=", "?version=2&version=2", "?version=v2"} {
		checkError(t, q, get(t, "GET", url+q), 400, "bad_version")
	}

	// A chain without the evidence log.
	plain, plainKey, _ := codedChain(t)
	pb := plain.Builder()
	pb.Log = plain.LogSource()
	pbase := serve(t, app.PublicConfig{RatePerSecond: 1, Burst: 1}, &chainBackend{Builder: pb}, public.Options{})
	checkError(t, "a chain without the log", get(t, "GET", pbase+public.CodePrefix+hex.EncodeToString(plainKey)+"?version=2"), http.StatusNotImplemented, "no_evidence_log")
	checkError(t, "over the rate", get(t, "GET", pbase+public.CodePrefix+hex.EncodeToString(plainKey)+"?version=2"), http.StatusTooManyRequests, "rate_limited")
}
