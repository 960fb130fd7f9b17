package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Canonical JSON (docs/receipt.md, "Canonical JSON"). A receipt or live
// status has one canonical byte string: protojson with proto field names,
// compacted (json.Compact). A file may add whitespace outside strings, and
// nothing else: decoding rejects unknown and duplicate fields, then requires
// the compacted input to equal the canonical bytes of what it decoded, which
// pins key order, string escapes, number forms and the base64 alphabet and
// padding. A trust bundle is stricter: one byte form, whitespace included
// (trust.go), so that its SHA-256 names it.

// MaxFileSize bounds a receipt or trust bundle file.
const MaxFileSize = 16 << 20

var jsonOpts = protojson.MarshalOptions{UseProtoNames: true}

// canonicalJSON returns the canonical bytes of m.
func canonicalJSON(m proto.Message) ([]byte, error) {
	b, err := jsonOpts.Marshal(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeStrict decodes canonical JSON (whitespace aside) into m.
func decodeStrict(what string, b []byte, m proto.Message) error {
	if len(b) > MaxFileSize {
		return fmt.Errorf("%s: %d bytes, more than %d", what, len(b), MaxFileSize)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return fmt.Errorf("%s: not JSON: %v", what, err)
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	canon, err := canonicalJSON(m)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if !bytes.Equal(compact.Bytes(), canon) {
		return fmt.Errorf("%s: not in canonical form at byte %d of the compacted JSON (%s)", what, firstDiff(compact.Bytes(), canon), excerpt(compact.Bytes(), firstDiff(compact.Bytes(), canon)))
	}
	return nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func excerpt(b []byte, at int) string {
	lo, hi := max(0, at-20), min(len(b), at+20)
	return fmt.Sprintf("%q", b[lo:hi])
}

// EncodeReceipt returns the canonical JSON bytes of a receipt.
func EncodeReceipt(r *notaryv1.Receipt) ([]byte, error) {
	return canonicalJSON(r)
}

// EncodeReceiptFile returns the form written to *.receipt.json: the
// canonical bytes indented by two spaces, with a final newline. Indentation
// is whitespace outside strings, so it decodes to the same receipt.
func EncodeReceiptFile(r *notaryv1.Receipt) ([]byte, error) {
	c, err := EncodeReceipt(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, c, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// DecodeReceipt decodes a receipt file strictly: canonical JSON (whitespace
// aside), lowercase hex of the right lengths, and every embedded protobuf
// blob (records, headers, ICS23 proofs) in its canonical encoding. It checks
// the form only; Verify checks what the receipt proves.
func DecodeReceipt(b []byte) (*notaryv1.Receipt, error) {
	r, _, err := decodeReceipt(b)
	return r, err
}

func decodeReceipt(b []byte) (*notaryv1.Receipt, *parsedReceipt, error) {
	r := &notaryv1.Receipt{}
	if err := decodeStrict("receipt", b, r); err != nil {
		return nil, nil, err
	}
	p, err := parseReceipt(r)
	if err != nil {
		return nil, nil, fmt.Errorf("receipt: %w", err)
	}
	return r, p, nil
}

// checkHex checks that s is the lowercase hex of exactly n bytes.
func checkHex(s string, n int) error {
	if len(s) != 2*n {
		return fmt.Errorf("%d hex characters, want %d", len(s), 2*n)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("character %d is not lowercase hex", i)
		}
	}
	return nil
}

// decodeHex decodes what checkHex accepted.
func decodeHex(s string, n int) ([]byte, error) {
	if err := checkHex(s, n); err != nil {
		return nil, err
	}
	return hex.DecodeString(s)
}
