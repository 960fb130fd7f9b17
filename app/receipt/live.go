package receipt

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// LiveStatus returns the revocation status of an anchored digest at the
// newest state whose signing header and commit the node already holds, with
// the validator transitions from the trust bundle to the set that signed it:
// what a node's public endpoint serves. It never waits for a block; it is a
// pure read of stored state. A coded document is not found by its digest
// (LiveStatusByCode finds it).
//
// Errors wrap ledger.ErrInvalidField or ledger.ErrBadDigestLength (bad
// request), ledger.ErrNotFound (digest not anchored) or
// ledger.ErrHeightUnavailable (the node holds no signed header at or above
// the anchoring height yet: it is catching up, or the digest was anchored
// in its newest block).
func (b *Builder) LiveStatus(ctx context.Context, alg ledger.HashAlgorithm, digest []byte) (*notaryv1.LiveStatus, error) {
	name := ledger.AlgorithmName(alg)
	if name == "" {
		return nil, fmt.Errorf("%w: unknown hash algorithm %d", ledger.ErrInvalidField, alg)
	}
	if len(digest) != ledger.DigestSize {
		return nil, fmt.Errorf("%w: digest of %d bytes, want %d", ledger.ErrBadDigestLength, len(digest), ledger.DigestSize)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	loc, ok, err := b.src.LookupDigest(alg, digest)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: digest %x (%s) is not anchored", ledger.ErrNotFound, digest, name)
	}
	return b.live(loc, alg, digest, nil)
}

// LiveStatusByCode is LiveStatus of the coded document anchored under a
// verification code's key (ledger.CodeKeySize bytes): the status of its
// key's revocation record, with code_key set and the algorithm and
// anchored digest of its batch's leaf. Errors as LiveStatus's; a key of
// another length is ledger.ErrInvalidField.
func (b *Builder) LiveStatusByCode(ctx context.Context, key []byte) (*notaryv1.LiveStatus, error) {
	loc, err := b.lookupCode(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := b.liveHeight(loc); err != nil {
		return nil, err
	}
	view, err := b.src.StateAt(loc.Height)
	if err != nil {
		return nil, err
	}
	raw, err := view.Get(ledger.BatchKey(loc.Height, loc.TxIndex))
	if err != nil {
		return nil, err
	}
	batch := &notaryv1.Batch{}
	if raw == nil {
		return nil, fmt.Errorf("%w: batch %s at height %d", ledger.ErrNotFound, loc.BatchID(), loc.Height)
	}
	if err := proto.Unmarshal(raw, batch); err != nil {
		return nil, fmt.Errorf("batch record %s: %w", loc.BatchID(), err)
	}
	leaf, err := b.leafAt(loc, batch)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(leaf.codeKey, key) {
		return nil, fmt.Errorf("batch %s: leaf %d is not under code key %x", loc.BatchID(), loc.Leaf, key)
	}
	return b.live(loc, batch.HashAlgorithm, leaf.digest, key)
}

// liveHeight returns the newest provable height, which must be at or above
// the anchoring one.
func (b *Builder) liveHeight(loc ledger.Locator) (int64, error) {
	height, err := b.provable(0)
	if err != nil {
		return 0, err
	}
	if height < loc.Height {
		return 0, fmt.Errorf("%w: the newest signed state is %d, below the anchoring height %d", ledger.ErrHeightUnavailable, height, loc.Height)
	}
	return height, nil
}

// live builds the live status of the document at loc: a plain digest
// (codeKey nil) or a coded document.
func (b *Builder) live(loc ledger.Locator, alg ledger.HashAlgorithm, digest, codeKey []byte) (*notaryv1.LiveStatus, error) {
	height, err := b.liveHeight(loc)
	if err != nil {
		return nil, err
	}
	status, err := b.status(ledger.DocumentRevocationKey(alg, digest, codeKey), height, -1, nil)
	if err != nil {
		return nil, err
	}
	chain, err := b.validatorChain(height)
	if err != nil {
		return nil, err
	}
	return &notaryv1.LiveStatus{
		Version:        1,
		ChainId:        b.src.ChainID(),
		HashAlgorithm:  ledger.AlgorithmName(alg),
		AnchoredDigest: hex.EncodeToString(digest),
		CodeKey:        hex.EncodeToString(codeKey),
		AnchorHeight:   loc.Height,
		Status:         status,
		ValidatorChain: chain,
	}, nil
}
