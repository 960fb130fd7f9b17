package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The evidence log's trust policy (docs/receipt.md, "Receipt v2"): which
// checkpoints a trust bundle accepts.

// MaxWitnesses bounds the witnesses of a trust bundle: the ledger's bound
// on params.witnesses, so that every registered set exports.
const MaxWitnesses = ledger.MaxWitnesses

// witnessKeyAlg is the algorithm byte of a cosignature/v1 ed25519 key.
const witnessKeyAlg = 0x04

// Errors of the witness policy.
var (
	ErrCosignatureInvalid   = errors.New("checkpoint: a witness's cosignature does not verify")
	ErrInsufficientCosigned = errors.New("checkpoint: cosigned by fewer witnesses than the trust bundle requires")
)

// RequiresV2 reports whether a trust bundle accepts receipts v2 only: it
// carries a log checkpoint or requires witnesses' cosignatures.
func RequiresV2(tb *notaryv1.TrustBundle) bool {
	return len(tb.LogCheckpoint) > 0 || tb.WitnessThreshold > 0
}

// logSet is the validator set a trust bundle trusts for checkpoints, with
// the ministries' names.
type logSet struct {
	vals  []LogValidator
	names map[string]string // ministry id -> name
}

// trustedLogSet is a bundle's checkpoint validator set: log_validators if
// it carries a checkpoint, else the genesis validators.
func trustedLogSet(tb *notaryv1.TrustBundle) logSet {
	src := tb.Validators
	if len(tb.LogCheckpoint) > 0 {
		src = tb.LogValidators
	}
	s := logSet{names: map[string]string{}}
	for _, v := range src {
		s.vals = append(s.vals, LogValidator{MinistryID: v.MinistryId, PubKey: v.PubKey, Power: v.Power})
		s.names[v.MinistryId] = v.Name
	}
	return s
}

// ParseWitnessKey parses a witness's note verifier key: a cosignature/v1
// ed25519 key "<name>+<8 hex key hash>+<base64 of 0x04 || 32-byte key>"
// whose key hash is the one its name and key give. The verifier it returns
// checks C2SP tlog-cosignature cosignature/v1 signatures, as
// github.com/transparency-dev/formats/note's NewVerifierForCosignatureV1
// does (written out here: that package links crypto/x509 and net).
func ParseWitnessKey(vkey string) (note.Verifier, error) {
	name, pub, err := ledger.ParseWitnessKey(vkey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), append([]byte{witnessKeyAlg}, pub...)...))
	return &cosigV1Verifier{name: name, key: ed25519.PublicKey(pub), hash: binary.BigEndian.Uint32(sum[:4])}, nil
}

// cosigV1Verifier verifies cosignature/v1 signatures (C2SP
// tlog-cosignature): 8 bytes of big-endian UNIX time t, then the ed25519
// signature of "cosignature/v1\ntime <t in decimal>\n" followed by the
// note's text.
type cosigV1Verifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosigV1Verifier) Name() string    { return v.name }
func (v *cosigV1Verifier) KeyHash() uint32 { return v.hash }
func (v *cosigV1Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize || bytes.Count(msg, []byte("\n")) < 2 {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	m := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, msg)
	return ed25519.Verify(v.key, m, sig[8:])
}

// checkLogTrust checks a trust bundle's evidence-log fields.
func checkLogTrust(tb *notaryv1.TrustBundle) error {
	if len(tb.LogCheckpoint) == 0 && len(tb.LogValidators) > 0 {
		return fmt.Errorf("trust bundle: log_validators without a log_checkpoint")
	}
	if len(tb.LogCheckpoint) > 0 {
		if len(tb.LogValidators) == 0 {
			return fmt.Errorf("trust bundle: a log_checkpoint without log_validators")
		}
		vals := make([]Validator, len(tb.LogValidators))
		for i, v := range tb.LogValidators {
			if v.Name == "" || !ledger.ValidID(v.MinistryId) {
				return fmt.Errorf("trust bundle: log_validators[%d]: ministry_id %q is not 1..64 characters of [a-z0-9-] not starting with '-', or no name", i, v.MinistryId)
			}
			if i > 0 && tb.LogValidators[i-1].MinistryId >= v.MinistryId {
				return fmt.Errorf("trust bundle: log_validators not in ministry id order (strictly increasing) at %d", i)
			}
			vals[i] = Validator{PubKey: v.PubKey, Power: v.Power}
		}
		if _, err := checkValidatorSetUnordered(vals); err != nil {
			return fmt.Errorf("trust bundle: log_validators: %w", err)
		}
	}
	if len(tb.Witnesses) > MaxWitnesses {
		return fmt.Errorf("trust bundle: %d witnesses, at most %d", len(tb.Witnesses), MaxWitnesses)
	}
	keys, pubs := map[string]bool{}, map[string]bool{}
	for i, w := range tb.Witnesses {
		if w.Name == "" || len(w.Name) > ledger.MaxWitnessNameBytes || !utf8.ValidString(w.Name) {
			return fmt.Errorf("trust bundle: witnesses[%d]: name empty, not UTF-8 or longer than %d bytes", i, ledger.MaxWitnessNameBytes)
		}
		_, pub, err := ledger.ParseWitnessKey(w.Key)
		if err != nil {
			return fmt.Errorf("trust bundle: witnesses[%d]: %w", i, err)
		}
		if keys[w.Key] {
			return fmt.Errorf("trust bundle: witness key %q appears twice", w.Key)
		}
		if pubs[string(pub)] {
			return fmt.Errorf("trust bundle: witnesses[%d]: its public key is another witness's, under another name", i)
		}
		keys[w.Key], pubs[string(pub)] = true, true
	}
	if int(tb.WitnessThreshold) > len(tb.Witnesses) {
		return fmt.Errorf("trust bundle: witness_threshold %d, but %d witnesses", tb.WitnessThreshold, len(tb.Witnesses))
	}
	_, _, err := VerifyBundleCheckpoint(tb)
	return err
}

