package receipt_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"

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
	gatewayByCode(ctx, t, n, trust) // the agency's second transaction
}

// gatewayByCode: a document anchored under a verification code through the
// gateway; GetReceipt and LookupDigest find it by its code key (not by its
// digest), and the receipt, completed as the agency's client does,
// verifies with the file.
func gatewayByCode(ctx context.Context, t *testing.T, n *apptest.Node, trust *notaryv1.TrustBundle) {
	agency := n.Identity(t, n.Agency)
	salt, key := vcodetest.Secrets("7KQ4MXW9TR2HDNPC8VE6")
	doc := []byte("certificado de residencia con código\n")
	d := ledger.HashDocument(sha2, doc)
	anchored := ledger.SaltedDigest(sha2, salt, d)
	other := ledger.HashDocument(sha2, []byte("otro"))
	otherKey := bytes.Repeat([]byte{7}, ledger.CodeKeySize)
	tx := agency.SignTx(&notaryv1.TxBody{Sequence: 1, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: apptest.AgencyID, HashAlgorithm: sha2, Digests: append(append([]byte(nil), other...), anchored...), CodeKeys: append(append([]byte(nil), otherKey...), key...),
	}}})
	sub, err := n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: tx})
	if err != nil || sub.Code != 0 {
		t.Fatalf("submit coded: %v %v", sub, err)
	}
	public := n.Client(t, "")
	resp, err := public.GetReceipt(ctx, &notaryv1.GetReceiptRequest{CodeKey: key})
	if err != nil {
		t.Fatalf("GetReceipt by code: %v", err)
	}
	r := resp.Receipt
	if r.Document.CodeKey != hex.EncodeToString(key) || r.Document.AnchoredDigest != hex.EncodeToString(anchored) || r.Inclusion.LeafIndex != 1 {
		t.Fatalf("receipt by code: %v", r.Document)
	}
	r.Document.Salt, r.Document.DocumentDigest = hex.EncodeToString(salt), hex.EncodeToString(d)
	file, err := verify.EncodeReceiptFile(r)
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Verify(verify.Input{Receipt: file, Trust: trust, Document: bytes.NewReader(doc)})
	if err != nil || res.Verdict != verify.Valid {
		t.Fatalf("verify coded: %v %+v", err, res)
	}
	// A coded document is not found by its anchored digest.
	if byDigest, err := public.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: anchored}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetReceipt by digest: %v %v", byDigest, err)
	}
	look, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{CodeKey: key})
	if err != nil || !bytes.Equal(look.Digest, anchored) || !bytes.Equal(look.CodeKey, key) || look.LeafIndex != 1 || look.Issuer.GetId() != apptest.AgencyID {
		t.Fatalf("LookupDigest by code: %v %v", look, err)
	}
	if look, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: anchored}); status.Code(err) != codes.NotFound {
		t.Fatalf("LookupDigest by digest: %v %v", look, err)
	}
	for name, tc := range map[string]struct {
		req  *notaryv1.GetReceiptRequest
		want codes.Code
	}{
		"unknown key":        {&notaryv1.GetReceiptRequest{CodeKey: bytes.Repeat([]byte{9}, ledger.CodeKeySize)}, codes.NotFound},
		"short key":          {&notaryv1.GetReceiptRequest{CodeKey: key[:15]}, codes.InvalidArgument},
		"key and digest":     {&notaryv1.GetReceiptRequest{CodeKey: key, Digest: anchored}, codes.InvalidArgument},
		"key and algorithm":  {&notaryv1.GetReceiptRequest{CodeKey: key, HashAlgorithm: sha2}, codes.InvalidArgument},
		"neither":            {&notaryv1.GetReceiptRequest{}, codes.InvalidArgument},
		"key, status beyond": {&notaryv1.GetReceiptRequest{CodeKey: key, StatusHeight: 1 << 40}, codes.OutOfRange},
	} {
		_, err := public.GetReceipt(ctx, tc.req)
		if status.Code(err) != tc.want {
			t.Errorf("GetReceipt %s: %v, want %s", name, err, tc.want)
		}
		if tc.req.StatusHeight == 0 {
			_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: tc.req.HashAlgorithm, Digest: tc.req.Digest, CodeKey: tc.req.CodeKey})
			if status.Code(err) != tc.want {
				t.Errorf("LookupDigest %s: %v, want %s", name, err, tc.want)
			}
		}
	}
}
