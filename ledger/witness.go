package ledger

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// MaxWitnesses bounds params.witnesses.
const MaxWitnesses = 16

// cosignatureV1Alg is the signed-note algorithm byte of a C2SP
// tlog-cosignature/v1 (ed25519) verifier key.
const cosignatureV1Alg = 0x04

// ParseWitnessKey parses a C2SP signed-note verifier key of a
// cosignature/v1 ed25519 key, "<name>+<hash>+<base64 of 0x04 || public
// key>", as `verifier witness init` prints it, and returns its key name and
// 32-byte public key. It checks what golang.org/x/mod/sumdb/note checks of a
// verifier key (name without spaces or '+', the key hash over name and key)
// in plain Go, so that the state machine depends on no parser that might
// change.
func ParseWitnessKey(vkey string) (name string, pub []byte, err error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hash16, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return "", nil, fmt.Errorf("witness key %q: want <name>+<hash>+<key>", vkey)
	}
	if name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return r == '+' || unicode.IsSpace(r) }) >= 0 {
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
// at most MaxWitnesses, each with a name of 1..max_label_bytes printable
// bytes and a valid cosignature/v1 verifier key, no name, key or key name
// twice, and a threshold of at most len(witnesses).
func validateWitnesses(p *notaryv1.Params) error {
	if len(p.Witnesses) > MaxWitnesses {
		return wrapf(ErrInvalidParams, "%d witnesses, at most %d", len(p.Witnesses), MaxWitnesses)
	}
	if uint64(p.WitnessThreshold) > uint64(len(p.Witnesses)) {
		return wrapf(ErrInvalidParams, "witness_threshold %d exceeds the %d witnesses", p.WitnessThreshold, len(p.Witnesses))
	}
	names := make(map[string]bool, len(p.Witnesses))
	keyNames := make(map[string]bool, len(p.Witnesses))
	for i, w := range p.Witnesses {
		if w.GetName() == "" {
			return wrapf(ErrInvalidParams, "witness %d has no name", i)
		}
		if err := checkText("witness name", w.Name, p.MaxLabelBytes); err != nil {
			return wrapf(ErrInvalidParams, "witness %d: %v", i, err)
		}
		kn, _, err := ParseWitnessKey(w.Key)
		if err != nil {
			return wrapf(ErrInvalidParams, "witness %d: %v", i, err)
		}
		if names[w.Name] {
			return wrapf(ErrInvalidParams, "witness %q listed twice", w.Name)
		}
		if keyNames[kn] {
			return wrapf(ErrInvalidParams, "witness key name %q listed twice", kn)
		}
		names[w.Name], keyNames[kn] = true, true
	}
	return nil
}
