package receipt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// withLive returns the receipt r with its status part replaced by a live
// status, as a verifier combines them.
func withLive(r *notaryv1.Receipt, live *notaryv1.LiveStatus) *notaryv1.Receipt {
	out := proto.CloneOf(r)
	out.Status, out.ValidatorChain = live.Status, live.ValidatorChain
	return out
}

// TestLiveStatus: the live status is at the newest signed state, never
// waits, and proves a revocation once the block after it is stored; it
// verifies as a receipt's status part.
func TestLiveStatus(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	c.Empty(1)
	d := receipttest.Digest("live")
	h := c.Anchor(sha2, "", d)
	b := c.Builder()
	b.MaxWait, b.StatusWait = time.Hour, time.Hour // neither may be used
	ctx := context.Background()

	if _, err := b.LiveStatus(ctx, sha2, d); !errors.Is(err, ledger.ErrHeightUnavailable) {
		t.Fatalf("anchored in the newest block: %v", err)
	}
	c.Empty(1)
	old := c.Receipt(sha2, d)
	live, err := b.LiveStatus(ctx, sha2, d)
	if err != nil {
		t.Fatal(err)
	}
	if live.Version != 1 || live.ChainId != c.ChainID() || live.HashAlgorithm != "sha2-256" || live.AnchorHeight != h ||
		live.Status.Checkpoint.Height != c.Height()-1 || len(live.Status.Revocation) != 0 {
		t.Fatalf("live status %v", live)
	}
	res, err := verify.VerifyReceipt(withLive(old, live), c.TrustBundle(), nil)
	if err != nil || res.Verdict != verify.Valid {
		t.Fatalf("live status as the receipt's status: %v %+v", err, res)
	}

	r := c.Revoke(sha2, d, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, "fraude")
	start := time.Now()
	live, err = b.LiveStatus(ctx, sha2, d)
	if err != nil || live.Status.Checkpoint.Height != r-1 || len(live.Status.Revocation) != 0 {
		t.Fatalf("before the block that signs the revocation: %v %v", live, err)
	}
	rc, err := b.Receipt(ctx, sha2, d, 0)
	if err != nil || rc.Status.Checkpoint.Height != r-1 {
		t.Fatalf("receipt before the block that signs the revocation: %v", err)
	}
	if e := time.Since(start); e > 10*time.Second {
		t.Fatalf("waited %s", e)
	}
	c.Empty(1)
	live, err = b.LiveStatus(ctx, sha2, d)
	if err != nil || live.Status.Checkpoint.Height != r || len(live.Status.Revocation) == 0 {
		t.Fatalf("after the block that signs the revocation: %v %v", live, err)
	}
	res, err = verify.VerifyReceipt(withLive(old, live), c.TrustBundle(), nil)
	if err != nil || res.Verdict != verify.Revoked {
		t.Fatalf("old receipt with the live status: %v %+v", err, res)
	}

	for name, tc := range map[string]struct {
		alg    notaryv1.HashAlgorithm
		digest []byte
		want   error
	}{
		"not anchored":      {sha2, receipttest.Digest("nope"), ledger.ErrNotFound},
		"other algorithm":   {notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256, d, ledger.ErrNotFound},
		"unknown algorithm": {9, d, ledger.ErrInvalidField},
		"short digest":      {sha2, d[:31], ledger.ErrBadDigestLength},
	} {
		if _, err := b.LiveStatus(ctx, tc.alg, tc.digest); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.LiveStatus(cctx, sha2, d); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestLiveStatusAfterValidatorChange: the live status carries the
// transitions from the trust bundle to the set that signed it.
func TestLiveStatusAfterValidatorChange(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	d := receipttest.Digest("vc")
	c.Anchor(sha2, "", d)
	c.Empty(1)
	old := c.Receipt(sha2, d)
	voters := []string{"hacienda", "interior", "justicia", "sanidad"}
	c.AddValidator(voters, receipttest.Ministry{ID: "cultura", Name: "Ministerio de Cultura", Power: 10})
	c.Empty(3)
	live, err := c.Builder().LiveStatus(context.Background(), sha2, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(live.ValidatorChain) != 1 {
		t.Fatalf("%d transitions, want 1", len(live.ValidatorChain))
	}
	res, err := verify.VerifyReceipt(withLive(old, live), c.TrustBundle(), nil)
	if err != nil || res.Verdict != verify.Valid {
		t.Fatalf("%v %+v", err, res)
	}
}

// TestReceiptStatusDoesNotWait: a receipt's status at the newest state is
// the newest provable one at once; a status height committed but not yet
// signed waits at most StatusWait for the block that signs it.
func TestReceiptStatusDoesNotWait(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	d := receipttest.Digest("nowait")
	c.Anchor(sha2, "", d)
	c.Empty(2)
	b := c.Builder()
	b.StatusWait = time.Hour
	start := time.Now()
	r, err := b.Receipt(context.Background(), sha2, d, 0)
	if err != nil || r.Status.Checkpoint.Height != c.Height()-1 {
		t.Fatalf("%v %v", r, err)
	}
	if e := time.Since(start); e > 10*time.Second {
		t.Fatalf("waited %s", e)
	}
	b.StatusWait = 30 * time.Millisecond
	if _, err := b.Receipt(context.Background(), sha2, d, c.Height()); !errors.Is(err, ledger.ErrHeightUnavailable) {
		t.Fatalf("status at the tip: %v", err)
	}
	c.Empty(1)
	if r, err := b.Receipt(context.Background(), sha2, d, c.Height()-1); err != nil || r.Status.Checkpoint.Height != c.Height()-1 {
		t.Fatalf("status at the state the new block signs: %v", err)
	}
}
