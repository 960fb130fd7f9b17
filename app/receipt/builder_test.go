package receipt_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

var sha2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256

// networkSizes are the sizes of the real networks the round trip runs on: a
// dev chain, or NOTARY_TEST_VALIDATORS validators (the governance test below
// runs a consortium of four in any case).
func networkSizes(t *testing.T) []int {
	if s := os.Getenv("NOTARY_TEST_VALIDATORS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("NOTARY_TEST_VALIDATORS: %v", err)
		}
		return []int{n}
	}
	return []int{1}
}

func readTrust(t *testing.T, path string) *notaryv1.TrustBundle {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := verify.DecodeTrustBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestReceiptOnRealNetwork anchors on real in-process nodes, builds the
// receipt on each node and verifies it offline with the trust bundle that
// GenerateNetwork wrote.
func TestReceiptOnRealNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes")
	}
	for _, n := range networkSizes(t) {
		t.Run(strconv.Itoa(n)+" validators", func(t *testing.T) { roundTrip(t, n) })
	}
}

func roundTrip(t *testing.T, validators int) {
	nw := receipttest.StartNetwork(t, validators)
	trust := readTrust(t, nw.TrustFile)
	doc := []byte("informe de vida laboral\n")
	d := ledger.HashDocument(sha2, doc)
	loc := nw.Anchor(sha2, "vida laboral", receipttest.Digest("x"), d)
	for i := range nw.Nodes {
		r := nw.Receipt(i, sha2, d)
		if r.Anchor.Height != loc.Height || r.Inclusion.LeafIndex != 1 {
			t.Fatalf("node %d: anchor %d leaf %d, want %d and 1", i, r.Anchor.Height, r.Inclusion.LeafIndex, loc.Height)
		}
		file, err := verify.EncodeReceiptFile(r)
		if err != nil {
			t.Fatal(err)
		}
		res, err := verify.Verify(verify.Input{Receipt: file, Trust: trust, Document: bytes.NewReader(doc)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != verify.Valid {
			t.Fatalf("node %d: %s (%s: %s)", i, res.Verdict, res.Reason, res.Detail)
		}
		if res.Proven.Issuer.Name != "Agencia de Desarrollo (dev)" || res.Proven.Anchor.SignedPower*3 <= res.Proven.Anchor.TotalPower*2 {
			t.Fatalf("node %d: proven %+v", i, res.Proven)
		}
	}
}

// TestReceiptAfterGovernanceOnRealNetwork: on a real consortium of four,
// governance removes a validator and adds another; receipts of digests
// anchored before and after verify with the original trust bundle, through
// the two transitions.
func TestReceiptAfterGovernanceOnRealNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes")
	}
	nw := receipttest.StartNetwork(t, 4)
	trust := readTrust(t, nw.TrustFile)
	before := receipttest.Digest("before")
	nw.Anchor(sha2, "", before)
	ids := []string{"dev-ministry", "hacienda", "interior", "sanidad"}
	nw.Govern(ids, "remove sanidad", &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveValidator{RemoveValidator: "sanidad"}})
	// A validator without a node, with power 3 of 33: the others keep the
	// chain live without it.
	nw.Govern(ids[:3], "add observatorio", &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: &notaryv1.Ministry{
		Id: "observatorio", Name: "Observatorio Nacional", GovPubKey: receipttest.Key("gov/observatorio").Public().(ed25519.PublicKey),
		ConsensusPubKey: receipttest.Key("cons/observatorio").Public().(ed25519.PublicKey), Power: 3,
	}}})
	after := receipttest.Digest("after")
	loc := nw.Anchor(sha2, "", after)
	nw.WaitHeight(loc.Height + 2)
	for i := range nw.Nodes {
		for name, d := range map[string][]byte{"before": before, "after": after} {
			checkAfterGovernance(t, nw.Receipt(i, sha2, d), trust, name)
		}
	}
}

