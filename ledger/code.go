package ledger

import (
	"encoding/binary"
	"fmt"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Verification codes (docs/receipt.md, "Verification codes"). An agency may
// anchor a document under the key of a verification code printed on it: an
// AnchorBatch with code_keys carries one CodeKeySize-byte key per digest,
// the Merkle leaf of each digest is key || digest, and the digest index
// holds, besides the entry of each digest, one of each key under
// CodeKeyIndex, so that a key finds its document. The chain never sees
// the code itself: a key is a hash of it.

// CodeKeySize is the length of a verification code's key.
const CodeKeySize = 16

// CodeKeyIndex is the index algorithm value under which the digest index
// holds code keys (CodeKeyIndexDigest). It is not a HashAlgorithm:
// AlgorithmName does not name it, so params.hash_algorithms never accepts it
// and no batch, revocation or lookup by digest can use it.
const CodeKeyIndex HashAlgorithm = 255

// CodeKeyIndexDigest is the index digest of a code key: the key and
// DigestSize-CodeKeySize zero bytes.
func CodeKeyIndexDigest(key []byte) []byte {
	d := make([]byte, DigestSize)
	copy(d, key)
	return d
}

// codeKeyIndexDigests returns the index digests of concatenated keys,
// concatenated.
func codeKeyIndexDigests(keys []byte) []byte {
	n := len(keys) / CodeKeySize
	out := make([]byte, n*DigestSize)
	for i := 0; i < n; i++ {
		copy(out[i*DigestSize:], keys[i*CodeKeySize:(i+1)*CodeKeySize])
	}
	return out
}

// checkCodeKeys validates an AnchorBatch's code keys for n digests: none
// (a plain batch), or n keys of CodeKeySize bytes, no key twice.
func checkCodeKeys(keys []byte, n int) error {
	if len(keys) == 0 {
		return nil
	}
	if len(keys) != n*CodeKeySize {
		return wrapf(ErrBadCodeKeys, "%d bytes of code keys for %d digests: want none, or %d keys of %d bytes", len(keys), n, n, CodeKeySize)
	}
	if j, i, ok := findDuplicateKey(keys, n); ok {
		return wrapf(ErrBadCodeKeys, "code key %x at positions %d and %d", keys[i*CodeKeySize:(i+1)*CodeKeySize], j, i)
	}
	return nil
}

// findDuplicateKey is findDuplicate for CodeKeySize-byte keys.
func findDuplicateKey(keys []byte, n int) (int, int, bool) {
	ps := make([]uint64, n)
	for i := range ps {
		ps[i] = binary.BigEndian.Uint64(keys[i*CodeKeySize:])
	}
	if !equalPrefixes(ps) {
		return 0, 0, false
	}
	seen := make(map[[CodeKeySize]byte]int, n)
	for i := 0; i < n; i++ {
		k := [CodeKeySize]byte(keys[i*CodeKeySize : (i+1)*CodeKeySize])
		if j, ok := seen[k]; ok {
			return j, i, true
		}
		seen[k] = i
	}
	return 0, 0, false
}

// checkCodeKeys is checkCodeKeys for a transaction's AnchorBatch, which
// searches for duplicates once per decoded transaction.
func (t *Tx) checkCodeKeys(keys []byte, n int) error {
	if len(keys) == 0 || t.codeKeysOK.Load() {
		return nil
	}
	if err := checkCodeKeys(keys, n); err != nil {
		return err
	}
	t.codeKeysOK.Store(true)
	return nil
}

// BatchEntries returns the digest index entries of an AnchorBatch anchored
// at (height, txIndex): one per digest, then, for a coded batch, one per
// code key under CodeKeyIndex. The digests' entries share m's bytes.
func BatchEntries(m *notaryv1.AnchorBatch, height int64, txIndex uint32) []IndexEntry {
	var kd []byte
	if len(m.CodeKeys) > 0 {
		kd = codeKeyIndexDigests(m.CodeKeys)
	}
	return batchEntries(m.HashAlgorithm, m.Digests, kd, height, txIndex)
}

// batchEntries is BatchEntries with the keys' index digests (nil for a
// plain batch) computed already.
func batchEntries(alg HashAlgorithm, digests, keyDigests []byte, height int64, txIndex uint32) []IndexEntry {
	n := len(digests) / DigestSize
	size := n
	if len(keyDigests) == len(digests) && n > 0 {
		size = 2 * n
	}
	es := make([]IndexEntry, size)
	for i := 0; i < n; i++ {
		es[i] = IndexEntry{Algorithm: alg, Digest: digestAt(digests, i), Locator: Locator{Height: height, TxIndex: txIndex, Leaf: uint32(i)}}
	}
	for i := n; i < size; i++ {
		es[i] = IndexEntry{Algorithm: CodeKeyIndex, Digest: digestAt(keyDigests, i-n), Locator: Locator{Height: height, TxIndex: txIndex, Leaf: uint32(i - n)}}
	}
	return es
}

// DuplicateCodeError is returned when a code key is already anchored, for
// another digest; it names the existing record and wraps ErrDuplicateCode.
type DuplicateCodeError struct {
	Key      []byte
	Existing Locator
}

// Error implements error.
func (e *DuplicateCodeError) Error() string {
	return fmt.Sprintf("%s: code key %x is in batch %s at leaf %d", ErrDuplicateCode.desc, e.Key, e.Existing.BatchID(), e.Existing.Leaf)
}

// Unwrap lets errors.Is(err, ErrDuplicateCode) hold.
func (e *DuplicateCodeError) Unwrap() error { return ErrDuplicateCode }
