package ledger

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// SignPrefix starts the sign bytes of every transaction.
const SignPrefix = "notary/tx/v1"

// ConfirmPrefix starts the bytes a providing agency signs to confirm an
// exchange (ConfirmSignBytes).
const ConfirmPrefix = "notary/exchange-confirm/v1"

// Domain-separation prefixes of derived values.
const (
	subjectDomain = "notary/subject/v1"
	saltedDomain  = "notary/salted/v1"
	consentDomain = "notary/consent/v1"
	accessDomain  = "notary/access/v1"
)

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// Encode returns the canonical encoding of a state record or message:
// deterministic protobuf marshal. Records are only ever stored this way.
func Encode(m proto.Message) []byte {
	b, err := marshalOpts.Marshal(m)
	if err != nil {
		// Marshal fails only on invalid UTF-8 in a string field, which every
		// validated message excludes: a failure is a broken invariant.
		panic(fmt.Sprintf("ledger: encode %T: %v", m, err))
	}
	return b
}

// DecodeCanonical decodes b into m and fails unless b is exactly the canonical
// encoding of m: no unknown fields anywhere, and re-encoding gives b.
func DecodeCanonical(b []byte, m proto.Message) error {
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedTx, err)
	}
	if hasUnknown(m.ProtoReflect()) {
		return fmt.Errorf("%w: unknown fields in %s", ErrNonCanonical, m.ProtoReflect().Descriptor().Name())
	}
	// The re-encoding is compared and dropped: it goes into a reused
	// buffer, so a 321 kB batch does not allocate (and zero) 321 kB more.
	bp := reencodeBufs.Get().(*[]byte)
	defer reencodeBufs.Put(bp)
	re, err := marshalOpts.MarshalAppend((*bp)[:0], m)
	if cap(re) <= maxReencodeBuf {
		*bp = re
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedTx, err)
	}
	if !bytes.Equal(re, b) {
		return fmt.Errorf("%w: %s re-encodes differently", ErrNonCanonical, m.ProtoReflect().Descriptor().Name())
	}
	return nil
}

// reencodeBufs holds DecodeCanonical's re-encoding buffers; one larger than
// maxReencodeBuf is not kept.
var reencodeBufs = sync.Pool{New: func() any { return new([]byte) }}

const maxReencodeBuf = 4 << 20

// hasUnknown reports whether m or any message inside it has unknown fields.
func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = hasUnknown(l.Get(i).Message())
			}
		case fd.IsMap():
			found = true // no map fields in the schema; a map is never canonical
		case fd.Message() != nil:
			found = hasUnknown(v.Message())
		}
		return !found
	})
	return found
}

// SignBytes returns the bytes a transaction signature covers:
// "notary/tx/v1" || uvarint(len(chainID)) || chainID || body.
func SignBytes(chainID string, body []byte) []byte {
	out := make([]byte, 0, len(SignPrefix)+binary.MaxVarintLen64+len(chainID)+len(body))
	return append(signPrefix(out, chainID), body...)
}

// signPrefix appends the sign bytes that come before the body.
func signPrefix(out []byte, chainID string) []byte {
	out = append(out, SignPrefix...)
	out = binary.AppendUvarint(out, uint64(len(chainID)))
	return append(out, chainID...)
}