func checkAfterGovernance(t *testing.T, r *notaryv1.Receipt, trust *notaryv1.TrustBundle, name string) {
	t.Helper()
	if len(r.ValidatorChain) != 2 {
		t.Fatalf("%s: %d transitions, want 2", name, len(r.ValidatorChain))
	}
	res, err := verify.VerifyReceipt(r, trust, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.Valid {
		t.Fatalf("%s: %s (%s: %s)", name, res.Verdict, res.Reason, res.Detail)
	}
	if st := res.Proven.Status; len(res.Proven.ValidatorChain) != 2 || st.AsOf.IsZero() {
		t.Fatalf("%s: proven %+v", name, res.Proven)
	}
}

// TestBuilderRequests checks the builder's answers to requests it cannot
// serve, and the status height.
func TestBuilderRequests(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	c.Empty(2)
	d := receipttest.Digest("r")
	h := c.Anchor(sha2, "", d)
	c.Empty(5)
	b := c.Builder()
	ctx := context.Background()
	cases := []struct {
		name   string
		alg    notaryv1.HashAlgorithm
		digest []byte
		status int64
		want   error
	}{
		{"not anchored", sha2, receipttest.Digest("other"), 0, ledger.ErrNotFound},
		{"other algorithm", notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256, d, 0, ledger.ErrNotFound},
		{"unknown algorithm", 9, d, 0, ledger.ErrInvalidField},
		{"short digest", sha2, d[:31], 0, ledger.ErrBadDigestLength},
		{"negative status height", sha2, d, -1, ledger.ErrInvalidField},
		{"status below the anchor", sha2, d, h - 1, ledger.ErrHeightUnavailable},
		{"status at the tip (no signed header yet)", sha2, d, c.Height(), ledger.ErrHeightUnavailable},
	}
	for _, tc := range cases {
		if _, err := b.Receipt(ctx, tc.alg, tc.digest, tc.status); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, s := range []int64{0, h, h + 2, c.Height() - 1} {
		r, err := b.Receipt(ctx, sha2, d, s)
		if err != nil {
			t.Fatalf("status %d: %v", s, err)
		}
		want := s
		if s == 0 {
			want = c.Height() - 1
		}
		if r.Status.Checkpoint.Height != want {
			t.Errorf("status %d: at %d", s, r.Status.Checkpoint.Height)
		}
		res, err := verify.VerifyReceipt(r, c.TrustBundle(), nil)
		if err != nil || res.Verdict != verify.Valid {
			t.Errorf("status %d: %v %+v", s, err, res)
		}
	}
	for _, hh := range []int64{-1, c.Height(), c.Height() + 5} {
		if _, _, err := b.Checkpoint(ctx, hh); err == nil {
			t.Errorf("checkpoint %d: no error", hh)
		}
	}
	resp, err := b.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{Height: h})
	if err != nil || resp.Checkpoint.Height != h {
		t.Fatalf("GetCheckpoint: %v %v", resp, err)
	}
	rr, err := b.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: d})
	if err != nil || rr.Receipt.Document.Salt != "" || rr.Receipt.Document.DocumentDigest != "" {
		t.Fatalf("GetReceipt: %v %v", rr, err)
	}
}

// TestBuilderWaitsForTheSigningBlock: a digest anchored in the newest block
// has no signed header yet; Receipt waits for it, within bounds.
func TestBuilderWaitsForTheSigningBlock(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	d := receipttest.Digest("w")
	c.Anchor(sha2, "", d)
	b := c.Builder()
	b.MaxWait = 50 * time.Millisecond
	if _, err := b.Receipt(context.Background(), sha2, d, 0); !errors.Is(err, ledger.ErrHeightUnavailable) {
		t.Fatalf("without the next block: %v", err)
	}
	b.MaxWait = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Receipt(ctx, sha2, d, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with a deadline: %v", err)
	}
	c.Empty(1)
	if _, err := b.Receipt(context.Background(), sha2, d, 0); err != nil {
		t.Fatal(err)
	}
}

// codeKey derives the key of a code, or of the made-up code of a label.
func codeKey(label string) []byte {
	_, key := vcodetest.Secrets(label)
	return key
}

