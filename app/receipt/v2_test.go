package receipt_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// logSource is the builder's view of a synthetic chain's evidence log:
// its tile store and the checkpoint notes of its state.
func logSource(c *receipttest.Chain) *receipt.LogSource {
	tiles := c.App.LogTiles()
	return &receipt.LogSource{
		Tiles:       logproof.StoreTiles{Store: tiles},
		Size:        func() uint64 { return tiles.Tree().Size },
		Checkpoints: checkpoint.NewNotes(c.ChainID(), func() (checkpoint.State, error) { return c.App.StateAt(0) }),
	}
}

// signCheckpoint has ministries sign the checkpoint of size in a block.
func signCheckpoint(t *testing.T, c *receipttest.Chain, size uint64, ministries ...string) {
	t.Helper()
	view, err := c.App.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := ledger.LoadCheckpoint(view, size)
	if err != nil || ck == nil {
		t.Fatalf("no checkpoint of size %d: %v", size, err)
	}
	text := ledger.CheckpointText(ledger.CheckpointOrigin(c.ChainID()), ck.Size, ck.Root)
	var txs [][]byte
	for _, id := range ministries {
		k := receipttest.Key("cons/" + id)
		txs = append(txs, identity.SignTx(c.ChainID(), k, &notaryv1.TxBody{Msg: &notaryv1.TxBody_CheckpointSignature{CheckpointSignature: &notaryv1.CheckpointSignature{
			Size: size, PubKey: k.Public().(ed25519.PublicKey), Signature: ed25519.Sign(k, text),
		}}}))
	}
	for i, r := range c.Block(txs...).TxResults {
		if r.Code != 0 {
			t.Fatalf("checkpoint signature %d: %s", i, r.Log)
		}
	}
	if err := c.App.FlushLog(); err != nil {
		t.Fatal(err)
	}
}

// TestReceiptV2 builds v2 receipts over a synthetic chain with the
// evidence log: refused until a valid checkpoint covers the batch, then a
// receipt whose leaf is the batch record and whose inclusion proof checks
// against the checkpoint's root, whose note verifies under the chain's
// validators; bad requests and a chain without the log are refused.
func TestReceiptV2(t *testing.T) {
	ctx := context.Background()
	c := receipttest.New(t, receipttest.Options{EvidenceLog: true})
	b := c.Builder()
	ds := [][]byte{receipttest.Digest("v2-a"), receipttest.Digest("v2-b"), receipttest.Digest("v2-c")}
	h := c.Anchor(sha2, "v2", ds...)
	c.Anchor(sha2, "v2-2", receipttest.Digest("v2-d"))
	req := func(d []byte) *notaryv1.GetReceiptRequest {
		return &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: d, Version: 2}
	}
	wantCode := func(what string, err error, code codes.Code, text string) {
		t.Helper()
		if status.Code(err) != code || !strings.Contains(err.Error(), text) {
			t.Fatalf("%s: %v, want %s with %q", what, err, code, text)
		}
	}

	_, err := b.GetReceipt(ctx, req(ds[1]))
	wantCode("without a log source", err, codes.FailedPrecondition, "no evidence log")
	b.Log = logSource(c)
	if err := c.App.FlushLog(); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetReceipt(ctx, req(ds[1]))
	wantCode("before a signed checkpoint", err, codes.FailedPrecondition, "try again in a few blocks")

	signCheckpoint(t, c, 1, "hacienda", "interior")
	_, err = b.GetReceipt(ctx, req(ds[1]))
	wantCode("two of four signatures", err, codes.FailedPrecondition, "no valid checkpoint")
	signCheckpoint(t, c, 1, "justicia")
	_, err = b.GetReceipt(ctx, req(receipttest.Digest("v2-d")))
	wantCode("a batch the checkpoint does not cover", err, codes.FailedPrecondition, "does not cover")

	r, err := b.GetReceipt(ctx, req(ds[1]))
	if err != nil {
		t.Fatal(err)
	}
	rc := r.Receipt
	if rc.Version != 2 || rc.ChainId != c.ChainID() || rc.Anchor != nil || rc.Status != nil || rc.Issuer != nil || rc.Inclusion.Batch != nil || rc.Inclusion.LeafIndex != 1 || len(rc.Inclusion.MerklePath) == 0 {
		t.Fatalf("v2 receipt: %v", rc)
	}
	view, err := c.App.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	batchRaw, err := view.Get(ledger.BatchKey(h, 0))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Log.LeafIndex != 0 || string(rc.Log.Leaf) != string(ledger.EncodeLogLeaf(ledger.LogLeafBatch, ledger.BatchKey(h, 0), batchRaw)) {
		t.Fatalf("log leaf %d is not the batch record", rc.Log.LeafIndex)
	}
	var vals []verify.LogValidator
	for _, v := range c.TrustBundle().Validators {
		vals = append(vals, verify.LogValidator{MinistryID: v.MinistryId, PubKey: v.PubKey, Power: v.Power})
	}
	cp, err := verify.VerifyLogCheckpoint(c.ChainID(), rc.Log.Checkpoint, vals)
	if err != nil || cp.Size != 1 || len(cp.Signers) != 3 {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}
	var p tlog.RecordProof
	for _, x := range rc.Log.Proof {
		p = append(p, tlog.Hash(x))
	}
	if err := tlog.CheckRecord(p, int64(cp.Size), tlog.Hash(cp.Root), int64(rc.Log.LeafIndex), tlog.RecordHash(rc.Log.Leaf)); err != nil {
		t.Fatal(err)
	}

	// A coded document, asked for by its code's key.
	key := make([]byte, ledger.CodeKeySize)
	key[0] = 7
	c.AnchorCoded(sha2, "v2-coded", [][]byte{key}, [][]byte{receipttest.Digest("v2-coded")})
	signCheckpoint(t, c, 3, "hacienda", "interior", "sanidad")
	r, err = b.GetReceipt(ctx, &notaryv1.GetReceiptRequest{CodeKey: key, Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Receipt.Document.CodeKey != hex.EncodeToString(key) || r.Receipt.Log.LeafIndex != 2 {
		t.Fatalf("coded v2 receipt: %v", r.Receipt)
	}

	// Bad requests.
	bad := req(ds[0])
	bad.StatusHeight = 2
	if _, err = b.GetReceipt(ctx, bad); !errors.Is(err, ledger.ErrInvalidField) || !strings.Contains(err.Error(), "no status") {
		t.Fatalf("a status height: %v", err)
	}
	bad = req(ds[0])
	bad.Version = 3
	if _, err = b.GetReceipt(ctx, bad); !errors.Is(err, ledger.ErrInvalidField) || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("version 3: %v", err)
	}

	// A chain without the log.
	plain := receipttest.New(t, receipttest.Options{})
	plain.Anchor(sha2, "v1", receipttest.Digest("v1-a"))
	pb := plain.Builder()
	pb.Log = logSource(plain)
	_, err = pb.GetReceipt(ctx, req(receipttest.Digest("v1-a")))
	wantCode("a chain without the log", err, codes.FailedPrecondition, "params.evidence_log")
}
