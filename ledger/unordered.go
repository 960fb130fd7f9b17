package ledger

import (
	"encoding/binary"
	"fmt"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Bounds of an unordered transaction's nonce.
const (
	MinNonceBytes = 16
	MaxNonceBytes = 32
)

// DefaultMaxUnorderedWindow is params.max_unordered_window on new chains.
const DefaultMaxUnorderedWindow = 100

// maxUnorderedWindowBound bounds params.max_unordered_window: the spent
// nonces the state keeps grow with the rate of unordered transactions times
// the window.
const maxUnorderedWindowBound = 100_000

// noncePruneBase is the least number of expired nonces a block forgets (when
// there are that many); it forgets two more per unordered transaction it
// includes, so that forgetting keeps pace with any rate of them.
const noncePruneBase = 256

// Unordered reports whether the transaction is unordered: it carries a
// nonce, and its signer's sequence is neither checked nor advanced.
func (t *Tx) Unordered() bool { return len(t.Body.Nonce) > 0 }

// checkReplayFields applies the state-independent rules of the replay
// fields: a nonce of MinNonceBytes..MaxNonceBytes with sequence 0 and a
// positive valid_until_height, or no nonce and valid_until_height 0. A
// GrantConsent is always ordered: its consent id derives from the sequence.
func checkReplayFields(b *notaryv1.TxBody) error {
	if len(b.Nonce) == 0 {
		if b.ValidUntilHeight != 0 {
			return wrapf(ErrInvalidField, "valid_until_height %d without a nonce: only an unordered transaction has one", b.ValidUntilHeight)
		}
		return nil
	}
	if len(b.Nonce) < MinNonceBytes || len(b.Nonce) > MaxNonceBytes {
		return wrapf(ErrInvalidField, "nonce is %d bytes, want %d..%d", len(b.Nonce), MinNonceBytes, MaxNonceBytes)
	}
	if b.Sequence != 0 {
		return wrapf(ErrInvalidField, "sequence %d in an unordered transaction (nonce set): it must be 0", b.Sequence)
	}
	if b.ValidUntilHeight <= 0 {
		return wrapf(ErrInvalidField, "an unordered transaction (nonce set) needs a positive valid_until_height, not %d", b.ValidUntilHeight)
	}
	if _, ok := b.Msg.(*notaryv1.TxBody_GrantConsent); ok {
		return wrapf(ErrInvalidField, "grant_consent cannot be unordered: its consent id derives from the sequence")
	}
	return nil
}

// checkNonce applies the replay rules of an unordered transaction in the
// block being executed, at height H: H < valid_until_height <= H +
// params.max_unordered_window, and a nonce its signer has not spent.
func (c *txContext) checkNonce() error {
	b := c.tx.Body
	w := c.e.params.MaxUnorderedWindow
	h := c.e.block.Height
	switch {
	case w == 0:
		return wrapf(ErrUnorderedWindow, "unordered transactions are disabled on this chain (max_unordered_window 0): send an ordered one (nonce unset, the signer's next sequence)")
	case b.ValidUntilHeight <= h:
		return wrapf(ErrTxExpired, "valid_until_height %d, the block is at height %d: sign it again with a new nonce and a later height", b.ValidUntilHeight, h)
	case uint64(b.ValidUntilHeight-h) > w:
		return wrapf(ErrUnorderedWindow, "valid_until_height %d is %d heights after block %d; max_unordered_window is %d", b.ValidUntilHeight, b.ValidUntilHeight-h, h, w)
	}
	v, err := c.st.Get(NonceKey(c.tx.Signer, b.Nonce))
	if err != nil {
		return err
	}
	if v != nil {
		return wrapf(ErrNonceUsed, "nonce %x of key %x was spent by a transaction valid until height %d", b.Nonce, c.tx.Signer, decodeHeight(v))
	}
	return nil
}

// spendNonce records the nonce of a successful unordered transaction until
// its valid_until_height has passed. The mempool (ModeCheck) needs only the
// nonce, not its entry in the expiry index.
func (c *txContext) spendNonce() error {
	b := c.tx.Body
	if err := c.st.Set(NonceKey(c.tx.Signer, b.Nonce), be64(uint64(b.ValidUntilHeight))); err != nil {
		return err
	}
	if c.e.mode != ModeDeliver {
		return nil
	}
	return c.st.Set(NonceExpiryKey(b.ValidUntilHeight, c.tx.Signer, b.Nonce), marker())
}

func decodeHeight(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// pruneNonces forgets, at the end of block H, the spent nonces whose
// transactions no later block can include (valid_until_height <= H+1),
// oldest first: at most noncePruneBase plus two per unordered transaction of
// the block, the rest at the next blocks. Work per block is bounded, and
// the state keeps about the unordered transactions of one window.
func (e *Exec) pruneNonces() error {
	limit := noncePruneBase + 2*e.unordered
	prefix := prefixNonceExpiry
	var keys [][]byte
	err := e.st.Iterate(prefix, NonceExpiryKey(e.block.Height+2, nil, nil), func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return len(keys) < limit
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		rest := k[len(prefix)+8:]
		if len(rest) < PublicKeySize+MinNonceBytes {
			return &StoreError{Err: fmt.Errorf("nonce expiry key %x is too short", k)}
		}
		if err := e.st.Delete(NonceKey(rest[:PublicKeySize], rest[PublicKeySize:])); err != nil {
			return err
		}
		if err := e.st.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
