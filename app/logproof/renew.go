package logproof

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Renewal is what Renew did: the receipt's log part went from the
// checkpoint of OldSize leaves (0 for a v1 receipt) to that of NewSize;
// the batch is leaf LeafIndex.
type Renewal struct {
	OldVersion uint32
	OldSize    uint64
	NewSize    uint64
	LeafIndex  uint64
}

// Errors of Renew.
var (
	// ErrOlder: the checkpoint to renew to is older than the receipt's.
	ErrOlder = errors.New("logproof: the checkpoint is older than the receipt's")
	// ErrRevoked: the v1 receipt carries its document's revocation, which
	// a v2 receipt does not (a v2 receipt's status is asked live).
	ErrRevoked = errors.New("logproof: the receipt shows its document revoked")
)

// Renew returns receipt r as a v2 receipt at the checkpoint note (whose
// signatures the caller checks), reading the log from tiles:
//
//   - from a v1 receipt, the leaf is found by its batch record's height
//     and transaction index, and must be that record; a v1 receipt whose
//     status carries a revocation record is ErrRevoked, as its v2 receipt
//     would drop the revocation;
//   - from a v2 receipt, its leaf must be at its index in the new log, and
//     the new log must extend the log of its checkpoint (a consistency
//     proof from the tiles): a server cannot rewrite the history the old
//     checkpoint fixed.
//
// The document binding and the digest's path in its batch are kept; the
// new log part's inclusion proof is checked against the note's root. A
// checkpoint older than r's is ErrOlder; proofs that do not hold are
// ErrInconsistent; a log without the batch is ErrLeafNotFound; tiles that
// do not match the checkpoint are ErrBadTiles (the server's failure).
func Renew(ctx context.Context, tiles Tiles, r *notaryv1.Receipt, note []byte) (*notaryv1.Receipt, *Renewal, error) {
	cp, err := ParseCheckpoint(note)
	if err != nil {
		return nil, nil, err
	}
	log := NewLog(tiles, cp.Size, cp.Root)
	ren := &Renewal{OldVersion: r.GetVersion(), NewSize: cp.Size}
	var idx uint64
	var leaf []byte
	switch r.GetVersion() {
	case 1:
		if len(r.GetStatus().GetRevocation()) > 0 {
			return nil, nil, ErrRevoked
		}
		raw := r.GetInclusion().GetBatch()
		batch := &notaryv1.Batch{}
		if err := proto.Unmarshal(raw, batch); err != nil || len(raw) == 0 {
			return nil, nil, fmt.Errorf("logproof: receipt: no batch record")
		}
		want := ledger.EncodeLogLeaf(ledger.LogLeafBatch, ledger.BatchKey(batch.Height, batch.TxIndex), raw)
		if idx, leaf, err = log.FindBatch(ctx, batch.Height, batch.TxIndex); err != nil {
			return nil, nil, err
		}
		if string(leaf) != string(want) {
			return nil, nil, fmt.Errorf("%w: leaf %d is not the receipt's batch record", ErrInconsistent, idx)
		}
	case 2:
		old, err := ParseCheckpoint(r.GetLog().GetCheckpoint())
		if err != nil {
			return nil, nil, fmt.Errorf("logproof: receipt: %w", err)
		}
		if old.Origin != cp.Origin {
			return nil, nil, fmt.Errorf("%w: the receipt's checkpoint is of log %q, the new one of %q", ErrInconsistent, old.Origin, cp.Origin)
		}
		ren.OldSize = old.Size
		if cp.Size < old.Size {
			return nil, nil, fmt.Errorf("%w: %d leaves, the receipt's %d", ErrOlder, cp.Size, old.Size)
		}
		idx, leaf = r.GetLog().GetLeafIndex(), r.GetLog().GetLeaf()
		if idx >= old.Size {
			return nil, nil, fmt.Errorf("logproof: receipt: leaf %d of a log of %d", idx, old.Size)
		}
		if err := log.Extends(ctx, old.Size, old.Root); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("logproof: receipt version %d: want 1 or 2", r.GetVersion())
	}
	proof, err := log.Prove(ctx, idx, leaf)
	if err != nil {
		return nil, nil, err
	}
	ren.LeafIndex = idx
	out := &notaryv1.Receipt{
		Version:  2,
		ChainId:  r.GetChainId(),
		Document: proto.Clone(r.GetDocument()).(*notaryv1.DocumentBinding),
		Inclusion: &notaryv1.BatchInclusion{
			LeafIndex:  r.GetInclusion().GetLeafIndex(),
			MerklePath: append([]string(nil), r.GetInclusion().GetMerklePath()...),
		},
		Log: &notaryv1.LogInclusion{
			LeafIndex:  idx,
			Leaf:       append([]byte(nil), leaf...),
			Proof:      proof,
			Checkpoint: append([]byte(nil), note...),
		},
	}
	return out, ren, nil
}
