package ledger

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// MaxWitnesses bounds params.witnesses; trust bundles have the same bound.
const MaxWitnesses = 16

// MaxWitnessNameBytes bounds a witness's name (params.witnesses[].name),
// in bytes, below max_label_bytes when that is larger; trust bundles have
// the same bound.
const MaxWitnessNameBytes = 256

// ValidWitnessKeyName reports whether name may be the key name of a
// witness's verifier key: 1 or more bytes, each printable ASCII (0x21 to
// 0x7e) other than '+'. Every such name is a valid signed-note key name.
func ValidWitnessKeyName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x21 || c > 0x7e || c == '+' {
			return false
		}
	}
	return true
}

// cosignatureV1Alg is the signed-note algorithm byte of a C2SP
// tlog-cosignature/v1 (ed25519) verifier key.
const cosignatureV1Alg = 0x04

// ParseWitnessKey parses a C2SP signed-note verifier key of a
// cosignature/v1 ed25519 key, "<name>+<hash>+<base64 of 0x04 || public
// key>", as `verifier witness init` prints it, and returns its key name and
// 32-byte public key. It checks what golang.org/x/mod/sumdb/note checks of a
// verifier key (the key hash over name and key), with a stricter rule for
// the name (ValidWitnessKeyName), in plain Go, so that the state machine
// depends on no parser or character table that might change.
func ParseWitnessKey(vkey string) (name string, pub []byte, err error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hash16, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return "", nil, fmt.Errorf("witness key %q: want <name>+<hash>+<key>", vkey)
	}
	if !ValidWitnessKeyName(name) {
		return "", nil, fmt.Errorf("witness key %q: bad key name", vkey)
	}
	if len(hash16) != 8 || strings.ToLower(hash16) != hash16 {
		return "", nil, fmt.Errorf("witness key %q: key hash is not 8 lower-case hex digits", vkey)
	}
	h, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil {
		return "", nil, fmt.Errorf("witness key %q: key hash is not 8 lower-case hex digits", vkey)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || base64.StdEncoding.EncodeToString(key) != b64 {
		return "", nil, fmt.Errorf("witness key %q: key is not canonical base64", vkey)
	}
	if len(key) != 33 || key[0] != cosignatureV1Alg {
		return "", nil, fmt.Errorf("witness key %q: not a cosignature/v1 ed25519 key (algorithm 0x04, 32 bytes)", vkey)
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), key...))
	if uint32(h) != binary.BigEndian.Uint32(sum[:4]) {
		return "", nil, fmt.Errorf("witness key %q: key hash does not match the name and key", vkey)
	}
	return name, key[1:], nil
}

// validateWitnesses checks params.witnesses and params.witness_threshold:
// at most MaxWitnesses, each with a name of 1 to min(MaxWitnessNameBytes,
// max_label_bytes) bytes of UTF-8 without control characters and a valid
// cosignature/v1 verifier key, no name, key name or public key twice, and
// a threshold of at most len(witnesses).
func validateWitnesses(p *notaryv1.Params) error {
	if len(p.Witnesses) > MaxWitnesses {
		return wrapf(ErrInvalidParams, "%d witnesses, at most %d", len(p.Witnesses), MaxWitnesses)
	}
	if uint64(p.WitnessThreshold) > uint64(len(p.Witnesses)) {
		return wrapf(ErrInvalidParams, "witness_threshold %d exceeds the %d witnesses", p.WitnessThreshold, len(p.Witnesses))
	}
	names := make(map[string]bool, len(p.Witnesses))
	keyNames := make(map[string]bool, len(p.Witnesses))
	pubs := make(map[string]bool, len(p.Witnesses))
	maxName := min(p.MaxLabelBytes, MaxWitnessNameBytes)
	for i, w := range p.Witnesses {
		if w.GetName() == "" {
			return wrapf(ErrInvalidParams, "witness %d has no name", i)
		}
		if err := checkText("witness name", w.Name, maxName); err != nil {
			return wrapf(ErrInvalidParams, "witness %d: %v", i, err)
		}
		kn, pub, err := ParseWitnessKey(w.Key)
		if err != nil {
			return wrapf(ErrInvalidParams, "witness %d: %v", i, err)
		}
		if names[w.Name] {
			return wrapf(ErrInvalidParams, "witness %q listed twice", w.Name)
		}
		if keyNames[kn] {
			return wrapf(ErrInvalidParams, "witness key name %q listed twice", kn)
		}
		if pubs[string(pub)] {
			return wrapf(ErrInvalidParams, "witness %q has the public key of another witness", w.Name)
		}
		names[w.Name], keyNames[kn], pubs[string(pub)] = true, true, true
	}
	return nil
}
