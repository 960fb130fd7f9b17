package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

const ckptChain = "notary-ckpt"

func ckptKey(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("ckpt-test/" + id))
	return ed25519.NewKeyFromSeed(seed[:])
}

// sigLine is the signed-note signature line of text by ministry id's key
// under name.
func sigLine(t *testing.T, name string, k ed25519.PrivateKey, text string) string {
	t.Helper()
	vkey, err := note.NewEd25519VerifierKey(name, k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], v.KeyHash())
	return fmt.Sprintf("\u2014 %s %s\n", name, base64.StdEncoding.EncodeToString(append(h[:], ed25519.Sign(k, []byte(text))...)))
}

// nonCanonical changes the last signature line of a signed note so that
// its base64 has a non-zero unused bit: the same bytes, another text.
func nonCanonical(signed []byte) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := append([]byte(nil), signed...)
	i := len(out) - 2 // the last base64 character, before the newline
	for out[i] == '=' {
		i--
	}
	out[i] = alphabet[strings.IndexByte(alphabet, out[i])^1]
	return out
}

// repeatFirstLine appends to a signed note a copy of its first signature
// line whose signature has one byte changed: a line of the same key that
// does not verify, after one that does.
func repeatFirstLine(signed []byte) []byte {
	sigs := bytes.LastIndex(signed, []byte("\n\n")) + 2
	line := append([]byte(nil), signed[sigs:sigs+bytes.IndexByte(signed[sigs:], '\n')+1]...)
	i := bytes.LastIndexByte(line, ' ') + 20 // within the signature, after the key hash
	if line[i] == 'A' {
		line[i] = 'B'
	} else {
		line[i] = 'A'
	}
	return append(append([]byte(nil), signed...), line...)
}

// unknownLines is n signature lines of text by keys of no validator.
func unknownLines(t *testing.T, text string, n int) string {
	t.Helper()
	var out string
	for i := range n {
		id := fmt.Sprintf("outsider-%d", i)
		out += sigLine(t, verify.LogKeyName(ckptChain, id), ckptKey(id), text)
	}
	return out
}

func TestVerifyLogCheckpoint(t *testing.T) {
	ids := []string{"hacienda", "interior", "sanidad", "trabajo"}
	var set []verify.LogValidator
	for _, id := range ids {
		set = append(set, verify.LogValidator{MinistryID: id, PubKey: ckptKey(id).Public().(ed25519.PublicKey), Power: 10})
	}
	root := sha256.Sum256([]byte("root"))
	body := func(origin string, r []byte) string {
		return fmt.Sprintf("%s\n%d\n%s\n", origin, 42, base64.StdEncoding.EncodeToString(r))
	}
	good := body(verify.LogOrigin(ckptChain), root[:])
	sign := func(text string, signers ...string) []byte {
		out := text + "\n"
		for _, id := range signers {
			out += sigLine(t, verify.LogKeyName(ckptChain, id), ckptKey(id), text)
		}
		return []byte(out)
	}
	unknown := func(text string) string {
		return sigLine(t, verify.LogKeyName(ckptChain, "outsider"), ckptKey("outsider"), text)
	}
	for _, tc := range []struct {
		name string
		note []byte
		set  []verify.LogValidator
		want error
	}{
		{name: "3 of 4", note: sign(good, "hacienda", "interior", "sanidad")},
		{name: "4 of 4", note: sign(good, ids...)},
		{name: "2 of 4", note: sign(good, "hacienda", "interior"), want: verify.ErrCheckpointQuorum},
		{name: "2 of 4, one twice", note: sign(good, "hacienda", "interior", "interior"), want: verify.ErrCheckpointForm},
		{name: "3 of 4, then a bad line of one of them", note: append(sign(good, "hacienda", "interior", "sanidad"),
			sigLine(t, verify.LogKeyName(ckptChain, "sanidad"), ckptKey("sanidad"), "other text\n")...), want: verify.ErrCheckpointForm},
		{name: "3 of 4, then a changed copy of a line", note: repeatFirstLine(sign(good, "hacienda", "interior", "sanidad")), want: verify.ErrCheckpointForm},
		{name: "3 of 4, an unknown key twice", note: append(sign(good, "hacienda", "interior", "sanidad"), unknown(good)+unknown(good)...), want: verify.ErrCheckpointForm},
		{name: "3 of 4, non-canonical base64", note: nonCanonical(sign(good, "hacienda", "interior", "sanidad")), want: verify.ErrCheckpointForm},
		{name: "a bad signature, then a malformed line", note: append(sign(good, "hacienda", "interior"),
			"\u2014 "+verify.LogKeyName(ckptChain, "sanidad")+" !!\n"...), want: verify.ErrCheckpointForm},
		{name: "100 lines", note: append(sign(good, "hacienda", "interior", "sanidad"), unknownLines(t, good, 97)...)},
		{name: "101 lines", note: append(sign(good, "hacienda", "interior", "sanidad"), unknownLines(t, good, 98)...), want: verify.ErrCheckpointForm},
		{name: "a bad signature, then 101 lines", note: []byte(good + "\n" + sigLine(t, verify.LogKeyName(ckptChain, "hacienda"), ckptKey("hacienda"), "x\n") +
			unknownLines(t, good, 100)), want: verify.ErrCheckpointForm},
		{name: "2 of 4 and an unknown key", note: append(sign(good, "hacienda", "interior"), unknown(good)...), want: verify.ErrCheckpointQuorum},
		{name: "3 of 4 and an unknown key", note: append(sign(good, "hacienda", "interior", "sanidad"), unknown(good)...)},
		{name: "none of the set", note: append([]byte(good+"\n"), unknown(good)...), want: verify.ErrCheckpointQuorum},
		{name: "3 of 4, power 2/3 exactly", note: sign(good, "hacienda", "interior", "sanidad"),
			set:  append(append([]verify.LogValidator(nil), set...), verify.LogValidator{MinistryID: "extra", PubKey: ckptKey("extra").Public().(ed25519.PublicKey), Power: 5}),
			want: verify.ErrCheckpointQuorum},
		{name: "wrong origin", note: sign(body("notary.gobtechlab/other-chain", root[:]), "hacienda", "interior", "sanidad"), want: verify.ErrCheckpointOrigin},
		{name: "tampered root", note: []byte(strings.Replace(string(sign(good, "hacienda", "interior", "sanidad")),
			base64.StdEncoding.EncodeToString(root[:]), base64.StdEncoding.EncodeToString(make([]byte, 32)), 1)),
			want: verify.ErrCheckpointSignature},
		{name: "short root", note: sign(body(verify.LogOrigin(ckptChain), root[:16]), "hacienda", "interior", "sanidad"), want: verify.ErrCheckpointForm},
		{name: "extension line", note: sign(good+"ext\n", "hacienda", "interior", "sanidad"), want: verify.ErrCheckpointForm},
		{name: "size with a leading zero", note: sign(strings.Replace(good, "\n42\n", "\n042\n", 1), "hacienda", "interior", "sanidad"), want: verify.ErrCheckpointForm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.set
			if s == nil {
				s = set
			}
			c, err := verify.VerifyLogCheckpoint(ckptChain, tc.note, s)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Size != 42 || string(c.Root) != string(root[:]) || c.SignedPower*3 <= c.TotalPower*2 {
				t.Fatalf("checkpoint %+v", c)
			}
		})
	}
}
