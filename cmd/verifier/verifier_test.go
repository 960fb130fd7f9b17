package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	vectors = "verify/testdata/vectors"
	zone    = "Europe/Madrid"
)

// run executes the verifier with args and returns stdout and the exit code.
func run(t *testing.T, env rootEnv, args ...string) (string, int) {
	t.Helper()
	root := newRootCmd(env)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	code := cli.Execute(root)
	return out.String(), code
}

func madrid(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func golden(t *testing.T, path string, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestVerifyVectors runs `verifier verify` on every golden vector: exit
// code, text in both languages, and the JSON steps.
func TestVerifyVectors(t *testing.T) {
	env := rootEnv{locale: []string{"en_US.UTF-8"}, location: madrid(t)}
	dirs, err := os.ReadDir(vectors)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		dir := filepath.Join(vectors, d.Name())
		args := []string{"verify", filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), "--trust", filepath.Join(dir, "trust.json")}
		want := cli.ExitFailure
		switch {
		case strings.HasPrefix(d.Name(), "revoked"):
			want = cli.ExitRevoked
		case strings.HasPrefix(d.Name(), "valid"):
			want = cli.ExitOK
		}
		for _, lang := range msg.Langs {
			out, code := run(t, env, append(args, "--lang", string(lang))...)
			if code != want {
				t.Errorf("%s: exit %d, want %d\n%s", d.Name(), code, want, out)
			}
			text, err := os.ReadFile(filepath.Join(dir, "verdict."+string(lang)+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			if out != string(text) {
				t.Errorf("%s --lang %s:\n%s\nwant\n%s", d.Name(), lang, out, text)
			}
		}
		out, code := run(t, env, append(args, "--output", "json")...)
		if code != want {
			t.Errorf("%s json: exit %d, want %d", d.Name(), code, want)
		}
		var got struct {
			verify.Result
			ExitCode int    `json:"exit_code"`
			Message  string `json:"message"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v\n%s", d.Name(), err, out)
		}
		var exp verify.Result
		b, err := os.ReadFile(filepath.Join(dir, "verdict.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatal(err)
		}
		if got.ExitCode != want || got.Verdict != exp.Verdict || got.Reason != exp.Reason || len(got.Steps) != len(exp.Steps) || got.Message == "" {
			t.Errorf("%s json: %+v", d.Name(), got)
		}
	}
}

// TestLanguageFromLocale: the text follows LC_ALL, LC_MESSAGES, LANG;
// Spanish when none names a language of the catalogue.
func TestLanguageFromLocale(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	args := []string{"verify", filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), "--trust", filepath.Join(dir, "trust.json")}
	cases := []struct {
		locale []string
		want   string
	}{
		{[]string{"", "", "es_ES.UTF-8"}, "VÁLIDO."},
		{[]string{"", "", "en_GB.UTF-8"}, "VALID."},
		{[]string{"", "", ""}, "VÁLIDO."},
		{[]string{"C", "", "en_GB.UTF-8"}, "VÁLIDO."},
		{[]string{"", "es_MX", "en_US"}, "VÁLIDO."},
		{[]string{"", "", "ca_ES.UTF-8"}, "VÀLID."},
		{[]string{"gl_ES.UTF-8", "", ""}, "VÁLIDO."},
		{[]string{"", "eu_ES.UTF-8", ""}, "BALIOZKOA."},
		{[]string{"", "", "fr_FR.UTF-8"}, "VÁLIDO."},
	}
	for _, tc := range cases {
		out, code := run(t, rootEnv{locale: tc.locale, location: time.UTC}, args...)
		if code != cli.ExitOK || !strings.HasPrefix(out, tc.want) {
			t.Errorf("locale %q: exit %d: %s", tc.locale, code, out)
		}
	}
	if out, _ := run(t, rootEnv{locale: []string{"es"}, location: time.UTC}, append(args, "--lang", "en")...); !strings.HasPrefix(out, "VALID.") {
		t.Errorf("--lang en under LANG=es: %s", out)
	}
}

// TestUsageErrors: bad arguments and unreadable files exit 2.
func TestUsageErrors(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	doc, rec, trust := filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), filepath.Join(dir, "trust.json")
	missing := filepath.Join(t.TempDir(), "missing")
	badTrust := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(badTrust, []byte(`{"chain_id":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"no arguments":        {"verify"},
		"one argument":        {"verify", doc, "--trust", trust},
		"three arguments":     {"verify", doc, rec, rec, "--trust", trust},
		"no trust bundle":     {"verify", doc, rec},
		"missing trust":       {"verify", doc, rec, "--trust", missing},
		"invalid trust":       {"verify", doc, rec, "--trust", badTrust},
		"missing receipt":     {"verify", doc, missing, "--trust", trust},
		"missing document":    {"verify", missing, rec, "--trust", trust},
		"document is a dir":   {"verify", dir, rec, "--trust", trust},
		"bad language":        {"verify", doc, rec, "--trust", trust, "--lang", "fr"},
		"bad output":          {"verify", doc, rec, "--trust", trust, "--output", "xml"},
		"bad zone":            {"verify", doc, rec, "--trust", trust, "--tz", "Mars/Olympus"},
		"unknown flag":        {"verify", doc, rec, "--trust", trust, "--fast"},
		"inspect no argument": {"inspect"},
		"inspect missing":     {"inspect", missing},
	}
	for name, args := range cases {
		if out, code := run(t, rootEnv{locale: []string{"en_US.UTF-8"}, configDir: t.TempDir()}, args...); code != cli.ExitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, cli.ExitUsage, out)
		}
	}
	// A file that is not a receipt is a receipt that proves nothing: exit 1.
	if out, code := run(t, rootEnv{locale: []string{"en_US.UTF-8"}}, "verify", doc, doc, "--trust", trust); code != cli.ExitFailure || !strings.HasPrefix(out, "NOT VALID.") {
		t.Errorf("document as receipt: exit %d: %s", code, out)
	}
}

// TestInspect: what a receipt claims, marked unverified, in both languages.
func TestInspect(t *testing.T) {
	for _, v := range []string{"revoked", "valid-after-validator-changes", "not-valid-not-canonical", "valid-v2", "valid-v2-witnessed"} {
		rec := filepath.Join(vectors, v, "receipt.json")
		for _, lang := range []string{"en", "es"} {
			out, code := run(t, rootEnv{}, "inspect", rec, "--lang", lang)
			if code != cli.ExitOK {
				t.Fatalf("%s: exit %d\n%s", v, code, out)
			}
			golden(t, filepath.Join("testdata", "inspect-"+v+"."+lang+".golden"), out)
		}
		out, code := run(t, rootEnv{}, "inspect", rec, "--output", "json")
		var c verify.Claims
		if err := json.Unmarshal([]byte(out), &c); err != nil || code != cli.ExitOK || c.Verified {
			t.Fatalf("%s json: %v %d\n%s", v, err, code, out)
		}
		if strings.HasPrefix(v, "valid-v2") {
			if l := c.Log; l == nil || l.Size == 0 || len(l.Signers) == 0 || (len(l.Cosigners) > 0) != strings.HasSuffix(v, "witnessed") {
				t.Errorf("%s json: log %+v", v, l)
			}
		}
	}
}

var (
	localRE       = regexp.MustCompile(`\([^()]*(local time|hora local)\)`)
	whenRE        = regexp.MustCompile(`\d{1,2} (de )?[A-Za-z]+ (de )?\d{4} (at|a las|a la) \d{2}:\d{2}:\d{2} UTC`)
	fingerprintRE = regexp.MustCompile(`[0-9a-f]{64}`)
)

// normalize replaces the times of a verdict on a live chain, and the
// fingerprint of its trust bundle (its genesis time differs every run).
func normalize(s string) string {
	s = fingerprintRE.ReplaceAllString(s, "FINGERPRINT")
	return whenRE.ReplaceAllString(localRE.ReplaceAllString(s, "(LOCAL)"), "WHEN")
}

// TestRoundTripDevNode: a real in-process dev chain (one validator, as
// `notaryd dev` runs it): anchor a salted document as the agency client
// does, build the receipt on the node, write it and the trust bundle as
// files, and verify offline with the verifier command: exit 0 and the
// verdict text of the golden files (times normalized).
func TestRoundTripDevNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	nw := receipttest.StartNetwork(t, 1)
	dir := t.TempDir()
	doc := []byte("Título de Graduada en Derecho\nUniversidad de Salamanca\n")
	docPath := filepath.Join(dir, "titulo.txt")
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	alg := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	salt := bytes.Repeat([]byte{0x5a}, 32)
	d := ledger.HashDocument(alg, doc)
	anchored := ledger.SaltedDigest(alg, salt, d)
	nw.Anchor(alg, "titulos", anchored)
	r := nw.Receipt(0, alg, anchored)
	r.Document.Salt, r.Document.DocumentDigest = hex.EncodeToString(salt), hex.EncodeToString(d)
	file, err := verify.EncodeReceiptFile(r)
	if err != nil {
		t.Fatal(err)
	}
	recPath := docPath + ".receipt.json"
	if err := os.WriteFile(recPath, file, 0o644); err != nil {
		t.Fatal(err)
	}
	env := rootEnv{location: madrid(t)}
	for _, lang := range []string{"en", "es"} {
		out, code := run(t, env, "verify", docPath, recPath, "--trust", nw.TrustFile, "--lang", lang)
		if code != cli.ExitOK {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if !localRE.MatchString(out) {
			t.Errorf("no local time in %q", out)
		}
		golden(t, filepath.Join("testdata", "roundtrip."+lang+".golden"), normalize(out))
	}
	// The document changed by one byte is not valid.
	doc[0] ^= 1
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, env, "verify", docPath, recPath, "--trust", nw.TrustFile, "--lang", "en"); code != cli.ExitFailure || !strings.Contains(out, "does not match") {
		t.Errorf("changed document: exit %d: %s", code, out)
	}
}
