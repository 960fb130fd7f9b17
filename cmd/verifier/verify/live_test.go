package verify_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// liveOf is the live status a node would serve for a receipt's digest at
// the receipt's status height: its status part and validator chain.
func liveOf(r *notaryv1.Receipt) *notaryv1.LiveStatus {
	return &notaryv1.LiveStatus{
		Version: 1, ChainId: r.ChainId, HashAlgorithm: r.Document.HashAlgorithm, AnchoredDigest: r.Document.AnchoredDigest,
		AnchorHeight: r.Anchor.Height, Status: proto.CloneOf(r.Status), ValidatorChain: r.ValidatorChain,
	}
}

// liveChain is a chain with a receipt taken before a revocation, the
// receipt after it, and a receipt for another digest of the same batch.
type liveChain struct {
	trust             *notaryv1.TrustBundle
	old, later, other *notaryv1.Receipt
	oldFile           []byte
	chain             *receipttest.Chain
}

func newLiveChain(t *testing.T) *liveChain {
	t.Helper()
	c := receipttest.New(t, receipttest.Options{})
	c.Empty(1)
	d := receipttest.Digest("live")
	c.AddValidator([]string{"hacienda", "interior", "justicia", "sanidad"}, receipttest.Ministry{ID: "educacion", Name: "Ministerio de Educación", Power: 10})
	c.Empty(1)
	c.Anchor(sha2, "certificados", receipttest.Digest("x"), d)
	c.Empty(1)
	lc := &liveChain{trust: c.TrustBundle(), old: c.Receipt(sha2, d), chain: c}
	c.RemoveValidator([]string{"hacienda", "interior", "justicia", "sanidad", "educacion"}, "sanidad")
	c.Empty(2)
	c.Revoke(sha2, d, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, "")
	c.Empty(StaleGap + 1)
	lc.later, lc.other = c.Receipt(sha2, d), c.Receipt(sha2, receipttest.Digest("x"))
	var err error
	if lc.oldFile, err = verify.EncodeReceiptFile(lc.old); err != nil {
		t.Fatal(err)
	}
	return lc
}

// StaleGap is more blocks than verify.StaleBlocks.
const StaleGap = verify.StaleBlocks + 1

