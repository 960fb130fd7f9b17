package verify

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Live status (docs/receipt.md, "Live status"): a node's public endpoint
// answers GET <endpoint>/v1/status/<hash_algorithm>/<anchored_digest> (a
// plain document) or GET <endpoint>/v1/status/code/<code_key> (a document
// anchored under a verification code) with a LiveStatus, the status part of
// a receipt taken at the node's newest provable height. CheckLiveStatus checks it exactly as Verify checks a
// receipt's own status part, by verifying the receipt with that status part
// in place of its own; Combine turns the receipt's verdict and the answers
// of the nodes asked into the final verdict.

// LiveStatusPath is the path of a plain document's status request under a
// public endpoint.
func LiveStatusPath(hashAlgorithm, anchoredDigest string) string {
	return "/v1/status/" + hashAlgorithm + "/" + anchoredDigest
}

// CodeStatusPath is the path of a coded document's status request under a
// public endpoint: by its code key (hex), the only name a node finds it by.
func CodeStatusPath(codeKey string) string {
	return "/v1/status/code/" + codeKey
}

// DocumentStatusPath is the path of the status request for a receipt's
// document: CodeStatusPath for a coded document, LiveStatusPath otherwise.
func DocumentStatusPath(d *notaryv1.DocumentBinding) string {
	if d.GetCodeKey() != "" {
		return CodeStatusPath(d.GetCodeKey())
	}
	return LiveStatusPath(d.GetHashAlgorithm(), d.GetAnchoredDigest())
}

// MaxLiveStatusSize bounds the body of a live status answer that a
// verifier reads.
const MaxLiveStatusSize = 1 << 20

// StaleBlocks is how many blocks a node's status may lag behind the newest
// one another node gave before it is reported as stale.
const StaleBlocks = 5

// EncodeLiveStatus returns the canonical JSON bytes of a live status (the
// body of a node's answer).
func EncodeLiveStatus(ls *notaryv1.LiveStatus) ([]byte, error) {
	return canonicalJSON(ls)
}

// DecodeLiveStatus decodes a live status strictly, as DecodeReceipt decodes
// a receipt (canonical JSON, whitespace aside); the status part's embedded
// records, headers and proofs are checked by CheckLiveStatus.
func DecodeLiveStatus(b []byte) (*notaryv1.LiveStatus, error) {
	ls := &notaryv1.LiveStatus{}
	if err := decodeStrict("live status", b, ls); err != nil {
		return nil, err
	}
	return ls, nil
}

// LiveCheck is a verified live status (a StatusInfo proven by a node).
type LiveCheck struct {
	// Height is the state height of the status; AsOf its signed header's time.
	Height     int64           `json:"height"`
	AsOf       time.Time       `json:"as_of"`
	Revoked    bool            `json:"revoked"`
	Revocation *RevocationInfo `json:"revocation,omitempty"`
}

// LiveErrorCode says why a node's answer gave no verified status.
type LiveErrorCode string

// Codes of LiveError; the catalogue's live.err.<code> phrases each.
const (
	LiveTimeout     LiveErrorCode = "timeout"     // no answer in time
	LiveUnreachable LiveErrorCode = "unreachable" // no connection
	LiveHTTP        LiveErrorCode = "http"        // an unexpected HTTP status
	LiveNotFound    LiveErrorCode = "not_found"   // 404: the node does not know the digest
	LiveBusy        LiveErrorCode = "busy"        // 429 or 503
	LiveTooLarge    LiveErrorCode = "too_large"   // a body over MaxLiveStatusSize
	LiveMalformed   LiveErrorCode = "malformed"   // not a canonical LiveStatus
	LiveMismatch    LiveErrorCode = "mismatch"    // for another chain, algorithm, digest, code key or anchor
	LiveNotValid    LiveErrorCode = "not_valid"   // its proofs or signatures do not verify
)

// LiveError is why a node's answer gave no verified status.
type LiveError struct {
	Code LiveErrorCode
	// Detail says more, in English, for logs and --output json.
	Detail string
	// Reason is set for LiveNotValid.
	Reason Reason
	// HTTPStatus is set for LiveHTTP, LiveNotFound and LiveBusy.
	HTTPStatus int
	// Timeout is set for LiveTimeout.
	Timeout time.Duration
}

func (e *LiveError) Error() string {
	if e.Detail == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Detail
}

