package receipt

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// LiveStatus returns the revocation status of an anchored digest at the
// newest state whose signing header and commit the node already holds, with
// the validator transitions from the trust bundle to the set that signed it:
// what a node's public endpoint serves. It never waits for a block; it is a
// pure read of stored state.
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
	height, err := b.provable(0)
	if err != nil {
		return nil, err
	}
	if height < loc.Height {
		return nil, fmt.Errorf("%w: the newest signed state is %d, below the anchoring height %d", ledger.ErrHeightUnavailable, height, loc.Height)
	}
	status, err := b.status(alg, digest, height, -1, nil)
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
		HashAlgorithm:  name,
		AnchoredDigest: hex.EncodeToString(digest),
		AnchorHeight:   loc.Height,
		Status:         status,
		ValidatorChain: chain,
	}, nil
}