func TestCheckLiveStatus(t *testing.T) {
	lc := newLiveChain(t)
	res, err := verify.Verify(verify.Input{Receipt: lc.oldFile, Trust: lc.trust})
	if err != nil || res.Verdict != verify.Valid {
		t.Fatalf("old receipt: %v %+v", err, res)
	}
	now, err := verify.CheckLiveStatus(lc.trust, lc.old, liveOf(lc.later))
	if err != nil || !now.Revoked || now.Revocation == nil || now.Revocation.Reason != "fraud" || now.Height <= res.Proven.Status.Height {
		t.Fatalf("later status: %v %+v", err, now)
	}
	then, err := verify.CheckLiveStatus(lc.trust, lc.old, liveOf(lc.old))
	if err != nil || then.Revoked || then.Height != res.Proven.Status.Height {
		t.Fatalf("the receipt's own status: %v %+v", err, then)
	}

	cases := []struct {
		name   string
		change func(ls *notaryv1.LiveStatus)
		want   verify.LiveErrorCode
	}{
		{"version", func(ls *notaryv1.LiveStatus) { ls.Version = 2 }, verify.LiveMalformed},
		{"chain", func(ls *notaryv1.LiveStatus) { ls.ChainId = "notary-other" }, verify.LiveMismatch},
		{"algorithm", func(ls *notaryv1.LiveStatus) { ls.HashAlgorithm = "sha3-256" }, verify.LiveMismatch},
		{"anchor height", func(ls *notaryv1.LiveStatus) { ls.AnchorHeight++ }, verify.LiveMismatch},
		{"another digest", func(ls *notaryv1.LiveStatus) { proto.Reset(ls); proto.Merge(ls, liveOf(lc.other)) }, verify.LiveMismatch},
		{"proof for another digest", func(ls *notaryv1.LiveStatus) {
			digest := ls.AnchoredDigest
			proto.Reset(ls)
			proto.Merge(ls, liveOf(lc.other))
			ls.AnchoredDigest = digest
		}, verify.LiveNotValid},
		{"signature", func(ls *notaryv1.LiveStatus) { ls.Status.Checkpoint.Commit.Signatures[0].Signature[3] ^= 1 }, verify.LiveNotValid},
		{"transition left out", func(ls *notaryv1.LiveStatus) { ls.ValidatorChain = ls.ValidatorChain[1:] }, verify.LiveNotValid},
		{"no status", func(ls *notaryv1.LiveStatus) { ls.Status = nil }, verify.LiveMalformed},
		{"bad header bytes", func(ls *notaryv1.LiveStatus) { ls.Status.Checkpoint.Header = []byte{1, 2} }, verify.LiveMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ls := proto.CloneOf(liveOf(lc.later))
			tc.change(ls)
			_, err := verify.CheckLiveStatus(lc.trust, lc.old, ls)
			var le *verify.LiveError
			if !errors.As(err, &le) || le.Code != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestLiveStatusCodec(t *testing.T) {
	lc := newLiveChain(t)
	b, err := verify.EncodeLiveStatus(liveOf(lc.later))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := verify.DecodeLiveStatus(b)
	if err != nil || !proto.Equal(ls, liveOf(lc.later)) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := verify.DecodeLiveStatus(bytes.Replace(b, []byte(`"version":1`), []byte(`"version":1.0`), 1)); err == nil {
		t.Error("non-canonical number decoded")
	}
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		want   verify.LiveErrorCode
	}{
		{"ok", 200, b, ""},
		{"not found", 404, []byte(`{"error":"not anchored","code":"not_found"}`), verify.LiveNotFound},
		{"rate limited", 429, nil, verify.LiveBusy},
		{"catching up", 503, nil, verify.LiveBusy},
		{"teapot", 418, nil, verify.LiveHTTP},
		{"garbage", 200, []byte("\x00garbage"), verify.LiveMalformed},
		{"empty", 200, nil, verify.LiveMalformed},
		{"nested", 200, []byte(strings.Repeat(`{"status":`, 50000)), verify.LiveMalformed},
		{"too large", 200, bytes.Repeat([]byte(" "), verify.MaxLiveStatusSize+1), verify.LiveTooLarge},
	} {
		out := verify.CheckLiveAnswer(lc.trust, lc.old, "https://n.example", tc.status, tc.body)
		var le *verify.LiveError
		switch {
		case tc.want == "" && (out.Err != nil || out.Check == nil || !out.Check.Revoked):
			t.Errorf("%s: %+v", tc.name, out)
		case tc.want != "" && (!errors.As(out.Err, &le) || le.Code != tc.want || out.Check != nil):
			t.Errorf("%s: %+v, want %s", tc.name, out, tc.want)
		}
	}
}

func TestCombine(t *testing.T) {
	lc := newLiveChain(t)
	res, err := verify.Verify(verify.Input{Receipt: lc.oldFile, Trust: lc.trust})
	if err != nil {
		t.Fatal(err)
	}
	later, err := verify.CheckLiveStatus(lc.trust, lc.old, liveOf(lc.later))
	if err != nil {
		t.Fatal(err)
	}
	then, err := verify.CheckLiveStatus(lc.trust, lc.old, liveOf(lc.old))
	if err != nil {
		t.Fatal(err)
	}
	notRevokedLater := &verify.LiveCheck{Height: later.Height, AsOf: later.AsOf}
	timeout := &verify.LiveError{Code: verify.LiveTimeout, Timeout: 5 * time.Second}
	cases := []struct {
		name     string
		outcomes []verify.NodeOutcome
		verdict  verify.Verdict
		checked  int
		text     []string // in English
	}{
		{"offline", nil, verify.Valid, 0, []string{"It was not revoked as of", "could not be checked", "Trust bundle: SHA-256 fingerprint " + res.TrustFingerprint}},
		{"all failed", []verify.NodeOutcome{{Endpoint: "https://a.example", Err: timeout}, {Endpoint: "https://b.example", Err: errors.New("connection refused")}},
			verify.Valid, 0, []string{"could not be checked", "No valid answer from: https://a.example (did not answer within 5 s); https://b.example (could not be reached)."}},
		{"revoked since", []verify.NodeOutcome{{Endpoint: "https://a.example", Check: later}, {Endpoint: "https://b.example", Err: timeout}},
			verify.Revoked, 1, []string{"REVOKED.", "obtained by fraud", "Status checked live with 1 of 2 nodes."}},
		{"same as the receipt", []verify.NodeOutcome{{Endpoint: "https://a.example", Check: then}},
			verify.Valid, 1, []string{"VALID.", "Status checked live with 1 of 1 nodes."}},
		{"stale node", []verify.NodeOutcome{{Endpoint: "https://a.example", Check: later}, {Endpoint: "https://b.example", Check: then}},
			verify.Revoked, 2, []string{"Warning: https://b.example answers with an old status"}},
		{"disagreement", []verify.NodeOutcome{{Endpoint: "https://a.example", Check: later}, {Endpoint: "https://b.example", Check: notRevokedLater}},
			verify.Revoked, 2, []string{"Warning: the nodes disagree: according to https://a.example it is revoked, and according to https://b.example it is not"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := verify.Combine(res, tc.outcomes)
			if c.Verdict != tc.verdict || c.Live == nil || c.Live.Checked != tc.checked || c.Live.Tried != len(tc.outcomes) {
				t.Fatalf("%s: %+v %+v", tc.name, c.Verdict, c.Live)
			}
			text := c.Text(verify.English, nil)
			for _, w := range tc.text {
				if !strings.Contains(text, w) {
					t.Errorf("%q not in %s", w, text)
				}
			}
			for _, l := range []verify.Lang{verify.Spanish, verify.Catalan, verify.Galician, verify.Basque} {
				if s := c.Text(l, nil); strings.Contains(s, "{") || strings.Contains(s, "live.") {
					t.Errorf("%s: %s", l, s)
				}
			}
		})
	}
	if res.Verdict != verify.Valid || res.Live != nil || res.Proven.Status.Revoked {
		t.Error("Combine changed the Result it was given")
	}
	bad := &verify.Result{Verdict: verify.NotValid, Reason: verify.ReasonProofInvalid}
	if verify.Combine(bad, []verify.NodeOutcome{{Check: later}}) != bad {
		t.Error("a not valid Result was combined")
	}
}
