package webapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	"github.com/gobtechlab/notary/cmd/verifier/verify/webapi"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func TestParseCode(t *testing.T) {
	const code = "7KQ4M-XW9TR-2HDNP-C8VE6"
	c, err := vcode.Parse(code)
	if err != nil {
		t.Fatal(err)
	}
	key := c.Key()
	for _, s := range []string{code, "7kq4mxw9tr2hdnpc8ve6", " 7KQ4M XW9TR 2HDNP C8VE6 ", "https://v.example/#code=" + code, c.Link("https://v.example/sede")} {
		got := webapi.ParseCode(s, "es")
		if !got.OK || got.Code != code || got.Key != hex.EncodeToString(key[:]) || got.CodePath != "/v1/code/"+got.Key || got.Error != "" {
			t.Errorf("%q: %+v", s, got)
		}
	}
	for _, tc := range []struct {
		in, kind, lang, text string
	}{
		{"", "empty", "es", "Escriba el código de verificación."},
		{"7KQ4M-XW9TR-2HDNP-C8VE7", "check", "es", "hay un carácter mal escrito o dos intercambiados"},
		{"K7Q4M-XW9TR-2HDNP-C8VE6", "check", "en", "a character was mistyped or two were swapped"},
		{"7KQ4M-XW9TR-2HDNP-C8VEO", "symbol", "es", `El carácter 20, «O», no se usa en los códigos de verificación: nunca llevan 0, O, 1, I ni L.`},
		{"7KQ4M-XW9TR-2HDNP-C8VE*", "symbol", "gl", `O carácter 20, «*», non se usa nos códigos de verificación.`},
		{"7KQ4M-XW9TR-2HDNP", "length", "ca", "El codi té 15 caràcters i n'ha de tenir 20"},
		{"https://v.example/#lang=es", "link", "eu", "Estekak ez du egiaztapen-koderik."},
	} {
		got := webapi.ParseCode(tc.in, tc.lang)
		if got.OK || got.Key != "" || got.ErrorKind != tc.kind || !strings.Contains(got.Error, tc.text) {
			t.Errorf("%q: %+v", tc.in, got)
		}
	}
}

