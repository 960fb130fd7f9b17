package verify

import (
	"encoding/hex"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Verification codes (docs/receipt.md, "Verification codes"; the code, its
// salt and key are package vcode's, which the caller uses: this package
// links no URL parsing): a node's
// public endpoint answers GET <endpoint>/v1/code/<key> with the receipt of
// the document registered under the code whose key is <key>; the binding
// holds the algorithm, the anchored digest and the key, not the salt nor the
// document digest, which only the code (and the document) give. BindCode
// completes such a receipt from the code; VerifyCode verifies it, with the
// document's digest if the caller has the document, as Verify verifies the
// completed receipt.

// CodePath is the path of a code request under a public endpoint: the
// code's key, never the code. It asks for a receipt v1.
func CodePath(key []byte) string { return "/v1/code/" + hex.EncodeToString(key) }

// CodeV2Query is the query of a code request that asks for a receipt v2.
const CodeV2Query = "?version=2"

// CodeRequestPath is the path of a code request under a trust bundle:
// CodePath with CodeV2Query when the bundle requires receipts v2
// (RequiresV2), which refuses a receipt v1; CodePath otherwise, whose
// receipt v1 carries its own validator chain from the bundle's genesis
// and its status, where a receipt v2's checkpoint is signed by the
// validators of its time, which a bundle without a checkpoint may not
// reach.
func CodeRequestPath(trust *notaryv1.TrustBundle, key []byte) string {
	if trust != nil && RequiresV2(trust) {
		return CodePath(key) + CodeV2Query
	}
	return CodePath(key)
}

// MaxCodeReceiptSize bounds the body of a code answer that a verifier
// reads: a receipt.
const MaxCodeReceiptSize = MaxFileSize

// BindCode returns a copy of r, a receipt fetched by the key of a code
// whose salt and key are given (vcode.Code.Derive), with its binding
// completed: the code's salt and,
// if documentDigest is given, the document digest. It fails when the
// receipt is not one of a document registered under that code (its binding
// names another code key, or none).
func BindCode(r *notaryv1.Receipt, salt, key []byte, documentDigest []byte) (*notaryv1.Receipt, error) {
	if r == nil || r.Document == nil {
		return nil, fmt.Errorf("no document binding")
	}
	if len(salt) != ledger.DigestSize || len(key) != ledger.CodeKeySize {
		return nil, fmt.Errorf("a code's salt is %d bytes and its key %d, not %d and %d", ledger.DigestSize, ledger.CodeKeySize, len(salt), len(key))
	}
	hexKey := hex.EncodeToString(key)
	if r.Document.CodeKey != hexKey {
		return nil, fmt.Errorf("the receipt is for code key %q, not %s", r.Document.CodeKey, hexKey)
	}
	if documentDigest != nil && len(documentDigest) != ledger.DigestSize {
		return nil, fmt.Errorf("a document digest of %d bytes, not %d", len(documentDigest), ledger.DigestSize)
	}
	out := proto.CloneOf(r)
	out.Document.Salt = hex.EncodeToString(salt)
	out.Document.DocumentDigest = ""
	if documentDigest != nil {
		out.Document.DocumentDigest = hex.EncodeToString(documentDigest)
	}
	return out, nil
}

// CodeAlgorithm is the hash algorithm of the document of a code receipt:
// the one to hash the document with before VerifyCode.
func CodeAlgorithm(r *notaryv1.Receipt) (ledger.HashAlgorithm, error) {
	alg, ok := ledger.ParseAlgorithm(r.GetDocument().GetHashAlgorithm())
	if !ok {
		return 0, fmt.Errorf("document.hash_algorithm %q: want sha2-256 or sha3-256", r.GetDocument().GetHashAlgorithm())
	}
	return alg, nil
}

// HashDocument reads a document to the end and returns its digest under
// alg (a receipt's algorithm, CodeAlgorithm).
func HashDocument(alg ledger.HashAlgorithm, r io.Reader) ([]byte, error) {
	h := newHash(alg)
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	return h.Sum(nil), nil
}

// VerifyCode verifies r, the receipt a node answered for the key of a code
// whose salt and key are given, against the trust bundle: the receipt completed
// by BindCode (the returned receipt, which Verify accepts offline with the
// document), verified as Verify verifies it, with documentDigest (under the
// receipt's algorithm, CodeAlgorithm) as the document's digest if it is
// given. The Result has ByCode set. An error means the receipt is not for
// that code or the trust bundle is not valid.
func VerifyCode(r *notaryv1.Receipt, trust *notaryv1.TrustBundle, salt, key, documentDigest []byte) (*Result, *notaryv1.Receipt, error) {
	bound, err := BindCode(r, salt, key, documentDigest)
	if err != nil {
		return nil, nil, err
	}
	b, err := EncodeReceipt(bound)
	if err != nil {
		return nil, nil, fmt.Errorf("receipt: %w", err)
	}
	res, err := Verify(Input{Receipt: b, Trust: trust, DocumentDigest: documentDigest})
	if err != nil {
		return nil, nil, err
	}
	res.ByCode = true
	return res, bound, nil
}

// CodeAnswer is what one node answered to a code request.
type CodeAnswer struct {
	Endpoint string
	// Receipt is the receipt as the node sent it, and Result its
	// verification (VerifyCode without the document), when the node sent
	// a receipt for the code.
	Receipt *notaryv1.Receipt
	Result  *Result
	// Err says why there is no verified receipt: LiveNotFound when the
	// node knows no document under the code, LiveNotValid when the receipt
	// does not verify (Result says why), and the other codes as for a live
	// status.
	Err *LiveError
}

// Found reports whether the node sent a receipt for the code that verified
// (valid or revoked).
func (a CodeAnswer) Found() bool {
	return a.Err == nil && a.Result != nil && a.Result.Verdict != NotValid
}

// CheckCodeAnswer turns a node's HTTP answer to GET CodePath (status code
// and body, read up to MaxCodeReceiptSize+1 bytes) into a CodeAnswer: the
// receipt decoded strictly and verified with VerifyCode, without the
// document.
func CheckCodeAnswer(trust *notaryv1.TrustBundle, salt, key []byte, endpoint string, status int, body []byte) CodeAnswer {
	out := CodeAnswer{Endpoint: endpoint}
	switch e := answerError(status, body, MaxCodeReceiptSize); {
	case e != nil:
		out.Err = e
	default:
		r, err := DecodeReceipt(body)
		if err != nil {
			out.Err = &LiveError{Code: LiveMalformed, Detail: err.Error()}
			break
		}
		res, _, err := VerifyCode(r, trust, salt, key, nil)
		if err != nil {
			out.Err = &LiveError{Code: LiveMismatch, Detail: err.Error()}
			break
		}
		out.Receipt, out.Result = r, res
		if res.Verdict == NotValid {
			out.Err = &LiveError{Code: LiveNotValid, Reason: res.Reason, Detail: res.Detail}
		}
	}
	return out
}

// ProvesStatus reports whether the answer's receipt proves a status
// (Outcome gives it): a receipt v1 does; a receipt v2 does not, so its
// node's live status is asked as any other node's.
func (a CodeAnswer) ProvesStatus() bool {
	return a.Found() && a.Result.Proven != nil && a.Result.Proven.Version != VersionLog
}

// Outcome is the answer as a live status outcome, for Combine: the status
// the receipt proves, or the error. A found receipt v2 proves no status
// (ProvesStatus): its outcome is an error.
func (a CodeAnswer) Outcome() NodeOutcome {
	if a.Found() && !a.ProvesStatus() {
		return NodeOutcome{Endpoint: a.Endpoint, Err: &LiveError{Code: LiveMalformed, Detail: "a receipt v2 proves no status"}}
	}
	if a.Found() {
		c := LiveCheck(a.Result.Proven.Status)
		return NodeOutcome{Endpoint: a.Endpoint, Check: &c}
	}
	if a.Err == nil {
		return NodeOutcome{Endpoint: a.Endpoint, Err: &LiveError{Code: LiveMalformed, Detail: "no receipt"}}
	}
	return NodeOutcome{Endpoint: a.Endpoint, Err: a.Err}
}