// checkValidatorSetUnordered checks a validator set as checkValidatorSet
// does, in any order.
func checkValidatorSetUnordered(vals []Validator) (int64, error) {
	sorted := append([]Validator(nil), vals...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Power != b.Power {
			return a.Power > b.Power
		}
		return bytes.Compare(address(a.PubKey), address(b.PubKey)) < 0
	})
	return checkValidatorSet(sorted)
}

// verifyCosignatures checks the witness policy of a trust bundle for a
// checkpoint note whose body VerifyLogCheckpoint accepted: with a witness
// threshold k > 0, the note must carry valid cosignature/v1 signatures of
// at least k distinct witnesses of the bundle, witnesses told apart by
// their public keys. It returns the names of the witnesses whose
// cosignatures verified, in the note's order. A cosignature of a bundle
// witness that does not verify refuses the note, as does a note of a form
// checkNoteForm refuses.
func verifyCosignatures(tb *notaryv1.TrustBundle, signed []byte, c *LogCheckpoint) ([]string, error) {
	if len(tb.Witnesses) == 0 {
		return nil, nil
	}
	if err := checkNoteForm(signed); err != nil {
		return nil, err
	}
	type wit struct {
		pub  string
		name string
	}
	byID := map[string]wit{} // note key name + key hash -> witness
	var verifiers []note.Verifier
	for _, w := range tb.Witnesses {
		v, err := ParseWitnessKey(w.Key)
		if err != nil {
			return nil, err
		}
		id := v.Name() + "+" + strconv.FormatUint(uint64(v.KeyHash()), 16)
		if _, dup := byID[id]; dup {
			continue
		}
		byID[id] = wit{pub: string(v.(*cosigV1Verifier).key), name: w.Name}
		verifiers = append(verifiers, v)
	}
	var out []string
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case err == nil:
		seen := map[string]bool{} // public keys counted
		for _, s := range n.Sigs {
			w, ok := byID[s.Name+"+"+strconv.FormatUint(uint64(s.Hash), 16)]
			if !ok || seen[w.pub] {
				continue
			}
			seen[w.pub] = true
			out = append(out, w.name)
		}
	case errors.As(err, &unverified):
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("%w: %s", ErrCosignatureInvalid, invalid.Name)
	default:
		return nil, fmt.Errorf("%w: %v", ErrCheckpointForm, err)
	}
	if len(out) < int(tb.WitnessThreshold) {
		return out, fmt.Errorf("%w: %d of the %d required", ErrInsufficientCosigned, len(out), tb.WitnessThreshold)
	}
	return out, nil
}

// noteBody is the text of a signed note (up to the empty line before the
// signatures), or nil if it has none.
func noteBody(signed []byte) []byte {
	i := bytes.Index(signed, []byte("\n\n"))
	if i < 0 {
		return nil
	}
	return signed[:i+1]
}

// VerifyBundleCheckpoint verifies a trust bundle's log_checkpoint as
// CheckTrustBundle does: against its log_validators, and under its witness
// policy. It returns the checkpoint (Signers are ministry ids) and the
// names of the bundle's witnesses whose cosignatures verified, in the
// note's order; nil and no error if the bundle carries no checkpoint.
func VerifyBundleCheckpoint(tb *notaryv1.TrustBundle) (*LogCheckpoint, []string, error) {
	if len(tb.LogCheckpoint) == 0 {
		return nil, nil, nil
	}
	c, err := VerifyLogCheckpoint(tb.ChainId, tb.LogCheckpoint, trustedLogSet(tb).vals)
	if err != nil {
		return nil, nil, fmt.Errorf("trust bundle: log_checkpoint: %w", err)
	}
	ws, err := verifyCosignatures(tb, tb.LogCheckpoint, c)
	if err != nil {
		return nil, nil, fmt.Errorf("trust bundle: log_checkpoint: %w", err)
	}
	return c, ws, nil
}
