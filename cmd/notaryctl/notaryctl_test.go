package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// verifyReceipt checks a receipt file with the citizens' verifier against
// the node's trust bundle and the document, and returns the verdict.
func (e *env) verifyReceipt(t *testing.T, doc, receipt string) *verify.Result {
	t.Helper()
	tb, err := os.ReadFile(filepath.Join(e.n.Home, app.TrustFile))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := os.ReadFile(receipt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	res, err := verify.Verify(verify.Input{Receipt: rb, Trust: trust, Document: f})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// decode unmarshals a JSON output.
func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return v
}

// TestAnchorGetRevokeReceipt runs the agency's daily commands against a real
// node: anchor (text and JSON goldens), the receipt verifies offline with
// the trust bundle, anchoring again reports the original record (exit 5) and
// refreshes the receipt, get by file and by digest, revoke, get of a revoked
// document (exit 3), and the receipt's status refreshed to revoked.
func TestAnchorGetRevokeReceipt(t *testing.T) {
	e := startNode(t)
	doc := e.file(t, "certificado.txt", "certificado de empadronamiento n.º 1\n")

	// Anchor: a new document, its receipt beside it, valid offline.
	r := e.agency(t, "anchor", doc).want(t, cli.ExitOK)
	golden(t, "anchor.txt.golden", normText(r.stdout, e.dir))
	receipt := doc + receiptSuffix
	if res := e.verifyReceipt(t, doc, receipt); res.Verdict != verify.Valid {
		t.Fatalf("receipt written by anchor: %s %s %s", res.Verdict, res.Reason, res.Detail)
	}
	first, err := readReceipt(receipt)
	if err != nil {
		t.Fatal(err)
	}

	doc2 := e.file(t, "titulo.txt", "título de bachiller\n")
	r = e.agency(t, "anchor", doc2, "--label", "títulos de bachiller", "--output", "json").want(t, cli.ExitOK)
	golden(t, "anchor.json.golden", normJSON(t, r.stdout, e.dir))
	a := decode[anchorResult](t, r)
	if a.Anchored != 1 || a.Files[0].Batch.Label != "títulos de bachiller" || !a.Files[0].Document.Salted {
		t.Fatalf("anchor json: %+v", a.Files[0])
	}

	// Anchoring again: the original record, exit 5, the receipt rewritten.
	text, js := e.goldenBoth(t, "anchor-again", exitAlreadyAnchored, e.n.Agency, "anchor", doc)
	if !strings.Contains(text.stdout, "already anchored") {
		t.Fatalf("anchor again: %s", text.stdout)
	}
	again := decode[anchorResult](t, js)
	if again.AlreadyAnchored != 1 || again.Files[0].Batch.Height != first.GetAnchor().GetHeight() {
		t.Fatalf("anchor again: %+v, first anchored at %d", again.Files[0].Batch, first.GetAnchor().GetHeight())
	}
	if res := e.verifyReceipt(t, doc, receipt); res.Verdict != verify.Valid {
		t.Fatalf("receipt rewritten: %s %s", res.Verdict, res.Detail)
	}

	// get, by file and by digest of the document's bytes.
	e.goldenBoth(t, "get", cli.ExitOK, e.n.Agency, "get", doc)
	sum := sha256.Sum256([]byte("certificado de empadronamiento n.º 1\n"))
	byDigest := decode[lookupResult](t, e.agency(t, "get", hex.EncodeToString(sum[:]), "-o", "json").want(t, cli.ExitOK))
	byFile := decode[lookupResult](t, e.agency(t, "get", doc, "-o", "json").want(t, cli.ExitOK))
	if byDigest.Document != byFile.Document || byDigest.Batch.ID != byFile.Batch.ID || byFile.Issuer.ID != testAgency || byFile.Status != "not_revoked" {
		t.Fatalf("get by digest %+v, by file %+v", byDigest, byFile)
	}
	notAnchored := e.file(t, "borrador.txt", "borrador\n")
	r = e.agency(t, "get", notAnchored).want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "not anchored") {
		t.Fatalf("get of a document never anchored: %q", r.stderr)
	}

	// receipt: a new one for a digest into --out, then a refresh in place.
	out := filepath.Join(e.dir, "recibos")
	r = e.agency(t, "receipt", hex.EncodeToString(sum[:]), "--out", out).want(t, cli.ExitOK)
	golden(t, "receipt-digest.txt.golden", normText(r.stdout, e.dir))
	fetched := filepath.Join(out, hex.EncodeToString(sum[:])+receiptSuffix)
	if res := e.verifyReceipt(t, doc, fetched); res.Verdict != verify.Valid {
		t.Fatalf("receipt fetched by digest: %s %s", res.Verdict, res.Detail)
	}

	// revoke: text for one document, JSON for the other.
	r = e.agency(t, "revoke", doc, "--reason-code", "superseded", "--reason", "sustituido por el n.º 2").want(t, cli.ExitOK)
	golden(t, "revoke.txt.golden", normText(r.stdout, e.dir))
	r = e.agency(t, "revoke", doc2, "--reason-code", "issued-in-error", "-o", "json").want(t, cli.ExitOK)
	golden(t, "revoke.json.golden", normJSON(t, r.stdout, e.dir))
	r = e.agency(t, "revoke", doc, "--reason-code", "fraud").want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "revoke") {
		t.Fatalf("second revocation: %q", r.stderr)
	}

	// get of a revoked document: exit 3.
	e.goldenBoth(t, "get-revoked", exitRevoked, e.n.Agency, "get", doc)

	// receipt refreshes the status part of the existing receipt: now revoked,
	// the anchoring part unchanged, still verifying (as revoked).
	r = e.agency(t, "receipt", doc).want(t, cli.ExitOK)
	golden(t, "receipt-refresh.txt.golden", normText(r.stdout, e.dir))
	refreshed, err := readReceipt(receipt)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.GetAnchor().GetHeight() != first.GetAnchor().GetHeight() || refreshed.GetDocument().GetSalt() != first.GetDocument().GetSalt() ||
		refreshed.GetStatus().GetCheckpoint().GetHeight() <= first.GetStatus().GetCheckpoint().GetHeight() {
		t.Fatalf("refresh changed the anchoring or not the status: anchor %d->%d status %d->%d", first.GetAnchor().GetHeight(),
			refreshed.GetAnchor().GetHeight(), first.GetStatus().GetCheckpoint().GetHeight(), refreshed.GetStatus().GetCheckpoint().GetHeight())
	}
	if res := e.verifyReceipt(t, doc, receipt); res.Verdict != verify.Revoked {
		t.Fatalf("refreshed receipt: %s %s %s", res.Verdict, res.Reason, res.Detail)
	}
	r = e.agency(t, "receipt", doc2, "--receipt", filepath.Join(out, "titulo.json"), "-o", "json").want(t, cli.ExitOK)
	golden(t, "receipt.json.golden", normJSON(t, r.stdout, e.dir))

	// A receipt of another document is not refreshed.
	r = e.agency(t, "receipt", doc2, "--receipt", receipt).want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "another document") {
		t.Fatalf("receipt of another document: %q", r.stderr)
	}
}

