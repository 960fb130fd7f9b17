package receipt

import (
	"context"
	"fmt"

	"github.com/gobtechlab/notary/ledger"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// GetReceipt answers the gateway's GetReceipt: a receipt of the version
// asked (v1 by default, v2 with version 2), by the request's code key if it
// has one, else by its digest. Errors wrap registered ledger errors,
// which the gateway maps to gRPC status codes.
func (b *Builder) GetReceipt(ctx context.Context, req *notaryv1.GetReceiptRequest) (*notaryv1.GetReceiptResponse, error) {
	var r *notaryv1.Receipt
	var err error
	byCode := len(req.GetCodeKey()) > 0
	switch v := req.GetVersion(); {
	case v == VersionV2 && req.GetStatusHeight() != 0:
		return nil, fmt.Errorf("%w: status_height %d: a v2 receipt carries no status (ask for a v1 receipt, or a live status)", ledger.ErrInvalidField, req.GetStatusHeight())
	case v == VersionV2 && byCode:
		r, err = b.ReceiptV2ByCode(ctx, req.GetCodeKey())
	case v == VersionV2:
		r, err = b.ReceiptV2(ctx, req.GetHashAlgorithm(), req.GetDigest())
	case v > VersionV2:
		return nil, fmt.Errorf("%w: receipt version %d: 0 or 1 for v1, 2 for v2", ledger.ErrInvalidField, v)
	case byCode:
		r, err = b.ReceiptByCode(ctx, req.GetCodeKey(), req.GetStatusHeight())
	default:
		r, err = b.Receipt(ctx, req.GetHashAlgorithm(), req.GetDigest(), req.GetStatusHeight())
	}
	if err != nil {
		return nil, err
	}
	return &notaryv1.GetReceiptResponse{Receipt: r}, nil
}

// GetCheckpoint answers the gateway's GetCheckpoint.
func (b *Builder) GetCheckpoint(ctx context.Context, req *notaryv1.GetCheckpointRequest) (*notaryv1.GetCheckpointResponse, error) {
	cp, chain, err := b.Checkpoint(ctx, req.GetHeight())
	if err != nil {
		return nil, err
	}
	return &notaryv1.GetCheckpointResponse{Checkpoint: cp, ValidatorChain: chain}, nil
}
