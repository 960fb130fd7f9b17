package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/ledger"
)

// GenerateKey creates a witness key named name (by convention a schemeless
// URL under the operator's domain, e.g. witness.audit.example/w1). skey is
// the note signer key (PRIVATE+KEY+...), to keep secret; vkey is the
// witness's cosignature/v1 verifier key (name+hash+base64, algorithm 0x04),
// which logs and verifiers configure.
func GenerateKey(name string) (skey, vkey string, err error) {
	if !ledger.ValidWitnessKeyName(name) {
		return "", "", fmt.Errorf("witness name %q: must be non-empty printable ASCII, without spaces or '+'", name)
	}
	skey, plain, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate witness key: %w", err)
	}
	vkey, err = fnote.VKeyToCosignatureV1(plain)
	if err != nil {
		return "", "", fmt.Errorf("witness verifier key: %w", err)
	}
	return skey, vkey, nil
}

// NewSigner returns the cosignature/v1 signer of skey (an ed25519 note
// signer key) and its verifier key.
func NewSigner(skey string) (note.Signer, string, error) {
	skey = strings.TrimSpace(skey)
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, "", fmt.Errorf("witness key: %w", err)
	}
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return nil, "", errors.New("witness key: malformed")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != algEd25519 {
		return nil, "", errors.New("witness key: not an ed25519 note signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	plain, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return nil, "", fmt.Errorf("witness key: %w", err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(plain)
	if err != nil {
		return nil, "", fmt.Errorf("witness key: %w", err)
	}
	return s, vkey, nil
}

// algEd25519 is the signed-note algorithm byte of an ed25519 key.
const algEd25519 = 0x01

// LoadKey reads a signer key file written by SaveKey.
func LoadKey(path string) (note.Signer, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read witness key: %w", err)
	}
	return NewSigner(string(b))
}

// SaveKey writes skey to path, readable only by its owner; it refuses to
// replace an existing file.
func SaveKey(path, skey string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create witness key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("write witness key: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync witness key: %w", err)
	}
	return f.Close()
}