// TestAnchorFolders anchors a folder tree of many files with receipts under
// --out, then beside the files, then again (all already anchored: exit 5,
// receipts never anchored themselves); --bare with SHA3-256 verifies too.
func TestAnchorFolders(t *testing.T) {
	e := startNode(t)
	tree := filepath.Join(e.dir, "expedientes")
	for i := range 25 {
		e.file(t, filepath.Join("expedientes", fmt.Sprintf("lote%d", i%3), fmt.Sprintf("doc%02d.txt", i)), fmt.Sprintf("documento %d\n", i))
	}
	out := filepath.Join(e.dir, "recibos")
	a := decode[anchorResult](t, e.agency(t, "anchor", tree, "--out", out, "-o", "json").want(t, cli.ExitOK))
	if a.Anchored != 25 || len(a.Files) != 25 {
		t.Fatalf("anchored %d of %d", a.Anchored, len(a.Files))
	}
	for _, f := range a.Files {
		rel, err := filepath.Rel(tree, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Receipt != filepath.Join(out, rel+receiptSuffix) {
			t.Fatalf("receipt of %s at %s", f.Path, f.Receipt)
		}
	}
	one := filepath.Join(tree, "lote1", "doc07.txt")
	if res := e.verifyReceipt(t, one, filepath.Join(out, "lote1", "doc07.txt"+receiptSuffix)); res.Verdict != verify.Valid {
		t.Fatalf("receipt under --out: %s %s", res.Verdict, res.Detail)
	}

	// Beside the files, then again: receipts are skipped, nothing is new.
	r := e.agency(t, "anchor", tree).want(t, exitAlreadyAnchored)
	if !strings.Contains(r.stdout, "25 files: 0 anchored, 25 already anchored, 0 failed") {
		t.Fatalf("anchor beside:\n%s", r.stdout)
	}
	r = e.agency(t, "anchor", tree, "-o", "json").want(t, exitAlreadyAnchored)
	if a := decode[anchorResult](t, r); len(a.Files) != 25 || a.AlreadyAnchored != 25 {
		t.Fatalf("anchor again: %d files, %d already anchored", len(a.Files), a.AlreadyAnchored)
	}
	if res := e.verifyReceipt(t, one, one+receiptSuffix); res.Verdict != verify.Valid {
		t.Fatalf("receipt beside: %s %s", res.Verdict, res.Detail)
	}

	// --bare --algorithm sha3-256: the digest itself, verifying offline.
	bare := e.file(t, "publico.txt", "resolución pública\n")
	a = decode[anchorResult](t, e.agency(t, "anchor", bare, "--bare", "--algorithm", "sha3-256", "-o", "json").want(t, cli.ExitOK))
	if d := a.Files[0].Document; d.Salted || d.HashAlgorithm != "sha3-256" || d.AnchoredDigest != d.DocumentDigest {
		t.Fatalf("bare anchor: %+v", d)
	}
	if res := e.verifyReceipt(t, bare, bare+receiptSuffix); res.Verdict != verify.Valid {
		t.Fatalf("bare receipt: %s %s", res.Verdict, res.Detail)
	}
	// get finds it whichever way this identity anchors by default.
	e.agency(t, "get", bare, "--algorithm", "sha3-256").want(t, cli.ExitOK)
}

// TestStatusConsentExchangeGov covers the status, consent check, exchange
// record and governance commands, with goldens.
func TestStatusConsentExchangeGov(t *testing.T) {
	e := startNode(t, app.AgencySpec{ID: "registro-civil", Name: "Registro Civil"})
	e.goldenBoth(t, "status", cli.ExitOK, e.n.Agency, "status")

	// A citizen grants the dev agency a consent (as the citizen's own
	// verifier would).
	citizen := e.n.Identity(t, e.n.Citizen)
	now := time.Now()
	grant := citizen.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: citizen.Subject(), AgencyId: testAgency, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gr, err := e.n.Client(t, "").Submit(ctx, &notaryv1.SubmitRequest{Tx: grant})
	if err != nil || gr.GetResult().GetConsentId() == "" {
		t.Fatalf("grant: %v %v", gr, err)
	}
	consentID := gr.GetResult().GetConsentId()
	subject := hex.EncodeToString(citizen.Subject())

	check := []string{"consent", "check", "--subject", subject, "--provider", "registro-civil", "--category", "tax"}
	_, js := e.goldenBoth(t, "consent-covered", cli.ExitOK, e.n.Agency, append(check, "--purpose", "eligibility-check")...)
	if c := decode[coverageResult](t, js); !c.Covered || c.ConsentID != consentID {
		t.Fatalf("coverage: %+v", c)
	}
	e.goldenBoth(t, "consent-not-covered", cli.ExitFailure, e.n.Agency, append(check, "--purpose", "statistics")...)
	// The citizen's identity directory names the subject too.
	e.agency(t, "consent", "check", "--subject", e.n.Citizen, "--provider", "registro-civil", "--category", "tax", "--purpose", "eligibility-check").want(t, cli.ExitOK)

	// exchange record: under the consent (with a case file reference), and
	// refused for a purpose it does not cover.
	caseFile := e.file(t, "expediente-123.txt", "expediente 123\n")
	x := decode[exchangeResult](t, e.agency(t, "exchange", "record", "--provider", "registro-civil", "--subject", subject,
		"--category", "tax", "--purpose", "eligibility-check", "--consent", consentID, "--reference", caseFile, "-o", "json").want(t, cli.ExitOK))
	if x.Index != 0 || x.Height == 0 || len(x.Reference) != 64 {
		t.Fatalf("exchange: %+v", x)
	}
	r := e.agency(t, "exchange", "record", "--provider", "registro-civil", "--subject", subject,
		"--category", "tax", "--purpose", "statistics", "--consent", consentID).want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "exchange record") {
		t.Fatalf("uncovered exchange: %q", r.stderr)
	}

	// Governance: the ministry proposes an agency; its vote passes it.
	newID, err := identity.Generate(identity.RoleAgency, "hacienda", testChainID)
	if err != nil {
		t.Fatal(err)
	}
	newAgency := filepath.Join(e.dir, "hacienda")
	if err := newID.Save(newAgency); err != nil {
		t.Fatal(err)
	}
	p := decode[proposeResult](t, e.as(t, e.n.Ministry, "gov", "propose", "add-agency", "--id", "hacienda", "--name", "Agencia Tributaria",
		"--pub-key", newAgency, "--permissions", "revoke,anchor", "-o", "json").want(t, cli.ExitOK))
	if p.Proposal.ID != 1 || p.Proposal.Status != "voting" || p.Proposal.Action != "add-agency" {
		t.Fatalf("propose: %+v", p)
	}
	e.as(t, e.n.Ministry, "gov", "propose", "change-params", "--max-label-bytes", "128", "--title", "Etiquetas más cortas").want(t, cli.ExitOK)
	e.goldenBoth(t, "gov-list-voting", cli.ExitOK, e.n.Ministry, "gov", "list")
	r = e.as(t, e.n.Ministry, "gov", "vote", "1", "yes").want(t, cli.ExitOK)
	golden(t, "gov-vote.txt.golden", normText(r.stdout, e.dir))
	e.goldenBoth(t, "gov-list", cli.ExitOK, e.n.Ministry, "gov", "list")
	l := decode[govListResult](t, e.as(t, e.n.Ministry, "gov", "list", "--status", "passed", "-o", "json").want(t, cli.ExitOK))
	if len(l.Proposals) != 1 || l.Proposals[0].ID != 1 || l.Proposals[0].Target != "hacienda" {
		t.Fatalf("passed proposals: %+v", l.Proposals)
	}
	// Voting twice is refused; an agency cannot vote.
	e.as(t, e.n.Ministry, "gov", "vote", "1", "no").want(t, cli.ExitFailure)
	e.agency(t, "gov", "vote", "2", "yes").want(t, cli.ExitUsage)

	// Upgrades: a height too soon is refused by the chain, a bad name by
	// notaryctl; a good plan is proposed (and not voted: passed, it would
	// stop this node at its height).
	r = e.as(t, e.n.Ministry, "gov", "propose", "schedule-upgrade", "v2", "--height", "2").want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "invalid upgrade plan") || !strings.Contains(r.stderr, "height 2 is past") {
		t.Fatalf("upgrade at a past height: %q", r.stderr)
	}
	r = e.as(t, e.n.Ministry, "gov", "propose", "schedule-upgrade", "V2_final", "--in", "50").want(t, cli.ExitUsage)
	if !strings.Contains(r.stderr, "[a-z0-9.-]") {
		t.Fatalf("upgrade with a bad name: %q", r.stderr)
	}
	e.as(t, e.n.Ministry, "gov", "propose", "schedule-upgrade", "v2").want(t, cli.ExitUsage)
	p = decode[proposeResult](t, e.as(t, e.n.Ministry, "gov", "propose", "schedule-upgrade", "v2", "--in", "1000",
		"--info", "notaryd v2", "-o", "json").want(t, cli.ExitOK))
	if p.Proposal.Action != "schedule-upgrade" || p.Proposal.Target != "v2" || p.Proposal.UpgradeHeight < 1000 {
		t.Fatalf("schedule-upgrade: %+v", p.Proposal)
	}
	// Nothing is scheduled until it passes: cancelling is refused.
	r = e.as(t, e.n.Ministry, "gov", "propose", "cancel-upgrade", "v2").want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "no upgrade is scheduled") {
		t.Fatalf("cancel: %q", r.stderr)
	}
}

