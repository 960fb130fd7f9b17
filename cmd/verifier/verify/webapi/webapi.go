package webapi

import (
	"bytes"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Exit codes of `verifier verify` (cmd/internal/cli, which this package
// does not link: it brings the command-line framework).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitRevoked = 3
)

// Info is what the page needs of a receipt before verifying it: which
// digest to ask the nodes about, and which hash the document needs.
type Info struct {
	OK             bool   `json:"ok"`
	HashAlgorithm  string `json:"hash_algorithm,omitempty"`
	AnchoredDigest string `json:"anchored_digest,omitempty"`
	ChainID        string `json:"chain_id,omitempty"`
	// CodeKey is the hex code key of a coded document, whose live status
	// is asked by key (StatusPath).
	CodeKey string `json:"code_key,omitempty"`
	// StatusPath is the live status request's path under an endpoint.
	StatusPath string `json:"status_path,omitempty"`
	Error      string `json:"error,omitempty"`
}

// ReceiptInfo reads a receipt file; nothing in it is verified. A receipt
// that is JSON of a receipt but not in its strict form (DecodeReceipt) is
// read too, so that the page verifies it and shows why it is not valid, as
// the CLI does.
func ReceiptInfo(receipt []byte) Info {
	r, err := verify.DecodeReceipt(receipt)
	if err != nil {
		lenient := new(notaryv1.Receipt)
		if len(receipt) > verify.MaxFileSize || protojson.Unmarshal(receipt, lenient) != nil || lenient.Document == nil {
			return Info{Error: err.Error()}
		}
		r = lenient
	}
	d := r.Document
	return Info{OK: true, HashAlgorithm: d.HashAlgorithm, AnchoredDigest: d.AnchoredDigest, ChainID: r.ChainId, CodeKey: d.CodeKey,
		StatusPath: verify.DocumentStatusPath(d)}
}

// LiveAnswer is what the page got from one endpoint: the HTTP status and
// body, or an error ("timeout", "too_large", or anything else for a
// failed request).
type LiveAnswer struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status,omitempty"`
	Body     []byte `json:"body,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Request is a verification the page asks for.
type Request struct {
	Receipt []byte
	Trust   []byte
	// Document is the document's bytes; DocumentDigest (hex or 32 bytes)
	// its digest under the receipt's algorithm, hashed by the page. With
	// neither, the receipt is checked without the document.
	Document       []byte
	DocumentDigest []byte
	Lang           string
	// Zone is the IANA time zone of local times in the text (the page's,
	// e.g. Europe/Madrid); "" or unknown: UTC only.
	Zone string
	// Live are the answers of the endpoints asked; none: offline.
	Live []LiveAnswer
	// Timeout is the page's time limit per endpoint, for the text of a
	// "timeout" answer (0: 5 s).
	Timeout time.Duration
}

// Step is one step of the verification, with its label in the language.
type Step struct {
	verify.Step
	Label string `json:"label"`
}

// Response is the verdict: as the CLI gives it (verdict, exit code, the
// same text), with the trust bundle's fingerprint, what the nodes said and
// every step.
type Response struct {
	Verdict     verify.Verdict   `json:"verdict"`
	ExitCode    int              `json:"exit_code"`
	Text        string           `json:"text"`
	Fingerprint string           `json:"fingerprint,omitempty"`
	Live        *verify.LiveInfo `json:"live,omitempty"`
	Steps       []Step           `json:"steps"`
	// Error says why nothing could be verified (a trust bundle that is not
	// valid); the verdict is then not_valid, exit code 2.
	Error string `json:"error,omitempty"`
}

// defaultTimeout is the CLI's time limit per node.
const defaultTimeout = 5 * time.Second

// Verify verifies a receipt as `verifier verify` does, with the live
// answers the page collected. It never returns valid for input it could not
// verify.
func Verify(req Request) Response {
	lang := language(req.Lang)
	trust, err := verify.DecodeTrustBundle(req.Trust)
	if err != nil {
		text := msg.T(lang, "cli.err.trust_invalid", "path", "trust.json", "error", err.Error())
		return Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: text, Error: err.Error(), Steps: []Step{}}
	}
	in := verify.Input{Receipt: req.Receipt, Trust: trust}
	switch {
	case req.Document != nil:
		in.Document = bytes.NewReader(req.Document)
	case req.DocumentDigest != nil:
		d, err := documentDigest(req.DocumentDigest)
		if err != nil {
			return Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: msg.T(lang, "reason.document_mismatch"),
				Fingerprint: verify.TrustFingerprint(req.Trust), Error: err.Error(), Steps: []Step{}}
		}
		in.DocumentDigest = d
	}
	res, err := verify.Verify(in)
	if err != nil {
		return Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: err.Error(), Error: err.Error(), Steps: []Step{}}
	}
	if res.Verdict != verify.NotValid {
		rcpt, err := verify.DecodeReceipt(req.Receipt)
		if err != nil {
			return Response{Verdict: verify.NotValid, ExitCode: exitFailure, Text: err.Error(), Error: err.Error(), Steps: []Step{}}
		}
		timeout := req.Timeout
		if timeout <= 0 {
			timeout = defaultTimeout
		}
		outcomes := make([]verify.NodeOutcome, 0, len(req.Live))
		for _, a := range req.Live {
			outcomes = append(outcomes, answer(trust, rcpt, a, timeout))
		}
		res = verify.Combine(res, outcomes)
	}
	return response(lang, location(req.Zone), res)
}

// ExitCode is the CLI's exit code of a verdict: 0 valid, 3 revoked, 1 not
// valid.
func ExitCode(v verify.Verdict) int {
	switch v {
	case verify.Valid:
		return exitOK
	case verify.Revoked:
		return exitRevoked
	}
	return exitFailure
}

// answer turns one endpoint's answer into an outcome.
func answer(trust *notaryv1.TrustBundle, rcpt *notaryv1.Receipt, a LiveAnswer, timeout time.Duration) verify.NodeOutcome {
	switch a.Error {
	case "":
		return verify.CheckLiveAnswer(trust, rcpt, a.Endpoint, a.Status, a.Body)
	case string(verify.LiveTimeout):
		return verify.NodeOutcome{Endpoint: a.Endpoint, Err: &verify.LiveError{Code: verify.LiveTimeout, Timeout: timeout}}
	case string(verify.LiveTooLarge):
		return verify.NodeOutcome{Endpoint: a.Endpoint, Err: &verify.LiveError{Code: verify.LiveTooLarge}}
	}
	return verify.NodeOutcome{Endpoint: a.Endpoint, Err: &verify.LiveError{Code: verify.LiveUnreachable, Detail: a.Error}}
}

// Messages are the page's labels in lang (the catalogue's web.* messages,
// without the prefix) and the steps' labels (step.<name>).
func Messages(lang string) map[string]string {
	l := language(lang)
	out := msg.Prefixed(l, "web.")
	for k, v := range msg.Prefixed(l, "step.") {
		out["step."+k] = v
	}
	out["lang"] = string(l)
	return out
}
