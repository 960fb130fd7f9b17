package gateway_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated sections of docs/integration.md")

// integrationDoc is the language-neutral integration guide.
var integrationDoc = filepath.Join("..", "..", "docs", "integration.md")

// TestIntegrationDoc checks the generated sections of docs/integration.md
// against the code they describe: the error tables (ledger's registered
// errors and the gateway's mapping) and the worked examples of the sign
// bytes and of a salted commitment. go test -run TestIntegrationDoc
// -update-docs rewrites them.
func TestIntegrationDoc(t *testing.T) {
	b, err := os.ReadFile(integrationDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	sections := map[string]string{
		"ledger-errors":  ledgerErrorTable(),
		"status-codes":   statusTable(),
		"sign-example":   signExample(t),
		"salted-example": saltedExample(t),
		"limits":         limitsTable(),
	}
	for name, want := range sections {
		begin, end := "<!-- BEGIN generated "+name+" -->\n", "<!-- END generated "+name+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no generated section %s", integrationDoc, name)
		}
		if got := doc[i+len(begin) : j]; got != want {
			if *updateDocs {
				doc = doc[:i+len(begin)] + want + doc[j:]
				continue
			}
			t.Errorf("%s: section %s disagrees with the code; run go test ./app/gateway -run TestIntegrationDoc -update-docs", integrationDoc, name)
		}
	}
	if *updateDocs {
		if err := os.WriteFile(integrationDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// advice is what a client does about a refusal with a gRPC code.
var advice = map[codes.Code]string{
	codes.InvalidArgument:    "Fix the request; the same bytes are refused again.",
	codes.PermissionDenied:   "Check the identity: key, client certificate, permission, membership.",
	codes.NotFound:           "What the request names does not exist (at that height).",
	codes.AlreadyExists:      "Already done: nothing to retry.",
	codes.FailedPrecondition: "The state does not allow it now; change the request or wait for the state to change.",
	codes.OutOfRange:         "Ask for another height (the node has pruned this one, or has not reached it).",
}

// ledgerAdvice overrides advice for some ledger errors.
var ledgerAdvice = map[uint32]string{
	ledger.ErrSequenceReplayed.Code():  "An ordered transaction reused a sequence: if it is your own resubmission of the same bytes, it was committed (the answer carries its result); otherwise re-sign at the account's next_sequence, or send unordered transactions.",
	ledger.ErrSequenceSkipped.Code():   "An ordered transaction is ahead of the account's sequence: send the missing ones first, or re-sign at next_sequence.",
	ledger.ErrNonceUsed.Code():         "The key's nonce was used: if it is your own resubmission of the same bytes, it was committed (the answer carries its result); otherwise sign with a fresh random nonce.",
	ledger.ErrTxExpired.Code():         "valid_until_height has passed: the transaction will never be committed; sign a new one (new nonce, new height).",
	ledger.ErrUnorderedWindow.Code():   "Choose valid_until_height within max_unordered_window of the latest height (GetParams), or the chain takes no unordered transactions (window 0): send an ordered one.",
	ledger.ErrAlreadyAnchored.Code():   "The digest is anchored already: the answer's details carry the original batch; fetch its receipt.",
	ledger.ErrDuplicateCode.Code():     "The verification code is registered for another document already: the answer's details carry its batch (existing.code_key). A code goes on one document: take a new one.",
	ledger.ErrTxTooLarge.Code():        "Split the batch (see Limits).",
	ledger.ErrBatchTooLarge.Code():     "Split the batch (see Limits).",
	ledger.ErrHeightUnavailable.Code(): "Ask for another height (0 = latest).",
	ledger.ErrConsentLimit.Code():      "The subject must withdraw a consent first.",
}

// ledgerErrorTable is the table of ledger's registered errors.
func ledgerErrorTable() string {
	var b strings.Builder
	b.WriteString("| Code | Error | gRPC status | HTTP | What to do |\n|---:|---|---|---:|---|\n")
	for _, e := range ledger.Registered() {
		c := gateway.CodeForLedger(e.Code())
		a, ok := ledgerAdvice[e.Code()]
		if !ok {
			a = advice[c]
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %s |\n", e.Code(), e.Error(), gateway.CodeName(c), gateway.HTTPStatus(c), a)
	}
	return b.String()
}

// statusTable is the table of the gRPC codes the gateway answers.
func statusTable() string {
	rows := []struct {
		c    codes.Code
		when string
	}{
		{codes.OK, "Success. A batch's answer is OK as a whole; each transaction carries its own grpc_code."},
		{codes.InvalidArgument, "The request or transaction is wrong (ledger codes above), or does not decode: invalid JSON, unknown fields (HTTP 400), another Content-Type than application/json (HTTP 415). Fix it."},
		{codes.PermissionDenied, "The caller may not do this: no client certificate, another participant's certificate, a permission it lacks, a citizen's record it may not read. Check the identity."},
		{codes.NotFound, "What the request names does not exist; also the answer for a path with no route (HTTP 404, message `no route ...`)."},
		{codes.AlreadyExists, "Already done (a digest anchored, a vote cast): nothing to retry."},
		{codes.FailedPrecondition, "The state does not allow it now (ledger codes above)."},
		{codes.OutOfRange, "A height the node does not hold."},
		{codes.ResourceExhausted, "A limit: the caller's rate limit (retry after the time the message says), the node's mempool being full (retry later), a request over max_recv_msg_bytes or a body over twice that (HTTP 413: split it)."},
		{codes.Canceled, "The client went away before the answer."},
		{codes.DeadlineExceeded, "The transaction was not committed within submit_timeout: it may still be. Look it up or resubmit the same bytes (idempotent)."},
		{codes.Unavailable, "The node cannot take transactions now (starting, catching up, stopping): retry, on another node if it lasts. A submission's fate is unknown: resubmit the same bytes."},
		{codes.Unimplemented, "A method this node does not serve; a route called with another method than POST (HTTP 405)."},
		{codes.Internal, "A failure of the node (logged there, never detailed to the client). Retry later; report it if it lasts."},
	}
	var b strings.Builder
	b.WriteString("| gRPC code | Status name | HTTP | When, and what to do |\n|---:|---|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %d | %s |\n", r.c, gateway.CodeName(r.c), gateway.HTTPStatus(r.c), r.when)
	}
	return b.String()
}

// limitsTable lists the defaults of the limits a client meets.
func limitsTable() string {
	g := app.DefaultAppConfig().Gateway
	p := ledger.DefaultParams()
	rows := [][2]string{
		{"chain param `max_digests_per_batch`", fmt.Sprint(p.MaxDigestsPerBatch) + " digests in one AnchorBatch or Revoke"},
		{"chain param `max_tx_bytes`", fmt.Sprint(p.MaxTxBytes) + " bytes of one signed transaction"},
		{"gateway `max_digests_per_request`", fmt.Sprint(g.MaxDigestsPerRequest) + " digests in one transaction sent to this gateway"},
		{"gateway `max_recv_msg_bytes`", fmt.Sprint(g.MaxRecvMsgBytes) + " bytes of one request as protobuf; an HTTP body may be twice that as JSON"},
		{"gateway `max_send_msg_bytes`", fmt.Sprint(g.MaxSendMsgBytes) + " bytes of one answer"},
		{"gateway `max_in_flight`", fmt.Sprint(g.MaxInFlight) + " transactions waiting for commit on one stream, or in one SubmitBatch"},
		{"gateway `rate_per_second`, `rate_burst`", fmt.Sprintf("%g requests/s, bursts of %d, per agency or ministry (its client certificate), else per address; each transaction of a stream or batch counts", g.RatePerSecond, g.RateBurst)},
		{"gateway `submit_timeout`", g.SubmitTimeout.String() + " waiting for a transaction's commit before DEADLINE_EXCEEDED"},
		{"gateway `max_connections_per_address`", fmt.Sprint(g.MaxConnectionsPerAddress) + " connections of one address before its certificate is checked"},
	}
	var b strings.Builder
	b.WriteString("| Limit | Default |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	return b.String()
}

// The worked examples use fixed inputs.
const (
	exampleChain  = "notary-example"
	exampleAgency = "example-agency"
)

func exampleKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("notary integration example key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// signExample is the worked example of a signed unordered AnchorBatch.
func signExample(t *testing.T) string {
	priv := exampleKey()
	pub := priv.Public().(ed25519.PublicKey)
	digest := sha256.Sum256([]byte("hello\n"))
	nonce, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	body := &notaryv1.TxBody{ChainId: exampleChain, Nonce: nonce, ValidUntilHeight: 1050,
		Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: exampleAgency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digest[:]}}}
	bb := ledger.Encode(body)
	sb := ledger.SignBytes(exampleChain, bb)
	sig := ed25519.Sign(priv, sb)
	raw := ledger.EncodeSigned(exampleChain, pub, body, func(b []byte) []byte { return ed25519.Sign(priv, b) })
	h := ledger.TxHash(raw)
	var b strings.Builder
	fmt.Fprintf(&b, "```\nchain_id            %s\nagency_id           %s\n", exampleChain, exampleAgency)
	fmt.Fprintf(&b, "ed25519 seed        %x\npublic key          %x\n", priv.Seed(), pub)
	fmt.Fprintf(&b, "digest              %x   (SHA-256 of \"hello\\n\")\n", digest)
	fmt.Fprintf(&b, "nonce               %x\nvalid_until_height  1050\n\n", nonce)
	fmt.Fprintf(&b, "TxBody (%d bytes)\n%s\n\n", len(bb), wrapHex(bb))
	fmt.Fprintf(&b, "sign bytes (%d bytes) = \"notary/tx/v1\" || uvarint(%d) || chain_id || TxBody\n%s\n\n", len(sb), len(exampleChain), wrapHex(sb))
	fmt.Fprintf(&b, "signature\n%s\n\n", wrapHex(sig))
	fmt.Fprintf(&b, "Tx (%d bytes) = {1: TxBody, 2: public key, 3: signature}\n%s\n\n", len(raw), wrapHex(raw))
	fmt.Fprintf(&b, "tx_hash = SHA-256(Tx)\n%x\n```\n", h)
	return b.String()
}

// saltedExample is the worked example of a salted commitment.
func saltedExample(t *testing.T) string {
	saltKey := sha256.Sum256([]byte("notary integration example salt key"))
	digest := sha256.Sum256([]byte("hello\n"))
	d, err := client.Commit(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, saltKey[:], digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("```\nsalt_key        %x\ndocument digest %x\nsalt            %x\nanchored digest %x\n```\n", saltKey, digest, d.Salt, d.Anchored)
}

// wrapHex is b in hex, 64 digits a line.
func wrapHex(b []byte) string {
	s := hex.EncodeToString(b)
	var lines []string
	for len(s) > 64 {
		lines = append(lines, s[:64])
		s = s[64:]
	}
	return strings.Join(append(lines, s), "\n")
}