// codedVector is the golden coded receipt as a node's code route gives it
// (no document digest, no salt), with its document, trust bundle and the
// salt and key it was built with.
func codedVector(t *testing.T) (node, doc, trust, salt, key []byte) {
	t.Helper()
	dir := filepath.Join(vectors, "valid-coded-sha2")
	r, err := verify.DecodeReceipt(read(t, dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if salt, err = hex.DecodeString(r.Document.Salt); err != nil {
		t.Fatal(err)
	}
	if key, err = hex.DecodeString(r.Document.CodeKey); err != nil {
		t.Fatal(err)
	}
	r.Document.Salt, r.Document.DocumentDigest = "", ""
	if node, err = verify.EncodeReceipt(r); err != nil {
		t.Fatal(err)
	}
	return node, read(t, dir, "document.txt"), read(t, dir, "trust.json"), salt, key
}

func TestVerifyCode(t *testing.T) {
	node, doc, trust, salt, key := codedVector(t)
	sum := sha256.Sum256(doc)
	const source = "https://a.example"
	base := webapi.CodeRequest{Receipt: node, Source: source, Trust: trust, Lang: "es", Zone: "Europe/Madrid"}

	alone := webapi.VerifyCoded(base, salt, key)
	if alone.Verdict != verify.Valid || alone.ExitCode != 0 || alone.DocumentChecked || alone.ReceiptFile != "" || alone.Facts == nil {
		t.Fatalf("code alone: %+v", alone)
	}
	if !strings.Contains(alone.Text, msg.T(msg.Spanish, "web.code_no_document")) || strings.Contains(alone.Text, msg.T(msg.Spanish, "verdict.no_document")) {
		t.Errorf("code alone: %s", alone.Text)
	}
	if !strings.Contains(alone.Text, "Estado comprobado en vivo con 1 de 1 nodos.") || alone.Live == nil || alone.Live.Nodes[0].Endpoint != source {
		t.Errorf("the node that gave the receipt is not a live source: %s", alone.Text)
	}
	if f := alone.Facts; f.Agency == "" || f.AgencyID == "" || f.Registered == "" || f.Revoked || f.Status != "Vigente: no consta como revocado" {
		t.Errorf("facts: %+v", f)
	}
	if len(alone.Steps) == 0 || alone.Steps[0].Name != "code" || alone.Steps[0].Status != verify.StepOK || alone.Steps[0].Label != "Código de verificación" {
		t.Errorf("steps: %+v", alone.Steps)
	}

	withDoc := base
	withDoc.Document = doc
	byDigest := base
	byDigest.DocumentDigest = []byte(hex.EncodeToString(sum[:]))
	for name, req := range map[string]webapi.CodeRequest{"document": withDoc, "digest": byDigest} {
		got := webapi.VerifyCoded(req, salt, key)
		if got.Verdict != verify.Valid || !got.DocumentChecked || got.Facts == nil || got.ReceiptFile == "" {
			t.Fatalf("%s: %+v", name, got)
		}
		if strings.Contains(got.Text, "sin el documento") {
			t.Errorf("%s: %s", name, got.Text)
		}
		// The full receipt is a receipt file that verify accepts with the
		// document, alone, as `verifier verify DOC RECEIPT` does.
		res, err := verify.Verify(verify.Input{Receipt: []byte(got.ReceiptFile), Trust: mustTrust(t, trust), Document: strings.NewReader(string(doc))})
		if err != nil || res.Verdict != verify.Valid || res.Proven.Document.CodeKey != hex.EncodeToString(key) || !res.Proven.Document.Salted {
			t.Fatalf("%s: the full receipt: %v %+v", name, err, res)
		}
		r, err := verify.DecodeReceipt([]byte(got.ReceiptFile))
		if err != nil || r.Document.DocumentDigest != hex.EncodeToString(sum[:]) || r.Document.Salt != hex.EncodeToString(salt) {
			t.Errorf("%s: the full receipt's binding: %v %+v", name, err, r.GetDocument())
		}
	}

	other := base
	other.Document = []byte("another document")
	got := webapi.VerifyCoded(other, salt, key)
	if got.Verdict != verify.NotValid || got.ExitCode != 1 || got.ReceiptFile != "" || got.Facts == nil || !got.DocumentChecked {
		t.Fatalf("another document: %+v", got)
	}
	if !strings.Contains(got.Text, msg.T(msg.Spanish, "reason.document_mismatch")) {
		t.Errorf("another document: %s", got.Text)
	}

	// A node's receipt for another key, garbage, and a code that does not
	// parse prove nothing.
	random, err := vcode.New(strings.NewReader(strings.Repeat("0123456789abcdef", 8)))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		req  webapi.CodeRequest
		exit int
		text string
	}{
		"another code's receipt": {webapi.CodeRequest{Code: random.String(), Receipt: node, Source: source, Trust: trust, Lang: "en"}, 1, `Node https://a.example answered with the record of another code`},
		"garbage":                {webapi.CodeRequest{Code: random.String(), Receipt: []byte("<html>"), Source: source, Trust: trust, Lang: "en"}, 1, "NOT VALID."},
		"bad code":               {webapi.CodeRequest{Code: "7KQ4M", Receipt: node, Trust: trust, Lang: "en"}, 2, "The code has 5 characters"},
		"bad trust":              {webapi.CodeRequest{Code: random.String(), Receipt: node, Trust: []byte("{}"), Lang: "en"}, 2, "trust.json"},
	} {
		got := webapi.VerifyCode(tc.req)
		if got.Verdict != verify.NotValid || got.ExitCode != tc.exit || got.Facts != nil || !strings.Contains(got.Text, tc.text) {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

// TestVerifyCodeOtherStatus: a node's live status for another document
// changes nothing: the code's document stays valid and the node is
// reported.
func TestVerifyCodeOtherStatus(t *testing.T) {
	node, _, trust, salt, key := codedVector(t)
	got := webapi.VerifyCoded(webapi.CodeRequest{Receipt: node, Trust: trust, Lang: "en",
		Live: []webapi.LiveAnswer{{Endpoint: "https://b.example", Status: 200, Body: liveBody(t, read(t, vectors, "revoked", "receipt.json"))}}}, salt, key)
	if got.Verdict != verify.Valid || got.Facts == nil || got.Facts.Revoked || got.Live == nil || got.Live.Checked != 0 || got.Live.Tried != 1 {
		t.Errorf("another document's status: %+v", got)
	}
}

func mustTrust(t *testing.T, b []byte) *notaryv1.TrustBundle {
	t.Helper()
	tb, err := verify.DecodeTrustBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}
