package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// CometBFT v0.38's light-client checks, written from the wire formats so
// that the verifier links no CometBFT (whose types package brings gRPC and
// net/http with it). Each function names the CometBFT code it mirrors; the
// tests cross-check every one against CometBFT itself.

// MaxTotalVotingPower mirrors types.MaxTotalVotingPower.
const MaxTotalVotingPower = int64(math.MaxInt64) / 8

// precommitType is tendermint.types.SignedMsgType PRECOMMIT.
const precommitType = 2

// hashSize is the size of CometBFT's hashes (SHA-256).
const hashSize = sha256.Size

// Validator is a member of a validator set: its ed25519 key and voting power.
type Validator struct {
	PubKey []byte
	Power  int64
}

// address is CometBFT's validator address: the first 20 bytes of SHA-256 of
// the ed25519 public key.
func address(pub []byte) []byte {
	s := sha256.Sum256(pub)
	return s[:20]
}

// checkValidatorSet checks what types.ValidatorSet guarantees: at least one
// validator, 32-byte keys, positive powers, no key twice, total power at most
// MaxTotalVotingPower, and CometBFT's order (power descending, then address
// ascending). It returns the total power.
func checkValidatorSet(vals []Validator) (int64, error) {
	if len(vals) == 0 {
		return 0, fmt.Errorf("empty validator set")
	}
	var total int64
	seen := make(map[string]bool, len(vals))
	for i, v := range vals {
		if len(v.PubKey) != ed25519.PublicKeySize {
			return 0, fmt.Errorf("validator %d: public key of %d bytes, want %d", i, len(v.PubKey), ed25519.PublicKeySize)
		}
		if v.Power <= 0 || v.Power > MaxTotalVotingPower {
			return 0, fmt.Errorf("validator %d: voting power %d out of range", i, v.Power)
		}
		if seen[string(v.PubKey)] {
			return 0, fmt.Errorf("validator %d: key %x appears twice", i, v.PubKey)
		}
		seen[string(v.PubKey)] = true
		total += v.Power
		if total > MaxTotalVotingPower {
			return 0, fmt.Errorf("total voting power exceeds %d", MaxTotalVotingPower)
		}
		if i > 0 {
			p := vals[i-1]
			if p.Power < v.Power || (p.Power == v.Power && bytes.Compare(address(p.PubKey), address(v.PubKey)) >= 0) {
				return 0, fmt.Errorf("validators %d and %d are not in CometBFT order (power descending, then address ascending)", i-1, i)
			}
		}
	}
	return total, nil
}

// ValidatorSetHash mirrors types.ValidatorSet.Hash: the RFC 6962 Merkle root
// over each validator's SimpleValidator encoding,
//
//	0x0a 0x22 0x0a 0x20 <32-byte ed25519 key> [0x10 uvarint(power)]
//
// (SimpleValidator{pub_key: PublicKey{ed25519: key}, voting_power: power}).
func ValidatorSetHash(vals []Validator) []byte {
	leaves := make([][]byte, len(vals))
	for i, v := range vals {
		leaves[i] = simpleValidatorBytes(v)
	}
	return merkleRoot(leaves)
}

func simpleValidatorBytes(v Validator) []byte {
	var pk []byte
	pk = appendBytesField(pk, 1, v.PubKey) // PublicKey.ed25519
	var b []byte
	b = appendMessageField(b, 1, pk) // SimpleValidator.pub_key
	if v.Power != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v.Power))
	}
	return b
}

// merkleRoot mirrors crypto/merkle.HashFromByteSlices: the RFC 6962 Merkle
// tree hash (leaf SHA-256(0x00 || item), node SHA-256(0x01 || left || right),
// split at the largest power of two below n; SHA-256 of nothing when empty).
func merkleRoot(items [][]byte) []byte {
	switch len(items) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		h := sha256.New()
		h.Write([]byte{0})
		h.Write(items[0])
		return h.Sum(nil)
	}
	k := 1
	for k*2 < len(items) {
		k *= 2
	}
	l, r := merkleRoot(items[:k]), merkleRoot(items[k:])
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// Protobuf encoders that reproduce gogoproto's output for CometBFT's
// messages: scalar fields are left out when zero, and non-nullable embedded
// messages (gogoproto.nullable = false) are always written, even when empty.

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendMessageField(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendSfixed64Field(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, uint64(v))
}

