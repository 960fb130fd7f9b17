package receipt_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestGatewayReceipt: through the gateway over real gRPC (mutual TLS for
// the agency, no client certificate for the citizen): submit a salted
// anchoring, fetch the receipt and a checkpoint, and verify the receipt
// offline with the node's trust bundle.
func TestGatewayReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := apptest.Start(t, apptest.Options{GatewayOptions: gateway.Options{Receipts: gateway.Receipts}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	agency := n.Identity(t, n.Agency)
	doc := []byte("certificado de empadronamiento\n")
	salt := bytes.Repeat([]byte{0x11}, 32)
	d := ledger.HashDocument(sha2, doc)
	anchored := ledger.SaltedDigest(sha2, salt, d)
	tx := agency.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: apptest.AgencyID, HashAlgorithm: sha2, Digests: anchored,
	}}})
	sub, err := n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: tx})
	if err != nil || sub.Code != 0 {
		t.Fatalf("submit: %v %v", sub, err)
	}
	public := n.Client(t, "")
	resp, err := public.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: anchored})
	if err != nil {
		t.Fatalf("GetReceipt: %v", err)
	}
	r := resp.Receipt
	if r.Anchor.Height != sub.Height {
		t.Fatalf("anchored at %d, receipt anchor %d", sub.Height, r.Anchor.Height)
	}
	r.Document.Salt, r.Document.DocumentDigest = hex.EncodeToString(salt), hex.EncodeToString(d)
	file, err := verify.EncodeReceiptFile(r)
	if err != nil {
		t.Fatal(err)
	}
	trust := readTrust(t, filepath.Join(n.Home, app.TrustFile))
	res, err := verify.Verify(verify.Input{Receipt: file, Trust: trust, Document: bytes.NewReader(doc)})
	if err != nil || res.Verdict != verify.Valid {
		t.Fatalf("verify: %v %+v", err, res)
	}
	cp, err := public.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{})
	if err != nil || cp.Checkpoint.Height < sub.Height {
		t.Fatalf("GetCheckpoint: %v %v", cp, err)
	}
	for name, req := range map[string]*notaryv1.GetReceiptRequest{
		"not anchored":      {HashAlgorithm: sha2, Digest: d},
		"status too high":   {HashAlgorithm: sha2, Digest: anchored, StatusHeight: 1 << 40},
		"short digest":      {HashAlgorithm: sha2, Digest: anchored[:5]},
		"unknown algorithm": {HashAlgorithm: 7, Digest: anchored},
	} {
		_, err := public.GetReceipt(ctx, req)
		if c := status.Code(err); c == codes.OK || c == codes.Internal || c == codes.Unknown {
			t.Errorf("%s: %v", name, err)
		}
	}
	if sub.Height > 1 {
		_, err := public.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: anchored, StatusHeight: sub.Height - 1})
		if status.Code(err) != codes.OutOfRange {
			t.Errorf("status below the anchor: %v", err)
		}
	}
	if _, err := public.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{Height: 1 << 40}); status.Code(err) != codes.OutOfRange {
		t.Errorf("checkpoint beyond the tip: %v", err)
	}
}
