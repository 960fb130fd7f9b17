package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Checkpoints of the evidence log.
//
// At the end of a block that grew the evidence log, if no checkpoint point
// was recorded yet or at least params.checkpoint_interval heights passed
// since the last one (0: at every such block), the ledger records a
// checkpoint point: the log's size and root, the block's height, and the
// validators in force at the block's end (the active ministries with power
// > 0), at ckpt/<be64 size> (a LogCheckpoint). Every node agrees on these
// sizes. Each validator then signs the checkpoint's C2SP tlog-checkpoint
// body as a signed note,
//
//	<origin>\n<decimal size>\n<base64 root>\n
//
// origin = CheckpointOrigin(chain id), key name CheckpointKeyName(chain id,
// ministry id), with its consensus key, and sends the signature in a
// CheckpointSignature transaction, which the ledger keeps at
// ckpt/<be64 size>/<ministry id> (the 64-byte ed25519 signature). A
// checkpoint whose signatures carry more than 2/3 of its validators' power
// is valid (docs/receipt.md, "Checkpoints").

var (
	prefixCheckpoint  = []byte("ckpt/")    // + be64 size: LogCheckpoint; + '/' + ministry id: signature
	keyLastCheckpoint = []byte("ckptlast") // be64 height || be64 size of the last checkpoint point
)

// OriginPrefix starts every checkpoint origin.
const OriginPrefix = "notary.gobtechlab/"

// CheckpointOrigin is the origin line of chainID's checkpoints.
func CheckpointOrigin(chainID string) string { return OriginPrefix + chainID }

// CheckpointKeyName is the signed-note key name of a ministry's validator
// signing chainID's checkpoints: "<origin>/<ministry id>".
func CheckpointKeyName(chainID, ministryID string) string {
	return CheckpointOrigin(chainID) + "/" + ministryID
}

// CheckpointText is the C2SP tlog-checkpoint body of (origin, size, root),
// the text a validator signs.
func CheckpointText(origin string, size uint64, root []byte) []byte {
	out := make([]byte, 0, len(origin)+24+base64.StdEncoding.EncodedLen(len(root)))
	out = append(out, origin...)
	out = append(out, '\n')
	out = strconv.AppendUint(out, size, 10)
	out = append(out, '\n')
	out = base64.StdEncoding.AppendEncode(out, root)
	return append(out, '\n')
}

// CheckpointPrefix is the prefix of every checkpoint record and signature.
func CheckpointPrefix() []byte { return append([]byte(nil), prefixCheckpoint...) }

// CheckpointKey is the state key of the checkpoint point of a log size.
func CheckpointKey(size uint64) []byte { return cat(prefixCheckpoint, be64(size)) }

// CheckpointSignaturePrefix is the prefix of the signatures of the
// checkpoint of a log size.
func CheckpointSignaturePrefix(size uint64) []byte {
	return cat(prefixCheckpoint, be64(size), []byte("/"))
}

// CheckpointSignatureKey is the state key of a ministry's validator's
// signature of the checkpoint of a log size.
func CheckpointSignatureKey(size uint64, ministryID string) []byte {
	return cat(prefixCheckpoint, be64(size), []byte("/"), []byte(ministryID))
}

// LastCheckpointKey is the state key of the last checkpoint point's height
// and size.
func LastCheckpointKey() []byte { return append([]byte(nil), keyLastCheckpoint...) }

// LoadCheckpoint returns the checkpoint point of a log size, nil if there
// is none.
func LoadCheckpoint(st Store, size uint64) (*notaryv1.LogCheckpoint, error) {
	c := &notaryv1.LogCheckpoint{}
	ok, err := load(wrapStore(st), CheckpointKey(size), c)
	if !ok {
		return nil, err
	}
	return c, nil
}

// LastCheckpoint returns the height and log size of the last checkpoint
// point; ok is false if there is none.
func LastCheckpoint(st Store) (height int64, size uint64, ok bool, err error) {
	b, err := wrapStore(st).Get(keyLastCheckpoint)
	if err != nil || b == nil {
		return 0, 0, false, err
	}
	if len(b) != 16 {
		return 0, 0, false, &StoreError{fmt.Errorf("last checkpoint record of %d bytes", len(b))}
	}
	return int64(binary.BigEndian.Uint64(b[:8])), binary.BigEndian.Uint64(b[8:]), true, nil
}

// CheckpointSignature is a validator's signature of a checkpoint, as the
// state keeps it.
type CheckpointSignature struct {
	MinistryID string
	Signature  []byte
}

