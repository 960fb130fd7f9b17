package webapi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// CodePath is the path, under a public endpoint, of the receipt v1 of the
// document registered under the code with this key (hex).
func CodePath(key string) string { return "/v1/code/" + key }

// CodeInfo is a verification code as the page reads it, before any
// request: its written form and the key to ask the nodes for, or why it is
// refused.
type CodeInfo struct {
	OK bool `json:"ok"`
	// Code is the written form, "7KQ4M-XW9TR-2HDNP-C8VE6".
	Code string `json:"code,omitempty"`
	// Key is the code's lookup key (hex) and CodePath the request's path:
	// for a receipt v2 when the trust bundle requires it
	// (verify.CodeRequestPath), ReceiptVersion then 2, else 1.
	Key            string `json:"key,omitempty"`
	CodePath       string `json:"code_path,omitempty"`
	ReceiptVersion int    `json:"receipt_version,omitempty"`
	// ErrorKind is vcode's Kind (empty, symbol, length, check, link) and
	// Error the sentence for the reader, in the language asked.
	ErrorKind string `json:"error_kind,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ParseCode reads a code as typed, or a verifier link holding one
// (vcode.ParseLink), and derives its key; its request asks for a receipt
// v1. A refused code is said in lang.
func ParseCode(s, lang string) CodeInfo { return ParseCodeFor(s, lang, nil) }

// ParseCodeFor is ParseCode for the trust bundle trust (its JSON, as
// VerifyCode takes it): the request asks for a receipt v2 when the bundle
// requires receipts v2 (verify.RequiresV2), for a receipt v1 otherwise
// or when trust is empty or not a trust bundle (VerifyCode says why).
func ParseCodeFor(s, lang string, trust []byte) CodeInfo {
	l := language(lang)
	c, err := vcode.ParseLink(s)
	if err != nil {
		return CodeInfo{ErrorKind: vcode.KindOf(err).String(), Error: codeError(l, err)}
	}
	key := c.Key()
	info := CodeInfo{OK: true, Code: c.String(), Key: hex.EncodeToString(key[:]), ReceiptVersion: 1}
	var tb *notaryv1.TrustBundle
	if len(trust) > 0 {
		tb, _ = verify.DecodeTrustBundle(trust)
	}
	info.CodePath = verify.CodeRequestPath(tb, key[:])
	if tb != nil && verify.RequiresV2(tb) {
		info.ReceiptVersion = 2
	}
	return info
}

// codeError is the sentence for a code that vcode refused.
func codeError(l msg.Lang, err error) string {
	e, ok := err.(*vcode.Error)
	if !ok {
		return msg.T(l, "web.code_err_check")
	}
	switch e.Kind {
	case vcode.KindEmpty:
		return msg.T(l, "web.code_err_empty")
	case vcode.KindSymbol:
		key := "web.code_err_symbol"
		if vcode.Confusable(e.Char) {
			key = "web.code_err_confusable"
		}
		return msg.T(l, key, "pos", strconv.Itoa(e.Pos), "char", safetext.Quote(string(e.Char)))
	case vcode.KindLength:
		return msg.T(l, "web.code_err_length", "n", strconv.Itoa(e.Len), "want", strconv.Itoa(vcode.Len))
	case vcode.KindLink:
		return msg.T(l, "web.code_err_link")
	}
	return msg.T(l, "web.code_err_check")
}

// CodeRequest is a check of a verification code: the receipt a node gave
// for the code's key, and optionally the document the citizen holds.
type CodeRequest struct {
	// Code is the code as typed (or the link), parsed again here: the salt
	// it derives never leaves the core.
	Code string
	// Receipt is the body of the answer to GET <Source>/v1/code/<key>.
	Receipt []byte
	Source  string
	Trust   []byte
	// Document and DocumentDigest are as in Request; with neither, the
	// code is checked without the document.
	Document       []byte
	DocumentDigest []byte
	Lang           string
	Zone           string
	// Live are the other endpoints' answers to the status request of the
	// receipt's anchored digest (of a receipt v2, which proves no status,
	// Source's answer as well).
	Live    []LiveAnswer
	Timeout time.Duration
}

// Facts are what a verified code shows, in the request's language: the
// agency that registered the document, when, and its status.
type Facts struct {
	Agency       string    `json:"agency"`
	AgencyID     string    `json:"agency_id"`
	Registered   string    `json:"registered"`
	RegisteredAt time.Time `json:"registered_at"`
	Revoked      bool      `json:"revoked"`
	// Status is the status in words: not revoked, or revoked on a date
	// with its reason.
	Status    string     `json:"status"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CodeResponse is the verdict on a code: as Response, with the facts of
// the code (whenever its receipt verified, the document matching or not),
// whether a document was checked, and, when the document matched, the full
// receipt file (document digest, salt and code key filled in) that
// `verifier verify DOC RECEIPT` accepts.
type CodeResponse struct {
	Response
	DocumentChecked bool   `json:"document_checked"`
	Facts           *Facts `json:"facts,omitempty"`
	ReceiptFile     string `json:"receipt_file,omitempty"`
}

// VerifyCode checks the receipt a node gave for a code: the receipt's code
// key must be the code's, and the receipt must verify against the trust
// bundle as any receipt; the code's salt then binds the document, when one
// is given. The node that gave a receipt v1 counts as a node whose live
// status verified (the receipt's status part is its newest); a receipt v2
// proves no status, so Live holds its node's answer too.
func VerifyCode(req CodeRequest) CodeResponse {
	l := language(req.Lang)
	c, err := vcode.ParseLink(req.Code)
	if err != nil {
		text := codeError(l, err)
		return CodeResponse{Response: Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: text, Error: err.Error(), Steps: []Step{}}}
	}
	return verifyCoded(req, c.Derive())
}