// timestampBytes is google.protobuf.Timestamp{seconds, nanos} as gogoproto's
// StdTimeMarshal writes it.
func timestampBytes(t *timestamppb.Timestamp) []byte {
	var b []byte
	b = appendVarintField(b, 1, uint64(t.GetSeconds()))
	b = appendVarintField(b, 2, uint64(int64(t.GetNanos())))
	return b
}

// versionBytes is tendermint.version.Consensus{block, app}.
func versionBytes(v *notaryv1.CometConsensusVersion) []byte {
	var b []byte
	b = appendVarintField(b, 1, v.GetBlock())
	return appendVarintField(b, 2, v.GetApp())
}

// partSetHeaderBytes is tendermint.types.PartSetHeader{total, hash} (and
// CanonicalPartSetHeader, which has the same fields).
func partSetHeaderBytes(p *notaryv1.CometPartSetHeader) []byte {
	var b []byte
	b = appendVarintField(b, 1, uint64(p.GetTotal()))
	return appendBytesField(b, 2, p.GetHash())
}

// blockIDBytes is tendermint.types.BlockID{hash, part_set_header} (and
// CanonicalBlockID); part_set_header is non-nullable.
func blockIDBytes(id *notaryv1.CometBlockID) []byte {
	var b []byte
	b = appendBytesField(b, 1, id.GetHash())
	return appendMessageField(b, 2, partSetHeaderBytes(id.GetPartSetHeader()))
}

// headerBytes is the gogoproto encoding of tendermint.types.Header:
// version (1), time (4) and last_block_id (5) are non-nullable.
func headerBytes(h *notaryv1.CometHeader) []byte {
	var b []byte
	b = appendMessageField(b, 1, versionBytes(h.GetVersion()))
	if h.GetChainId() != "" {
		b = appendBytesField(b, 2, []byte(h.GetChainId()))
	}
	b = appendVarintField(b, 3, uint64(h.GetHeight()))
	b = appendMessageField(b, 4, timestampBytes(h.GetTime()))
	b = appendMessageField(b, 5, blockIDBytes(h.GetLastBlockId()))
	b = appendBytesField(b, 6, h.GetLastCommitHash())
	b = appendBytesField(b, 7, h.GetDataHash())
	b = appendBytesField(b, 8, h.GetValidatorsHash())
	b = appendBytesField(b, 9, h.GetNextValidatorsHash())
	b = appendBytesField(b, 10, h.GetConsensusHash())
	b = appendBytesField(b, 11, h.GetAppHash())
	b = appendBytesField(b, 12, h.GetLastResultsHash())
	b = appendBytesField(b, 13, h.GetEvidenceHash())
	b = appendBytesField(b, 14, h.GetProposerAddress())
	return b
}

// DecodeHeader decodes the bytes of a tendermint.types.Header and accepts
// them only if they are exactly what CometBFT writes for that header (so a
// header has one encoding), with a valid time.
func DecodeHeader(b []byte) (*notaryv1.CometHeader, error) {
	var h notaryv1.CometHeader
	if err := proto.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if h.Time == nil {
		return nil, fmt.Errorf("header: no time")
	}
	if err := h.Time.CheckValid(); err != nil {
		return nil, fmt.Errorf("header: time: %v", err)
	}
	if !bytes.Equal(headerBytes(&h), b) {
		return nil, fmt.Errorf("header: not in CometBFT's encoding (re-encoding differs)")
	}
	return &h, nil
}

// blockProtocol mirrors version.BlockProtocol, CometBFT v0.38's block
// protocol version: every header carries it in version.block.
const blockProtocol = 11

// maxChainIDLen mirrors types.MaxChainIDLen.
const maxChainIDLen = 50

// addressSize is the size of a CometBFT validator address.
const addressSize = 20

