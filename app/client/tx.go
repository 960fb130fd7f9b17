package client

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Submit fills in body's chain id and either its sequence or its nonce and
// valid_until_height (Options.Ordered), signs it with the client's
// identity, submits it and waits until it is committed. It goes through the
// same pipeline as anchoring, so it never races the batches for a sequence
// number; transient failures are retried (a transaction is never applied
// twice: its sequence or its nonce guarantees that). A transaction the chain or the
// gateway refused is a *TxError; one whose fate could not be learned wraps
// ErrUnknownOutcome. body is not modified.
func (c *Client) Submit(ctx context.Context, body *notaryv1.TxBody) (*notaryv1.SubmitResponse, error) {
	if body == nil || body.Msg == nil {
		return nil, errors.New("client: submit: the transaction body carries no message")
	}
	if body.GetAnchorBatch() != nil {
		if ab := body.GetAnchorBatch(); len(ab.Digests) == 0 || len(ab.Digests)%ledger.DigestSize != 0 {
			return nil, fmt.Errorf("client: submit: an AnchorBatch carries 1 or more concatenated %d-byte digests, not %d bytes", ledger.DigestSize, len(ab.Digests))
		}
	}
	p, err := c.pipeline()
	if err != nil {
		return nil, err
	}
	return p.submit(ctx, proto.Clone(body).(*notaryv1.TxBody))
}

// Revoke revokes anchored values (Document.Anchored: the salted commitments
// or bare digests as they are on chain, not document digests), all hashed
// with the client's algorithm, for reason (not UNSPECIFIED) with an
// optional short text, and waits until the revocation is committed. Only
// the agency that anchored a value may revoke it; a refusal is a *TxError
// (NotFound for a value not anchored, AlreadyExists for one already
// revoked, PermissionDenied for another agency's).
func (c *Client) Revoke(ctx context.Context, digests [][]byte, reason notaryv1.RevocationReason, text string) (*notaryv1.SubmitResponse, error) {
	if len(digests) == 0 {
		return nil, errors.New("client: revoke: no digests")
	}
	if _, ok := notaryv1.RevocationReason_name[int32(reason)]; !ok || reason == notaryv1.RevocationReason_REVOCATION_REASON_UNSPECIFIED {
		return nil, fmt.Errorf("client: revoke: %v is not a revocation reason (superseded, issued in error, fraud, expired, court order or other)", reason)
	}
	seen := make(map[string]bool, len(digests))
	all := make([]byte, 0, len(digests)*ledger.DigestSize)
	for i, d := range digests {
		if len(d) != ledger.DigestSize {
			return nil, fmt.Errorf("client: revoke: digest %d is %d bytes, not %d", i, len(d), ledger.DigestSize)
		}
		if seen[string(d)] {
			return nil, fmt.Errorf("client: revoke: digest %d (%x) is given twice", i, d)
		}
		seen[string(d)] = true
		all = append(all, d...)
	}
	return c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: c.opts.Algorithm, Digests: all, Reason: reason, ReasonText: text}}})
}

// RevokeCodes revokes the documents anchored under verification code keys
// (ledger.CodeKeySize bytes each), by key: the chain finds a coded document
// by its key only. The documents' batches must use the client's algorithm.
// Refusals as Revoke's.
func (c *Client) RevokeCodes(ctx context.Context, keys [][]byte, reason notaryv1.RevocationReason, text string) (*notaryv1.SubmitResponse, error) {
	if len(keys) == 0 {
		return nil, errors.New("client: revoke: no code keys")
	}
	if _, ok := notaryv1.RevocationReason_name[int32(reason)]; !ok || reason == notaryv1.RevocationReason_REVOCATION_REASON_UNSPECIFIED {
		return nil, fmt.Errorf("client: revoke: %v is not a revocation reason (superseded, issued in error, fraud, expired, court order or other)", reason)
	}
	seen := make(map[string]bool, len(keys))
	all := make([]byte, 0, len(keys)*ledger.CodeKeySize)
	for i, k := range keys {
		if len(k) != ledger.CodeKeySize {
			return nil, fmt.Errorf("client: revoke: code key %d is %d bytes, not %d", i, len(k), ledger.CodeKeySize)
		}
		if seen[string(k)] {
			return nil, fmt.Errorf("client: revoke: code key %d (%x) is given twice", i, k)
		}
		seen[string(k)] = true
		all = append(all, k...)
	}
	return c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: c.opts.Algorithm, CodeKeys: all, Reason: reason, ReasonText: text}}})
}

// RevokeDocuments revokes Documents: plain ones by their anchored values
// (Revoke), coded ones by their code keys (RevokeCodes). One transaction
// carries either kind, not both: revoke plain and coded documents in
// separate calls.
func (c *Client) RevokeDocuments(ctx context.Context, docs []Document, reason notaryv1.RevocationReason, text string) (*notaryv1.SubmitResponse, error) {
	var ds, keys [][]byte
	for i, d := range docs {
		if d.Algorithm != c.opts.Algorithm {
			return nil, fmt.Errorf("client: revoke: document %d is hashed with %s, the client uses %s", i, ledger.AlgorithmName(d.Algorithm), ledger.AlgorithmName(c.opts.Algorithm))
		}
		if d.Coded() {
			keys = append(keys, d.CodeKey)
		} else {
			ds = append(ds, d.Anchored)
		}
	}
	switch {
	case len(keys) > 0 && len(ds) > 0:
		return nil, errors.New("client: revoke: documents anchored under verification codes and documents without one are revoked in separate transactions")
	case len(keys) > 0:
		return c.RevokeCodes(ctx, keys, reason, text)
	}
	return c.Revoke(ctx, ds, reason, text)
}