// verifyCoded is VerifyCode with the code's secrets derived.
func verifyCoded(req CodeRequest, sec vcode.Secrets) CodeResponse {
	l := language(req.Lang)
	trust, err := verify.DecodeTrustBundle(req.Trust)
	if err != nil {
		text := msg.T(l, "cli.err.trust_invalid", "path", "trust.json", "error", err.Error())
		return CodeResponse{Response: Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: text, Error: err.Error(), Steps: []Step{}}}
	}
	loc := location(req.Zone)
	rcpt, err := verify.DecodeReceipt(req.Receipt)
	if err != nil {
		// Not a receipt in canonical form: Verify says so as for a file.
		res, verr := verify.Verify(verify.Input{Receipt: req.Receipt, Trust: trust})
		if verr != nil {
			return CodeResponse{Response: Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: verr.Error(), Error: verr.Error(), Steps: []Step{}}}
		}
		return CodeResponse{Response: response(l, loc, res)}
	}
	key := hex.EncodeToString(sec.Key[:])
	if rcpt.Document == nil || rcpt.Document.CodeKey != key {
		text := msg.T(l, "verdict.not_valid") + " " + msg.T(l, "web.code_other_key", "node", safetext.Quote(req.Source))
		return CodeResponse{Response: Response{Verdict: verify.NotValid, ExitCode: exitFailure, Text: text,
			Fingerprint: verify.TrustFingerprint(req.Trust), Error: "the receipt's code_key is not the code's", Steps: []Step{}}}
	}
	// The node's receipt binds the key and the anchored digest; the code
	// gives the salt that binds a document digest to that digest.
	rcpt.Document.Salt = hex.EncodeToString(sec.Salt[:])
	rcpt.Document.DocumentDigest = ""
	base, err := verify.EncodeReceipt(rcpt)
	if err != nil {
		return CodeResponse{Response: Response{Verdict: verify.NotValid, ExitCode: exitFailure, Text: err.Error(), Error: err.Error(), Steps: []Step{}}}
	}
	codeStep := Step{Step: verify.Step{Name: "code", Status: verify.StepOK, Detail: "the code's key " + key + " is the receipt's code_key"},
		Label: msg.T(l, "web.step_code")}

	res, outcomes, err := check(trust, base, nil, nil, req)
	if err != nil {
		return CodeResponse{Response: Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: err.Error(), Error: err.Error(), Steps: []Step{}}}
	}
	out := CodeResponse{}
	if res.Verdict == verify.NotValid {
		out.Response = response(l, loc, res)
		out.Steps = append([]Step{codeStep}, out.Steps...)
		return out
	}
	out.Facts = facts(l, loc, res.Proven)
	if req.Document == nil && req.DocumentDigest == nil {
		out.Response = response(l, loc, res)
		out.Text = strings.Replace(out.Text, msg.T(l, "verdict.no_document"), msg.T(l, "web.code_no_document"), 1)
		out.Steps = append([]Step{codeStep}, out.Steps...)
		return out
	}
	withDoc, _, err := check(trust, base, req.Document, req.DocumentDigest, req, outcomes...)
	if err != nil {
		out.Response = Response{Verdict: verify.NotValid, ExitCode: exitUsage, Text: msg.T(l, "reason.document_mismatch"), Error: err.Error(), Steps: []Step{}}
		return out
	}
	out.Response = response(l, loc, withDoc)
	out.Steps = append([]Step{codeStep}, out.Steps...)
	out.DocumentChecked = withDoc.DocumentChecked
	if withDoc.Verdict != verify.NotValid && withDoc.Proven.Document.DocumentDigest != "" {
		rcpt.Document.DocumentDigest = withDoc.Proven.Document.DocumentDigest
		if b, err := verify.EncodeReceiptFile(rcpt); err == nil {
			out.ReceiptFile = string(b)
		}
	}
	return out
}

