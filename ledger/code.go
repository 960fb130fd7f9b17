package ledger

import (
	"fmt"

	"golang.org/x/crypto/scrypt"

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
//
// A coded batch (AnchorBatch.coded) anchors the same documents in 32 bytes
// each instead of 48: each item of its digests is a coded entry, the key
// followed by the document's CodeTagSize-byte code tag (a memory-hard
// function of the code's salt and the document's digest, computed by the
// agency and by verifiers, never by the ledger). Its Merkle leaves are the
// entries, as a plain batch's are its digests; its batch record says it is
// coded, so that no plain digest passes for an entry. Keys index, find and
// revoke its documents as those of a batch with code_keys, in the same
// namespace: a key is anchored once, whichever form carries it.

// CodeKeySize is the length of a verification code's key.
const CodeKeySize = 16

// CodeTagSize is the length of a coded entry's code tag: the entry is a
// code key and a code tag, DigestSize bytes.
const CodeTagSize = DigestSize - CodeKeySize

// The code tag's function: scrypt (RFC 7914) with these parameters, 16 MiB
// of memory and some 50 ms of one core a tag.
const (
	codeTagDomain = "notary/code/tag/v1"
	CodeTagN      = 1 << 14
	CodeTagR      = 8
	CodeTagP      = 1
)

// CodeTag returns the code tag of a document under a verification code:
//
//	scrypt(P = "notary/code/tag/v1" || digest, S = salt, N = 2^14, r = 8, p = 1, 16 bytes)
//
// with salt the code's and digest the document's under its batch's
// algorithm. An issuer who wanted two documents to verify under one code
// would need two digests with one tag: some 2^64 evaluations of scrypt,
// each 16 MiB of memory (THREAT_MODEL.md); anyone else, a document with a
// given tag: 2^128. Without the salt a tag says nothing of the document.
func CodeTag(salt, digest []byte) []byte {
	t, err := scrypt.Key(cat([]byte(codeTagDomain), digest), salt, CodeTagN, CodeTagR, CodeTagP, CodeTagSize)
	if err != nil {
		// scrypt refuses only parameters out of its bounds, and these
		// are fixed within them.
		panic(fmt.Sprintf("ledger: scrypt refused the code tag's fixed parameters: %v", err))
	}
	return t
}

// CodedEntry returns the coded entry of a document under a verification
// code, the value a coded batch anchors: key || CodeTag(salt, digest), key
// and salt being the code's.
func CodedEntry(key, salt, digest []byte) []byte {
	return append(append(make([]byte, 0, DigestSize), key...), CodeTag(salt, digest)...)
}

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

// codeKeyIndexDigests returns the index digests of the keys at the start of
// each stride bytes of keys (CodeKeySize for code_keys, DigestSize for a
// coded batch's entries), concatenated.
func codeKeyIndexDigests(keys []byte, stride int) []byte {
	n := len(keys) / stride
	out := make([]byte, n*DigestSize)
	for i := 0; i < n; i++ {
		copy(out[i*DigestSize:], keys[i*stride:i*stride+CodeKeySize])
	}
	return out
}

// BatchCodeKeys returns where an AnchorBatch's code keys are: code_keys (a
// key every CodeKeySize bytes), a coded batch's digests (the first
// CodeKeySize bytes of every DigestSize), or nowhere (nil) for a plain
// batch.
func BatchCodeKeys(m *notaryv1.AnchorBatch) (keys []byte, stride int) {
	switch {
	case m.Coded:
		return m.Digests, DigestSize
	case len(m.CodeKeys) > 0:
		return m.CodeKeys, CodeKeySize
	}
	return nil, 0
}

// CodeKeyAt returns the code key of leaf i of a batch (BatchCodeKeys), or
// nil for a plain batch or a leaf out of range.
func CodeKeyAt(m *notaryv1.AnchorBatch, i int) []byte {
	keys, stride := BatchCodeKeys(m)
	if keys == nil || i < 0 || (i+1)*stride > len(keys) {
		return nil
	}
	return keys[i*stride : i*stride+CodeKeySize]
}

// checkEntryList validates a coded batch's entries: 1..max of them (max 0
// skips the count bound), each DigestSize bytes, no key twice.
func checkEntryList(entries []byte, max uint32) (int, error) {
	return checkKeyedList(entries, DigestSize, max, ErrBadDigestLength, "coded entries")
}

// checkKeyedList validates a list of items of stride bytes, each starting
// with a code key: 1..max of them (max 0 skips the count bound), no key
// twice. A length that is not whole items is badLength; what names the
// items in the errors.
func checkKeyedList(list []byte, stride int, max uint32, badLength *Error, what string) (int, error) {
	if len(list) == 0 {
		return 0, ErrEmptyBatch
	}
	if len(list)%stride != 0 {
		return 0, wrapf(badLength, "%d bytes is not a whole number of %d-byte %s", len(list), stride, what)
	}
	n := len(list) / stride
	if max > 0 && n > int(max) {
		return 0, wrapf(ErrBatchTooLarge, "%d %s, limit %d", n, what, max)
	}
	if j, i, ok := findDuplicateKey(list, stride, n); ok {
		return 0, wrapf(ErrBadCodeKeys, "code key %x at positions %d and %d", list[i*stride:i*stride+CodeKeySize], j, i)
	}
	return n, nil
}

// checkAnchorLists checks an AnchorBatch's lists against max (0: no count
// bound) and returns its number of documents: a plain batch's digests; a
// batch with code_keys's digests and keys; a coded batch's entries, and no
// code_keys beside them. Each check runs once per decoded transaction.
func (t *Tx) checkAnchorLists(m *notaryv1.AnchorBatch, max uint32) (int, error) {
	if !m.Coded {
		n, err := t.checkDigests(m.Digests, max)
		if err != nil {
			return 0, err
		}
		return n, t.checkCodeKeys(m.CodeKeys, n)
	}
	if len(m.CodeKeys) > 0 {
		return 0, wrapf(ErrBadCodeKeys, "a coded batch carries its keys in its entries; code_keys must be empty, not %d bytes", len(m.CodeKeys))
	}
	if t.digestsOK.Load() {
		n := len(m.Digests) / DigestSize
		if max > 0 && n > int(max) {
			return 0, wrapf(ErrBatchTooLarge, "%d coded entries, limit %d", n, max)
		}
		return n, nil
	}
	n, err := checkEntryList(m.Digests, max)
	if err == nil {
		t.digestsOK.Store(true)
	}
	return n, err
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
	if j, i, ok := findDuplicateKey(keys, CodeKeySize, n); ok {
		return wrapf(ErrBadCodeKeys, "code key %x at positions %d and %d", keys[i*CodeKeySize:(i+1)*CodeKeySize], j, i)
	}
	return nil
}

// checkCodeKeyList validates a Revoke's code keys: 1..max of them (max 0
// skips the count bound), each CodeKeySize bytes, no key twice.
func checkCodeKeyList(keys []byte, max uint32) (int, error) {
	return checkKeyedList(keys, CodeKeySize, max, ErrBadCodeKeys, "code keys")
}

// findDuplicateKey is findDuplicate for the CodeKeySize-byte keys at the
// start of each stride bytes of keys.
func findDuplicateKey(keys []byte, stride, n int) (int, int, bool) {
	if !hasEqualPrefix(keys, stride, n) {
		return 0, 0, false
	}
	seen := make(map[[CodeKeySize]byte]int, n)
	for i := 0; i < n; i++ {
		k := [CodeKeySize]byte(keys[i*stride : i*stride+CodeKeySize])
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
	if keys, stride := BatchCodeKeys(m); keys != nil {
		alg, ds = CodeKeyIndex, codeKeyIndexDigests(keys, stride)
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