// TestBadInput: every bad input gets exit 2 (or 4 for an unreachable node)
// and one clear line on stderr, never a panic or a stack.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.txt")
	if err := os.WriteFile(doc, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "doc2.txt"), []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "no-identity")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing file", []string{"anchor", filepath.Join(dir, "missing.pdf")}, cli.ExitUsage, "no such file"},
		{"get missing file", []string{"get", filepath.Join(dir, "missing.pdf")}, cli.ExitUsage, "no such file"},
		{"short digest", []string{"get", "abcd"}, cli.ExitUsage, "want 64 hex characters"},
		{"not hex", []string{"get", strings.Repeat("zz", 32)}, cli.ExitUsage, "not hexadecimal"},
		{"odd hex", []string{"revoke", strings.Repeat("a", 63), "--reason-code", "fraud"}, cli.ExitUsage, "want 64 hex characters"},
		{"unknown algorithm", []string{"anchor", doc, "--algorithm", "md5"}, cli.ExitUsage, "unknown hash algorithm"},
		{"unknown algorithm get", []string{"get", doc, "--algorithm", "sha1"}, cli.ExitUsage, "unknown hash algorithm"},
		{"no reason code", []string{"revoke", doc}, cli.ExitUsage, "--reason-code is required"},
		{"unknown reason code", []string{"revoke", doc, "--reason-code", "boredom"}, cli.ExitUsage, "superseded"},
		{"bad output", []string{"status", "--output", "yaml"}, cli.ExitUsage, "--output"},
		{"no args", []string{"anchor"}, cli.ExitUsage, "give the files or folders"},
		{"mistyped code", []string{"anchor", "--code", "7KQ4M-XW9TR-2HDNP-C8V6E", doc}, cli.ExitUsage, "check character"},
		{"code of two files", []string{"anchor", "--code", testCode, doc, doc}, cli.ExitUsage, "one file"},
		{"code and bare", []string{"anchor", "--code", testCode, "--bare", doc}, cli.ExitUsage, "--bare"},
		{"code and codes", []string{"anchor", "--code", testCode, "--codes", doc}, cli.ExitUsage, "together"},
		{"manifest bad code", []string{"anchor", "--codes", manifest(t, dir, "# ok\n\ndoc.txt,"+testCode+"\ndoc2.txt,7KQ4M-XW9TR-2HDNP-C8VE7\n")}, cli.ExitUsage, "line 4: verification code"},
		{"manifest no comma", []string{"anchor", "--codes", manifest(t, dir, "doc.txt "+testCode+"\n")}, cli.ExitUsage, "line 1: want"},
		{"manifest missing file", []string{"anchor", "--codes", manifest(t, dir, "absent.txt,"+testCode+"\n")}, cli.ExitUsage, "line 1:"},
		{"manifest code twice", []string{"anchor", "--codes", manifest(t, dir, "doc.txt,"+testCode+"\ndoc2.txt,"+testCode+"\n")}, cli.ExitUsage, "also on line 1"},
		{"manifest and path", []string{"anchor", "--codes", manifest(t, dir, "doc.txt,"+testCode+"\n"), doc}, cli.ExitUsage, "give no PATH"},
		{"revoke mistyped code", []string{"revoke", "--code", "7KQ4M-XW9TR-2HDNP-C8VE", "--reason-code", "fraud"}, cli.ExitUsage, "20"},
		{"revoke nothing", []string{"revoke", "--reason-code", "fraud"}, cli.ExitUsage, "--code CODE"},
		{"code new bad image", []string{"code", "new", "--qr", filepath.Join(dir, "qr.gif"), "--verifier-url", "https://sede.example/verificar"}, cli.ExitUsage, "PNG or SVG"},
		{"code new bad url", []string{"code", "new", "--verifier-url", "sede.example"}, cli.ExitUsage, "--verifier-url"},
		{"code new no verifier", []string{"code", "new", "--identity", id}, cli.ExitUsage, "--verifier-url"},
		{"code new count", []string{"code", "new", "--count", "0", "--verifier-url", "https://sede.example/"}, cli.ExitUsage, "--count"},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage, "unknown command"},
		{"unknown flag", []string{"status", "--frob"}, cli.ExitUsage, "unknown flag"},
		{"bad timeout", []string{"status", "--timeout", "soon"}, cli.ExitUsage, "invalid argument"},
		{"missing identity", []string{"status", "--identity", id}, cli.ExitUsage, "identity"},
		{"bad vote", []string{"gov", "vote", "1", "maybe"}, cli.ExitUsage, "yes, no or abstain"},
		{"bad proposal id", []string{"gov", "vote", "uno", "yes"}, cli.ExitUsage, "positive number"},
		{"bad subject", []string{"consent", "check", "--subject", "juan", "--provider", "b", "--category", "tax", "--purpose", "statistics"}, cli.ExitUsage, "subject"},
		{"no basis", []string{"exchange", "record", "--subject", strings.Repeat("ab", 32), "--provider", "b", "--category", "tax", "--purpose", "statistics"}, cli.ExitUsage, "exactly one basis"},
		{"folder of nothing", []string{"anchor", t.TempDir()}, cli.ExitUsage, "no files"},
		{"confirm without requester", []string{"exchange", "confirm", "--subject", strings.Repeat("ab", 32), "--category", "tax", "--purpose", "statistics", "--consent", "x", "--out", filepath.Join(dir, "c.json")}, cli.ExitUsage, "--requester is required"},
		{"confirm without out", []string{"exchange", "confirm", "--requester", "a", "--subject", strings.Repeat("ab", 32), "--category", "tax", "--purpose", "statistics", "--consent", "x"}, cli.ExitUsage, "--out FILE is required"},
		{"confirm over a file", []string{"exchange", "confirm", "--requester", "a", "--subject", strings.Repeat("ab", 32), "--category", "tax", "--purpose", "statistics", "--consent", "x", "--out", doc}, cli.ExitUsage, "exists"},
		{"two references", []string{"exchange", "record", "--subject", strings.Repeat("ab", 32), "--provider", "b", "--category", "tax", "--purpose", "statistics", "--consent", "x", "--reference", doc, "--reference-digest", strings.Repeat("cd", 32)}, cli.ExitUsage, "not both"},
		{"short reference digest", []string{"exchange", "record", "--subject", strings.Repeat("ab", 32), "--provider", "b", "--category", "tax", "--purpose", "statistics", "--consent", "x", "--reference-digest", "abcd"}, cli.ExitUsage, "--reference-digest"},
		{"confirmation not a file", []string{"exchange", "record", "--subject", strings.Repeat("ab", 32), "--provider", "b", "--category", "tax", "--purpose", "statistics", "--consent", "x", "--confirmation", dir}, cli.ExitUsage, "not a regular file"},
		{"confirmation not json", []string{"exchange", "record", "--subject", strings.Repeat("ab", 32), "--provider", "b", "--category", "tax", "--purpose", "statistics", "--consent", "x", "--confirmation", doc}, cli.ExitUsage, "not a confirmation file"},
		{"enroll a bad key", []string{"citizen", "enroll", "abcd"}, cli.ExitUsage, "ed25519 public key"},
		{"enroll nothing", []string{"citizen", "enroll"}, cli.ExitUsage, "requires at least 1 arg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || !strings.HasPrefix(r.stderr, "notaryctl: ") ||
				strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "panic") || r.stdout != "" {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", r.code, tc.code, r.stderr, tc.msg, r.stdout)
			}
		})
	}
}