// CheckHeaderFields makes the checks of CometBFT's Header.ValidateBasic,
// which its light client makes on every header it accepts: version.block
// is the block protocol, chain_id of at most 50 bytes, height at least 1,
// last_block_id's hash and part set header hash, last_commit_hash,
// data_hash, evidence_hash, validators_hash, next_validators_hash,
// consensus_hash and last_results_hash each empty or of 32 bytes, and a
// proposer_address of 20 bytes. The app_hash, of any length for CometBFT,
// is required to be of 32 bytes (an IAVL root) where the verifier uses it.
func CheckHeaderFields(h *notaryv1.CometHeader) error {
	if b := h.GetVersion().GetBlock(); b != blockProtocol {
		return fmt.Errorf("header: version.block %d, want %d (CometBFT's block protocol)", b, blockProtocol)
	}
	if n := len(h.GetChainId()); n > maxChainIDLen {
		return fmt.Errorf("header: chain_id of %d bytes, at most %d", n, maxChainIDLen)
	}
	if h.GetHeight() < 1 {
		return fmt.Errorf("header: height %d, want at least 1", h.GetHeight())
	}
	hashes := []struct {
		name string
		b    []byte
	}{
		{"last_block_id.hash", h.GetLastBlockId().GetHash()},
		{"last_block_id.part_set_header.hash", h.GetLastBlockId().GetPartSetHeader().GetHash()},
		{"last_commit_hash", h.GetLastCommitHash()},
		{"data_hash", h.GetDataHash()},
		{"validators_hash", h.GetValidatorsHash()},
		{"next_validators_hash", h.GetNextValidatorsHash()},
		{"consensus_hash", h.GetConsensusHash()},
		{"last_results_hash", h.GetLastResultsHash()},
		{"evidence_hash", h.GetEvidenceHash()},
	}
	for _, x := range hashes {
		if len(x.b) != 0 && len(x.b) != hashSize {
			return fmt.Errorf("header: %s of %d bytes, want 0 or %d", x.name, len(x.b), hashSize)
		}
	}
	if n := len(h.GetProposerAddress()); n != addressSize {
		return fmt.Errorf("header: proposer_address of %d bytes, want %d", n, addressSize)
	}
	return nil
}

// wrapper encodings of cdcEncode (types/encoding_helper.go): the value
// wrapped in google.protobuf.StringValue, Int64Value or BytesValue, nothing
// for a zero value.
func stringValue(s string) []byte { return appendBytesField(nil, 1, []byte(s)) }
func int64Value(v int64) []byte   { return appendVarintField(nil, 1, uint64(v)) }
func bytesValue(v []byte) []byte  { return appendBytesField(nil, 1, v) }
func headerLeaves(h *notaryv1.CometHeader) [][]byte {
	return [][]byte{
		versionBytes(h.GetVersion()),
		stringValue(h.GetChainId()),
		int64Value(h.GetHeight()),
		timestampBytes(h.GetTime()),
		blockIDBytes(h.GetLastBlockId()),
		bytesValue(h.GetLastCommitHash()),
		bytesValue(h.GetDataHash()),
		bytesValue(h.GetValidatorsHash()),
		bytesValue(h.GetNextValidatorsHash()),
		bytesValue(h.GetConsensusHash()),
		bytesValue(h.GetAppHash()),
		bytesValue(h.GetLastResultsHash()),
		bytesValue(h.GetEvidenceHash()),
		bytesValue(h.GetProposerAddress()),
	}
}

// HeaderHash mirrors types.Header.Hash: the Merkle root (merkleRoot) of the
// header's 14 fields, each encoded as headerLeaves shows. Like CometBFT it
// returns nil for a header without validators_hash.
func HeaderHash(h *notaryv1.CometHeader) []byte {
	if len(h.GetValidatorsHash()) == 0 {
		return nil
	}
	return merkleRoot(headerLeaves(h))
}

// VoteSignBytes mirrors types.VoteSignBytes for a precommit for blockID:
// the uvarint-length-delimited encoding of
//
//	CanonicalVote{type: 2 (precommit), height: sfixed64, round: sfixed64,
//	              block_id: CanonicalBlockID, timestamp, chain_id}
func VoteSignBytes(chainID string, height int64, round int32, blockID *notaryv1.CometBlockID, ts *timestamppb.Timestamp) []byte {
	var b []byte
	b = appendVarintField(b, 1, precommitType)
	b = appendSfixed64Field(b, 2, height)
	b = appendSfixed64Field(b, 3, int64(round))
	if len(blockID.GetHash()) > 0 || blockID.GetPartSetHeader().GetTotal() != 0 || len(blockID.GetPartSetHeader().GetHash()) > 0 {
		b = appendMessageField(b, 4, blockIDBytes(blockID))
	}
	b = appendMessageField(b, 5, timestampBytes(ts))
	if chainID != "" {
		b = appendBytesField(b, 6, []byte(chainID))
	}
	out := binary.AppendUvarint(make([]byte, 0, len(b)+2), uint64(len(b)))
	return append(out, b...)
}

