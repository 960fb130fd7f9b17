package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"

	flog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoints of the evidence log (docs/receipt.md, "Checkpoints").

// LogOriginPrefix starts the origin of every notary chain's log.
const LogOriginPrefix = "notary.gobtechlab/"

// LogOrigin is the checkpoint origin of chainID's evidence log.
func LogOrigin(chainID string) string { return LogOriginPrefix + chainID }

// LogKeyName is the signed-note key name of a ministry's validator signing
// chainID's checkpoints.
func LogKeyName(chainID, ministryID string) string { return LogOrigin(chainID) + "/" + ministryID }

// LogValidator is a validator whose signatures count towards a
// checkpoint's quorum: a ministry's consensus key and its voting power.
type LogValidator struct {
	MinistryID string
	PubKey     []byte
	Power      int64
}

// LogCheckpoint is a checkpoint VerifyLogCheckpoint accepted.
type LogCheckpoint struct {
	// Origin, Size and Root are the checkpoint's body: the log of Origin
	// had Size leaves whose RFC 6962 root is Root.
	Origin string
	Size   uint64
	Root   []byte
	// Signers are the ministries whose valid signatures were counted, in
	// the note's order; SignedPower their power, of TotalPower.
	Signers     []string
	SignedPower int64
	TotalPower  int64
}

// Errors of VerifyLogCheckpoint.
var (
	ErrCheckpointForm      = errors.New("checkpoint: not a well-formed checkpoint note")
	ErrCheckpointOrigin    = errors.New("checkpoint: origin of another log")
	ErrCheckpointSignature = errors.New("checkpoint: a validator's signature does not verify")
	ErrCheckpointQuorum    = errors.New("checkpoint: signatures of 2/3 of the power or less")
	// ErrCheckpointNoSigner comes with ErrCheckpointQuorum when no
	// validator of the set signed at all: a checkpoint of another set.
	ErrCheckpointNoSigner = errors.New("no signature of a validator of the set")
)

// maxNoteSignatures bounds a note's signature lines, as
// golang.org/x/mod/sumdb/note.Open does.
const maxNoteSignatures = 100

// checkNoteForm checks the form of a signed note before any signature is
// verified: valid UTF-8 without control characters other than newline, a
// text ending in a newline, an empty line, then 1..maxNoteSignatures lines
// "— <name> <base64>", each name a valid note key name, each base64
// standard, padded and canonical (it re-encodes to the same text) of at
// least 5 bytes, and no key (name and key hash) on two lines.
func checkNoteForm(signed []byte) error {
	if !utf8.Valid(signed) {
		return fmt.Errorf("%w: not UTF-8", ErrCheckpointForm)
	}
	for _, c := range signed {
		if c < 0x20 && c != '\n' {
			return fmt.Errorf("%w: a control character", ErrCheckpointForm)
		}
	}
	split := bytes.LastIndex(signed, []byte("\n\n"))
	if split < 0 {
		return fmt.Errorf("%w: no empty line before the signatures", ErrCheckpointForm)
	}
	sigs := signed[split+2:]
	if len(sigs) == 0 || sigs[len(sigs)-1] != '\n' {
		return fmt.Errorf("%w: no signature lines, or the last is not ended by a newline", ErrCheckpointForm)
	}
	type key struct {
		name string
		hash uint32
	}
	seen := map[key]bool{}
	for n := 1; len(sigs) > 0; n++ {
		if n > maxNoteSignatures {
			return fmt.Errorf("%w: more than %d signature lines", ErrCheckpointForm, maxNoteSignatures)
		}
		i := bytes.IndexByte(sigs, '\n')
		line := string(sigs[:i])
		sigs = sigs[i+1:]
		rest, ok := strings.CutPrefix(line, "\u2014 ")
		if !ok {
			return fmt.Errorf("%w: signature line %d does not start with \"\u2014 \"", ErrCheckpointForm, n)
		}
		name, b64, _ := strings.Cut(rest, " ")
		if name == "" || strings.ContainsRune(name, '+') || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
			return fmt.Errorf("%w: signature line %d: bad key name", ErrCheckpointForm, n)
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(sig) < 5 || base64.StdEncoding.EncodeToString(sig) != b64 {
			return fmt.Errorf("%w: signature line %d: not canonical standard base64 of at least 5 bytes", ErrCheckpointForm, n)
		}
		k := key{name, binary.BigEndian.Uint32(sig)}
		if seen[k] {
			return fmt.Errorf("%w: key %s+%08x on two signature lines", ErrCheckpointForm, k.name, k.hash)
		}
		seen[k] = true
	}
	return nil
}