// TestBuilderCodedReceipts: a document anchored under a verification code
// is found by its code key, not by its anchored digest, with the key in the
// binding; the receipt verifies; the public endpoint's CodeReceipt never
// waits for a block. Revoked by key, its receipt and live status say so.
func TestBuilderCodedReceipts(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	c.Empty(1)
	keys := [][]byte{codeKey("AAAAAAAAAAAAAAAAAAA2"), codeKey("AAAAAAAAAAAAAAAAAAA3"), codeKey("AAAAAAAAAAAAAAAAAAA4")}
	ds := [][]byte{receipttest.Digest("c0"), receipttest.Digest("c1"), receipttest.Digest("c2")}
	h := c.AnchorCoded(sha2, "coded", keys, ds)
	b := c.Builder()
	ctx := context.Background()
	// Anchored in the newest block: no signed header yet.
	if _, err := b.CodeReceipt(ctx, keys[1]); !errors.Is(err, ledger.ErrHeightUnavailable) {
		t.Fatalf("CodeReceipt before the signing block: %v", err)
	}
	c.Empty(2)
	for i := range keys {
		if _, err := b.Receipt(ctx, sha2, ds[i], 0); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("leaf %d by its digest: %v", i, err)
		}
		if _, err := b.LiveStatus(ctx, sha2, ds[i]); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("leaf %d live status by its digest: %v", i, err)
		}
		byCode, err := b.ReceiptByCode(ctx, keys[i], 0)
		if err != nil {
			t.Fatal(err)
		}
		public, err := b.CodeReceipt(ctx, keys[i])
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(byCode, public) {
			t.Fatalf("leaf %d: the receipts by code differ", i)
		}
		live, err := b.LiveStatusByCode(ctx, keys[i])
		if err != nil || live.CodeKey != hex.EncodeToString(keys[i]) || live.AnchoredDigest != hex.EncodeToString(ds[i]) ||
			live.HashAlgorithm != "sha2-256" || live.AnchorHeight != h || !proto.Equal(live.Status, byCode.Status) {
			t.Fatalf("leaf %d: live status %v %v", i, live, err)
		}
		d := byCode.Document
		if d.CodeKey != hex.EncodeToString(keys[i]) || d.AnchoredDigest != hex.EncodeToString(ds[i]) || d.Salt != "" || d.DocumentDigest != "" ||
			byCode.Inclusion.LeafIndex != uint32(i) || byCode.Anchor.Height != h || byCode.Status.Checkpoint.Height != c.Height()-1 {
			t.Fatalf("leaf %d: receipt %v", i, byCode)
		}
		res, err := verify.VerifyReceipt(byCode, c.TrustBundle(), nil)
		if err != nil || res.Verdict != verify.Valid || res.Proven.Document.CodeKey != d.CodeKey {
			t.Fatalf("leaf %d: %v %+v", i, err, res)
		}
	}
	byHeight, err := b.ReceiptByCode(ctx, keys[0], h)
	if err != nil || byHeight.Status.Checkpoint.Height != h {
		t.Fatalf("status at the anchor: %v %v", byHeight, err)
	}
	rr, err := b.GetReceipt(ctx, &notaryv1.GetReceiptRequest{CodeKey: keys[2]})
	if err != nil || rr.Receipt.Document.CodeKey != hex.EncodeToString(keys[2]) {
		t.Fatalf("GetReceipt by code: %v %v", rr, err)
	}
	for _, tc := range []struct {
		name   string
		key    []byte
		status int64
		want   error
	}{
		{"unknown key", codeKey("AAAAAAAAAAAAAAAAAAA5"), 0, ledger.ErrNotFound},
		{"a digest's first bytes", ds[0][:ledger.CodeKeySize], 0, ledger.ErrNotFound},
		{"short key", keys[0][:15], 0, ledger.ErrInvalidField},
		{"a digest", ds[0], 0, ledger.ErrInvalidField},
		{"no key", nil, 0, ledger.ErrInvalidField},
		{"negative status height", keys[0], -1, ledger.ErrInvalidField},
		{"status below the anchor", keys[0], h - 1, ledger.ErrHeightUnavailable},
	} {
		if _, err := b.ReceiptByCode(ctx, tc.key, tc.status); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if tc.status == 0 {
			if _, err := b.CodeReceipt(ctx, tc.key); !errors.Is(err, tc.want) {
				t.Errorf("%s: CodeReceipt: %v, want %v", tc.name, err, tc.want)
			}
			if _, err := b.LiveStatusByCode(ctx, tc.key); !errors.Is(err, tc.want) {
				t.Errorf("%s: LiveStatusByCode: %v, want %v", tc.name, err, tc.want)
			}
		}
	}

	// Revoked by key: the receipt proves the key's record.
	c.RevokeCode(sha2, keys[1], notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, "")
	c.Empty(1)
	revoked, err := b.ReceiptByCode(ctx, keys[1], 0)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.VerifyReceipt(revoked, c.TrustBundle(), nil); err != nil || res.Verdict != verify.Revoked {
		t.Fatalf("revoked by key: %v %+v", err, res)
	}
	old, err := b.ReceiptByCode(ctx, keys[1], h)
	if err != nil {
		t.Fatal(err)
	}
	live, err := b.LiveStatusByCode(ctx, keys[1])
	if err != nil {
		t.Fatal(err)
	}
	if lc, err := verify.CheckLiveStatus(c.TrustBundle(), old, live); err != nil || !lc.Revoked {
		t.Fatalf("live status of the revoked document: %v %+v", err, lc)
	}
	if other, err := b.ReceiptByCode(ctx, keys[0], 0); err != nil || len(other.Status.Revocation) != 0 {
		t.Fatalf("another key's document: %v", err)
	}
}
