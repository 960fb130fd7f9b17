package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// testWitnessKey returns a cosignature/v1 verifier key named name, made from
// a fixed seed, and its public key.
func testWitnessKey(t *testing.T, name string, seed byte) (string, ed25519.PublicKey) {
	t.Helper()
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	plain, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(plain)
	if err != nil {
		t.Fatal(err)
	}
	return vkey, pub
}

// mustWitnessKey is testWitnessKey's key of seed 1: a key with a valid
// key hash for any name signed-note accepts.
func mustWitnessKey(t *testing.T, name string) string {
	t.Helper()
	k, _ := testWitnessKey(t, name, 1)
	return k
}

func TestValidWitnessKeyName(t *testing.T) {
	for name, want := range map[string]bool{
		"witness.audit.example/w1": true,
		"!~":                       true,
		"":                         false,
		"a+b":                      false,
		"a b":                      false,
		"a\tb":                     false,
		"a\x7f":                    false,
		"\u00f1":                   false,
		"a\u00a0b":                 false,
	} {
		if got := ValidWitnessKeyName(name); got != want {
			t.Errorf("ValidWitnessKeyName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseWitnessKey(t *testing.T) {
	vkey, pub := testWitnessKey(t, "witness.audit.example/w1", 1)
	name, got, err := ParseWitnessKey(vkey)
	if err != nil || name != "witness.audit.example/w1" || !bytes.Equal(got, pub) {
		t.Fatalf("ParseWitnessKey = %q %x %v", name, got, err)
	}
	// The key agrees with the cosignature verifier of formats/note.
	if _, err := fnote.NewVerifierForCosignatureV1(vkey); err != nil {
		t.Fatalf("formats/note refuses %q: %v", vkey, err)
	}
	plain, err := note.NewEd25519VerifierKey("w", pub)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	for _, tc := range []struct{ name, key string }{
		{"empty", ""},
		{"no hash", "w"},
		{"ed25519 note key, not cosignature/v1", plain},
		{"wrong hash", parts[0] + "+00000000+" + parts[2]},
		{"upper-case hash", parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + parts[2]},
		{"other name", "other+" + parts[1] + "+" + parts[2]},
		{"space in name", "a b+" + parts[1] + "+" + parts[2]},
		{"non-ASCII name", mustWitnessKey(t, "testigo-\u00f1.example")},
		{"DEL in name", mustWitnessKey(t, "a\x7fb")},
		{"short key", parts[0] + "+" + parts[1] + "+BA=="},
		{"bad base64", parts[0] + "+" + parts[1] + "+!!"},
		{"trailing text", vkey + "+x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ParseWitnessKey(tc.key); err == nil {
				t.Fatalf("ParseWitnessKey(%q) accepted", tc.key)
			}
		})
	}
}

func TestValidateWitnessParams(t *testing.T) {
	k1, _ := testWitnessKey(t, "w1.example", 1)
	k2, _ := testWitnessKey(t, "w2.example", 2)
	k1b, _ := testWitnessKey(t, "w1.example", 3)
	k1c, _ := testWitnessKey(t, "w3.example", 1) // k1's public key, another key name
	w := func(name, key string) *notaryv1.Witness { return &notaryv1.Witness{Name: name, Key: key} }
	many := make([]*notaryv1.Witness, MaxWitnesses+1)
	for i := range many {
		k, _ := testWitnessKey(t, "w"+strings.Repeat("x", i)+".example", byte(i+10))
		many[i] = w("Testigo "+strings.Repeat("x", i), k)
	}
	for _, tc := range []struct {
		name      string
		witnesses []*notaryv1.Witness
		threshold uint32
		label     uint32 // max_label_bytes, if not 0
		ok        bool
	}{
		{name: "none", ok: true},
		{name: "two, threshold 2", witnesses: []*notaryv1.Witness{w("Tribunal de Cuentas", k1), w("Universidad", k2)}, threshold: 2, ok: true},
		{name: "one, threshold 0", witnesses: []*notaryv1.Witness{w("Tribunal de Cuentas", k1)}, ok: true},
		{name: "threshold without witnesses", threshold: 1},
		{name: "threshold above the witnesses", witnesses: []*notaryv1.Witness{w("a", k1)}, threshold: 2},
		{name: "no name", witnesses: []*notaryv1.Witness{w("", k1)}},
		{name: "name with a control character", witnesses: []*notaryv1.Witness{w("a\nb", k1)}},
		{name: "name too long", witnesses: []*notaryv1.Witness{w(strings.Repeat("a", 257), k1)}},
		{name: "name of MaxWitnessNameBytes", witnesses: []*notaryv1.Witness{w(strings.Repeat("a", MaxWitnessNameBytes), k1)}, label: 4096, ok: true},
		{name: "name above MaxWitnessNameBytes", witnesses: []*notaryv1.Witness{w(strings.Repeat("a", MaxWitnessNameBytes+1), k1)}, label: 4096},
		{name: "name above max_label_bytes", witnesses: []*notaryv1.Witness{w(strings.Repeat("a", 65), k1)}, label: 64},
		{name: "same public key under two key names", witnesses: []*notaryv1.Witness{w("a", k1), w("b", k1c)}},
		{name: "bad key", witnesses: []*notaryv1.Witness{w("a", "a+00000000+AA==")}},
		{name: "same key twice", witnesses: []*notaryv1.Witness{w("a", k1), w("b", k1)}},
		{name: "same key name twice", witnesses: []*notaryv1.Witness{w("a", k1), w("b", k1b)}},
		{name: "same name twice", witnesses: []*notaryv1.Witness{w("a", k1), w("a", k2)}},
		{name: "too many", witnesses: many},
		{name: "at the bound", witnesses: many[:MaxWitnesses], threshold: MaxWitnesses, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.Witnesses, p.WitnessThreshold = tc.witnesses, tc.threshold
			if tc.label != 0 {
				p.MaxLabelBytes = tc.label
			}
			err := ValidateParams(p)
			if tc.ok && err != nil {
				t.Fatalf("ValidateParams: %v", err)
			}
			if !tc.ok && (!errors.Is(err, ErrInvalidParams) || CodeOf(err) != ErrInvalidParams.Code()) {
				t.Fatalf("ValidateParams = %v, want ErrInvalidParams", err)
			}
		})
	}
}

