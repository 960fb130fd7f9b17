package receipt

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Receipt versions a Builder builds.
const (
	VersionV1 = 1
	VersionV2 = 2
)

// LogSource is the evidence log a Builder reads for v2 receipts: the
// node's tiles and its checkpoints.
type LogSource struct {
	// Tiles are the node's tiles (logproof.StoreTiles over the tile store).
	Tiles logproof.Tiles
	// Size returns how many leaves the tiles hold.
	Size func() uint64
	// Checkpoints answers the note of the checkpoint receipts are built
	// at: the latest valid one (checkpoint.Notes), or the latest one with
	// the cosignatures the witness policy requires, if any, with the
	// witnesses' cosignatures held (checkpoint.Witnesses).
	Checkpoints interface {
		Latest() ([]byte, bool, error)
	}
}

// Kinds of the FAILED_PRECONDITION status errors of ReceiptV2 (errors.Is
// tells them apart; status.Code reads FailedPrecondition from both).
var (
	// ErrV2NotYet: no valid checkpoint covers the batch yet (or the node's
	// tiles lag behind the latest one); a later request may succeed.
	ErrV2NotYet = errors.New("receipt v2 not available yet")
	// ErrNoEvidenceLog: the node or its chain keeps no evidence log, so it
	// builds v1 receipts only.
	ErrNoEvidenceLog = errors.New("no evidence log")
)

// preconditionError is a FAILED_PRECONDITION status error of a kind.
type preconditionError struct {
	st   *status.Status
	kind error
}

func (e *preconditionError) Error() string              { return e.st.Err().Error() }
func (e *preconditionError) GRPCStatus() *status.Status { return e.st }
func (e *preconditionError) Unwrap() error              { return e.kind }

// notYet is the FAILED_PRECONDITION of a v2 receipt asked for too early
// (ErrV2NotYet).
func notYet(format string, args ...any) error {
	return &preconditionError{st: status.Newf(codes.FailedPrecondition, format+"; try again in a few blocks", args...), kind: ErrV2NotYet}
}

// noLog is the FAILED_PRECONDITION of a v2 receipt asked of a node or a
// chain without the evidence log (ErrNoEvidenceLog).
func noLog(msg string) error {
	return &preconditionError{st: status.New(codes.FailedPrecondition, msg), kind: ErrNoEvidenceLog}
}

// ReceiptV2 builds the v2 receipt of an anchored digest (docs/receipt.md,
// "Receipt v2"): the document binding and the digest's path in its batch,
// as v1 has them, and the batch's leaf in the evidence log with its
// inclusion proof in the log of the latest valid checkpoint, and that
// checkpoint's note. A chain without the evidence log (ErrNoEvidenceLog), or
// a batch no valid checkpoint covers yet (ErrV2NotYet), is a
// FAILED_PRECONDITION status error; other errors are Receipt's.
func (b *Builder) ReceiptV2(ctx context.Context, alg ledger.HashAlgorithm, digest []byte) (*notaryv1.Receipt, error) {
	loc, err := b.lookupDigest(alg, digest)
	if err != nil {
		return nil, err
	}
	return b.buildV2(ctx, loc, leafWant{alg: alg, digest: digest})
}

// ReceiptV2ByCode is ReceiptV2 of the document anchored under a
// verification code's key.
func (b *Builder) ReceiptV2ByCode(ctx context.Context, key []byte) (*notaryv1.Receipt, error) {
	loc, err := b.lookupCode(key)
	if err != nil {
		return nil, err
	}
	return b.buildV2(ctx, loc, leafWant{codeKey: key})
}

func (b *Builder) buildV2(ctx context.Context, loc ledger.Locator, want leafWant) (*notaryv1.Receipt, error) {
	if b.Log == nil {
		return nil, noLog("this node keeps no evidence log: it builds v1 receipts only")
	}
	view, err := b.src.StateAt(0)
	if err != nil {
		return nil, err
	}
	params := &notaryv1.Params{}
	if raw, err := view.Get(ledger.ParamsKey()); err != nil {
		return nil, err
	} else if err := proto.Unmarshal(raw, params); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if !params.EvidenceLog {
		return nil, noLog("the chain keeps no evidence log (params.evidence_log): only v1 receipts can be built")
	}
	key := ledger.BatchKey(loc.Height, loc.TxIndex)
	batchRaw, err := view.Get(key)
	if err != nil {
		return nil, err
	}
	if batchRaw == nil {
		return nil, fmt.Errorf("%w: batch %s", ledger.ErrNotFound, loc.BatchID())
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(batchRaw, batch); err != nil {
		return nil, fmt.Errorf("batch record %s: %w", loc.BatchID(), err)
	}
	leaf, err := b.wantedLeaf(loc, batch, want)
	if err != nil {
		return nil, err
	}

	note, ok, err := b.Log.Checkpoints.Latest()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notYet("the evidence log has no valid checkpoint yet")
	}
	cp, err := logproof.ParseCheckpoint(note)
	if err != nil {
		return nil, err
	}
	if have := b.Log.Size(); have < cp.Size {
		return nil, notYet("the node's tiles hold %d leaves, the latest checkpoint %d", have, cp.Size)
	}
	l := logproof.NewLog(b.Log.Tiles, cp.Size, cp.Root)
	idx, logLeaf, err := l.FindBatch(ctx, loc.Height, loc.TxIndex)
	switch {
	case errors.Is(err, logproof.ErrLeafNotFound):
		return nil, notYet("the latest valid checkpoint (log size %d) does not cover batch %s yet", cp.Size, loc.BatchID())
	case err != nil:
		return nil, err
	}
	if string(logLeaf) != string(ledger.EncodeLogLeaf(ledger.LogLeafBatch, key, batchRaw)) {
		return nil, fmt.Errorf("batch %s: log leaf %d is not the batch record", loc.BatchID(), idx)
	}
	proof, err := l.Prove(ctx, idx, logLeaf)
	if err != nil {
		return nil, err
	}
	return &notaryv1.Receipt{
		Version:  VersionV2,
		ChainId:  b.src.ChainID(),
		Document: leaf.binding(batch.HashAlgorithm),
		Inclusion: &notaryv1.BatchInclusion{
			LeafIndex:  loc.Leaf,
			MerklePath: leaf.path,
		},
		Log: &notaryv1.LogInclusion{
			LeafIndex:  idx,
			Leaf:       logLeaf,
			Proof:      proof,
			Checkpoint: note,
		},
	}, nil
}
