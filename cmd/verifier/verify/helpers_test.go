package verify_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

var (
	sha2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	sha3 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256
)

// fixture is a receipt of a synthetic chain with its document and trust bundle.
type fixture struct {
	chain   *receipttest.Chain
	trust   *notaryv1.TrustBundle
	doc     []byte
	receipt *notaryv1.Receipt
	file    []byte
}

// fixtureOpts choose what the fixture's receipt exercises.
type fixtureOpts struct {
	alg      notaryv1.HashAlgorithm
	bare     bool // anchor the bare document digest (no salt)
	governed bool // add a validator and remove another before anchoring
	revoked  bool // revoke the document after anchoring
	coded    bool // anchor under a verification code (testCode), salted by it
	entries  bool // with coded: as a coded entry in a coded batch
	later    int  // blocks between anchoring and the status height
	chain    receipttest.Options
}

// testSalt is the fixture's salt.
var testSalt = sha256.Sum256([]byte("salt"))

// testCode is the canonical form of a verification code (its check symbol
// holds); its salt and key are derived as docs/receipt.md ("Verification
// codes") says.
const testCode = "7KQ4MXW9TR2HDNPC8VE6"

// codeSalt and codeKey derive the salt and key of a code, or of the made-up
// code of a label (vcodetest).
func codeSalt(label string) []byte {
	salt, _ := vcodetest.Secrets(label)
	return salt
}

func codeKey(label string) []byte {
	_, key := vcodetest.Secrets(label)
	return key
}

// otherKeys are code keys of the fixture's other documents.
func otherKeys(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, codeKey(fmt.Sprintf("OTHER%015d", i)))
	}
	return out
}

// fixtureDocument is the fixture's document.
var fixtureDocument = []byte("Certificado de nacimiento\nNombre: Ana Pérez\nFecha: 2001-04-05\n")

// bind fills the document binding the way an agency's client does.
func bind(r *notaryv1.Receipt, alg notaryv1.HashAlgorithm, doc []byte, salt []byte) {
	d := ledger.HashDocument(alg, doc)
	r.Document.DocumentDigest = hex.EncodeToString(d)
	if salt != nil {
		r.Document.Salt = hex.EncodeToString(salt)
	}
}

func newFixture(t testing.TB, o fixtureOpts) *fixture {
	t.Helper()
	if o.alg == 0 {
		o.alg = sha2
	}
	c := receipttest.New(t, o.chain)
	c.Empty(1)
	if o.governed {
		c.AddValidator([]string{"hacienda", "interior", "justicia", "sanidad"}, receipttest.Ministry{ID: "educacion", Name: "Ministerio de Educación", Power: 10})
		c.Empty(2)
		c.RemoveValidator([]string{"hacienda", "interior", "justicia", "educacion"}, "sanidad")
		c.Empty(2)
	}
	doc := fixtureDocument
	d := ledger.HashDocument(o.alg, doc)
	var salt []byte
	anchored := d
	if !o.bare {
		salt = testSalt[:]
		anchored = ledger.SaltedDigest(o.alg, salt, d)
	}
	others := [][]byte{receipttest.Digest("a"), receipttest.Digest("b"), receipttest.Digest("c"), receipttest.Digest("d")}
	switch {
	case o.coded && o.entries:
		salt = codeSalt(testCode)
		anchored = ledger.CodedEntry(codeKey(testCode), salt, d)
		keys := otherKeys(4)
		var es [][]byte
		for i, k := range keys {
			es = append(es, append(append([]byte(nil), k...), others[i][:ledger.CodeTagSize]...))
		}
		c.AnchorEntries(o.alg, "certificados 2025-03", es[0], es[1], anchored, es[2], es[3])
	case o.coded:
		salt = codeSalt(testCode)
		anchored = ledger.SaltedDigest(o.alg, salt, d)
		keys := otherKeys(4)
		c.AnchorCoded(o.alg, "certificados 2025-03", [][]byte{keys[0], keys[1], codeKey(testCode), keys[2], keys[3]},
			[][]byte{others[0], others[1], anchored, others[2], others[3]})
	default:
		c.Anchor(o.alg, "certificados 2025-03", others[0], others[1], anchored, others[2], others[3])
	}
	if o.revoked {
		c.Empty(1)
		if o.coded {
			c.RevokeCode(o.alg, codeKey(testCode), notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, "reemplazado por el certificado 2025-0042")
		} else {
			c.Revoke(o.alg, anchored, notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, "reemplazado por el certificado 2025-0042")
		}
	}
	c.Empty(1 + o.later)
	var r *notaryv1.Receipt
	if o.coded {
		r = c.ReceiptByCode(codeKey(testCode))
	} else {
		r = c.Receipt(o.alg, anchored)
	}
	bind(r, o.alg, doc, salt)
	f := &fixture{chain: c, trust: c.TrustBundle(), doc: doc, receipt: r}
	var err error
	if f.file, err = verify.EncodeReceiptFile(r); err != nil {
		t.Fatal(err)
	}
	return f
}

// check verifies a receipt file with the fixture's trust bundle and document.
func (f *fixture) check(t testing.TB, file []byte) *verify.Result {
	t.Helper()
	return checkWith(t, file, f.trust, f.doc)
}

// checkWith verifies a receipt file; a nil document is not checked.
func checkWith(t testing.TB, file []byte, trust *notaryv1.TrustBundle, doc []byte) *verify.Result {
	t.Helper()
	in := verify.Input{Receipt: file, Trust: trust}
	if doc != nil {
		in.Document = bytes.NewReader(doc)
	}
	res, err := verify.Verify(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// encode returns the file of a receipt.
func encode(t testing.TB, r *notaryv1.Receipt) []byte {
	t.Helper()
	b, err := verify.EncodeReceiptFile(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