// TestGovRegistersWitnesses: a change-params proposal registers witnesses
// and a threshold, and a later one clears them; a proposal of an invalid
// set is refused when proposed.
func TestGovRegistersWitnesses(t *testing.T) {
	h := newGovHarness(t, testGenesis())
	k1, _ := testWitnessKey(t, "w1.example", 1)
	p := DefaultParams()
	if len(p.Witnesses) != 0 || p.WitnessThreshold != 0 {
		t.Fatalf("default witnesses %v threshold %d", p.Witnesses, p.WitnessThreshold)
	}
	p.Witnesses = []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: k1}}
	p.WitnessThreshold = 1
	h.enactPassed(actChangeParams(p))
	stored, err := loadParams(h.st)
	if err != nil || !proto.Equal(stored, p) {
		t.Fatalf("params %v %v", stored, err)
	}
	bad := proto.Clone(p).(*notaryv1.Params)
	bad.WitnessThreshold = 2
	mustFail(t, h.block(h.propose("hacienda", actChangeParams(bad)))[0], ErrInvalidParams)
	cleared := proto.Clone(p).(*notaryv1.Params)
	cleared.Witnesses, cleared.WitnessThreshold = nil, 0
	h.enactPassed(actChangeParams(cleared))
	if stored, err := loadParams(h.st); err != nil || len(stored.Witnesses) != 0 || stored.WitnessThreshold != 0 {
		t.Fatalf("params %v %v", stored, err)
	}
}
