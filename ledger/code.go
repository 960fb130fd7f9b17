package ledger

import (
	"fmt"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Verification codes (docs/receipt.md, "Verification codes"). An agency may
// anchor a document under the key of a verification code printed on it: an
// AnchorBatch with code_keys carries one CodeKeySize-byte key per digest,
// the Merkle leaf of each digest is key || digest, and the digest index
// holds one entry per document, of its key under CodeKeyIndex, so that a
// key finds its document; a coded document's digest is not indexed, and
// the document is revoked by key (RevocationKey(CodeKeyIndex,
// CodeKeyIndexDigest(key))). The chain never sees the code itself: a key
// is a hash of it.

// CodeKeySize is the length of a verification code's key.
const CodeKeySize = 16

// CodeKeyIndex is the index algorithm value under which the digest index
// holds code keys (CodeKeyIndexDigest). It is not a HashAlgorithm:
// AlgorithmName does not name it, so params.hash_algorithms never accepts it
// and no batch, revocation or lookup by digest can use it. A coded
// document's revocation record is at RevocationKey(CodeKeyIndex,
// CodeKeyIndexDigest(key)), which no revocation by digest reaches.
const CodeKeyIndex HashAlgorithm = 255

// CodeKeyIndexDigest is the index digest of a code key: the key and
// DigestSize-CodeKeySize zero bytes.
func CodeKeyIndexDigest(key []byte) []byte {
	d := make([]byte, DigestSize)
	copy(d, key)
	return d
}

// CodeRevocationKey is the key of the revocation record of the coded
// document anchored under a code key: RevocationKey(CodeKeyIndex,
// CodeKeyIndexDigest(key)), which no revocation by digest reaches.
func CodeRevocationKey(key []byte) []byte {
	return RevocationKey(CodeKeyIndex, CodeKeyIndexDigest(key))
}

// DocumentRevocationKey is the key of a document's revocation record:
// CodeRevocationKey(codeKey) for a coded document (codeKey not empty),
// RevocationKey(alg, digest) for a plain one.
func DocumentRevocationKey(alg HashAlgorithm, digest, codeKey []byte) []byte {
	if len(codeKey) > 0 {
		return CodeRevocationKey(codeKey)
	}
	return RevocationKey(alg, digest)
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

// checkCodeKeyList validates a Revoke's code keys: 1..max of them (max 0
// skips the count bound), each CodeKeySize bytes, no key twice.
func checkCodeKeyList(keys []byte, max uint32) (int, error) {
	if len(keys) == 0 {
		return 0, ErrEmptyBatch
	}
	if len(keys)%CodeKeySize != 0 {
		return 0, wrapf(ErrBadCodeKeys, "%d bytes is not a whole number of %d-byte code keys", len(keys), CodeKeySize)
	}
	n := len(keys) / CodeKeySize
	if max > 0 && n > int(max) {
		return 0, wrapf(ErrBatchTooLarge, "%d code keys, limit %d", n, max)
	}
	if j, i, ok := findDuplicateKey(keys, n); ok {
		return 0, wrapf(ErrBadCodeKeys, "code key %x at positions %d and %d", keys[i*CodeKeySize:(i+1)*CodeKeySize], j, i)
	}
	return n, nil
}

// findDuplicateKey is findDuplicate for CodeKeySize-byte keys.
func findDuplicateKey(keys []byte, n int) (int, int, bool) {
	if !hasEqualPrefix(keys, CodeKeySize, n) {
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

// BatchIndex returns the digest index entries of an AnchorBatch anchored
// at (height, txIndex): for a plain batch one per digest, for a coded batch
// one per code key under CodeKeyIndex (and none for its digests). A plain
// batch's entries share m's bytes.
func BatchIndex(m *notaryv1.AnchorBatch, height int64, txIndex uint32) IndexBatch {
	alg, ds := m.HashAlgorithm, m.Digests
	if len(m.CodeKeys) > 0 {
		alg, ds = CodeKeyIndex, codeKeyIndexDigests(m.CodeKeys)
	}
	return IndexBatch{Algorithm: alg, Digests: ds, Locator: Locator{Height: height, TxIndex: txIndex}}
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
