package logproof_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// note is a checkpoint note of a tree (Renew does not check signatures).
func note(t tlog.Tree) []byte {
	return fmt.Appendf(nil, "notary.gobtechlab/renew\n%d\n%s\n\n— notary.gobtechlab/renew/x AAAA\n", t.N, t.Hash)
}

// TestRenew: a v1 receipt becomes a v2 one at a checkpoint, which renews
// to every later checkpoint with proofs that check; an older checkpoint, a
// receipt whose checkpoint the log does not extend, a v1 receipt of a
// revoked document and a batch record that is not the log's leaf are
// refused.
func TestRenew(t *testing.T) {
	ctx := context.Background()
	c := newChain(t)
	tiles := logproof.StoreTiles{Store: c.store}
	key := [2]int64{9, 150} // in the block of 300 batches
	idx := c.batches[key]
	leaf, err := ledger.DecodeLogLeaf(c.leaves[idx])
	if err != nil {
		t.Fatal(err)
	}
	v1 := &notaryv1.Receipt{
		Version:   1,
		ChainId:   "renew",
		Document:  &notaryv1.DocumentBinding{HashAlgorithm: "sha2-256", AnchoredDigest: "ab"},
		Inclusion: &notaryv1.BatchInclusion{LeafIndex: 3, MerklePath: []string{"cd"}, Batch: leaf.Value, BatchProof: []byte{1}},
		Anchor:    &notaryv1.Checkpoint{Height: 10},
	}
	first := 3 // the first size holding the batch
	if uint64(c.sizes[first].N) <= idx || uint64(c.sizes[first-1].N) > idx {
		t.Fatalf("size %d does not first hold leaf %d", c.sizes[first].N, idx)
	}
	if _, _, err := logproof.Renew(ctx, tiles, v1, note(c.sizes[first-1])); !errors.Is(err, logproof.ErrLeafNotFound) {
		t.Fatalf("v1 at a checkpoint before the batch: %v", err)
	}
	r, ren, err := logproof.Renew(ctx, tiles, v1, note(c.sizes[first]))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 2 || r.Anchor != nil || r.Inclusion.Batch != nil || r.Log.LeafIndex != idx || ren.OldSize != 0 || ren.NewSize != uint64(c.sizes[first].N) {
		t.Fatalf("v2 receipt %v, renewal %+v", r, ren)
	}
	for _, tree := range c.sizes[first:] {
		next, ren, err := logproof.Renew(ctx, tiles, r, note(tree))
		if err != nil {
			t.Fatalf("renew to %d: %v", tree.N, err)
		}
		var p tlog.RecordProof
		for _, h := range next.Log.Proof {
			p = append(p, tlog.Hash(h))
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, int64(idx), tlog.RecordHash(next.Log.Leaf)); err != nil {
			t.Fatalf("renewed to %d: %v", tree.N, err)
		}
		if old, _ := logproof.ParseCheckpoint(r.Log.Checkpoint); ren.OldSize != old.Size || ren.NewSize != uint64(tree.N) || ren.OldVersion != 2 {
			t.Fatalf("renewal %+v", ren)
		}
		r = next
	}
	if _, _, err := logproof.Renew(ctx, tiles, r, note(c.sizes[first])); !errors.Is(err, logproof.ErrOlder) {
		t.Fatalf("renew to an older checkpoint: %v", err)
	}

	bad := c.sizes[first+1]
	bad.Hash[0] ^= 1
	old, _, err := logproof.Renew(ctx, tiles, v1, note(c.sizes[first+1]))
	if err != nil {
		t.Fatal(err)
	}
	old.Log.Checkpoint = note(bad)
	if _, _, err := logproof.Renew(ctx, tiles, old, note(c.sizes[len(c.sizes)-1])); !errors.Is(err, logproof.ErrInconsistent) {
		t.Fatalf("renew a receipt of a forked checkpoint: %v", err)
	}

	revoked := proto.Clone(v1).(*notaryv1.Receipt)
	revoked.Status = &notaryv1.StatusProof{Revocation: []byte{1}}
	if _, _, err := logproof.Renew(ctx, tiles, revoked, note(c.sizes[len(c.sizes)-1])); !errors.Is(err, logproof.ErrRevoked) {
		t.Fatalf("a revoked v1 receipt: %v", err)
	}

	other := proto.Clone(v1).(*notaryv1.Receipt)
	other.Inclusion = &notaryv1.BatchInclusion{Batch: append(append([]byte(nil), leaf.Value...), 0x40, 1)}
	if _, _, err := logproof.Renew(ctx, tiles, other, note(c.sizes[len(c.sizes)-1])); !errors.Is(err, logproof.ErrInconsistent) {
		t.Fatalf("a batch record that is not the leaf: %v", err)
	}
}