// testCode is a well-formed verification code (vcode's known vector).
const testCode = "7KQ4M-XW9TR-2HDNP-C8VE6"

// manifest writes a --codes manifest into dir and returns its path.
func manifest(t *testing.T, dir, text string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "manifest-*.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestUnreachableAndDefaultIdentity: a node that does not answer is exit 4;
// with no flags, notaryctl uses the dev agency of `notaryd dev` (in
// $NOTARY_HOME, else ~/.notary-dev) and that identity's node.
func TestUnreachableAndDefaultIdentity(t *testing.T) {
	e := startNode(t)
	r := run(t, "--identity", e.n.Agency, "--node", "127.0.0.1:1", "--timeout", "3s", "status").want(t, cli.ExitUnavail)
	if !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Fatalf("unreachable: %q", r.stderr)
	}

	home := t.TempDir()
	t.Setenv("HOME", home)
	unsetenv(t, "NOTARY_HOME")
	r = run(t, "status").want(t, cli.ExitUsage)
	if !strings.Contains(r.stderr, filepath.Join(home, ".notary-dev", "identities", "dev-agency")) {
		t.Fatalf("no dev agency: %q", r.stderr)
	}
	copyDir(t, e.n.Agency, filepath.Join(home, ".notary-dev", "identities", "dev-agency"))
	doc := e.file(t, "sin-flags.txt", "anchored with no flags\n")
	r = run(t, "anchor", doc).want(t, cli.ExitOK)
	if !strings.Contains(r.stdout, "1 file: 1 anchored") {
		t.Fatalf("anchor with no flags: %s", r.stdout)
	}
	// NOTARY_HOME, as notaryd's --home, moves the default.
	other := t.TempDir()
	copyDir(t, e.n.Agency, filepath.Join(other, "identities", "dev-agency"))
	if err := os.RemoveAll(filepath.Join(home, ".notary-dev")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTARY_HOME", other)
	run(t, "get", doc).want(t, cli.ExitOK)
}

// copyDir copies the files of an identity directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join(from, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, ent.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExchangeConfirmAndEnroll: the providing agency writes a confirmation
// of an exchange, the requester records the exchange with it (confirmed)
// and without (declared alone); a confirmation of another exchange, or used
// twice, is refused. An agency with PERMISSION_ENROLL enrols a citizen key,
// which then grants; a second enrolment of the key, or one by an agency
// without the permission, is refused. Governance proposes the new params.
func TestExchangeConfirmAndEnroll(t *testing.T) {
	e := startNode(t, app.AgencySpec{ID: "registro-civil", Name: "Registro Civil"})
	registro := e.n.Network.Agencies["registro-civil"]
	citizen := e.n.Identity(t, e.n.Citizen)
	now := time.Now()
	grant := citizen.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: citizen.Subject(), AgencyId: testAgency, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gr, err := e.n.Client(t, "").Submit(ctx, &notaryv1.SubmitRequest{Tx: grant})
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	consentID := gr.GetResult().GetConsentId()
	subject := hex.EncodeToString(citizen.Subject())
	exchange := []string{"--subject", subject, "--category", "tax", "--purpose", "eligibility-check", "--consent", consentID}

	// The provider confirms; the requester records with the confirmation.
	conf := filepath.Join(e.dir, "confirmacion.json")
	e.as(t, registro, append([]string{"exchange", "confirm", "--requester", testAgency, "--out", conf}, exchange...)...).want(t, cli.ExitOK)
	e.as(t, registro, append([]string{"exchange", "confirm", "--requester", testAgency, "--out", conf}, exchange...)...).want(t, cli.ExitUsage)
	record := append([]string{"exchange", "record", "--provider", "registro-civil"}, exchange...)
	x := decode[exchangeResult](t, e.agency(t, append(record, "--confirmation", conf, "-o", "json")...).want(t, cli.ExitOK))
	if !x.ProviderConfirmed || x.Height == 0 {
		t.Fatalf("confirmed exchange: %+v", x)
	}
	r := e.agency(t, append(record, "--confirmation", conf)...).want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "already used") {
		t.Fatalf("a confirmation used twice: %q", r.stderr)
	}
	r = e.agency(t, record...).want(t, cli.ExitOK)
	if !strings.Contains(r.stdout, "declared by "+testAgency+" alone: not confirmed by registro-civil") {
		t.Fatalf("an exchange without confirmation:\n%s", r.stdout)
	}
	// A confirmation of another exchange is refused before anything is sent.
	other := append([]string{"exchange", "record", "--provider", "registro-civil", "--subject", subject, "--category", "tax",
		"--purpose", "statistics", "--consent", consentID}, "--confirmation", conf)
	if r := e.agency(t, other...).want(t, cli.ExitUsage); !strings.Contains(r.stderr, "confirms another exchange") {
		t.Fatalf("a confirmation of another exchange: %q", r.stderr)
	}

	// With a reference: the requester's dry run gives the value the
	// provider confirms.
	caseFile := e.file(t, "expediente-7.txt", "expediente 7\n")
	dry := decode[exchangeResult](t, e.agency(t, append(record, "--reference", caseFile, "--dry-run", "-o", "json")...).want(t, cli.ExitOK))
	if !dry.DryRun || len(dry.Reference) != 64 || dry.Height != 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	conf2 := filepath.Join(e.dir, "confirmacion-7.json")
	e.as(t, registro, append([]string{"exchange", "confirm", "--requester", testAgency, "--out", conf2, "--reference-digest", dry.Reference}, exchange...)...).want(t, cli.ExitOK)
	x = decode[exchangeResult](t, e.agency(t, append(record, "--reference", caseFile, "--confirmation", conf2, "-o", "json")...).want(t, cli.ExitOK))
	if !x.ProviderConfirmed || x.Reference != dry.Reference {
		t.Fatalf("confirmed exchange with a reference: %+v", x)
	}

	// Enrolment.
	ana, err := identity.Generate(identity.RoleCitizen, "", testChainID)
	if err != nil {
		t.Fatal(err)
	}
	anaDir := filepath.Join(e.dir, "ana")
	if err := ana.Save(anaDir); err != nil {
		t.Fatal(err)
	}
	en := decode[enrollResult](t, e.agency(t, "citizen", "enroll", anaDir, "-o", "json").want(t, cli.ExitOK))
	if en.Agency != testAgency || len(en.Enrolled) != 1 || en.Enrolled[0].Subject != hex.EncodeToString(ana.Subject()) {
		t.Fatalf("enrol: %+v", en)
	}
	if _, err := e.n.Client(t, "").Submit(ctx, &notaryv1.SubmitRequest{Tx: ana.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: ana.Subject(), AgencyId: testAgency, Category: "tax", Purpose: "statistics",
		ValidFrom: timestamppb.New(now), ValidUntil: timestamppb.New(now.Add(time.Hour))}}})}); err != nil {
		t.Fatalf("the enrolled key's consent: %v", err)
	}
	if r := e.agency(t, "citizen", "enroll", hex.EncodeToString(ana.Public())).want(t, cli.ExitFailure); !strings.Contains(r.stderr, "in use") {
		t.Fatalf("a second enrolment: %q", r.stderr)
	}
	if r := e.as(t, registro, "citizen", "enroll", e.n.Citizen).want(t, cli.ExitFailure); !strings.Contains(r.stderr, "PERMISSION_ENROLL") {
		t.Fatalf("an enrolment without the permission: %q", r.stderr)
	}

	// Governance proposes the new params.
	e.as(t, e.n.Ministry, "gov", "propose", "change-params", "--citizen-enrollment", "open", "--max-active-consents-per-subject", "10",
		"--title", "Alta abierta").want(t, cli.ExitOK)
	if r := e.as(t, e.n.Ministry, "gov", "propose", "change-params", "--citizen-enrollment", "closed", "--title", "x").want(t, cli.ExitUsage); !strings.Contains(r.stderr, "open or accredited") {
		t.Fatalf("a bad enrolment mode: %q", r.stderr)
	}

	// Governance registers a witness and a threshold; gov list shows them.
	if r := e.as(t, e.n.Ministry, "gov", "params").want(t, cli.ExitOK); !strings.Contains(r.stdout, "witness policy            no witnesses") {
		t.Fatalf("gov params: %s", r.stdout)
	}
	if gp := decode[govParamsResult](t, e.as(t, e.n.Ministry, "gov", "params", "-o", "json").want(t, cli.ExitOK)); !gp.EvidenceLog || len(gp.Witnesses) != 0 || gp.WitnessThreshold != 0 {
		t.Fatalf("gov params: %+v", gp)
	}
	_, vkey, err := witness.GenerateKey("witness.audit.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.as(t, e.n.Ministry, "gov", "propose", "change-params", "--witness-threshold", "1", "--title", "x").want(t, cli.ExitUsage); !strings.Contains(r.stderr, "witness_threshold 1 exceeds") {
		t.Fatalf("a threshold without witnesses: %q", r.stderr)
	}
	if r := e.as(t, e.n.Ministry, "gov", "propose", "change-params", "--witness", "Tribunal=nokey", "--title", "x").want(t, cli.ExitUsage); !strings.Contains(r.stderr, "witness key") {
		t.Fatalf("a bad witness key: %q", r.stderr)
	}
	e.as(t, e.n.Ministry, "gov", "propose", "change-params", "--witness", "Tribunal de Cuentas="+vkey, "--witness-threshold", "1",
		"--title", "Testigo").want(t, cli.ExitOK)
	l := decode[govListResult](t, e.as(t, e.n.Ministry, "gov", "list", "-o", "json").want(t, cli.ExitOK))
	if p := l.Proposals[0]; len(p.Witnesses) != 1 || p.Witnesses[0].Name != "Tribunal de Cuentas" || p.Witnesses[0].Key != vkey || p.WitnessThreshold != 1 {
		t.Fatalf("gov list: %+v", p)
	}
	if r := e.as(t, e.n.Ministry, "gov", "list").want(t, cli.ExitOK); !strings.Contains(r.stdout, "1 of 1 witness (Tribunal de Cuentas <witness.audit.example/w1>)") {
		t.Fatalf("gov list: %s", r.stdout)
	}
}
