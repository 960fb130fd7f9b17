package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Hash algorithms, re-exported for callers.
const (
	SHA256  = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	SHA3256 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256
)

// SaltDomain separates the derivation of per-document salts.
const SaltDomain = "notary/salt/v1"

// hashBufSize is the read buffer of HashReader.
const hashBufSize = 1 << 20

// NewHash returns a hash.Hash for alg, or an error for an unknown algorithm.
func NewHash(alg ledger.HashAlgorithm) (hash.Hash, error) {
	switch alg {
	case SHA256:
		return sha256.New(), nil
	case SHA3256:
		return sha3.New256(), nil
	}
	return nil, fmt.Errorf("client: unknown hash algorithm %v (use sha2-256 or sha3-256)", alg)
}

// HashReader hashes everything r yields with alg, streaming.
func HashReader(alg ledger.HashAlgorithm, r io.Reader) ([]byte, error) {
	h, err := NewHash(alg)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, hashBufSize)
	if _, err := io.CopyBuffer(h, r, buf); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// HashFile hashes the regular file at path with alg, reading it once,
// streaming. Anything else (a named pipe, a device, a directory) is refused
// without being read (see package inputfile).
func HashFile(alg ledger.HashAlgorithm, path string) ([]byte, error) {
	return HashFileContext(context.Background(), alg, path)
}

// HashFileContext is HashFile stopping with ctx's error when ctx ends.
func HashFileContext(ctx context.Context, alg ledger.HashAlgorithm, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	d, err := HashReader(alg, ctxReader{ctx: ctx, r: f})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// ctxReader reads r until ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// DeriveSalt returns the salt of a document digest:
// HMAC-SHA256(saltKey, "notary/salt/v1" || digest). Without saltKey it cannot
// be computed, so commitments cannot be tested against guessed documents;
// with it, the same document always gets the same salt.
func DeriveSalt(saltKey, digest []byte) []byte {
	m := hmac.New(sha256.New, saltKey)
	m.Write([]byte(SaltDomain))
	m.Write(digest)
	return m.Sum(nil)
}

// Document is a document digest and the value anchored for it.
type Document struct {
	// Algorithm of the digest and of the commitment.
	Algorithm ledger.HashAlgorithm
	// Digest of the document's bytes.
	Digest []byte
	// Salt of the commitment; nil when the bare digest is anchored.
	Salt []byte
	// Anchored is the value on chain: ledger.SaltedDigest(Algorithm, Salt,
	// Digest), or Digest when there is no salt, or for a coded document its
	// coded entry (ledger.CodedEntry).
	Anchored []byte
	// CodeKey is the key (ledger.CodeKeySize bytes) of the verification
	// code the document is anchored under, whose salt is Salt; nil for a
	// document without a code (CodedDocument).
	CodeKey []byte
}

// Salted reports whether the document is anchored as a salted commitment.
func (d Document) Salted() bool { return len(d.Salt) > 0 }

// Coded reports whether the document is anchored under a verification code.
func (d Document) Coded() bool { return len(d.CodeKey) > 0 }

// consistent reports whether d's anchored value follows from its digest and
// salt, when it has a digest. A coded document's value is its entry, which
// must start with its key (its code tag is not computed again: a scrypt of
// some 50 ms), or in the earlier form its salted commitment.
func (d Document) consistent() bool {
	switch {
	case len(d.Digest) == 0:
		return true
	case d.Coded():
		return len(d.Anchored) == ledger.DigestSize && string(d.Anchored[:ledger.CodeKeySize]) == string(d.CodeKey) ||
			string(d.Anchored) == string(d.anchoredIn(false))
	case d.Salted():
		return string(d.Anchored) == string(ledger.SaltedDigest(d.Algorithm, d.Salt, d.Digest))
	}
	return string(d.Anchored) == string(d.Digest)
}

// anchoredIn returns the value a coded document has in a coded batch (its
// entry, Anchored) or in a batch with code_keys, the earlier form (its
// salted commitment); Anchored for any other document.
func (d Document) anchoredIn(coded bool) []byte {
	if !d.Coded() || coded {
		return d.Anchored
	}
	return ledger.SaltedDigest(d.Algorithm, d.Salt, d.Digest)
}

// Binding returns the receipt's document binding of d.
func (d Document) Binding() *notaryv1.DocumentBinding {
	b := &notaryv1.DocumentBinding{
		HashAlgorithm:  ledger.AlgorithmName(d.Algorithm),
		DocumentDigest: hex.EncodeToString(d.Digest),
		AnchoredDigest: hex.EncodeToString(d.Anchored),
	}
	if d.Salted() {
		b.Salt = hex.EncodeToString(d.Salt)
	}
	if d.Coded() {
		b.CodeKey = hex.EncodeToString(d.CodeKey)
	}
	return b
}

// CodedDocument returns the Document of a digest anchored under a
// verification code: salt and key are the code's (its Salt and Key, in
// package cmd/verifier/verify/vcode; docs/receipt.md, "Verification
// codes"), and the anchored value is the coded entry
// ledger.CodedEntry(key, salt, digest): the key and the code tag, some 50
// ms of one core (scrypt).
func CodedDocument(alg ledger.HashAlgorithm, digest, salt, key []byte) (Document, error) {
	if ledger.AlgorithmName(alg) == "" {
		return Document{}, fmt.Errorf("client: unknown hash algorithm %v", alg)
	}
	if len(digest) != ledger.DigestSize {
		return Document{}, fmt.Errorf("client: a %s digest is %d bytes, not %d", ledger.AlgorithmName(alg), ledger.DigestSize, len(digest))
	}
	if len(salt) != sha256.Size {
		return Document{}, fmt.Errorf("client: a verification code's salt is %d bytes, not %d", sha256.Size, len(salt))
	}
	if len(key) != ledger.CodeKeySize {
		return Document{}, fmt.Errorf("client: a verification code's key is %d bytes, not %d", ledger.CodeKeySize, len(key))
	}
	d := Document{
		Algorithm: alg,
		Digest:    append([]byte(nil), digest...),
		Salt:      append([]byte(nil), salt...),
		CodeKey:   append([]byte(nil), key...),
	}
	d.Anchored = ledger.CodedEntry(d.CodeKey, d.Salt, d.Digest)
	return d, nil
}

// Commit returns the Document of a digest: salted with saltKey, or bare when
// saltKey is nil.
func Commit(alg ledger.HashAlgorithm, saltKey, digest []byte) (Document, error) {
	if ledger.AlgorithmName(alg) == "" {
		return Document{}, fmt.Errorf("client: unknown hash algorithm %v", alg)
	}
	if len(digest) != ledger.DigestSize {
		return Document{}, fmt.Errorf("client: a %s digest is %d bytes, not %d", ledger.AlgorithmName(alg), ledger.DigestSize, len(digest))
	}
	d := Document{Algorithm: alg, Digest: append([]byte(nil), digest...)}
	if saltKey == nil {
		d.Anchored = d.Digest
		return d, nil
	}
	d.Salt = DeriveSalt(saltKey, digest)
	d.Anchored = ledger.SaltedDigest(alg, d.Salt, digest)
	return d, nil
}

// ParseDigest parses a hex digest of ledger.DigestSize bytes.
func ParseDigest(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ledger.DigestSize {
		return nil, fmt.Errorf("%q is not a digest: want %d hex characters", s, 2*ledger.DigestSize)
	}
	return b, nil
}
