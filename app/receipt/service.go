package receipt

import (
	"context"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// GetReceipt answers the gateway's GetReceipt: by the request's code key
// if it has one, else by its digest. Errors wrap registered ledger errors,
// which the gateway maps to gRPC status codes.
func (b *Builder) GetReceipt(ctx context.Context, req *notaryv1.GetReceiptRequest) (*notaryv1.GetReceiptResponse, error) {
	var r *notaryv1.Receipt
	var err error
	if len(req.GetCodeKey()) > 0 {
		r, err = b.ReceiptByCode(ctx, req.GetCodeKey(), req.GetStatusHeight())
	} else {
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
