package ledger

import (
	"encoding/binary"
	"fmt"
	"slices"

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

// spendNonce records the nonce of a successful unordered transaction; in a
// block, Exec.End adds it to the expiry index (Exec.spent).
func (c *txContext) spendNonce() error {
	b := c.tx.Body
	return c.st.Set(NonceKey(c.tx.Signer, b.Nonce), be64(uint64(b.ValidUntilHeight)))
}

// spent remembers, in a block, the nonce of a successful unordered
// transaction for the expiry index.
func (e *Exec) spent(tx *Tx) {
	e.unordered++
	if e.mode != ModeDeliver {
		return
	}
	if e.expiring == nil {
		e.expiring = map[int64][]byte{}
	}
	vu := tx.Body.ValidUntilHeight
	b := append(e.expiring[vu], tx.Signer...)
	b = append(b, byte(len(tx.Body.Nonce)))
	e.expiring[vu] = append(b, tx.Body.Nonce...)
}

func decodeHeight(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// expiryEntry splits the first entry off an expiry index value.
func expiryEntry(v []byte) (signer, nonce, rest []byte, err error) {
	if len(v) < PublicKeySize+1 {
		return nil, nil, nil, fmt.Errorf("expiry index entry of %d bytes", len(v))
	}
	n := int(v[PublicKeySize])
	end := PublicKeySize + 1 + n
	if n < MinNonceBytes || n > MaxNonceBytes || len(v) < end {
		return nil, nil, nil, fmt.Errorf("expiry index entry with a %d-byte nonce in %d bytes", n, len(v))
	}
	return v[:PublicKeySize], v[PublicKeySize+1 : end], v[end:], nil
}

// endNonces runs at the end of block H: it adds the nonces the block spent to
// the expiry index, one entry per valid_until_height, and forgets the spent
// nonces whose transactions no later block can include
// (valid_until_height <= H+1), oldest first: at most noncePruneBase plus two
// per unordered transaction of the block, the rest at the next blocks. Work
// per block is bounded, and the state keeps about the unordered
// transactions of one window.
func (e *Exec) endNonces() error {
	heights := make([]int64, 0, len(e.expiring))
	for h := range e.expiring {
		heights = append(heights, h)
	}
	slices.Sort(heights)
	for _, h := range heights {
		k := NonceExpiryKey(h)
		old, err := e.st.Get(k)
		if err != nil {
			return err
		}
		if err := e.st.Set(k, append(old, e.expiring[h]...)); err != nil {
			return err
		}
	}
	e.expiring = nil

	limit := noncePruneBase + 2*e.unordered
	type bucket struct{ k, v []byte }
	var due []bucket
	n := 0
	err := e.st.Iterate(prefixNonceExpiry, NonceExpiryKey(e.block.Height+2), func(k, v []byte) bool {
		due = append(due, bucket{append([]byte(nil), k...), append([]byte(nil), v...)})
		n += len(v) / (PublicKeySize + 1 + MinNonceBytes) // at least this many entries
		return n < limit
	})
	if err != nil {
		return err
	}
	for _, b := range due {
		v := b.v
		for len(v) > 0 && limit > 0 {
			signer, nonce, rest, err := expiryEntry(v)
			if err != nil {
				return &StoreError{Err: fmt.Errorf("%x: %w", b.k, err)}
			}
			if err := e.st.Delete(NonceKey(signer, nonce)); err != nil {
				return err
			}
			v, limit = rest, limit-1
		}
		if len(v) > 0 {
			return e.st.Set(b.k, v)
		}
		if err := e.st.Delete(b.k); err != nil {
			return err
		}
	}
	return nil
}