// check verifies the receipt base with the document (or its digest, or
// neither) and combines the verdict with the node that gave the receipt
// and the live answers (or, when given, the outcomes of an earlier check).
func check(trust *notaryv1.TrustBundle, base, doc, digest []byte, req CodeRequest, outcomes ...verify.NodeOutcome) (*verify.Result, []verify.NodeOutcome, error) {
	in := verify.Input{Receipt: base, Trust: trust}
	switch {
	case doc != nil:
		in.Document = bytes.NewReader(doc)
	case digest != nil:
		d, err := documentDigest(digest)
		if err != nil {
			return nil, nil, err
		}
		in.DocumentDigest = d
	}
	res, err := verify.Verify(in)
	if err != nil {
		return nil, nil, err
	}
	if res.Verdict == verify.NotValid {
		return res, nil, nil
	}
	if outcomes == nil {
		rcpt, err := verify.DecodeReceipt(base)
		if err != nil {
			return nil, nil, err
		}
		timeout := req.Timeout
		if timeout <= 0 {
			timeout = defaultTimeout
		}
		outcomes = make([]verify.NodeOutcome, 0, len(req.Live)+1)
		if req.Source != "" && res.Proven.Version != verify.VersionLog {
			st := verify.LiveCheck(res.Proven.Status)
			outcomes = append(outcomes, verify.NodeOutcome{Endpoint: req.Source, Check: &st})
		}
		for _, a := range req.Live {
			outcomes = append(outcomes, answer(trust, rcpt, a, timeout))
		}
	}
	return verify.Combine(res, outcomes), outcomes, nil
}

// documentDigest reads a digest given as 32 bytes or 64 hex characters.
func documentDigest(b []byte) ([]byte, error) {
	if len(b) == 32 {
		return b, nil
	}
	d, err := hex.DecodeString(string(b))
	if err != nil || len(d) != 32 {
		return nil, errors.New("document_digest: want 32 bytes or 64 hex characters")
	}
	return d, nil
}

// facts are the facts of a proven receipt in lang.
func facts(l msg.Lang, loc *time.Location, p *verify.Proven) *Facts {
	in := func(t time.Time) time.Time {
		if loc != nil {
			return t.In(loc)
		}
		return t
	}
	f := &Facts{
		Agency: safetext.Quote(p.Issuer.Name), AgencyID: p.Issuer.ID,
		Registered: msg.Date(l, in(p.RegisteredAt)), RegisteredAt: p.RegisteredAt,
		Status: msg.T(l, "web.code_not_revoked"),
	}
	if p.Issuer.Name == "" {
		// A receipt v2 proves the agency's id only.
		f.Agency = safetext.Quote(p.Issuer.ID)
	}
	if p.Log != nil && p.Status.Height == 0 {
		f.Status = msg.T(l, "verdict.log_no_status")
	}
	if rv := p.Status.Revocation; p.Status.Revoked && rv != nil {
		reason := msg.T(l, "revocation."+rv.Reason)
		if rv.ReasonText != "" {
			reason += " (" + strconv.Quote(rv.ReasonText) + ")"
		}
		at := rv.Time
		f.Revoked, f.RevokedAt = true, &at
		f.Status = msg.T(l, "web.code_revoked_on", "date", msg.Date(l, in(rv.Time)), "reason", reason)
	}
	return f
}

// response is the Response of a Result.
func response(l msg.Lang, loc *time.Location, res *verify.Result) Response {
	out := Response{Verdict: res.Verdict, ExitCode: ExitCode(res.Verdict), Text: res.Text(l, loc), Fingerprint: res.TrustFingerprint, Live: res.Live}
	for _, s := range res.Steps {
		out.Steps = append(out.Steps, Step{Step: s, Label: msg.T(l, "step."+s.Name)})
	}
	return out
}

// language is the catalogue's language of lang, the default when unknown.
func language(lang string) msg.Lang {
	l, err := msg.Parse(lang)
	if err != nil {
		return msg.Default
	}
	return l
}

// location is the IANA zone, nil (UTC only) when empty or unknown.
func location(zone string) *time.Location {
	if zone == "" {
		return nil
	}
	if l, err := time.LoadLocation(zone); err == nil {
		return l
	}
	return nil
}
