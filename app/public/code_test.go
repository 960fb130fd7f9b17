package public_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// testCodeKey derives the key of a code, or of the made-up code of a label.
func testCodeKey(label string) []byte {
	_, key := vcodetest.Secrets(label)
	return key
}

// codedChain is a synthetic chain with a document anchored under a code
// (leaf 1 of a coded batch) and signed.
func codedChain(t *testing.T) (*receipttest.Chain, []byte, []byte) {
	t.Helper()
	c := receipttest.New(t, receipttest.Options{})
	key, d := testCodeKey("7KQ4MXW9TR2HDNPC8VE6"), receipttest.Digest("coded")
	c.AnchorCoded(sha2, "", [][]byte{testCodeKey("OTHER"), key}, [][]byte{receipttest.Digest("other"), d})
	c.Empty(1)
	return c, key, d
}

// TestCodeBadInput: a malformed code key is 400 with a sentence that says
// what a key is; a path below a key is 404.
func TestCodeBadInput(t *testing.T) {
	c, key, _ := codedChain(t)
	base := serve(t, app.PublicConfig{}, &chainBackend{Builder: c.Builder()}, public.Options{})
	hexKey := hex.EncodeToString(key)
	for _, tc := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"no key", "", 400, "bad_code_key"},
		{"short key", hexKey[:31], 400, "bad_code_key"},
		{"odd length", hexKey + "0", 400, "bad_code_key"},
		{"long key", hexKey + "00", 400, "bad_code_key"},
		{"a digest", strings.Repeat("ab", 32), 400, "bad_code_key"},
		{"capitals", strings.ToUpper(hexKey), 400, "bad_code_key"},
		{"not hex", strings.Repeat("zz", 16), 400, "bad_code_key"},
		{"the code itself", "7KQ4M-XW9TR-2HDNP-C8VE6", 400, "bad_code_key"},
		{"extra segment", hexKey + "/x", 404, "unknown_path"},
		{"post", hexKey, 405, "method_not_allowed"},
	} {
		method := "GET"
		if tc.name == "post" {
			method = "POST"
		}
		r := get(t, method, base+public.CodePrefix+tc.path)
		checkError(t, tc.name, r, tc.status, tc.code)
		if tc.code == "bad_code_key" && !strings.Contains(r.body, "32 lowercase hexadecimal characters") {
			t.Errorf("%s: %s does not say what a key is", tc.name, r.body)
		}
	}
}

// TestCodeAnswer: the code route answers the canonical JSON of the
// document's receipt (binding: algorithm, anchored digest, code key; no
// salt, no document digest) with its status at the newest provable state,
// and the status route's caching headers; every absent key gets the very
// same 404; a document anchored in the newest block is 503; a client over
// its rate gets 429.
func TestCodeAnswer(t *testing.T) {
	c, key, d := codedChain(t)
	b := &chainBackend{Builder: c.Builder()}
	const sede = "https://sede.example.gob.es"
	base := serve(t, app.PublicConfig{CORSOrigins: []string{sede}}, b, public.Options{})
	url := base + public.CodePrefix + hex.EncodeToString(key)
	r := get(t, "GET", url, "Origin: "+sede)
	if r.code != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "public, max-age=2" ||
		r.header.Get("Access-Control-Allow-Origin") != sede {
		t.Fatalf("code: %d %v %s", r.code, r.header, r.body)
	}
	if strings.ContainsAny(r.body, " \n") {
		t.Fatalf("body is not compact: %s", r.body)
	}
	rc, err := verify.DecodeReceipt([]byte(r.body))
	if err != nil {
		t.Fatalf("the answer is not a canonical receipt: %v", err)
	}
	want, err := c.Builder().ReceiptByCode(t.Context(), key, 0)
	if err != nil {
		t.Fatal(err)
	}
	if wantBody, _ := verify.EncodeReceipt(want); string(wantBody) != r.body {
		t.Fatal("the answer is not the receipt of the document by its key")
	}
	doc := rc.Document
	if doc.CodeKey != hex.EncodeToString(key) || doc.AnchoredDigest != hex.EncodeToString(d) || doc.Salt != "" || doc.DocumentDigest != "" || doc.HashAlgorithm != "sha2-256" {
		t.Fatalf("binding %v", doc)
	}
	height := rc.Status.Checkpoint.Height
	if height != c.Height()-1 || r.header.Get("ETag") != `"`+strconv.FormatInt(height, 10)+`"` || r.header.Get("Last-Modified") == "" {
		t.Fatalf("status at %d (tip %d), ETag %s", height, c.Height(), r.header.Get("ETag"))
	}
	res, err := verify.VerifyReceipt(rc, c.TrustBundle(), nil)
	if err != nil || res.Verdict != verify.Valid {
		t.Fatalf("verify: %v %+v", err, res)
	}
	if nm := get(t, "GET", url, "If-None-Match: "+r.header.Get("ETag")); nm.code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", nm.code)
	}

	// Absent keys: one answer, whatever the key (one differs from the
	// registered key in its last bit, one is a digest's first half).
	near := append([]byte(nil), key...)
	near[len(near)-1] ^= 1
	var first response
	for i, k := range [][]byte{testCodeKey("ABSENT"), near, d[:ledger.CodeKeySize], make([]byte, ledger.CodeKeySize)} {
		r := get(t, "GET", base+public.CodePrefix+hex.EncodeToString(k))
		checkError(t, "absent key", r, 404, "not_found")
		if !strings.Contains(r.body, "No document is registered under this code.") {
			t.Errorf("absent key: %s", r.body)
		}
		r.header.Del("Date")
		if i == 0 {
			first = r
			continue
		}
		if r.body != first.body || len(r.header) != len(first.header) {
			t.Errorf("absent key %d: %v %s, the first: %v %s", i, r.header, r.body, first.header, first.body)
		}
	}

	// Anchored in the newest block: no signed state yet.
	fresh := testCodeKey("FRESH")
	c.AnchorCoded(sha2, "", [][]byte{fresh}, [][]byte{receipttest.Digest("fresh")})
	r = get(t, "GET", base+public.CodePrefix+hex.EncodeToString(fresh))
	checkError(t, "anchored in the newest block", r, 503, "not_yet_signed")
	b.catchingUp.Store(true)
	checkError(t, "catching up", get(t, "GET", url), 503, "catching_up")
	b.catchingUp.Store(false)

	// The rate limit covers the code route as the status route.
	limited := serve(t, app.PublicConfig{RatePerSecond: 1, Burst: 2}, b, public.Options{})
	for i := range 2 {
		if r := get(t, "GET", limited+public.CodePrefix+hex.EncodeToString(testCodeKey("GUESS"+strconv.Itoa(i)))); r.code != 404 {
			t.Fatalf("guess %d: %d", i, r.code)
		}
	}
	checkError(t, "over the rate", get(t, "GET", limited+public.CodePrefix+hex.EncodeToString(key)), http.StatusTooManyRequests, "rate_limited")
}