// EncodeSigned builds the canonical bytes of a transaction carrying body for
// chainID (body.ChainId is set), signed by pub with sign, which returns the
// ed25519 signature of the sign bytes it is given (and does not keep them).
// Holders of a private key use identity.SignTx, which supplies sign.
//
// The body is encoded once, behind room for the longer of the sign bytes'
// prefix and the envelope's body field header: signed behind the prefix,
// then given the header in the prefix's place and followed by the key and
// the signature, it is not copied into the sign bytes nor into the
// envelope. The bytes are those of Encode(&notaryv1.Tx{...}).
func EncodeSigned(chainID string, pub []byte, body *notaryv1.TxBody, sign func(signBytes []byte) []byte) []byte {
	body.ChainId = chainID
	size := marshalOpts.Size(body)
	if size == 0 {
		// An empty body is no field of the envelope.
		return Encode(&notaryv1.Tx{PubKey: pub, Signature: sign(SignBytes(chainID, nil))})
	}
	var pre [len(SignPrefix) + binary.MaxVarintLen64 + 64]byte
	prefix := signPrefix(pre[:0], chainID)
	hdr := 1 + protowire.SizeVarint(uint64(size))
	lead := max(len(prefix), hdr)
	buf := make([]byte, lead, lead+size+2*(1+binary.MaxVarintLen64)+len(pub)+SignatureSize)
	copy(buf[lead-len(prefix):], prefix)
	buf, err := marshalOpts.MarshalAppend(buf, body)
	if err != nil || len(buf) != lead+size {
		panic(fmt.Sprintf("ledger: encode %T: %v (%d bytes, sized %d)", body, err, len(buf)-lead, size))
	}
	sig := sign(buf[lead-len(prefix):])
	start := lead - hdr
	buf[start] = byte(protowire.EncodeTag(1, protowire.BytesType))
	protowire.AppendVarint(buf[start+1:start+1], uint64(size))
	if len(pub) > 0 {
		buf = protowire.AppendTag(buf, 2, protowire.BytesType)
		buf = protowire.AppendBytes(buf, pub)
	}
	if len(sig) > 0 {
		buf = protowire.AppendTag(buf, 3, protowire.BytesType)
		buf = protowire.AppendBytes(buf, sig)
	}
	return buf[start:]
}

// ConfirmSignBytes returns the bytes a providing agency signs to confirm
// exchange m on chainID:
// "notary/exchange-confirm/v1" || uvarint(len(chainID)) || chainID ||
// the canonical bytes of m with provider_confirmation unset. m is not
// modified.
func ConfirmSignBytes(chainID string, m *notaryv1.RecordExchange) []byte {
	if m.ProviderConfirmation != nil {
		m = proto.Clone(m).(*notaryv1.RecordExchange)
		m.ProviderConfirmation = nil
	}
	body := Encode(m)
	out := make([]byte, 0, len(ConfirmPrefix)+binary.MaxVarintLen64+len(chainID)+len(body))
	out = append(out, ConfirmPrefix...)
	out = binary.AppendUvarint(out, uint64(len(chainID)))
	out = append(out, chainID...)
	return append(out, body...)
}

// EncodeConfirmation builds the providing agency's confirmation of exchange
// m on chainID by pub with sign, which returns the ed25519 signature of the
// bytes it is given. Holders of a private key use identity.ConfirmExchange,
// which supplies sign.
func EncodeConfirmation(chainID string, pub []byte, m *notaryv1.RecordExchange, sign func(msg []byte) []byte) *notaryv1.ProviderConfirmation {
	return &notaryv1.ProviderConfirmation{PubKey: pub, Signature: sign(ConfirmSignBytes(chainID, m))}
}

// TxHash is the SHA-256 of the transaction bytes (CometBFT's tx hash).
func TxHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// Tx is a decoded transaction whose encoding, chain id and signature have been
// checked. It is immutable and may be cached by its hash.
type Tx struct {
	Raw    []byte
	Hash   [32]byte
	Signer []byte
	Body   *notaryv1.TxBody

	// digestsOK records that the AnchorBatch's digest list is well formed
	// and free of duplicates, a property of the bytes alone: a cached
	// transaction checked by CheckTx, its rechecks, ProcessProposal and
	// FinalizeBlock searches its digests for duplicates once.
	digestsOK atomic.Bool
	// codeKeysOK records the same of its code keys (checkCodeKeys).
	codeKeysOK atomic.Bool
}