// CheckLiveStatus checks a live status for a receipt against the trust
// bundle: the same chain, algorithm, anchored digest, code key and anchor
// height as the receipt, and then the receipt verified with the live status part and
// validator chain in place of its own (the validator chain from the trust
// bundle, the checkpoint's quorum, the status proof for the receipt's
// anchored digest). The receipt must be one Verify found valid or revoked.
// An error is a *LiveError.
//
// For a receipt v2, which has no anchor, the live status's anchor height
// must be its batch's height, and the status part is checked as a receipt
// v1's against the trust bundle's genesis validators (section 12 of
// docs/receipt.md), with the batch record of the receipt's leaf.
func CheckLiveStatus(trust *notaryv1.TrustBundle, rcpt *notaryv1.Receipt, live *notaryv1.LiveStatus) (*LiveCheck, error) {
	if rcpt != nil && rcpt.Version == VersionLog {
		return checkLiveStatusV2(trust, rcpt, live)
	}
	if trust == nil || rcpt == nil || rcpt.Document == nil || rcpt.Anchor == nil {
		return nil, &LiveError{Code: LiveMismatch, Detail: "no trust bundle or no receipt to check the live status against"}
	}
	if err := checkLiveFor(live, rcpt, rcpt.Anchor.Height); err != nil {
		return nil, err
	}
	r := proto.CloneOf(rcpt)
	r.Status, r.ValidatorChain = live.Status, live.ValidatorChain
	res, err := VerifyReceipt(r, trust, nil)
	if err != nil {
		return nil, &LiveError{Code: LiveMismatch, Detail: err.Error()}
	}
	if res.Verdict == NotValid {
		if res.Reason == ReasonMalformed {
			return nil, &LiveError{Code: LiveMalformed, Detail: res.Detail}
		}
		return nil, &LiveError{Code: LiveNotValid, Reason: res.Reason, Detail: res.Detail}
	}
	c := LiveCheck(res.Proven.Status)
	return &c, nil
}

// NodeOutcome is what one node gave: a verified status, or an error (a
// *LiveError, or any error, taken as LiveUnreachable).
type NodeOutcome struct {
	Endpoint string
	Check    *LiveCheck
	Err      error
}

// CheckLiveAnswer turns a node's HTTP answer (status code and body, read up
// to MaxLiveStatusSize+1 bytes) into an outcome.
func CheckLiveAnswer(trust *notaryv1.TrustBundle, rcpt *notaryv1.Receipt, endpoint string, status int, body []byte) NodeOutcome {
	out := NodeOutcome{Endpoint: endpoint}
	switch e := answerError(status, body, MaxLiveStatusSize); {
	case e != nil:
		out.Err = e
	default:
		ls, err := DecodeLiveStatus(body)
		if err != nil {
			out.Err = &LiveError{Code: LiveMalformed, Detail: err.Error()}
			break
		}
		out.Check, out.Err = CheckLiveStatus(trust, rcpt, ls)
	}
	return out
}

// answerError is the error of a node's HTTP answer that is not a 200 with
// a body of at most max bytes, or nil.
func answerError(status int, body []byte, max int) *LiveError {
	switch {
	case status == 404:
		return &LiveError{Code: LiveNotFound, HTTPStatus: status}
	case status == 429 || status == 503:
		return &LiveError{Code: LiveBusy, HTTPStatus: status}
	case status != 200:
		return &LiveError{Code: LiveHTTP, HTTPStatus: status}
	case len(body) > max:
		return &LiveError{Code: LiveTooLarge, Detail: fmt.Sprintf("more than %d bytes", max)}
	}
	return nil
}

// LiveInfo is what the nodes asked said, in a combined Result.
type LiveInfo struct {
	// Tried and Checked count the nodes asked and those whose status verified.
	Tried   int `json:"tried"`
	Checked int `json:"checked"`
	// Disagreement is set when one source proves a revocation and another,
	// at that height or later, proves none.
	Disagreement bool       `json:"disagreement"`
	Nodes        []LiveNode `json:"nodes"`
	// ReceiptDisagrees is set when the receipt's own status is one side of a
	// disagreement.
	ReceiptDisagrees bool `json:"receipt_disagrees,omitempty"`
	// Newest is the newest status height any source proved.
	Newest int64 `json:"newest_height"`
}

// LiveNode is one node's outcome.
type LiveNode struct {
	Endpoint string     `json:"endpoint"`
	Check    *LiveCheck `json:"status,omitempty"`
	// Error is a LiveErrorCode; Detail says more, in English.
	Error  LiveErrorCode `json:"error,omitempty"`
	Detail string        `json:"detail,omitempty"`
	// Stale: the status is more than StaleBlocks below the newest.
	Stale bool `json:"stale,omitempty"`
	// Disagrees: this node is one side of a disagreement.
	Disagrees bool `json:"disagrees,omitempty"`

	err *LiveError
}