// CommitCheck is the outcome of VerifyCommit.
type CommitCheck struct {
	// Signed lists the validator indices whose signatures verified.
	Signed []int
	// SignedPower and TotalPower are the power that signed and the set's total.
	SignedPower, TotalPower int64
}

// commitError says why a commit was refused; insufficient is set when every
// signature verified but they hold 2/3 of the power or less.
type commitError struct {
	msg          string
	insufficient bool
}

func (e *commitError) Error() string { return e.msg }

func commitErrorf(format string, args ...any) error {
	return &commitError{msg: fmt.Sprintf(format, args...)}
}

// VerifyCommit checks that commit commits to the header with hash
// headerHash at height, signed by more than 2/3 of the voting power of vals
// (which must pass checkValidatorSet). It mirrors
// types.VerifyCommitLightAllSignatures (every signature present must verify,
// and only signatures for the block count), with the compact LightCommit:
// signatures in strictly increasing validator order, each a precommit for
// commit.block_id at commit.height and commit.round with its own timestamp.
// Signatures are checked one at a time with the standard library's
// crypto/ed25519, on every platform (ADR 0018): what it accepts, CometBFT's
// ZIP-215 rules accept too, so no signature counts here that CometBFT would
// refuse. The first signature that does not verify is named.
func VerifyCommit(chainID string, vals []Validator, totalPower int64, headerHash []byte, height int64, c *notaryv1.LightCommit) (*CommitCheck, error) {
	if c == nil || c.BlockId == nil || c.BlockId.PartSetHeader == nil {
		return nil, commitErrorf("commit has no block id")
	}
	if c.Height != height {
		return nil, commitErrorf("commit is for height %d, the header is at height %d", c.Height, height)
	}
	if c.Round < 0 {
		return nil, commitErrorf("commit round %d is negative", c.Round)
	}
	if !bytes.Equal(c.BlockId.Hash, headerHash) {
		return nil, commitErrorf("commit is for block %x, the header hashes to %x", c.BlockId.Hash, headerHash)
	}
	psh := c.BlockId.PartSetHeader
	if psh.Total == 0 || len(psh.Hash) != hashSize {
		return nil, commitErrorf("commit block id has an incomplete part set header")
	}
	out := &CommitCheck{TotalPower: totalPower}
	prev := -1
	for i, s := range c.Signatures {
		idx := int(s.GetValidatorIndex())
		if idx <= prev {
			return nil, commitErrorf("signature %d: validator index %d is not after %d", i, idx, prev)
		}
		prev = idx
		if idx >= len(vals) {
			return nil, commitErrorf("signature %d: validator index %d, the set has %d validators", i, idx, len(vals))
		}
		if s.Timestamp == nil || s.Timestamp.CheckValid() != nil {
			return nil, commitErrorf("signature %d: invalid timestamp", i)
		}
		if len(s.Signature) != ed25519.SignatureSize {
			return nil, commitErrorf("signature %d: %d bytes, want %d", i, len(s.Signature), ed25519.SignatureSize)
		}
		msg := VoteSignBytes(chainID, c.Height, c.Round, c.BlockId, s.Timestamp)
		if !ed25519.Verify(ed25519.PublicKey(vals[idx].PubKey), msg, s.Signature) {
			return nil, commitErrorf("signature %d of validator %d (key %x) does not verify", i, idx, vals[idx].PubKey)
		}
		out.Signed = append(out.Signed, idx)
		out.SignedPower += vals[idx].Power
	}
	// More than 2/3: signed > floor(2 total / 3), as CometBFT computes it.
	if needed := totalPower * 2 / 3; out.SignedPower <= needed {
		return out, &commitError{
			msg:          fmt.Sprintf("signatures hold voting power %d of %d, more than %d is needed", out.SignedPower, totalPower, needed),
			insufficient: true,
		}
	}
	return out, nil
}