// Receipt fetches the v1 receipt of an anchored Document (status at the
// height the node had committed when asked) and completes its document binding with what only the
// agency knows: the document digest and, for a salted commitment, the salt.
// A coded Document (CodeKey set) is asked for by its code key, the only
// name the chain finds it by, and must be the document the chain holds
// under that key; a plain one by its anchored value.
// A Document with only Anchored set (Digest nil) gets a receipt whose
// binding starts at the anchored value. A value not anchored is NotFound.
func (c *Client) Receipt(ctx context.Context, doc Document) (*notaryv1.Receipt, error) {
	return c.receipt(ctx, doc, 1)
}

// ReceiptV2 is Receipt of a v2 receipt (docs/receipt.md, "Receipt v2"):
// the batch's leaf in the evidence log, proven in the log of the node's
// latest valid checkpoint. Until a checkpoint covers the batch (a few
// blocks after the anchor), or on a chain without the log, it is
// FailedPrecondition.
func (c *Client) ReceiptV2(ctx context.Context, doc Document) (*notaryv1.Receipt, error) {
	return c.receipt(ctx, doc, 2)
}

func (c *Client) receipt(ctx context.Context, doc Document, version uint32) (*notaryv1.Receipt, error) {
	if ledger.AlgorithmName(doc.Algorithm) == "" || len(doc.Anchored) != ledger.DigestSize {
		return nil, fmt.Errorf("client: receipt: a Document needs an algorithm and a %d-byte anchored value (use Client.Document)", ledger.DigestSize)
	}
	if !doc.consistent() {
		return nil, errors.New("client: receipt: the Document is inconsistent: its digest and salt do not give its anchored value")
	}
	// The status is asked at the state the node has committed now, so that
	// a revocation just committed shows: the node waits (a few seconds at
	// most) for the block that signs that state. A node that cannot sign it
	// in time (a halted chain) answers at its newest signed state.
	req := &notaryv1.GetReceiptRequest{HashAlgorithm: doc.Algorithm, Digest: doc.Anchored}
	if doc.Coded() {
		// A coded document is found by its key only.
		req = &notaryv1.GetReceiptRequest{CodeKey: doc.CodeKey}
	}
	if version == 2 {
		// A v2 receipt carries no status.
		req.Version = version
	} else if st, err := c.gw.GetStatus(ctx, &notaryv1.GetStatusRequest{}); err == nil {
		req.StatusHeight = st.GetLatestHeight()
	}
	r, err := c.gw.GetReceipt(ctx, req)
	if status.Code(err) == codes.OutOfRange && req.StatusHeight != 0 {
		req.StatusHeight = 0
		r, err = c.gw.GetReceipt(ctx, req)
	}
	if err != nil {
		return nil, rpcError("receipt", err)
	}
	rc := r.GetReceipt()
	if rc == nil {
		return nil, errors.New("client: receipt: the gateway answered without a receipt")
	}
	b := rc.Document
	if b == nil {
		b = &notaryv1.DocumentBinding{}
		rc.Document = b
	}
	if b.HashAlgorithm != "" && b.HashAlgorithm != ledger.AlgorithmName(doc.Algorithm) {
		return nil, fmt.Errorf("client: receipt: the gateway answered for a %s digest, not %s", b.HashAlgorithm, ledger.AlgorithmName(doc.Algorithm))
	}
	if doc.Coded() && b.AnchoredDigest != "" && b.AnchoredDigest != hex.EncodeToString(doc.Anchored) && len(doc.Digest) != 0 {
		// A code anchored in the earlier form holds the salted commitment.
		if old := doc.anchoredIn(false); b.AnchoredDigest == hex.EncodeToString(old) {
			doc.Anchored = old
		}
	}
	if b.AnchoredDigest != "" && b.AnchoredDigest != hex.EncodeToString(doc.Anchored) {
		return nil, fmt.Errorf("client: receipt: the gateway answered for %s, not %x", b.AnchoredDigest, doc.Anchored)
	}
	if doc.Coded() && b.CodeKey != hex.EncodeToString(doc.CodeKey) {
		return nil, fmt.Errorf("client: receipt: %x is anchored under code key %q, not %x", doc.Anchored, b.CodeKey, doc.CodeKey)
	}
	b.HashAlgorithm = ledger.AlgorithmName(doc.Algorithm)
	b.AnchoredDigest = hex.EncodeToString(doc.Anchored)
	if len(doc.Digest) != 0 {
		b.DocumentDigest = hex.EncodeToString(doc.Digest)
		b.Salt = ""
		if doc.Salted() {
			b.Salt = hex.EncodeToString(doc.Salt)
		}
	}
	return rc, nil
}