// Combine gives the final verdict of a receipt's Result and the outcomes of
// the nodes asked (none: offline, or no node to ask). The status is the
// newest proven one, the receipt's or a node's; a proven revocation from
// any source wins (verdict Revoked). Nodes that disagree, and nodes more
// than StaleBlocks behind the newest, are reported in Live and in the text.
// A not valid Result is returned as it is.
func Combine(res *Result, outcomes []NodeOutcome) *Result {
	if res == nil || res.Verdict == NotValid || res.Proven == nil {
		return res
	}
	out := *res
	proven := *res.Proven
	out.Proven = &proven
	live := &LiveInfo{Tried: len(outcomes), Nodes: []LiveNode{}}
	out.Live = live

	type source struct {
		node  int // index in live.Nodes; -1 for the receipt
		check LiveCheck
	}
	rs := res.Proven.Status
	sources := []source{{node: -1, check: LiveCheck(rs)}}
	for _, o := range outcomes {
		n := LiveNode{Endpoint: o.Endpoint}
		switch {
		case o.Err != nil:
			var le *LiveError
			if !errors.As(o.Err, &le) {
				le = &LiveError{Code: LiveUnreachable, Detail: o.Err.Error()}
			}
			n.Error, n.Detail, n.err = le.Code, le.Detail, le
		case o.Check == nil:
			n.Error, n.err = LiveMalformed, &LiveError{Code: LiveMalformed, Detail: "no status"}
		default:
			c := *o.Check
			n.Check = &c
			live.Checked++
			sources = append(sources, source{node: len(live.Nodes), check: c})
		}
		live.Nodes = append(live.Nodes, n)
	}
	// The newest status, and the newest proven revocation.
	newest, revoked := 0, -1
	for i, s := range sources {
		if s.check.Height > sources[newest].check.Height {
			newest = i
		}
		if s.check.Revoked && (revoked < 0 || s.check.Height > sources[revoked].check.Height) {
			revoked = i
		}
	}
	live.Newest = sources[newest].check.Height
	chosen := sources[newest].check
	if revoked >= 0 {
		chosen = sources[revoked].check
	}
	// Disagreement: a revocation at height h, and a status without it at
	// h or later.
	for _, a := range sources {
		if !a.check.Revoked || a.check.Revocation == nil {
			continue
		}
		for _, b := range sources {
			if b.check.Revoked || b.check.Height < a.check.Revocation.Height {
				continue
			}
			live.Disagreement = true
			for _, s := range []source{a, b} {
				if s.node < 0 {
					live.ReceiptDisagrees = true
				} else {
					live.Nodes[s.node].Disagrees = true
				}
			}
		}
	}
	for _, s := range sources[1:] {
		if live.Newest-s.check.Height > StaleBlocks {
			live.Nodes[s.node].Stale = true
		}
	}
	out.Proven.Status = StatusInfo(chosen)
	out.Verdict = Valid
	if chosen.Revoked {
		out.Verdict = Revoked
	}
	return &out
}

// liveErrorArgs are the placeholders of a live error's message.
func liveErrorArgs(e *LiveError) []string {
	switch e.Code {
	case LiveTimeout:
		return []string{"seconds", strconv.Itoa(int(e.Timeout.Round(time.Second) / time.Second))}
	case LiveHTTP:
		return []string{"code", strconv.Itoa(e.HTTPStatus)}
	case LiveTooLarge:
		return []string{"limit", "1 MB"}
	}
	return nil
}

// checkLiveFor checks that a live status answers for rcpt's document,
// anchored at anchorHeight (a v1 receipt's anchor, a v2 receipt's batch
// height), in a version this verifier reads.
func checkLiveFor(live *notaryv1.LiveStatus, rcpt *notaryv1.Receipt, anchorHeight int64) *LiveError {
	if live == nil || live.Status == nil {
		return &LiveError{Code: LiveMalformed, Detail: "no status"}
	}
	if live.Version != Version {
		return &LiveError{Code: LiveMalformed, Detail: fmt.Sprintf("version %d; this verifier reads version %d", live.Version, Version)}
	}
	switch {
	case live.ChainId != rcpt.ChainId:
		return &LiveError{Code: LiveMismatch, Detail: fmt.Sprintf("chain %q, the receipt's is %q", live.ChainId, rcpt.ChainId)}
	case live.HashAlgorithm != rcpt.Document.HashAlgorithm:
		return &LiveError{Code: LiveMismatch, Detail: fmt.Sprintf("algorithm %q, the receipt's is %q", live.HashAlgorithm, rcpt.Document.HashAlgorithm)}
	case live.AnchoredDigest != rcpt.Document.AnchoredDigest:
		return &LiveError{Code: LiveMismatch, Detail: fmt.Sprintf("digest %q, the receipt's is %q", live.AnchoredDigest, rcpt.Document.AnchoredDigest)}
	case live.CodeKey != rcpt.Document.CodeKey:
		return &LiveError{Code: LiveMismatch, Detail: fmt.Sprintf("code key %q, the receipt's is %q", live.CodeKey, rcpt.Document.CodeKey)}
	case live.AnchorHeight != anchorHeight:
		return &LiveError{Code: LiveMismatch, Detail: fmt.Sprintf("anchor height %d, the receipt's is %d", live.AnchorHeight, anchorHeight)}
	}
	return nil
}
