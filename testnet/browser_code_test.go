package testnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/client/qrcode"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/layout"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// codedDoc is a document the dev agency anchored under a verification
// code.
type codedDoc struct {
	path string
	code vcode.Code
	doc  client.Document
}

// devClient dials the dev chain's gateway as its dev agency.
func devClient(t *testing.T, home string) *client.Client {
	t.Helper()
	id, err := identity.Load(filepath.Join(home, layout.IdentitiesDir, "dev-agency"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial("", id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

// anchorCoded anchors the file at path under a new verification code, as
// an agency does with the code it printed on the document.
func anchorCoded(t *testing.T, c *client.Client, path string) codedDoc {
	t.Helper()
	code, err := vcode.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec := code.Derive()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.AnchorFileCoded(ctx, path, sec.Salt[:], sec.Key[:]); err != nil {
		t.Fatalf("anchoring %s under a code: %v", path, err)
	}
	digest, err := client.HashFile(c.Options().Algorithm, path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := c.CodedDocument(digest, sec.Salt[:], sec.Key[:])
	if err != nil {
		t.Fatal(err)
	}
	return codedDoc{path: path, code: code, doc: doc}
}

// revokeCoded revokes a coded document.
func revokeCoded(t *testing.T, c *client.Client, d codedDoc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.RevokeDocuments(ctx, []client.Document{d.doc}, notaryv1.RevocationReason_REVOCATION_REASON_ISSUED_IN_ERROR, "emitido con el NIF equivocado"); err != nil {
		t.Fatalf("revoking the coded document: %v", err)
	}
}

// qrLink is the link of the code's QR code as a phone reads it: the PNG
// the library draws, decoded with ZXing. The link's base is the trust
// bundle's verifier_url, else its first public endpoint.
func qrLink(t *testing.T, tb *notaryv1.TrustBundle, code vcode.Code) string {
	t.Helper()
	base := tb.GetVerifierUrl()
	if base == "" {
		base = tb.PublicEndpoints[0]
	}
	want := code.Link(base)
	b, err := qrcode.PNG(want, 400)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	if res.GetText() != want {
		t.Fatalf("the QR code reads %q, want %q", res.GetText(), want)
	}
	return res.GetText()
}

// mistype swaps the code's first two different symbols.
func mistype(code vcode.Code) string {
	s := []byte(code.Canonical())
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			s[0], s[i] = s[i], s[0]
			break
		}
	}
	return string(s)
}

// codeKeyHex is the code's key as the page asks for it.
func codeKeyHex(code vcode.Code) string {
	k := code.Key()
	return hex.EncodeToString(k[:])
}

// checkCodeValid checks a code step that showed a valid document: the
// verdict, the agency, the date and the status, and that the code itself
// was in no request.
func checkCodeValid(t *testing.T, name string, r codeResult, code vcode.Code, docChecked bool) {
	t.Helper()
	if r.Verdict != "valid" || r.ExitCode != 0 {
		t.Errorf("%s: %s (exit %d): %s %s", name, r.Verdict, r.ExitCode, r.Text, r.CodeError)
		return
	}
	if r.Facts["agency"] == "" || r.Facts["registered"] == "" || !strings.HasPrefix(r.Facts["status"], "Vigente") {
		t.Errorf("%s: facts %q", name, r.Facts)
	}
	if !strings.Contains(r.Text, "Este documento fue registrado por "+r.Facts["agency"]) {
		t.Errorf("%s: the verdict does not name the agency: %s", name, r.Text)
	}
	if got := strings.Contains(r.Text, "sin el documento"); got == docChecked {
		t.Errorf("%s: document checked %v, text: %s", name, docChecked, r.Text)
	}
	checkCodeNotSent(t, name, r, code)
}

// checkCodeNotSent fails when a request carries the code, in any form.
func checkCodeNotSent(t *testing.T, name string, r codeResult, code vcode.Code) {
	t.Helper()
	for _, u := range r.Requests {
		up := strings.ToUpper(strings.ReplaceAll(u, "-", ""))
		if strings.Contains(up, code.Canonical()) {
			t.Errorf("%s: a request carries the code: %s", name, u)
		}
	}
}

// revocationDate is the revocation's date phrase of a Spanish verdict.
var revocationDate = regexp.MustCompile(`revocado el (.+?) por `)

// checkCodeSession checks the page's code steps before the revocation
// (codeSteps gives them) and the downloaded receipt with the CLI.
func checkCodeSession(t *testing.T, r browserResult, code vcode.Code, verifierBin, trustPath, docPath string) {
	t.Helper()
	if len(r.Code) != 6 {
		t.Fatalf("code: %d steps shown, want 6: %+v", len(r.Code), r.Code)
	}
	key := codeKeyHex(code)
	load := r.Code[0]
	checkCodeValid(t, "QR link opened", load, code, false)
	if load.CodeValue != code.String() {
		t.Errorf("QR link opened: the field reads %q, want %q", load.CodeValue, code.String())
	}
	asked := false
	for _, u := range load.Requests {
		asked = asked || strings.HasSuffix(u, "/v1/code/"+key)
	}
	if !asked {
		t.Errorf("QR link opened: the page did not ask for the code's key %s: %q", key, load.Requests)
	}
	checkCodeValid(t, "link changed in the page", r.Code[1], code, false)
	withDoc := r.Code[2]
	checkCodeValid(t, "typed code and the document", withDoc, code, true)
	checkAxe(t, browserResult{Name: "code", Axe: withDoc.Axe})
	if withDoc.DownloadSaved == "" {
		t.Errorf("typed code and the document: no receipt to download")
	} else if cli := runVerifier(t, verifierBin, "es", "--trust", trustPath, docPath, withDoc.DownloadSaved); cli.Verdict != "valid" || cli.ExitCode != 0 {
		t.Errorf("verifier verify DOC <downloaded receipt>: %s (exit %d): %s", cli.Verdict, cli.ExitCode, cli.text())
	}
	other := r.Code[3]
	if other.Verdict != "not_valid" || other.ExitCode != 1 || !strings.Contains(other.Text, "El documento no coincide con el recibo") || other.Download {
		t.Errorf("typed code and another document: %s (exit %d), download %v: %s", other.Verdict, other.ExitCode, other.Download, other.Text)
	}
	if other.Facts["agency"] == "" {
		t.Errorf("typed code and another document: the code's facts are not shown: %q", other.Facts)
	}
	bad := r.Code[4]
	if bad.ErrorKind != "check" || !strings.Contains(bad.CodeError, "dos intercambiados") || bad.Verdict != "" {
		t.Errorf("mistyped code: kind %q, error %q, verdict %q", bad.ErrorKind, bad.CodeError, bad.Verdict)
	}
	if len(bad.Requests) != 0 {
		t.Errorf("mistyped code: the page made requests: %q", bad.Requests)
	}
	if nf := r.Code[5]; nf.Verdict != "not_found" || !strings.Contains(nf.Text, "No hay ningún documento registrado con este código") {
		t.Errorf("unknown code: %s: %s", nf.Verdict, nf.Text)
	}
}

// codeSteps are the page's code checks before the revocation, for
// checkCodeSession: the QR link at load, the link changed in the page,
// the code typed with the document (and its receipt downloaded), with
// another document, mistyped, and a code under which nothing is
// registered.
func codeSteps(t *testing.T, code vcode.Code, doc, other, download string) []codeStep {
	t.Helper()
	unknown, err := vcode.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	typed := strings.ToLower(strings.ReplaceAll(code.String(), "-", " "))
	return []codeStep{
		{Load: true},
		{Hash: "#code=" + strings.ToLower(code.Canonical())},
		{Code: typed, Document: doc, Download: download, Axe: true},
		{Code: code.String(), Document: other},
		{Code: mistype(code), ExpectError: true},
		{Code: unknown.String()},
	}
}

// checkCodeRevoked checks the code typed after the revocation: revoked,
// with the revocation's date as the CLI gives it.
func checkCodeRevoked(t *testing.T, r browserResult, code vcode.Code, cli cliVerdict) {
	t.Helper()
	if len(r.Code) != 1 {
		t.Fatalf("code after the revocation: %d steps shown: %+v", len(r.Code), r.Code)
	}
	rv := r.Code[0]
	if rv.Verdict != "revoked" || rv.ExitCode != 3 || !strings.HasPrefix(rv.Facts["status"], "Revocado el ") || !strings.Contains(rv.Facts["status"], "emitido por error") {
		t.Errorf("code after the revocation: %s (exit %d), facts %q: %s", rv.Verdict, rv.ExitCode, rv.Facts, rv.Text)
	}
	if m := revocationDate.FindStringSubmatch(cli.text()); m == nil {
		t.Errorf("the CLI's verdict on the coded document names no revocation date: %s", cli.text())
	} else if !strings.Contains(rv.Text, m[0]) {
		t.Errorf("the page's verdict on the code lacks the revocation date %q: %s", m[1], rv.Text)
	}
	checkCodeNotSent(t, "code after the revocation", rv, code)
}

// trustOf reads a trust bundle file.
func trustOf(t *testing.T, path string) *notaryv1.TrustBundle {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := verify.DecodeTrustBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}