// DecodeTx decodes and checks a transaction without looking at the state:
// size against maxBytes (0: no limit), canonical encoding of the envelope and
// the body, chain id, public key and signature, and exactly one message.
func DecodeTx(chainID string, raw []byte, maxBytes uint64) (*Tx, error) {
	if maxBytes > 0 && uint64(len(raw)) > maxBytes {
		return nil, wrapf(ErrTxTooLarge, "%d bytes, limit %d", len(raw), maxBytes)
	}
	if len(raw) == 0 {
		return nil, wrapf(ErrMalformedTx, "empty transaction")
	}
	envBody, pub, sig, ok := decodeEnvelope(raw)
	if !ok {
		// Not the canonical encoding: the decoding says why.
		var env notaryv1.Tx
		if err := DecodeCanonical(raw, &env); err != nil {
			return nil, err
		}
		envBody, pub, sig = env.Body, env.PubKey, env.Signature
	}
	var body notaryv1.TxBody
	if err := DecodeCanonical(envBody, &body); err != nil {
		return nil, err
	}
	if body.ChainId != chainID {
		return nil, wrapf(ErrWrongChain, "transaction for %q, this chain is %q", body.ChainId, chainID)
	}
	if len(pub) != PublicKeySize {
		return nil, wrapf(ErrBadPublicKey, "%d bytes, want %d", len(pub), PublicKeySize)
	}
	if len(sig) != SignatureSize {
		return nil, wrapf(ErrBadSignature, "%d bytes, want %d", len(sig), SignatureSize)
	}
	// The sign bytes are hashed in two pieces rather than copied into one.
	var pre [len(SignPrefix) + binary.MaxVarintLen64 + 64]byte
	if !verifySignatureParts(pub, sig, signPrefix(pre[:0], chainID), envBody) {
		return nil, ErrBadSignature
	}
	if body.Msg == nil {
		return nil, ErrNoMessage
	}
	return &Tx{Raw: raw, Hash: TxHash(raw), Signer: pub, Body: &body}, nil
}

// decodeEnvelope reads the fields of a Tx envelope from its canonical
// encoding without copying them: body, pub_key and signature in that
// order, each at most once, none empty, with one-byte tags and minimal
// lengths; the slices share raw's bytes. Every encoding DecodeCanonical
// accepts for a Tx is of that form, and then both give the same fields;
// ok is false for any other bytes, which DecodeCanonical refuses (and says
// why). The envelope's bytes are most of a transaction's: read in place,
// they are not copied, re-encoded and compared.
func decodeEnvelope(raw []byte) (body, pub, sig []byte, ok bool) {
	var fields [3][]byte
	next := protowire.Number(1)
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n != 1 || typ != protowire.BytesType || num < next || num > 3 {
			return nil, nil, nil, false
		}
		raw = raw[n:]
		v, m := protowire.ConsumeBytes(raw)
		if m < 0 || len(v) == 0 || m != protowire.SizeBytes(len(v)) {
			return nil, nil, nil, false
		}
		fields[num-1] = v
		next = num + 1
		raw = raw[m:]
	}
	return fields[0], fields[1], fields[2], true
}

// SubjectID is a citizen's pseudonymous subject id: SHA-256 of a domain tag
// and the citizen's public key. It reveals nothing about the person.
func SubjectID(pub []byte) []byte {
	h := sha256.New()
	h.Write([]byte(subjectDomain))
	h.Write(pub)
	return h.Sum(nil)
}

// HashDocument hashes data with alg; it returns nil for an unknown algorithm.
func HashDocument(alg HashAlgorithm, data []byte) []byte {
	switch alg {
	case notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256:
		s := sha256.Sum256(data)
		return s[:]
	case notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256:
		s := sha3.Sum256(data)
		return s[:]
	}
	return nil
}

// SaltedDigest is the commitment anchored for a document when a salt is used:
// H("notary/salted/v1" || salt || digest), H being alg. It hides guessable
// documents: without the salt, hashing candidate documents finds nothing.
func SaltedDigest(alg HashAlgorithm, salt, digest []byte) []byte {
	return HashDocument(alg, cat([]byte(saltedDomain), salt, digest))
}

// AlgorithmName returns the receipt name of alg ("sha2-256", "sha3-256").
func AlgorithmName(alg HashAlgorithm) string {
	switch alg {
	case notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256:
		return "sha2-256"
	case notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256:
		return "sha3-256"
	}
	return ""
}

// ParseAlgorithm parses AlgorithmName's output.
func ParseAlgorithm(name string) (HashAlgorithm, bool) {
	switch name {
	case "sha2-256":
		return notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, true
	case "sha3-256":
		return notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256, true
	}
	return notaryv1.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED, false
}
