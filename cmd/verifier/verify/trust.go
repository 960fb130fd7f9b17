package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The trust bundle's canonical bytes (docs/receipt.md, "The trust bundle"):
// written here field by field, not by protojson, so that they do not depend
// on a library's formatting. The compact form is what protojson writes with
// proto field names once compacted (fields in field-number order, zero
// values left out, int64 as a decimal string, bytes as padded standard
// base64, strings escaped as below); the file form is that compact form
// indented by json.Indent with two spaces, and a final newline. A trust
// bundle has that one file form, and its fingerprint is the SHA-256 of it.

// MaxEndpoints bounds the public endpoints of a trust bundle.
const MaxEndpoints = 32

// EncodeTrustBundle returns the canonical bytes of a trust bundle: the file
// form (trust.json), the same for the same bundle on every platform and in
// every build.
func EncodeTrustBundle(tb *notaryv1.TrustBundle) ([]byte, error) {
	w := &objWriter{}
	w.open('{')
	if tb.ChainId != "" {
		w.key("chain_id")
		w.str(tb.ChainId)
	}
	if tb.GenesisHash != "" {
		w.key("genesis_hash")
		w.str(tb.GenesisHash)
	}
	if tb.InitialHeight != 0 {
		w.key("initial_height")
		w.int64(tb.InitialHeight)
	}
	if len(tb.Validators) > 0 {
		w.key("validators")
		w.validators(tb.Validators)
	}
	if len(tb.PublicEndpoints) > 0 {
		w.key("public_endpoints")
		w.open('[')
		for _, e := range tb.PublicEndpoints {
			w.elem()
			w.str(e)
		}
		w.close(']')
	}
	if tb.VerifierUrl != "" {
		w.key("verifier_url")
		w.str(tb.VerifierUrl)
	}
	if len(tb.LogCheckpoint) > 0 {
		w.key("log_checkpoint")
		w.bytes(tb.LogCheckpoint)
	}
	if len(tb.LogValidators) > 0 {
		w.key("log_validators")
		w.validators(tb.LogValidators)
	}
	if len(tb.Witnesses) > 0 {
		w.key("witnesses")
		w.open('[')
		for _, x := range tb.Witnesses {
			w.elem()
			w.open('{')
			if x.Name != "" {
				w.key("name")
				w.str(x.Name)
			}
			if x.Key != "" {
				w.key("key")
				w.str(x.Key)
			}
			w.close('}')
		}
		w.close(']')
	}
	if tb.WitnessThreshold != 0 {
		w.key("witness_threshold")
		w.b = strconv.AppendUint(w.b, uint64(tb.WitnessThreshold), 10)
	}
	w.close('}')
	if w.err != nil {
		return nil, fmt.Errorf("trust bundle: %w", w.err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, w.b, "", "  "); err != nil {
		return nil, fmt.Errorf("trust bundle: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// objWriter writes compact JSON: first tracks, per open object or array,
// whether a member was written yet.
type objWriter struct {
	b     []byte
	err   error
	first []bool
}

func (w *objWriter) open(c byte) {
	w.b = append(w.b, c)
	w.first = append(w.first, true)
}

func (w *objWriter) close(c byte) {
	w.b = append(w.b, c)
	w.first = w.first[:len(w.first)-1]
}

// elem starts an array element or object member.
func (w *objWriter) elem() {
	if n := len(w.first) - 1; w.first[n] {
		w.first[n] = false
	} else {
		w.b = append(w.b, ',')
	}
}

func (w *objWriter) key(name string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

func (w *objWriter) str(s string) {
	if w.err == nil {
		w.b, w.err = appendJSONString(w.b, s)
	}
}

// int64 writes an int64 as protojson does: a JSON string of its decimal digits.
func (w *objWriter) int64(n int64) {
	w.b = append(w.b, '"')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '"')
}

// bytes writes bytes as padded standard base64.
func (w *objWriter) bytes(p []byte) {
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, p)
	w.b = append(w.b, '"')
}

func (w *objWriter) validators(vs []*notaryv1.TrustedValidator) {
	w.open('[')
	for _, v := range vs {
		w.elem()
		w.open('{')
		if v.MinistryId != "" {
			w.key("ministry_id")
			w.str(v.MinistryId)
		}
		if v.Name != "" {
			w.key("name")
			w.str(v.Name)
		}
		if len(v.PubKey) > 0 {
			w.key("pub_key")
			w.bytes(v.PubKey)
		}
		if v.Power != 0 {
			w.key("power")
			w.int64(v.Power)
		}
		w.close('}')
	}
	w.close(']')
}

// appendJSONString appends s as a JSON string, escaped as protojson escapes
// it: '"' and '\' with a backslash, \b \f \n \r \t, other control
// characters as \u00xx (lowercase hex), everything else as it is. s must
// be valid UTF-8.
func appendJSONString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("string %q is not valid UTF-8", s)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// DecodeTrustBundle decodes a trust bundle file and accepts only its
// canonical bytes (EncodeTrustBundle), byte for byte, so that a bundle has
// one fingerprint. It checks the content as CheckTrustBundle does.
func DecodeTrustBundle(b []byte) (*notaryv1.TrustBundle, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("trust bundle: %d bytes, more than %d", len(b), MaxFileSize)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("trust bundle: not JSON")
	}
	tb := &notaryv1.TrustBundle{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(b, tb); err != nil {
		return nil, fmt.Errorf("trust bundle: %v", err)
	}
	if err := CheckTrustBundle(tb); err != nil {
		return nil, err
	}
	canon, err := EncodeTrustBundle(tb)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		at := firstDiff(b, canon)
		return nil, fmt.Errorf("trust bundle: not in its canonical form at byte %d (%s); write it with notaryd trust export (EncodeTrustBundle)", at, excerpt(b, at))
	}
	return tb, nil
}

// TrustFingerprint is the fingerprint of a trust bundle's canonical bytes:
// the lowercase hex SHA-256 of them (of the trust.json file).
func TrustFingerprint(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// trustFingerprintOf encodes a trust bundle and returns its fingerprint.
func trustFingerprintOf(tb *notaryv1.TrustBundle) (string, error) {
	b, err := EncodeTrustBundle(tb)
	if err != nil {
		return "", err
	}
	return TrustFingerprint(b), nil
}

// CheckTrustBundle checks the content of a decoded trust bundle: a chain
// id, a 64-character lowercase hex genesis hash, an initial height of at
// least 1, a validator set as CometBFT holds one (ministry ids and names,
// 32-byte keys, positive powers, no key twice, in CometBFT's order), and
// public endpoints that are base URLs (CheckEndpoint), none twice, and a
// verifier URL that is empty or a base URL too; and the evidence log's
// trust policy: log validators (as validators, in ministry id order) only
// with a log checkpoint, which must be valid for them and cosigned as the
// bundle's witness policy requires, witnesses with names and cosignature/v1
// keys (ParseWitnessKey), none twice, and a threshold of at most their
// number.
func CheckTrustBundle(tb *notaryv1.TrustBundle) error {
	if tb.ChainId == "" {
		return fmt.Errorf("trust bundle: no chain_id")
	}
	if err := checkHex(tb.GenesisHash, hashSize); err != nil {
		return fmt.Errorf("trust bundle: genesis_hash: %w", err)
	}
	if tb.InitialHeight < 1 {
		return fmt.Errorf("trust bundle: initial_height %d, want at least 1", tb.InitialHeight)
	}
	vals := make([]Validator, len(tb.Validators))
	ids := map[string]bool{}
	for i, v := range tb.Validators {
		if v.MinistryId == "" || v.Name == "" {
			return fmt.Errorf("trust bundle: validator %d has no ministry_id or name", i)
		}
		if !ledger.ValidID(v.MinistryId) {
			return fmt.Errorf("trust bundle: validator %d: ministry_id %q is not 1..64 characters of [a-z0-9-] not starting with '-'", i, v.MinistryId)
		}
		if ids[v.MinistryId] {
			return fmt.Errorf("trust bundle: ministry %q appears twice", v.MinistryId)
		}
		ids[v.MinistryId] = true
		vals[i] = Validator{PubKey: v.PubKey, Power: v.Power}
	}
	if _, err := checkValidatorSet(vals); err != nil {
		return fmt.Errorf("trust bundle: %w", err)
	}
	if len(tb.PublicEndpoints) > MaxEndpoints {
		return fmt.Errorf("trust bundle: %d public endpoints, at most %d", len(tb.PublicEndpoints), MaxEndpoints)
	}
	seen := map[string]bool{}
	for i, e := range tb.PublicEndpoints {
		if err := CheckEndpoint(e); err != nil {
			return fmt.Errorf("trust bundle: public_endpoints[%d]: %w", i, err)
		}
		if seen[e] {
			return fmt.Errorf("trust bundle: public endpoint %q appears twice", e)
		}
		seen[e] = true
	}
	if tb.VerifierUrl != "" {
		if err := CheckEndpoint(tb.VerifierUrl); err != nil {
			return fmt.Errorf("trust bundle: verifier_url: %w", err)
		}
	}
	return checkLogTrust(tb)
}

// CheckEndpoint checks a public endpoint's base URL: https://host[:port]
// with an optional path, or http:// on a loopback host (localhost,
// 127.x.x.x, [::1]); host names in lowercase, no user, query, fragment,
// percent escapes or final slash. Status URLs are the base URL followed by
// /v1/status/<hash_algorithm>/<anchored_digest>. A trust bundle's
// verifier_url, the base of the links of verification codes, is checked
// the same way.
func CheckEndpoint(s string) error {
	var rest string
	var https bool
	switch {
	case strings.HasPrefix(s, "https://"):
		rest, https = s[len("https://"):], true
	case strings.HasPrefix(s, "http://"):
		rest = s[len("http://"):]
	default:
		return fmt.Errorf("%q: want an https:// URL (or http:// on a loopback address)", s)
	}
	hostport, path, _ := strings.Cut(rest, "/")
	if strings.Contains(rest, "/") {
		path = "/" + path
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return fmt.Errorf("%q: unclosed [ in the host", s)
		}
		host, port = hostport[:end+1], hostport[end+1:]
		if host != "[::1]" {
			return fmt.Errorf("%q: an IPv6 host must be [::1]; use a host name", s)
		}
	} else if i := strings.IndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
	}
	if port != "" {
		n, err := strconv.Atoi(port[1:])
		if port[0] != ':' || err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port[1:] {
			return fmt.Errorf("%q: bad port", s)
		}
	}
	if host == "" || len(host) > 253 {
		return fmt.Errorf("%q: no host", s)
	}
	if host != "[::1]" {
		for i := 0; i < len(host); i++ {
			c := host[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
				return fmt.Errorf("%q: host %q: only lowercase letters, digits, '-' and '.'", s, host)
			}
		}
	}
	if !https && !isLoopback(host) {
		return fmt.Errorf("%q: http:// only on a loopback address; use https://", s)
	}
	if path != "" {
		if strings.HasSuffix(path, "/") {
			return fmt.Errorf("%q: no final slash", s)
		}
		for i := 0; i < len(path); i++ {
			c := path[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/", c) >= 0) {
				return fmt.Errorf("%q: path character %q not allowed", s, c)
			}
		}
		if strings.Contains(path, "//") || strings.Contains(path, "/./") || strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") || strings.HasSuffix(path, "/.") {
			return fmt.Errorf("%q: path not in its plain form", s)
		}
	}
	return nil
}

// isLoopback says whether host is localhost, an IPv4 address 127.x.x.x or
// [::1].
func isLoopback(host string) bool {
	if host == "localhost" || host == "[::1]" {
		return true
	}
	parts := strings.Split(host, ".")
	if len(parts) != 4 || parts[0] != "127" {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 || strconv.Itoa(n) != p {
			return false
		}
	}
	return true
}
