package ledger

import (
	"encoding/binary"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The evidence log.
//
// On a chain with params.evidence_log, every anchored batch and every
// revocation record is appended, in block order (transaction order within a
// block, message order within a transaction, then the revocations of the
// governance proposals the block's end executes), as a leaf of one RFC 6962
// Merkle log. A leaf is the state record the evidence wrote, key and value
// (docs/receipt.md, "The evidence log"):
//
//	leaf = kind (1 byte) || be16 len(key) || key || be16 len(value) || value
//
// kind is LogLeafBatch for a batch record (key batch/..., value a Batch) and
// LogLeafRevocation for a revocation record (key rev/..., value a
// Revocation). The state keeps only the log's compact range, at the key
// "evlog":
//
//	value = be64 size || the compact range's hashes of [0, size), 32 bytes each
//
// (one hash per bit set in size, the largest subtree first), written once
// per block that appends a leaf: an append costs O(log n) hashes, and a
// block without evidence writes nothing.

// Kinds of evidence log leaves.
const (
	LogLeafBatch      byte = 1
	LogLeafRevocation byte = 2
)

// maxLogField bounds a leaf's key and value: their lengths are 16 bits. A
// record is far smaller (params bound every text it holds).
const maxLogField = 1<<16 - 1

var keyEvidenceLog = []byte("evlog")

// EvidenceLogKey is the state key of the evidence log's compact range.
func EvidenceLogKey() []byte { return append([]byte(nil), keyEvidenceLog...) }

// EncodeLogLeaf returns the log leaf of a state record.
func EncodeLogLeaf(kind byte, key, value []byte) []byte {
	if len(key) > maxLogField || len(value) > maxLogField {
		panic(fmt.Sprintf("ledger: log leaf field of %d/%d bytes", len(key), len(value)))
	}
	out := make([]byte, 0, 5+len(key)+len(value))
	out = append(out, kind)
	out = binary.BigEndian.AppendUint16(out, uint16(len(key)))
	out = append(out, key...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(value)))
	return append(out, value...)
}

// LogLeaf is a decoded evidence log leaf.
type LogLeaf struct {
	Kind  byte
	Key   []byte
	Value []byte
}

// DecodeLogLeaf decodes EncodeLogLeaf's output; it checks the framing and
// the kind, and that the key has the kind's prefix, not the value.
func DecodeLogLeaf(b []byte) (LogLeaf, error) {
	var l LogLeaf
	if len(b) < 5 {
		return l, fmt.Errorf("log leaf: %d bytes", len(b))
	}
	l.Kind = b[0]
	n := int(binary.BigEndian.Uint16(b[1:3]))
	if len(b) < 3+n+2 {
		return l, fmt.Errorf("log leaf: key of %d bytes overruns %d", n, len(b))
	}
	l.Key = b[3 : 3+n]
	rest := b[3+n:]
	m := int(binary.BigEndian.Uint16(rest[:2]))
	if len(rest) != 2+m {
		return l, fmt.Errorf("log leaf: value of %d bytes, %d left", m, len(rest)-2)
	}
	l.Value = rest[2:]
	var prefix []byte
	switch l.Kind {
	case LogLeafBatch:
		prefix = prefixBatch
	case LogLeafRevocation:
		prefix = prefixRevocation
	default:
		return l, fmt.Errorf("log leaf: unknown kind %d", l.Kind)
	}
	if len(l.Key) <= len(prefix) || string(l.Key[:len(prefix)]) != string(prefix) {
		return l, fmt.Errorf("log leaf: kind %d with key %q", l.Kind, l.Key)
	}
	return l, nil
}

// LogLeafHash is the RFC 6962 leaf hash of a log leaf: SHA-256(0x00 || leaf).
func LogLeafHash(leaf []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(leaf) }

// EvidenceLog is the state of the evidence log at a height.
type EvidenceLog struct {
	// Size is the number of leaves.
	Size uint64
	// Root is the RFC 6962 root hash of the Size leaves (SHA-256 of the
	// empty string for none).
	Root []byte
	// Hashes is the compact range of [0, Size).
	Hashes [][]byte
}

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// LoadEvidenceLog reads the evidence log's state from st: size 0 (the empty
// root) if no leaf was ever appended, or on a chain without the log.
func LoadEvidenceLog(st Store) (EvidenceLog, error) {
	b, err := st.Get(keyEvidenceLog)
	if err != nil {
		return EvidenceLog{}, err
	}
	l, err := decodeEvidenceLog(b)
	if err != nil {
		return EvidenceLog{}, &StoreError{err}
	}
	return l, nil
}

