package verify_test

import (
	"bytes"
	"encoding/json"
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
}