// LoadCheckpointSignatures returns the signatures gathered for the
// checkpoint of a log size, by ministry id.
func LoadCheckpointSignatures(st Store, size uint64) ([]CheckpointSignature, error) {
	prefix := CheckpointSignaturePrefix(size)
	var out []CheckpointSignature
	err := wrapStore(st).Iterate(prefix, PrefixEnd(prefix), func(k, v []byte) bool {
		out = append(out, CheckpointSignature{MinistryID: string(k[len(prefix):]), Signature: append([]byte(nil), v...)})
		return true
	})
	return out, err
}

// endCheckpoint records a checkpoint point at the end of a block that grew
// the log, if the interval since the last one has passed.
func (e *Exec) endCheckpoint(log EvidenceLog) error {
	lastHeight, _, ok, err := LastCheckpoint(e.st)
	if err != nil {
		return err
	}
	if ok && uint64(e.block.Height-lastHeight) < e.params.CheckpointInterval {
		return nil
	}
	c := &notaryv1.LogCheckpoint{Size: log.Size, Root: log.Root, Height: e.block.Height}
	prefix := MinistryPrefix()
	var bad error
	err = e.st.Iterate(prefix, PrefixEnd(prefix), func(k, v []byte) bool {
		m := &notaryv1.Ministry{}
		if err := proto.Unmarshal(v, m); err != nil {
			bad = &StoreError{fmt.Errorf("decode ministry at %q: %v", k, err)}
			return false
		}
		if m.Active && m.Power > 0 {
			c.Validators = append(c.Validators, &notaryv1.LogCheckpointValidator{
				MinistryId: m.Id, PubKey: m.ConsensusPubKey, Power: m.Power,
			})
		}
		return true
	})
	if err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	if err := e.st.Set(CheckpointKey(log.Size), Encode(c)); err != nil {
		return err
	}
	return e.st.Set(keyLastCheckpoint, cat(be64(uint64(e.block.Height)), be64(log.Size)))
}

// checkpointSignature runs a CheckpointSignature: its signer is the
// validator, with no account, sequence or nonce.
func (c *txContext) checkpointSignature(m *notaryv1.CheckpointSignature) error {
	b := c.tx.Body
	if b.Sequence != 0 || len(b.Nonce) != 0 {
		return wrapf(ErrInvalidField, "a checkpoint signature has sequence 0 and no nonce")
	}
	if !bytes.Equal(m.PubKey, c.tx.Signer) {
		return wrapf(ErrSignerMismatch, "checkpoint signature of key %x, signer is %x", m.PubKey, c.tx.Signer)
	}
	ck, err := LoadCheckpoint(c.st, m.Size)
	if err != nil {
		return err
	}
	if ck == nil {
		return wrapf(ErrCheckpointNotFound, "no checkpoint of log size %d", m.Size)
	}
	var v *notaryv1.LogCheckpointValidator
	for _, x := range ck.Validators {
		if bytes.Equal(x.PubKey, m.PubKey) && x.Power > 0 {
			v = x
			break
		}
	}
	if v == nil {
		return wrapf(ErrNotCheckpointValidator, "key %x at height %d (log size %d)", m.PubKey, ck.Height, m.Size)
	}
	key := CheckpointSignatureKey(m.Size, v.MinistryId)
	prev, err := c.st.Get(key)
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrCheckpointSigned, "ministry %q, log size %d", v.MinistryId, m.Size)
	}
	if !VerifySignature(m.PubKey, CheckpointText(CheckpointOrigin(c.e.l.chainID), ck.Size, ck.Root), m.Signature) {
		return wrapf(ErrBadCheckpointSignature, "ministry %q, log size %d", v.MinistryId, m.Size)
	}
	if err := c.st.Set(key, append([]byte(nil), m.Signature...)); err != nil {
		return err
	}
	c.emit("checkpoint-signature", "size", strconv.FormatUint(m.Size, 10), "ministry", v.MinistryId)
	return nil
}

// validateCheckpointSignature is ValidateBasic's part for a
// CheckpointSignature.
func validateCheckpointSignature(b *notaryv1.TxBody, m *notaryv1.CheckpointSignature) error {
	if b.Sequence != 0 || len(b.Nonce) != 0 {
		return wrapf(ErrInvalidField, "a checkpoint signature has sequence 0 and no nonce")
	}
	if len(m.PubKey) != PublicKeySize {
		return wrapf(ErrBadPublicKey, "checkpoint signature key of %d bytes", len(m.PubKey))
	}
	if len(m.Signature) != SignatureSize {
		return wrapf(ErrBadCheckpointSignature, "%d bytes, want %d", len(m.Signature), SignatureSize)
	}
	return nil
}
