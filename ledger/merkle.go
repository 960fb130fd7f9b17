package ledger

import (
	"crypto/sha256"

	simd "github.com/minio/sha256-simd"
)

// Merkle trees over a batch's digests follow RFC 6962 (section 2.1): a leaf
// hash is SHA-256(0x00 || leaf data), an interior node SHA-256(0x01 || left
// || right), and a tree of n leaves splits at the largest power of two below
// n. The leaf data is the digest (a coded batch's entry), or for a batch
// with code_keys the key and the digest (key || digest, 48 bytes: still
// one SHA-256 block).
// Built level by level, that is: pair adjacent nodes left to right and carry
// an odd last node up unchanged. Any RFC 6962 verifier (for instance
// github.com/transparency-dev/merkle/proof.VerifyInclusion with the rfc6962
// hasher) checks the paths made here.

const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// merkleHasher hashes leaves and interior nodes. It uses
// github.com/minio/sha256-simd, whose one-shot Sum256 has less per-call
// overhead than crypto/sha256's, which is most of the cost of a 33- or
// 65-byte hash (docs/adr/0015-sha256-simd-merkle-hashing.md), and falls
// back to crypto/sha256 without SHA extensions.
type merkleHasher struct {
	buf [1 + 2*sha256.Size]byte
}

func newMerkleHasher() *merkleHasher { return &merkleHasher{} }

func (m *merkleHasher) leaf(digest []byte) [32]byte {
	m.buf[0] = leafPrefix
	n := copy(m.buf[1:], digest)
	return simd.Sum256(m.buf[:1+n])
}

// codedLeaf is leaf of key || digest, without concatenating them first.
func (m *merkleHasher) codedLeaf(key, digest []byte) [32]byte {
	m.buf[0] = leafPrefix
	n := copy(m.buf[1:], key)
	n += copy(m.buf[1+n:], digest)
	return simd.Sum256(m.buf[:1+n])
}

func (m *merkleHasher) node(l, r *[32]byte) [32]byte {
	m.buf[0] = nodePrefix
	copy(m.buf[1:], l[:])
	copy(m.buf[1+sha256.Size:], r[:])
	return simd.Sum256(m.buf[:])
}

// LeafHash returns the RFC 6962 leaf hash of a digest.
func LeafHash(digest []byte) []byte {
	s := newMerkleHasher().leaf(digest)
	return s[:]
}

// LeafData returns the Merkle leaf data of a digest: the digest, or with a
// code key, key || digest.
func LeafData(codeKey, digest []byte) []byte {
	if len(codeKey) == 0 {
		return append([]byte(nil), digest...)
	}
	return append(append(make([]byte, 0, len(codeKey)+len(digest)), codeKey...), digest...)
}

// leafLevel hashes the n = len(digests)/DigestSize leaves: the digests, or
// with codeKeys (n keys of CodeKeySize bytes) each key || digest.
func leafLevel(m *merkleHasher, codeKeys, digests []byte) [][32]byte {
	n := len(digests) / DigestSize
	level := make([][32]byte, n)
	if len(codeKeys) == 0 {
		for i := 0; i < n; i++ {
			level[i] = m.leaf(digests[i*DigestSize : (i+1)*DigestSize])
		}
		return level
	}
	for i := 0; i < n; i++ {
		level[i] = m.codedLeaf(codeKeys[i*CodeKeySize:(i+1)*CodeKeySize], digests[i*DigestSize:(i+1)*DigestSize])
	}
	return level
}

// MerkleRoot returns the RFC 6962 tree hash over concatenated 32-byte digests.
// The tree of zero leaves has the hash of the empty string.
func MerkleRoot(digests []byte) []byte { return BatchRoot(nil, digests) }

// BatchRoot returns the root of a batch: MerkleRoot of its digests, or, with
// code keys (one CodeKeySize-byte key per digest), the RFC 6962 tree hash
// over the leaves key || digest. It hashes the leaves in order onto a stack
// of perfect subtrees, one per bit of the count so far (a binary counter:
// leaf i+1 merges as many subtrees as i+1 has trailing zero bits), then
// folds the stack from the right, which is RFC 6962's split at the largest
// power of two below n at every level; the batch's leaf level is never held
// in memory.
func BatchRoot(codeKeys, digests []byte) []byte {
	n := len(digests) / DigestSize
	if n == 0 {
		s := sha256.Sum256(nil)
		return s[:]
	}
	m := newMerkleHasher()
	var stack [64][32]byte
	top := 0
	for i := 0; i < n; i++ {
		var h [32]byte
		if len(codeKeys) == 0 {
			h = m.leaf(digests[i*DigestSize : (i+1)*DigestSize])
		} else {
			h = m.codedLeaf(codeKeys[i*CodeKeySize:(i+1)*CodeKeySize], digests[i*DigestSize:(i+1)*DigestSize])
		}
		for c := i + 1; c&1 == 0; c >>= 1 {
			top--
			h = m.node(&stack[top], &h)
		}
		stack[top] = h
		top++
	}
	h := stack[top-1]
	for j := top - 2; j >= 0; j-- {
		h = m.node(&stack[j], &h)
	}
	return append([]byte(nil), h[:]...)
}

// InclusionPath returns the RFC 6962 inclusion proof (sibling hashes from the
// leaf up) of leaf index in the tree over concatenated digests.
func InclusionPath(digests []byte, index uint32) [][]byte {
	return BatchInclusionPath(nil, digests, index)
}

// BatchInclusionPath is InclusionPath in the tree of BatchRoot.
func BatchInclusionPath(codeKeys, digests []byte, index uint32) [][]byte {
	m := newMerkleHasher()
	level := leafLevel(m, codeKeys, digests)
	if int(index) >= len(level) {
		return nil
	}
	var path [][]byte
	i := int(index)
	for len(level) > 1 {
		if sib := i ^ 1; sib < len(level) {
			path = append(path, append([]byte(nil), level[sib][:]...))
		}
		next := make([][32]byte, 0, (len(level)+1)/2)
		for j := 0; j+1 < len(level); j += 2 {
			next = append(next, m.node(&level[j], &level[j+1]))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
		i /= 2
	}
	return path
}
