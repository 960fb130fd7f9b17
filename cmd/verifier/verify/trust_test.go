package verify_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// TestTrustBundleCanonical: EncodeTrustBundle writes what protojson writes
// once compacted and indented, for every kind of string; decoding accepts
// exactly those bytes; the fingerprint is their SHA-256.
func TestTrustBundleCanonical(t *testing.T) {
	tb := receipttest.New(t, receipttest.Options{}).TrustBundle()
	tb.PublicEndpoints = []string{"https://sede.example.es/notary", "http://127.0.0.1:26680"}
	tb.VerifierUrl = "https://sede.example.es/verificar"
	for _, name := range []string{"Ministerio de Educación", "quote \" back \\ slash", "ctl \x00\x01\x1f\b\f\n\r\t", "<html> & \u2028 \ufffd 😀"} {
		x := proto.CloneOf(tb)
		x.Validators[0].Name = name
		got, err := verify.EncodeTrustBundle(x)
		if err != nil {
			t.Fatal(err)
		}
		pj, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, pj, "", "  "); err != nil {
			t.Fatal(err)
		}
		want.WriteByte('\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%q:\n%s\nprotojson:\n%s", name, got, want.Bytes())
		}
		back, err := verify.DecodeTrustBundle(got)
		if err != nil || !proto.Equal(back, x) {
			t.Fatalf("%q: %v", name, err)
		}
	}
	b, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	if fp := verify.TrustFingerprint(b); len(fp) != 64 || fp != verify.TrustFingerprint(append([]byte(nil), b...)) {
		t.Fatalf("fingerprint %q", fp)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"compact":          compact.Bytes(),
		"no final newline": bytes.TrimSuffix(b, []byte("\n")),
		"tabs":             bytes.ReplaceAll(b, []byte("  "), []byte("\t")),
		"CRLF":             bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")),
		"garbage":          []byte("\x00\xff garbage"),
		"deeply nested":    []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)),
		"unknown field":    bytes.Replace(b, []byte(`"chain_id"`), []byte(`"chain":"x","chain_id"`), 1),
		"too large":        append(b, bytes.Repeat([]byte(" "), verify.MaxFileSize)...),
	} {
		if _, err := verify.DecodeTrustBundle(bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{
		"https://sede.example.es", "https://sede.example.es:8443/notary/v2", "http://127.0.0.1:26680",
		"http://localhost:8080", "http://[::1]:26680", "https://a-b.c",
	} {
		if err := verify.CheckEndpoint(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "sede.example.es", "ftp://sede.example.es", "http://sede.example.es", "http://10.0.0.1:26680",
		"https://Sede.example.es", "https://sede.example.es/", "https://user@sede.example.es", "https://sede.example.es?x=1",
		"https://sede.example.es#f", "https://sede.example.es:0", "https://sede.example.es:99999", "https://sede.example.es:08",
		"https://sede.example.es/a/../b", "https://sede.example.es/a%20b", "https://[::2]:80", "https://", "http://127.0.0.256",
	} {
		if err := verify.CheckEndpoint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	tb := receipttest.New(t, receipttest.Options{}).TrustBundle()
	tb.PublicEndpoints = []string{"https://a.es", "https://a.es"}
	if err := verify.CheckTrustBundle(tb); err == nil {
		t.Error("an endpoint twice accepted")
	}
	tb.PublicEndpoints = []string{"http://a.es"}
	if _, err := verify.EncodeTrustBundle(tb); err != nil {
		t.Fatal(err)
	}
	if err := verify.CheckTrustBundle(tb); err == nil {
		t.Error("http on a public host accepted")
	}
	tb.PublicEndpoints = nil
	for _, bad := range []string{"http://a.es", "https://a.es/", "https://a.es#code=X", "sede"} {
		tb.VerifierUrl = bad
		if err := verify.CheckTrustBundle(tb); err == nil || !strings.Contains(err.Error(), "verifier_url") {
			t.Errorf("verifier_url %q: %v", bad, err)
		}
	}
}

// TestTrustBundleVerifierURL: a bundle without verifier_url keeps the bytes
// (and so the fingerprint) it had before the field existed; with one, the
// field comes last.
func TestTrustBundleVerifierURL(t *testing.T) {
	tb := receipttest.New(t, receipttest.Options{}).TrustBundle()
	tb.PublicEndpoints = []string{"https://sede.example.es"}
	plain, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte("verifier_url")) {
		t.Fatalf("an absent verifier_url is written:\n%s", plain)
	}
	// The vectors' trust bundles were written before verifier_url existed:
	// they decode, and encode to the same bytes.
	old, err := readVectorTrust("valid-salted-sha2")
	if err != nil {
		t.Fatal(err)
	}
	back, err := verify.DecodeTrustBundle(old)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := verify.EncodeTrustBundle(back); err != nil || !bytes.Equal(again, old) {
		t.Fatalf("re-encoded: %v", err)
	}
	tb.VerifierUrl = "https://sede.example.es/verificar"
	with, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(string(plain), "\n}\n") + ",\n  \"verifier_url\": \"https://sede.example.es/verificar\"\n}\n"
	if string(with) != want {
		t.Fatalf("with verifier_url:\n%s\nwant:\n%s", with, want)
	}
	if back, err := verify.DecodeTrustBundle(with); err != nil || back.VerifierUrl != tb.VerifierUrl {
		t.Fatalf("decode: %v %v", back, err)
	}
	if verify.TrustFingerprint(with) == verify.TrustFingerprint(plain) {
		t.Fatal("the verifier URL is not part of the fingerprint")
	}
}

func readVectorTrust(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(vectorsDir, name, "trust.json"))
}
