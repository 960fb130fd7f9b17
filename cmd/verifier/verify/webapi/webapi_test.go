package webapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	"github.com/gobtechlab/notary/cmd/verifier/verify/webapi"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const vectors = "../testdata/vectors"

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyVectors: the page's verdict on every golden vector is the
// CLI's, in every language, with the document or with its SHA-256 hashed
// by the page.
func TestVerifyVectors(t *testing.T) {
	dirs, err := os.ReadDir(vectors)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		dir := filepath.Join(vectors, d.Name())
		var want verify.Result
		if err := json.Unmarshal(read(t, dir, "verdict.json"), &want); err != nil {
			t.Fatal(err)
		}
		doc := read(t, dir, "document.txt")
		sum := sha256.Sum256(doc)
		for _, lang := range msg.Langs {
			req := webapi.Request{Receipt: read(t, dir, "receipt.json"), Trust: read(t, dir, "trust.json"), Document: doc, Lang: string(lang), Zone: "Europe/Madrid"}
			got := webapi.Verify(req)
			text := strings.TrimSuffix(string(read(t, dir, "verdict."+string(lang)+".txt")), "\n")
			if got.Verdict != want.Verdict || got.Text != text || got.Fingerprint != want.TrustFingerprint || len(got.Steps) != len(want.Steps) {
				t.Errorf("%s %s: %s %q", d.Name(), lang, got.Verdict, got.Text)
			}
			if info := webapi.ReceiptInfo(req.Receipt); info.OK && info.HashAlgorithm == "sha2-256" {
				req.Document, req.DocumentDigest = nil, []byte(hex.EncodeToString(sum[:]))
				if again := webapi.Verify(req); again.Text != text {
					t.Errorf("%s %s, digest given: %q", d.Name(), lang, again.Text)
				}
			}
		}
	}
}

// liveBody is a node's answer for a receipt: its status part as a
// LiveStatus.
func liveBody(t *testing.T, receipt []byte) []byte {
	t.Helper()
	r, err := verify.DecodeReceipt(receipt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := verify.EncodeLiveStatus(&notaryv1.LiveStatus{Version: 1, ChainId: r.ChainId, HashAlgorithm: r.Document.HashAlgorithm,
		AnchoredDigest: r.Document.AnchoredDigest, AnchorHeight: r.Anchor.Height, Status: r.Status, ValidatorChain: r.ValidatorChain})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyLive(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	rec, trust, doc := read(t, dir, "receipt.json"), read(t, dir, "trust.json"), read(t, dir, "document.txt")
	revoked := liveBody(t, read(t, vectors, "revoked", "receipt.json"))
	same := liveBody(t, rec)
	other := liveBody(t, read(t, vectors, "valid-bare-sha3", "receipt.json"))
	cases := []struct {
		name string
		live []webapi.LiveAnswer
		exit int
		text string
	}{
		{"offline", nil, 0, "No se pudo comprobar si fue revocado después de esa fecha."},
		{"revoked since", []webapi.LiveAnswer{{Endpoint: "https://a.example", Status: 200, Body: revoked}}, 3, "Estado comprobado en vivo con 1 de 1 nodos."},
		{"not revoked", []webapi.LiveAnswer{{Endpoint: "https://a.example", Status: 200, Body: same}, {Endpoint: "https://b.example", Error: "timeout"}}, 0,
			"Sin respuesta válida de: https://b.example (no respondió en 5 s)."},
		{"another digest", []webapi.LiveAnswer{{Endpoint: "https://a.example", Status: 200, Body: other}}, 0, "envió el estado de otro documento o de otra red"},
		{"garbage", []webapi.LiveAnswer{{Endpoint: "https://a.example", Status: 200, Body: []byte("<html>")}}, 0, "no envió un estado con el formato esperado"},
		{"not found", []webapi.LiveAnswer{{Endpoint: "https://a.example", Status: 404}}, 0, "dice que no conoce este documento"},
		{"network", []webapi.LiveAnswer{{Endpoint: "https://a.example", Error: "TypeError: Failed to fetch"}}, 0, "no se pudo conectar"},
	}
	for _, tc := range cases {
		got := webapi.Verify(webapi.Request{Receipt: rec, Trust: trust, Document: doc, Live: tc.live})
		if got.ExitCode != tc.exit || !strings.Contains(got.Text, tc.text) || (tc.live != nil && got.Live == nil) {
			t.Errorf("%s: exit %d: %s", tc.name, got.ExitCode, got.Text)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	rec, trust, doc := read(t, dir, "receipt.json"), read(t, dir, "trust.json"), read(t, dir, "document.txt")
	for _, tc := range []struct {
		name string
		req  webapi.Request
		exit int
	}{
		{"garbage trust", webapi.Request{Receipt: rec, Trust: []byte("garbage"), Document: doc, Lang: "en"}, 2},
		{"no trust", webapi.Request{Receipt: rec, Document: doc, Lang: "en"}, 2},
		{"garbage receipt", webapi.Request{Receipt: []byte("garbage"), Trust: trust, Document: doc}, 1},
		{"nested receipt", webapi.Request{Receipt: []byte(strings.Repeat("[", 1<<20)), Trust: trust, Document: doc}, 1},
		{"bad digest", webapi.Request{Receipt: rec, Trust: trust, DocumentDigest: []byte("zz")}, 2},
		{"wrong document", webapi.Request{Receipt: rec, Trust: trust, Document: []byte("x")}, 1},
	} {
		got := webapi.Verify(tc.req)
		if got.ExitCode != tc.exit || got.Verdict != verify.NotValid || got.Text == "" {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
	if info := webapi.ReceiptInfo([]byte("{}")); info.OK || info.Error == "" {
		t.Errorf("empty receipt: %+v", info)
	}
	if info := webapi.ReceiptInfo(rec); !info.OK || info.HashAlgorithm != "sha2-256" || !strings.HasPrefix(info.StatusPath, "/v1/status/sha2-256/") {
		t.Errorf("receipt info: %+v", info)
	}
	m := webapi.Messages("eu")
	if m["verify"] != "Egiaztatu" || m["step.document"] != "Dokumentua" || m["lang"] != "eu" {
		t.Errorf("messages: %v", m)
	}
	if webapi.Messages("xx")["lang"] != "es" {
		t.Error("unknown language is not Spanish")
	}
}

// TestReceiptInfoNotCanonical: a receipt that is not in its strict form is
// still read, so that the page verifies it and says why it is not valid;
// bytes that are no receipt at all are not.
func TestReceiptInfoNotCanonical(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(vectors, "not-valid-not-canonical", "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info := webapi.ReceiptInfo(b); !info.OK || info.AnchoredDigest == "" {
		t.Fatalf("not canonical: %+v", info)
	}
	for _, bad := range []string{"", "{}", "garbage", `{"version": "x"}`} {
		if info := webapi.ReceiptInfo([]byte(bad)); info.OK || info.Error == "" {
			t.Errorf("%q: %+v", bad, info)
		}
	}
}
