package checkpoint

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/big"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Note returns the signed note of a checkpoint of chainID with the given
// signatures: the C2SP tlog-checkpoint body, a blank line, and one
// signature line per signature of a validator of the checkpoint,
//
//	— <origin>/<ministry id> <base64(key hash (4 bytes) || signature (64 bytes))>
//
// in the order given. A signature of a ministry that is not among the
// checkpoint's validators is left out.
func Note(chainID string, c *notaryv1.LogCheckpoint, sigs []ledger.CheckpointSignature) ([]byte, error) {
	var b bytes.Buffer
	b.Write(ledger.CheckpointText(ledger.CheckpointOrigin(chainID), c.Size, c.Root))
	b.WriteByte('\n')
	keys := map[string][]byte{}
	for _, v := range c.Validators {
		keys[v.MinistryId] = v.PubKey
	}
	for _, s := range sigs {
		pub, ok := keys[s.MinistryID]
		if !ok {
			continue
		}
		name := ledger.CheckpointKeyName(chainID, s.MinistryID)
		v, err := Verifier(name, pub)
		if err != nil {
			return nil, err
		}
		var hash [4]byte
		binary.BigEndian.PutUint32(hash[:], v.KeyHash())
		fmt.Fprintf(&b, "\u2014 %s %s\n", name, base64.StdEncoding.EncodeToString(append(hash[:], s.Signature...)))
	}
	return b.Bytes(), nil
}

// Verifier is the signed-note verifier of an ed25519 key named name.
func Verifier(name string, pub []byte) (note.Verifier, error) {
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: key %q: %w", name, err)
	}
	return note.NewVerifier(vkey)
}

// Quorum reports whether the signatures of the given ministries carry more
// than 2/3 of the power of the checkpoint's validators; a ministry counts
// once.
func Quorum(c *notaryv1.LogCheckpoint, sigs []ledger.CheckpointSignature) bool {
	power := map[string]int64{}
	total := new(big.Int)
	for _, v := range c.Validators {
		if v.Power > 0 {
			power[v.MinistryId] = v.Power
			total.Add(total, big.NewInt(v.Power))
		}
	}
	signed := new(big.Int)
	for _, s := range sigs {
		if p, ok := power[s.MinistryID]; ok {
			signed.Add(signed, big.NewInt(p))
			delete(power, s.MinistryID)
		}
	}
	// signed > 2/3 total  <=>  3·signed > 2·total
	return signed.Mul(signed, big.NewInt(3)).Cmp(total.Mul(total, big.NewInt(2))) > 0
}

// State is a committed state a Notes reads: abci.StateView.
type State interface {
	ledger.Store
	Height() int64
	IterateReverse(start, end []byte, fn func(key, value []byte) bool) error
}

// Notes builds the served checkpoint notes from the committed state. It is
// safe for concurrent use.
type Notes struct {
	chainID string
	state   func() (State, error)

	mu     sync.Mutex
	height int64  // the height latest was found at
	latest []byte // the latest valid checkpoint's note, nil for none
	floor  uint64 // the size of the latest valid checkpoint: none below is looked at again
}

// NewNotes returns the notes of chainID's checkpoints in the states state
// returns (the latest committed one).
func NewNotes(chainID string, state func() (State, error)) *Notes {
	return &Notes{chainID: chainID, state: state}
}

// At returns the note of the checkpoint of a log size with every signature
// gathered so far; ok is false if the chain recorded no checkpoint of that
// size.
func (n *Notes) At(size uint64) (b []byte, ok bool, err error) {
	st, err := n.state()
	if err != nil {
		return nil, false, err
	}
	c, err := ledger.LoadCheckpoint(st, size)
	if err != nil || c == nil {
		return nil, false, err
	}
	sigs, err := ledger.LoadCheckpointSignatures(st, size)
	if err != nil {
		return nil, false, err
	}
	b, err = Note(n.chainID, c, sigs)
	return b, err == nil, err
}

// Latest returns the note of the latest checkpoint whose signatures carry
// more than 2/3 of its validators' power, with those signatures; ok is
// false if there is none yet.
func (n *Notes) Latest() (b []byte, ok bool, err error) {
	st, err := n.state()
	if err != nil {
		return nil, false, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if st.Height() == n.height {
		return n.latest, n.latest != nil, nil
	}
	// Newest first: a checkpoint's signatures (ckpt/<size>/<id>) come
	// before its record (ckpt/<size>) in reverse order.
	prefix := ledger.CheckpointPrefix()
	var (
		sigs     []ledger.CheckpointSignature
		found    *notaryv1.LogCheckpoint
		foundSig []ledger.CheckpointSignature
		bad      error
	)
	err = st.IterateReverse(ledger.CheckpointKey(n.floor), ledger.PrefixEnd(prefix), func(k, v []byte) bool {
		rest := k[len(prefix):]
		if len(rest) > 9 && rest[8] == '/' {
			sigs = append(sigs, ledger.CheckpointSignature{MinistryID: string(rest[9:]), Signature: append([]byte(nil), v...)})
			return true
		}
		if len(rest) != 8 {
			return true
		}
		c := &notaryv1.LogCheckpoint{}
		if err := ledger.DecodeCanonical(v, c); err != nil {
			bad = fmt.Errorf("checkpoint: decode %q: %w", k, err)
			return false
		}
		if Quorum(c, sigs) {
			found, foundSig = c, sigs
			return false
		}
		sigs = nil
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, false, err
	}
	n.height = st.Height()
	if found != nil {
		if n.latest, err = Note(n.chainID, found, reverse(foundSig)); err != nil {
			n.latest = nil
			return nil, false, err
		}
		n.floor = found.Size
	}
	return n.latest, n.latest != nil, nil
}

// reverse returns sigs in key (ministry id) order.
func reverse(sigs []ledger.CheckpointSignature) []ledger.CheckpointSignature {
	out := make([]ledger.CheckpointSignature, len(sigs))
	for i, s := range sigs {
		out[len(sigs)-1-i] = s
	}
	return out
}