func decodeEvidenceLog(b []byte) (EvidenceLog, error) {
	if b == nil {
		return EvidenceLog{Root: rfc6962.DefaultHasher.EmptyRoot()}, nil
	}
	if len(b) < 8 || (len(b)-8)%rfc6962.DefaultHasher.Size() != 0 {
		return EvidenceLog{}, fmt.Errorf("evidence log record of %d bytes", len(b))
	}
	size := binary.BigEndian.Uint64(b[:8])
	var hashes [][]byte
	for rest := b[8:]; len(rest) > 0; rest = rest[32:] {
		hashes = append(hashes, rest[:32:32])
	}
	r, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return EvidenceLog{}, fmt.Errorf("evidence log record: %w", err)
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return EvidenceLog{}, fmt.Errorf("evidence log record: %w", err)
	}
	return EvidenceLog{Size: size, Root: root, Hashes: hashes}, nil
}

func encodeEvidenceLog(r *compact.Range) []byte {
	hs := r.Hashes()
	out := make([]byte, 0, 8+32*len(hs))
	out = binary.BigEndian.AppendUint64(out, r.End())
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

// appendEvidenceLog appends leaves to the log in st and returns the log's
// size before them and its size and root after them.
func appendEvidenceLog(st Store, leaves [][]byte) (uint64, EvidenceLog, error) {
	l, err := LoadEvidenceLog(st)
	if err != nil {
		return 0, EvidenceLog{}, err
	}
	r, err := rangeFactory.NewRange(0, l.Size, l.Hashes)
	if err != nil {
		return 0, EvidenceLog{}, &StoreError{fmt.Errorf("evidence log record: %w", err)}
	}
	for _, leaf := range leaves {
		if err := r.Append(LogLeafHash(leaf), nil); err != nil {
			panic(fmt.Sprintf("ledger: evidence log append: %v", err))
		}
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		panic(fmt.Sprintf("ledger: evidence log root: %v", err))
	}
	after := EvidenceLog{Size: r.End(), Root: root, Hashes: r.Hashes()}
	return l.Size, after, st.Set(keyEvidenceLog, encodeEvidenceLog(r))
}

// logRecord records a state record as the next leaf of the log, if the
// chain keeps one; the leaves reach the block's log only if the transaction
// (or proposal action) succeeds.
func (c *txContext) logRecord(kind byte, key, value []byte) {
	if c.e.mode != ModeDeliver || !c.e.params.EvidenceLog {
		return
	}
	c.leaves = append(c.leaves, EncodeLogLeaf(kind, key, value))
}

// LogLeaves returns the leaves the block appended to the evidence log and
// the log's size before them; valid after End.
func (e *Exec) LogLeaves() (uint64, [][]byte) { return e.logStart, e.logLeaves }

// endEvidenceLog appends the block's leaves to the log, and records a
// checkpoint point when one is due (checkpoint.go).
func (e *Exec) endEvidenceLog() error {
	if len(e.logLeaves) == 0 {
		return nil
	}
	start, after, err := appendEvidenceLog(e.st, e.logLeaves)
	if err != nil {
		return err
	}
	e.logStart = start
	return e.endCheckpoint(after)
}

// LoadAccount returns the account of an ed25519 public key in st, nil if
// there is none.
func LoadAccount(st Store, pub []byte) (*notaryv1.Account, error) {
	return loadAccount(wrapStore(st), pub)
}

// LoadRevocationRecord returns the revocation record at key in st, decoded
// and as stored; nil if there is none.
func LoadRevocationRecord(st Store, key []byte) (*notaryv1.Revocation, []byte, error) {
	v, err := wrapStore(st).Get(key)
	if err != nil || v == nil {
		return nil, nil, err
	}
	r := &notaryv1.Revocation{}
	if err := proto.Unmarshal(v, r); err != nil {
		return nil, nil, &StoreError{fmt.Errorf("decode revocation at %q: %w", key, err)}
	}
	return r, v, nil
}