// TestCodeStatus: GET /v1/status/code/<key> answers the live status of the
// coded document (code_key set, algorithm and digest of its leaf) that
// CheckLiveStatus accepts for its receipt, revoked once revoked by key;
// the document's digest is not found by the digest route; an absent key
// is 404, a malformed one 400.
func TestCodeStatus(t *testing.T) {
	c, key, d := codedChain(t)
	base := serve(t, app.PublicConfig{}, &chainBackend{Builder: c.Builder()}, public.Options{})
	url := base + public.StatusPrefix + public.StatusCodeName + "/" + hex.EncodeToString(key)
	rc, err := c.Builder().ReceiptByCode(t.Context(), key, 0)
	if err != nil {
		t.Fatal(err)
	}
	check := func(wantRevoked bool) {
		t.Helper()
		r := get(t, "GET", url)
		if r.code != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("ETag") == "" {
			t.Fatalf("status by code: %d %v %s", r.code, r.header, r.body)
		}
		live, err := verify.DecodeLiveStatus([]byte(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if live.CodeKey != hex.EncodeToString(key) || live.AnchoredDigest != hex.EncodeToString(d) || live.HashAlgorithm != "sha2-256" {
			t.Fatalf("live status %v", live)
		}
		lc, err := verify.CheckLiveStatus(c.TrustBundle(), rc, live)
		if err != nil || lc.Revoked != wantRevoked {
			t.Fatalf("CheckLiveStatus: %v %+v", err, lc)
		}
	}
	check(false)
	if r := get(t, "GET", base+verify.LiveStatusPath("sha2-256", hex.EncodeToString(d))); r.code != 404 {
		t.Fatalf("the coded document's digest by the digest route: %d %s", r.code, r.body)
	}
	c.RevokeCode(sha2, key, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, "")
	c.Empty(1)
	check(true)

	hexKey := hex.EncodeToString(key)
	for _, tc := range []struct {
		name, key string
		status    int
		code      string
	}{
		{"absent key", hex.EncodeToString(testCodeKey("ABSENT")), 404, "not_found"},
		{"short key", hexKey[:31], 400, "bad_code_key"},
		{"capitals", strings.ToUpper(hexKey), 400, "bad_code_key"},
		{"a digest", strings.Repeat("ab", 32), 400, "bad_code_key"},
		{"no key", "", 400, "bad_code_key"},
		{"extra segment", hexKey + "/x", 404, "unknown_path"},
	} {
		checkError(t, tc.name, get(t, "GET", base+public.StatusPrefix+public.StatusCodeName+"/"+tc.key), tc.status, tc.code)
	}
}

// prunedBackend builds receipts v1 as a node whose earliest state is above
// every document's registration: one that prunes, or joined by state sync.
type prunedBackend struct{ public.Backend }

func (prunedBackend) CodeReceipt(context.Context, []byte) (*notaryv1.Receipt, error) {
	return nil, fmt.Errorf("receipt: %w", &abci.EarliestStateError{Height: 7, Earliest: 1000})
}

// TestCodeStateNotHeld: a receipt v1 the node cannot build, since it does
// not hold the state of the registration's height, is refused as gone,
// naming receipt v2, without a Retry-After (no retry on this node
// succeeds).
func TestCodeStateNotHeld(t *testing.T) {
	c, key, _ := codedChain(t)
	base := serve(t, app.PublicConfig{}, prunedBackend{&chainBackend{Builder: c.Builder()}}, public.Options{})
	url := base + public.CodePrefix + hex.EncodeToString(key)
	r := get(t, "GET", url)
	checkError(t, "state not held", r, http.StatusGone, "state_not_held")
	if r.header.Get("Retry-After") != "" || !strings.Contains(r.body, "receipt v2") {
		t.Fatalf("state not held: %v %s", r.header, r.body)
	}
}