// VerifyLogCheckpoint verifies a signed checkpoint note of chainID's
// evidence log against a validator set: the note (C2SP signed-note) must
// have the form checkNoteForm checks (no key on two lines, canonical
// base64) and verify with golang.org/x/mod/sumdb/note, its body be exactly
// "<origin>\n<size>\n<base64 root>\n" with origin LogOrigin(chainID) and a
// 32-byte root, and the validators whose signatures it carries (key name
// LogKeyName(chainID, ministry id), ed25519) must hold more than 2/3 of
// the set's power. Signatures of unknown keys are ignored; a signature of
// a known key that does not verify refuses the note.
func VerifyLogCheckpoint(chainID string, signed []byte, validators []LogValidator) (*LogCheckpoint, error) {
	power := map[string]int64{} // key name -> power
	ministry := map[string]string{}
	var verifiers []note.Verifier
	total := new(big.Int)
	for _, v := range validators {
		if v.Power <= 0 {
			continue
		}
		name := LogKeyName(chainID, v.MinistryID)
		if _, dup := power[name]; dup {
			return nil, fmt.Errorf("checkpoint: validator %q listed twice", v.MinistryID)
		}
		vkey, err := note.NewEd25519VerifierKey(name, v.PubKey)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: validator %q: %w", v.MinistryID, err)
		}
		nv, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: validator %q: %w", v.MinistryID, err)
		}
		verifiers = append(verifiers, nv)
		power[name] = v.Power
		ministry[name] = v.MinistryID
		total.Add(total, big.NewInt(v.Power))
	}
	if err := checkNoteForm(signed); err != nil {
		return nil, err
	}
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, fmt.Errorf("%w: %w", ErrCheckpointQuorum, ErrCheckpointNoSigner)
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("%w: %s", ErrCheckpointSignature, invalid.Name)
		}
		return nil, fmt.Errorf("%w: %v", ErrCheckpointForm, err)
	}
	var c flog.Checkpoint
	rest, err := c.Unmarshal([]byte(n.Text))
	if err != nil || len(rest) != 0 || len(c.Hash) != 32 || !bytes.Equal(c.Marshal(), []byte(n.Text)) {
		return nil, fmt.Errorf("%w: the body is not <origin>, <size>, <base64 32-byte root>, one line each", ErrCheckpointForm)
	}
	if c.Origin != LogOrigin(chainID) {
		return nil, fmt.Errorf("%w: %q, want %q", ErrCheckpointOrigin, c.Origin, LogOrigin(chainID))
	}
	out := &LogCheckpoint{Origin: c.Origin, Size: c.Size, Root: c.Hash}
	signedPower := new(big.Int)
	for _, s := range n.Sigs {
		p, ok := power[s.Name]
		if !ok {
			continue // a key counts once
		}
		delete(power, s.Name)
		signedPower.Add(signedPower, big.NewInt(p))
		out.Signers = append(out.Signers, ministry[s.Name])
	}
	out.SignedPower, out.TotalPower = signedPower.Int64(), total.Int64()
	// signed > 2/3 total  <=>  3·signed > 2·total
	if new(big.Int).Mul(signedPower, big.NewInt(3)).Cmp(new(big.Int).Mul(total, big.NewInt(2))) <= 0 {
		return nil, fmt.Errorf("%w: %d of %d", ErrCheckpointQuorum, out.SignedPower, out.TotalPower)
	}
	return out, nil
}
