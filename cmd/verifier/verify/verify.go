package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	ics23 "github.com/cosmos/ics23/go"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Verdict is the outcome of a verification.
type Verdict string

// Verdicts.
const (
	// Valid: everything verified and the document is not revoked.
	Valid Verdict = "valid"
	// Revoked: everything verified and the document is revoked.
	Revoked Verdict = "revoked"
	// NotValid: something did not verify (Result.Reason says what).
	NotValid Verdict = "not_valid"
)

// Reason is why a receipt is not valid: a stable code.
type Reason string

// Reasons.
const (
	// ReasonMalformed: the receipt is not a well-formed v1 or v2 receipt in canonical form.
	ReasonMalformed Reason = "malformed_receipt"
	// ReasonWrongChain: the receipt or a header is for another chain than the trust bundle's.
	ReasonWrongChain Reason = "wrong_chain"
	// ReasonDocumentMismatch: the document (or the receipt's binding) does not lead to the anchored digest.
	ReasonDocumentMismatch Reason = "document_mismatch"
	// ReasonProofInvalid: a Merkle path, an ICS23 proof or a record does not verify or does not fit.
	ReasonProofInvalid Reason = "proof_invalid"
	// ReasonSignatureInvalid: a validator signature does not verify, or signs another block.
	ReasonSignatureInvalid Reason = "signature_invalid"
	// ReasonInsufficientSignatures: valid signatures hold 2/3 of the voting power or less.
	ReasonInsufficientSignatures Reason = "insufficient_signatures"
	// ReasonValidatorSetNotReached: a header's validator set is not the one reached from the trust bundle.
	ReasonValidatorSetNotReached Reason = "validator_set_not_reached"
	// ReasonReceiptV2Required: the trust bundle carries a log checkpoint or
	// requires witnesses, and refuses receipts v1; renew the receipt.
	ReasonReceiptV2Required Reason = "receipt_v2_required"
	// ReasonCheckpointFork: the receipt's checkpoint has the size of the
	// trust bundle's and another root: the two contradict each other.
	ReasonCheckpointFork Reason = "checkpoint_fork"
	// ReasonInsufficientCosignatures: the receipt's checkpoint carries
	// valid cosignatures of fewer witnesses than the trust bundle requires.
	ReasonInsufficientCosignatures Reason = "insufficient_cosignatures"
)

// StepStatus is the result of one step.
type StepStatus string

// Step results.
const (
	StepOK         StepStatus = "ok"
	StepFailed     StepStatus = "failed"
	StepSkipped    StepStatus = "skipped"     // not applicable (no document given)
	StepNotChecked StepStatus = "not_checked" // an earlier step failed
)

// Step names, in the order they run. Each step relies only on what the steps
// before it established, starting from the trust bundle.
const (
	StepReceiptFormat    = "receipt_format"
	StepChainID          = "chain_id"
	StepValidatorChain   = "validator_chain"
	StepAnchorCheckpoint = "anchor_checkpoint"
	StepStatusCheckpoint = "status_checkpoint"
	StepBatchRecord      = "batch_record"
	StepIssuerRecord     = "issuer_record"
	StepMerkleInclusion  = "merkle_inclusion"
	StepRevocationStatus = "status"
	StepDocument         = "document"
	// StepTrustPolicy runs for a receipt v1 only when the trust bundle
	// requires receipts v2 (RequiresV2), and then fails.
	StepTrustPolicy = "trust_policy"
	// StepLogCheckpoint and StepLogInclusion are the steps of receipts v2.
	StepLogCheckpoint = "log_checkpoint"
	StepLogInclusion  = "log_inclusion"
)

var stepOrder = []string{
	StepReceiptFormat, StepChainID, StepValidatorChain, StepAnchorCheckpoint, StepStatusCheckpoint,
	StepBatchRecord, StepIssuerRecord, StepMerkleInclusion, StepRevocationStatus, StepDocument,
}

// stepOrderV1Refused is the order of a receipt v1 checked against a trust
// bundle that requires receipts v2.
var stepOrderV1Refused = []string{
	StepReceiptFormat, StepChainID, StepTrustPolicy, StepValidatorChain, StepAnchorCheckpoint, StepStatusCheckpoint,
	StepBatchRecord, StepIssuerRecord, StepMerkleInclusion, StepRevocationStatus, StepDocument,
}

// stepOrderV2 is the order of a receipt v2.
var stepOrderV2 = []string{
	StepReceiptFormat, StepChainID, StepLogCheckpoint, StepLogInclusion, StepBatchRecord, StepMerkleInclusion,
	StepRevocationStatus, StepDocument,
}

// Step is one check and its result.
type Step struct {
	Name   string     `json:"step"`
	Status StepStatus `json:"status"`
	Detail string     `json:"detail,omitempty"`
}

// Result is the outcome of Verify: the verdict, every step, and (for a
// valid or revoked receipt) what was proven.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Reason and Detail say why, for NotValid.
	Reason Reason `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// TrustFingerprint names the trust bundle checked against
	// (TrustFingerprint of its canonical bytes).
	TrustFingerprint string `json:"trust_fingerprint"`
	// DocumentChecked is false when no document was given.
	DocumentChecked bool `json:"document_checked"`
	// ByCode is set when the receipt was found by a verification code
	// (VerifyCode): the code gave its salt and key.
	ByCode bool    `json:"by_code,omitempty"`
	Steps  []Step  `json:"steps"`
	Proven *Proven `json:"proven,omitempty"`
	// Live is what the nodes asked for the current status said (Combine);
	// nil when Combine was not called.
	Live *LiveInfo `json:"live,omitempty"`
}

// Proven is what a verified receipt proves. Every value here was checked
// against signatures of validator sets reached from the trust bundle.
type Proven struct {
	ChainID  string       `json:"chain_id"`
	Document DocumentInfo `json:"document"`
	Issuer   AgencyInfo   `json:"issuer"`
	Batch    BatchInfo    `json:"batch"`
	// RegisteredAt is the block time of the anchoring block.
	RegisteredAt time.Time `json:"registered_at"`
	// Anchor and Status are left out of the JSON while they are the zero
	// value: a receipt v1 always proves both; a receipt v2 proves neither
	// (Status is set once Combine adds a live one).
	Anchor         CheckpointInfo   `json:"anchor,omitzero"`
	Status         StatusInfo       `json:"status,omitzero"`
	ValidatorChain []TransitionInfo `json:"validator_chain"`
	// Version is 2 for a receipt v2, left out for v1.
	Version uint32 `json:"version,omitempty"`
	// Log is what a receipt v2 proves through the evidence log; a receipt
	// v2 proves no issuer name, anchor or status.
	Log *LogInfo `json:"log,omitempty"`
}

// DocumentInfo is the document binding.
type DocumentInfo struct {
	HashAlgorithm  string `json:"hash_algorithm"`
	DocumentDigest string `json:"document_digest,omitempty"`
	Salted         bool   `json:"salted"`
	AnchoredDigest string `json:"anchored_digest"`
	// CodeKey is the hex key of the document's verification code; empty
	// for a document anchored without a code.
	CodeKey string `json:"code_key,omitempty"`
}

// AgencyInfo names an agency as its registry record does.
type AgencyInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// BatchInfo locates the anchored digest.
type BatchInfo struct {
	Height    int64     `json:"height"`
	TxIndex   uint32    `json:"tx_index"`
	LeafIndex uint32    `json:"leaf_index"`
	Count     uint32    `json:"count"`
	Label     string    `json:"label,omitempty"`
	Time      time.Time `json:"time"`
}

// CheckpointInfo is a verified signed header.
type CheckpointInfo struct {
	// Height is the state version; the signed header is at Height+1.
	Height int64 `json:"height"`
	// Time is the signed header's block time.
	Time        time.Time    `json:"time"`
	AppHash     string       `json:"app_hash"`
	Signers     []SignerInfo `json:"signers"`
	SignedPower int64        `json:"signed_power"`
	TotalPower  int64        `json:"total_power"`
	Validators  int          `json:"validators"`
}

// SignerInfo is a validator whose signature verified.
type SignerInfo struct {
	MinistryID string `json:"ministry_id"`
	Name       string `json:"name"`
	Power      int64  `json:"power"`
	// Source of the name: "trust_bundle" or "ministry_record" (proven by ICS23).
	Source string `json:"source"`
}

// Sources of a signer's name.
const (
	SourceTrustBundle    = "trust_bundle"
	SourceMinistryRecord = "ministry_record"
)

// StatusInfo is the proven revocation status.
type StatusInfo struct {
	Height     int64           `json:"height"`
	AsOf       time.Time       `json:"as_of"`
	Revoked    bool            `json:"revoked"`
	Revocation *RevocationInfo `json:"revocation,omitempty"`
}

// RevocationInfo is a proven revocation record.
type RevocationInfo struct {
	Reason     string    `json:"reason"`
	ReasonText string    `json:"reason_text,omitempty"`
	Height     int64     `json:"height"`
	Time       time.Time `json:"time"`
	RevokedBy  string    `json:"revoked_by"`
}

// TransitionInfo is one verified validator-set transition.
type TransitionInfo struct {
	Height         int64     `json:"height"`
	Time           time.Time `json:"time"`
	SignedPower    int64     `json:"signed_power"`
	TotalPower     int64     `json:"total_power"`
	NextValidators int       `json:"next_validators"`
	NextSetHash    string    `json:"next_set_hash"`
}

// Failure is a failed check.
type Failure struct {
	Reason Reason
	Detail string
}

func (f *Failure) Error() string { return string(f.Reason) + ": " + f.Detail }

func fail(r Reason, format string, args ...any) *Failure {
	return &Failure{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Input is what Verify checks.
type Input struct {
	// Receipt is the receipt file.
	Receipt []byte
	// Trust is the trust bundle (DecodeTrustBundle).
	Trust *notaryv1.TrustBundle
	// Document is read to the end and hashed; nil leaves the document unchecked.
	Document io.Reader
	// DocumentDigest, if Document is nil, is the document's digest under
	// the receipt's hash algorithm, computed by the caller (a web page
	// hashing with WebCrypto); it is checked as the document's would be.
	DocumentDigest []byte
}

// Verify checks a receipt file against a trust bundle and, if given, the
// document. It returns an error only when the document cannot be read or the
// trust bundle is invalid; everything about the receipt is in the Result.
func Verify(in Input) (*Result, error) {
	if in.Trust == nil {
		return nil, fmt.Errorf("no trust bundle")
	}
	fp, err := checkTrust(in.Trust)
	if err != nil {
		return nil, err
	}
	run := newRun(in.Trust, fp, in.Document)
	if in.Document == nil && in.DocumentDigest != nil {
		run.docDigest = in.DocumentDigest
		run.res.DocumentChecked = true
	}
	r, p, err := decodeReceipt(in.Receipt)
	if err != nil {
		run.finish(StepReceiptFormat, fail(ReasonMalformed, "%v", err))
		return run.res, nil
	}
	run.ok(StepReceiptFormat, fmt.Sprintf("receipt v%d in canonical form", r.Version))
	return run.verify(r, p)
}

// VerifyReceipt is Verify for a decoded receipt (for example one a gateway
// returned); the receipt's form is checked as DecodeReceipt checks it, except
// for the JSON text.
func VerifyReceipt(r *notaryv1.Receipt, trust *notaryv1.TrustBundle, document io.Reader) (*Result, error) {
	if trust == nil {
		return nil, fmt.Errorf("no trust bundle")
	}
	fp, err := checkTrust(trust)
	if err != nil {
		return nil, err
	}
	run := newRun(trust, fp, document)
	p, err := parseReceipt(r)
	if err != nil {
		run.finish(StepReceiptFormat, fail(ReasonMalformed, "receipt: %v", err))
		return run.res, nil
	}
	run.ok(StepReceiptFormat, fmt.Sprintf("receipt v%d", r.Version))
	return run.verify(r, p)
}

// checkTrust checks a trust bundle and returns its fingerprint.
func checkTrust(tb *notaryv1.TrustBundle) (string, error) {
	if err := CheckTrustBundle(tb); err != nil {
		return "", err
	}
	return trustFingerprintOf(tb)
}

// epoch is a validator set and the first header height it signs.
type epoch struct {
	from  int64
	vals  []Validator
	total int64
	hash  []byte
}

type run struct {
	tb  *notaryv1.TrustBundle
	doc io.Reader
	// docDigest is the document's digest given instead of the document.
	docDigest []byte
	trusted   map[string]*notaryv1.TrustedValidator
	epochs    []epoch
	res       *Result
	proven    *Proven
	// order is the order of the steps of this receipt.
	order []string
}

func newRun(tb *notaryv1.TrustBundle, fingerprint string, doc io.Reader) *run {
	v := &run{tb: tb, doc: doc, trusted: map[string]*notaryv1.TrustedValidator{}, res: &Result{DocumentChecked: doc != nil, TrustFingerprint: fingerprint}, order: stepOrder}
	vals := make([]Validator, len(tb.Validators))
	var total int64
	for i, tv := range tb.Validators {
		vals[i] = Validator{PubKey: tv.PubKey, Power: tv.Power}
		v.trusted[string(tv.PubKey)] = tv
		total += tv.Power
	}
	v.epochs = []epoch{{from: tb.InitialHeight, vals: vals, total: total, hash: ValidatorSetHash(vals)}}
	return v
}

func (v *run) ok(step, detail string) {
	v.res.Steps = append(v.res.Steps, Step{Name: step, Status: StepOK, Detail: detail})
}

// finish records the failing step, marks the rest not checked, and sets the
// verdict.
func (v *run) finish(step string, f *Failure) {
	v.res.Steps = append(v.res.Steps, Step{Name: step, Status: StepFailed, Detail: f.Detail})
	seen := false
	for _, s := range v.order {
		if s == step {
			seen = true
			continue
		}
		if seen {
			v.res.Steps = append(v.res.Steps, Step{Name: s, Status: StepNotChecked})
		}
	}
	v.res.Verdict, v.res.Reason, v.res.Detail = NotValid, f.Reason, f.Detail
	v.res.Proven = nil
}

func (v *run) verify(r *notaryv1.Receipt, p *parsedReceipt) (*Result, error) {
	v.proven = &Proven{ChainID: r.ChainId, ValidatorChain: []TransitionInfo{}}
	type step struct {
		name string
		fn   func(*notaryv1.Receipt, *parsedReceipt) (string, *Failure)
	}
	var steps []step
	switch {
	case p.log != nil:
		v.order = stepOrderV2
		v.proven.Version = VersionLog
		steps = []step{
			{StepChainID, v.checkChainID},
			{StepLogCheckpoint, v.checkLogCheckpoint},
			{StepLogInclusion, v.checkLogInclusion},
			{StepBatchRecord, v.checkLogBatch},
			{StepMerkleInclusion, v.checkInclusion},
		}
	case RequiresV2(v.tb):
		v.order = stepOrderV1Refused
		steps = []step{
			{StepChainID, v.checkChainID},
			{StepTrustPolicy, v.refuseV1},
		}
	}
	for _, s := range steps {
		detail, f := s.fn(r, p)
		if f != nil {
			v.finish(s.name, f)
			return v.res, nil
		}
		v.ok(s.name, detail)
	}
	if p.log != nil {
		v.res.Steps = append(v.res.Steps, Step{Name: StepRevocationStatus, Status: StepSkipped,
			Detail: "a receipt v2 carries no revocation status: it is asked online (live status)"})
		return v.finishDocument(p)
	}
	steps = []step{
		{StepChainID, v.checkChainID},
		{StepValidatorChain, v.checkValidatorChain},
		{StepAnchorCheckpoint, v.checkAnchor},
		{StepStatusCheckpoint, v.checkStatusCheckpoint},
		{StepBatchRecord, v.checkBatch},
		{StepIssuerRecord, v.checkIssuer},
		{StepMerkleInclusion, v.checkInclusion},
		{StepRevocationStatus, v.checkStatus},
	}
	for _, s := range steps {
		detail, f := s.fn(r, p)
		if f != nil {
			v.finish(s.name, f)
			return v.res, nil
		}
		v.ok(s.name, detail)
	}
	return v.finishDocument(p)
}

// finishDocument runs the document step and sets the verdict.
func (v *run) finishDocument(p *parsedReceipt) (*Result, error) {
	detail, f, err := v.checkDocument(p)
	if err != nil {
		return nil, err
	}
	switch {
	case f != nil:
		v.finish(StepDocument, f)
		return v.res, nil
	case detail == "":
		v.res.Steps = append(v.res.Steps, Step{Name: StepDocument, Status: StepSkipped, Detail: "no document given"})
	default:
		v.ok(StepDocument, detail)
	}
	v.res.Proven = v.proven
	v.res.Verdict = Valid
	if v.proven.Status.Revoked {
		v.res.Verdict = Revoked
	}
	return v.res, nil
}

func (v *run) checkChainID(r *notaryv1.Receipt, _ *parsedReceipt) (string, *Failure) {
	if r.ChainId != v.tb.ChainId {
		return "", fail(ReasonWrongChain, "the receipt is for chain %q, the trust bundle for %q", r.ChainId, v.tb.ChainId)
	}
	return fmt.Sprintf("chain %q, as in the trust bundle", r.ChainId), nil
}

// setAt returns the validator set in force at a header height: the trust
// bundle's, after every verified transition whose header is below height.
func (v *run) setAt(height int64) (epoch, *Failure) {
	if height < v.tb.InitialHeight {
		return epoch{}, fail(ReasonValidatorSetNotReached, "header height %d is below the chain's initial height %d", height, v.tb.InitialHeight)
	}
	e := v.epochs[0]
	for _, x := range v.epochs[1:] {
		if x.from <= height {
			e = x
		}
	}
	return e, nil
}

// checkHeader checks a header against the set in force at its height and
// its commit; it returns the set and the commit check.
func (v *run) checkHeader(what string, h *notaryv1.CometHeader, hash []byte, c *notaryv1.LightCommit) (epoch, *CommitCheck, *Failure) {
	if h.ChainId != v.tb.ChainId {
		return epoch{}, nil, fail(ReasonWrongChain, "%s header is for chain %q, the trust bundle for %q", what, h.ChainId, v.tb.ChainId)
	}
	set, f := v.setAt(h.Height)
	if f != nil {
		return epoch{}, nil, f
	}
	if !bytes.Equal(h.ValidatorsHash, set.hash) {
		return epoch{}, nil, fail(ReasonValidatorSetNotReached,
			"%s header %d names validator set %x; the set reached from the trust bundle at that height is %x", what, h.Height, h.ValidatorsHash, set.hash)
	}
	check, err := VerifyCommit(v.tb.ChainId, set.vals, set.total, hash, h.Height, c)
	if err != nil {
		reason := ReasonSignatureInvalid
		if ce, ok := err.(*commitError); ok && ce.insufficient {
			reason = ReasonInsufficientSignatures
		}
		return epoch{}, nil, fail(reason, "%s header %d: %v", what, h.Height, err)
	}
	return set, check, nil
}

// checkSigners matches the signing validators that are not in the trust
// bundle, in validator order, with the receipt's ministry records, proven
// against appHash; it returns every signer with its name.
func (v *run) checkSigners(what string, set epoch, check *CommitCheck, appHash []byte, recs []*parsedRecord) ([]SignerInfo, *Failure) {
	var out []SignerInfo
	j := 0
	for _, idx := range check.Signed {
		val := set.vals[idx]
		if tv, ok := v.trusted[string(val.PubKey)]; ok {
			out = append(out, SignerInfo{MinistryID: tv.MinistryId, Name: tv.Name, Power: val.Power, Source: SourceTrustBundle})
			continue
		}
		if j >= len(recs) {
			return nil, fail(ReasonProofInvalid, "%s: validator %x signed and is not in the trust bundle, but the receipt has no ministry record for it", what, val.PubKey)
		}
		rec := recs[j]
		j++
		if !ledger.ValidID(rec.ministry.Id) {
			return nil, fail(ReasonProofInvalid, "%s: ministry record id %q is not 1..64 characters of [a-z0-9-] not starting with '-'", what, rec.ministry.Id)
		}
		if !bytes.Equal(rec.ministry.ConsensusPubKey, val.PubKey) {
			return nil, fail(ReasonProofInvalid, "%s: ministry record %q is for consensus key %x, the signer is %x", what, rec.ministry.Id, rec.ministry.ConsensusPubKey, val.PubKey)
		}
		if !verifyMembership(appHash, rec.proof, ledger.MinistryKey(rec.ministry.Id), rec.raw) {
			return nil, fail(ReasonProofInvalid, "%s: the ICS23 proof of ministry record %q does not verify against app hash %x", what, rec.ministry.Id, appHash)
		}
		out = append(out, SignerInfo{MinistryID: rec.ministry.Id, Name: rec.ministry.Name, Power: val.Power, Source: SourceMinistryRecord})
	}
	if j != len(recs) {
		return nil, fail(ReasonProofInvalid, "%s: %d ministry records, but %d signers are outside the trust bundle", what, len(recs), j)
	}
	return out, nil
}

func (v *run) checkValidatorChain(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	if len(p.transitions) == 0 {
		return "no transitions: the trust bundle's validator set signs every header", nil
	}
	var parts []string
	var prev *notaryv1.CometHeader
	for i, t := range p.transitions {
		what := fmt.Sprintf("validator_chain[%d]", i)
		h := t.header
		if prev != nil && h.Height <= prev.Height {
			return "", fail(ReasonValidatorSetNotReached, "%s: header %d does not follow header %d", what, h.Height, prev.Height)
		}
		if prev != nil && !h.Time.AsTime().After(prev.Time.AsTime()) {
			return "", fail(ReasonValidatorSetNotReached, "%s: header %d has time %s, not after the time %s of header %d",
				what, h.Height, formatTime(h.Time), formatTime(prev.Time), prev.Height)
		}
		prev = h
		set, check, f := v.checkHeader(what, h, t.hash, t.commit)
		if f != nil {
			return "", f
		}
		if len(h.AppHash) != hashSize {
			return "", fail(ReasonProofInvalid, "%s: header app hash of %d bytes", what, len(h.AppHash))
		}
		if _, f := v.checkSigners(what, set, check, h.AppHash, t.signers); f != nil {
			return "", f
		}
		next := ValidatorSetHash(t.next)
		if !bytes.Equal(h.NextValidatorsHash, next) {
			return "", fail(ReasonValidatorSetNotReached, "%s: header %d commits to next validator set %x, the receipt's next_validators hash to %x", what, h.Height, h.NextValidatorsHash, next)
		}
		total, err := checkValidatorSet(t.next)
		if err != nil {
			return "", fail(ReasonValidatorSetNotReached, "%s: next_validators: %v", what, err)
		}
		v.epochs = append(v.epochs, epoch{from: h.Height + 1, vals: t.next, total: total, hash: next})
		v.proven.ValidatorChain = append(v.proven.ValidatorChain, TransitionInfo{
			Height: h.Height, Time: h.Time.AsTime().UTC(), SignedPower: check.SignedPower, TotalPower: check.TotalPower,
			NextValidators: len(t.next), NextSetHash: fmt.Sprintf("%x", next),
		})
		parts = append(parts, fmt.Sprintf("header %d signed by %d of %d validators (power %d of %d) leads to set %x (%d validators)",
			h.Height, len(check.Signed), len(set.vals), check.SignedPower, check.TotalPower, next, len(t.next)))
	}
	return strings.Join(parts, "; "), nil
}

func (v *run) checkCheckpoint(what string, c *parsedCheckpoint) (*CheckpointInfo, string, *Failure) {
	h := c.header
	if h.Height != c.height+1 {
		return nil, "", fail(ReasonProofInvalid, "%s: height %d, but its header is at height %d (want %d)", what, c.height, h.Height, c.height+1)
	}
	set, check, f := v.checkHeader(what, h, c.hash, c.commit)
	if f != nil {
		return nil, "", f
	}
	if len(h.AppHash) != hashSize {
		return nil, "", fail(ReasonProofInvalid, "%s: header app hash of %d bytes", what, len(h.AppHash))
	}
	signers, f := v.checkSigners(what, set, check, h.AppHash, c.signers)
	if f != nil {
		return nil, "", f
	}
	info := &CheckpointInfo{
		Height: c.height, Time: h.Time.AsTime().UTC(), AppHash: fmt.Sprintf("%x", h.AppHash), Signers: signers,
		SignedPower: check.SignedPower, TotalPower: check.TotalPower, Validators: len(set.vals),
	}
	detail := fmt.Sprintf("header %d (hash %x) carries app hash %x of height %d; signed by %d of %d validators, power %d of %d (more than 2/3)",
		h.Height, c.hash, h.AppHash, c.height, len(check.Signed), len(set.vals), check.SignedPower, check.TotalPower)
	return info, detail, nil
}

func (v *run) checkAnchor(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	info, detail, f := v.checkCheckpoint("anchor", p.anchor)
	if f != nil {
		return "", f
	}
	v.proven.Anchor = *info
	return detail, nil
}

func (v *run) checkStatusCheckpoint(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	if p.status.height < p.anchor.height {
		return "", fail(ReasonProofInvalid, "status height %d is below the anchor height %d", p.status.height, p.anchor.height)
	}
	if n := len(p.transitions); n > 0 {
		if last := p.transitions[n-1].header.Height; last >= p.status.header.Height {
			return "", fail(ReasonValidatorSetNotReached, "validator transition at header %d is not below the last checkpoint header %d", last, p.status.header.Height)
		}
	}
	info, detail, f := v.checkCheckpoint("status checkpoint", p.status)
	if f != nil {
		return "", f
	}
	if f := checkHeaderOrder(p); f != nil {
		return "", f
	}
	v.proven.Status = StatusInfo{Height: info.Height, AsOf: info.Time}
	return detail, nil
}

// checkHeaderOrder checks that the receipt's headers (validator
// transitions, anchor if any, status) are of one chain: two headers of one
// height are the same header, and of two headers the higher has the later
// time (CometBFT's block time increases strictly with the height).
func checkHeaderOrder(p *parsedReceipt) *Failure {
	type named struct {
		what string
		h    *notaryv1.CometHeader
		hash []byte
	}
	var hs []named
	for i, t := range p.transitions {
		hs = append(hs, named{fmt.Sprintf("validator_chain[%d]", i), t.header, t.hash})
	}
	if p.anchor != nil { // a receipt v2 has no anchor
		hs = append(hs, named{"anchor", p.anchor.header, p.anchor.hash})
	}
	hs = append(hs, named{"status checkpoint", p.status.header, p.status.hash})
	for i, a := range hs {
		for _, b := range hs[i+1:] {
			lo, hi := a, b
			if hi.h.Height < lo.h.Height {
				lo, hi = hi, lo
			}
			switch {
			case lo.h.Height == hi.h.Height && !bytes.Equal(lo.hash, hi.hash):
				return fail(ReasonProofInvalid, "%s header and %s header are two different headers of height %d (%x and %x)",
					lo.what, hi.what, lo.h.Height, lo.hash, hi.hash)
			case lo.h.Height < hi.h.Height && !hi.h.Time.AsTime().After(lo.h.Time.AsTime()):
				return fail(ReasonProofInvalid, "%s header %d has time %s, not after the time %s of %s header %d",
					hi.what, hi.h.Height, formatTime(hi.h.Time), formatTime(lo.h.Time), lo.what, lo.h.Height)
			}
		}
	}
	return nil
}

// formatTime writes a valid timestamp in RFC 3339 (UTC, nanoseconds as needed).
func formatTime(t *timestamppb.Timestamp) string {
	return t.AsTime().UTC().Format(time.RFC3339Nano)
}

// checkTime checks a record's timestamp: present and valid (section
// "Timestamps" of docs/receipt.md).
func checkTime(what string, t *timestamppb.Timestamp) *Failure {
	if t == nil {
		return fail(ReasonProofInvalid, "%s has no time", what)
	}
	if err := t.CheckValid(); err != nil {
		return fail(ReasonProofInvalid, "%s has an invalid time: %v", what, err)
	}
	return nil
}

func (v *run) checkBatch(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	b := p.batch
	if b.Height < 1 || b.Height > p.anchor.height {
		return "", fail(ReasonProofInvalid, "batch of height %d cannot be in the state of height %d", b.Height, p.anchor.height)
	}
	if f := checkTime("the batch record", b.Time); f != nil {
		return "", f
	}
	if at := p.anchor.header.Time; !at.AsTime().After(b.Time.AsTime()) {
		return "", fail(ReasonProofInvalid, "the batch record's time %s is not before the time %s of anchor header %d",
			formatTime(b.Time), formatTime(at), p.anchor.header.Height)
	}
	if !ledger.ValidID(b.AgencyId) {
		return "", fail(ReasonProofInvalid, "the batch record's agency id %q is not 1..64 characters of [a-z0-9-] not starting with '-'", b.AgencyId)
	}
	key := ledger.BatchKey(b.Height, b.TxIndex)
	if !verifyMembership(p.anchor.header.AppHash, p.batchProof, key, p.batchRaw) {
		return "", fail(ReasonProofInvalid, "the ICS23 proof of batch record %q does not verify against app hash %x of height %d", key, p.anchor.header.AppHash, p.anchor.height)
	}
	v.proven.Batch = BatchInfo{Height: b.Height, TxIndex: b.TxIndex, LeafIndex: p.leafIndex, Count: b.Count, Label: b.Label, Time: b.Time.AsTime().UTC()}
	v.proven.RegisteredAt = b.Time.AsTime().UTC()
	return fmt.Sprintf("batch %s (%d digests, root %x) is in the state of height %d", ledger.FormatBatchID(b.Height, b.TxIndex), b.Count, b.Root, p.anchor.height), nil
}

func (v *run) checkIssuer(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	a := p.issuer
	if a.Id != p.batch.AgencyId {
		return "", fail(ReasonProofInvalid, "issuer record is agency %q, the batch was anchored by %q", a.Id, p.batch.AgencyId)
	}
	if !verifyMembership(p.anchor.header.AppHash, p.issuerProof, ledger.AgencyKey(a.Id), p.issuerRaw) {
		return "", fail(ReasonProofInvalid, "the ICS23 proof of agency record %q does not verify against app hash %x", a.Id, p.anchor.header.AppHash)
	}
	v.proven.Issuer = AgencyInfo{ID: a.Id, Name: a.Name}
	return fmt.Sprintf("agency %q is %q in the state of height %d", a.Id, a.Name, p.anchor.height), nil
}

func (v *run) checkInclusion(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	b := p.batch
	if p.alg != b.HashAlgorithm {
		return "", fail(ReasonProofInvalid, "the receipt says %s, the batch holds %s digests", ledger.AlgorithmName(p.alg), ledger.AlgorithmName(b.HashAlgorithm))
	}
	if p.leafIndex >= b.Count {
		return "", fail(ReasonProofInvalid, "leaf %d of a batch of %d", p.leafIndex, b.Count)
	}
	// The leaf of a document anchored under a verification code is its
	// code key and its anchored digest, or in a coded batch its coded entry,
	// which starts with the key. A coded batch's leaves are only ever
	// coded entries: none passes for a plain digest, nor a plain digest
	// for an entry.
	leafData := ledger.LeafData(p.codeKey, p.anchored)
	if b.Coded {
		if p.codeKey == nil {
			return "", fail(ReasonProofInvalid, "batch %s holds coded entries and the receipt names no code key", ledger.FormatBatchID(b.Height, b.TxIndex))
		}
		if !bytes.Equal(p.anchored[:ledger.CodeKeySize], p.codeKey) {
			return "", fail(ReasonProofInvalid, "the coded entry %x does not start with the receipt's code key %x", p.anchored, p.codeKey)
		}
		leafData = p.anchored
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(leafData)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.leafIndex), uint64(b.Count), leaf, p.path, b.Root); err != nil {
		return "", fail(ReasonProofInvalid, "Merkle path of leaf %d does not lead to batch root %x: %v", p.leafIndex, b.Root, err)
	}
	v.proven.Document = DocumentInfo{HashAlgorithm: ledger.AlgorithmName(p.alg), Salted: p.salt != nil, AnchoredDigest: fmt.Sprintf("%x", p.anchored)}
	if p.codeKey != nil {
		v.proven.Document.CodeKey = fmt.Sprintf("%x", p.codeKey)
		return fmt.Sprintf("digest %x under code key %x is leaf %d of %d under root %x", p.anchored, p.codeKey, p.leafIndex, b.Count, b.Root), nil
	}
	return fmt.Sprintf("digest %x is leaf %d of %d under root %x", p.anchored, p.leafIndex, b.Count, b.Root), nil
}

func (v *run) checkStatus(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	// A coded document's record is at its code key's revocation key, which
	// no revocation by digest reaches; a plain one's at its digest's.
	key := ledger.DocumentRevocationKey(p.alg, p.anchored, p.codeKey)
	root := p.status.header.AppHash
	if p.revocation == nil {
		// ics23.VerifyNonMembership checks the neighbours of the key it is
		// given, not the key the proof carries: check that one here, so
		// that no byte of the proof goes unverified.
		if !bytes.Equal(p.statusProof.GetNonexist().GetKey(), key) {
			return "", fail(ReasonProofInvalid, "the non-existence proof is for key %q, not %q", p.statusProof.GetNonexist().GetKey(), key)
		}
		if !verifyNonMembership(root, p.statusProof, key) {
			return "", fail(ReasonProofInvalid, "the ICS23 proof that %q is absent does not verify against app hash %x of height %d", key, root, p.status.height)
		}
		return fmt.Sprintf("no revocation record at height %d", p.status.height), nil
	}
	rv := p.revocation
	b := p.batch
	// A coded document's record names its key and no digest.
	wantDigest := p.anchored
	if p.codeKey != nil {
		wantDigest = nil
	}
	if rv.HashAlgorithm != p.alg || !bytes.Equal(rv.Digest, wantDigest) || !bytes.Equal(rv.CodeKey, p.codeKey) ||
		rv.BatchHeight != b.Height || rv.BatchTxIndex != b.TxIndex || rv.LeafIndex != p.leafIndex {
		return "", fail(ReasonProofInvalid, "the revocation record is for another digest, code key or batch")
	}
	if f := checkTime("the revocation record", rv.Time); f != nil {
		return "", f
	}
	if rv.Height > p.status.height {
		return "", fail(ReasonProofInvalid, "the revocation record's height %d is above the status height %d", rv.Height, p.status.height)
	}
	if rv.Height < b.Height || rv.Time.AsTime().Before(b.Time.AsTime()) {
		return "", fail(ReasonProofInvalid, "the revocation record (height %d, time %s) is dated before its batch (height %d, time %s)",
			rv.Height, formatTime(rv.Time), b.Height, formatTime(b.Time))
	}
	if st := p.status.header.Time; !st.AsTime().After(rv.Time.AsTime()) {
		return "", fail(ReasonProofInvalid, "the revocation record's time %s is not before the time %s of status header %d",
			formatTime(rv.Time), formatTime(st), p.status.header.Height)
	}
	if !validRevoker(rv.RevokedBy) {
		return "", fail(ReasonProofInvalid, "the revocation record's revoked_by %q is neither agency/<id> nor governance/<proposal id>", rv.RevokedBy)
	}
	if !verifyMembership(root, p.statusProof, key, p.revocationRaw) {
		return "", fail(ReasonProofInvalid, "the ICS23 proof of revocation record %q does not verify against app hash %x of height %d", key, root, p.status.height)
	}
	v.proven.Status.Revoked = true
	v.proven.Status.Revocation = &RevocationInfo{
		Reason: reasonCode(rv.Reason), ReasonText: rv.ReasonText, Height: rv.Height, Time: rv.Time.AsTime().UTC(), RevokedBy: rv.RevokedBy,
	}
	return fmt.Sprintf("revoked at height %d (%s), record proven at height %d", rv.Height, reasonCode(rv.Reason), p.status.height), nil
}

// validRevoker reports whether by is "agency/<id>" with a valid id or
// "governance/<proposal id>" with the id in decimal without leading zeros.
func validRevoker(by string) bool {
	if id, ok := strings.CutPrefix(by, "agency/"); ok {
		return ledger.ValidID(id)
	}
	if id, ok := strings.CutPrefix(by, "governance/"); ok {
		n, err := strconv.ParseUint(id, 10, 64)
		return err == nil && strconv.FormatUint(n, 10) == id
	}
	return false
}

// reasonCode is a revocation reason as a short code ("superseded", ...).
func reasonCode(r notaryv1.RevocationReason) string {
	s := strings.TrimPrefix(r.String(), "REVOCATION_REASON_")
	return strings.ToLower(strings.ReplaceAll(s, "_", "-"))
}

// checkDocument binds the document to the anchored digest. It returns an
// empty detail when there is nothing to check.
func (v *run) checkDocument(p *parsedReceipt) (string, *Failure, error) {
	alg := ledger.AlgorithmName(p.alg)
	digest := p.documentDigest
	if v.doc != nil || v.docDigest != nil {
		d := v.docDigest
		if v.doc != nil {
			h := newHash(p.alg)
			if _, err := io.Copy(h, v.doc); err != nil {
				return "", nil, fmt.Errorf("reading the document: %w", err)
			}
			d = h.Sum(nil)
		}
		if digest != nil && !bytes.Equal(d, digest) {
			return "", fail(ReasonDocumentMismatch, "the document's %s digest is %x, the receipt's document_digest is %x", alg, d, digest), nil
		}
		digest = d
	}
	if digest == nil {
		return "", nil, nil
	}
	want := digest
	coded := p.batch != nil && p.batch.Coded
	switch {
	case coded && p.salt == nil:
		return "", fail(ReasonDocumentMismatch, "the document is registered under a verification code: its code is needed to check it"), nil
	case coded:
		want = ledger.CodedEntry(p.codeKey, p.salt, digest)
		if !bytes.Equal(want, p.anchored) {
			return "", fail(ReasonDocumentMismatch, "the code tag of document digest %x is %x, the coded entry's is %x", digest, want[ledger.CodeKeySize:], p.anchored[ledger.CodeKeySize:]), nil
		}
	case p.salt != nil:
		want = ledger.SaltedDigest(p.alg, p.salt, digest)
	}
	if !bytes.Equal(want, p.anchored) {
		if p.salt != nil {
			return "", fail(ReasonDocumentMismatch, "the salted commitment of document digest %x is %x, the anchored digest is %x", digest, want, p.anchored), nil
		}
		return "", fail(ReasonDocumentMismatch, "the document's %s digest is %x, the anchored digest is %x", alg, digest, p.anchored), nil
	}
	v.proven.Document.DocumentDigest = fmt.Sprintf("%x", digest)
	if v.doc == nil && v.docDigest == nil {
		return fmt.Sprintf("the receipt's document digest %x leads to the anchored digest (no document given)", digest), nil, nil
	}
	if p.salt != nil {
		return fmt.Sprintf("document %s digest %x, salted with %x, is the anchored digest", alg, digest, p.salt), nil, nil
	}
	return fmt.Sprintf("document %s digest %x is the anchored digest", alg, digest), nil, nil
}

func newHash(alg ledger.HashAlgorithm) hash.Hash {
	if alg == notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256 {
		return sha3.New256()
	}
	return sha256.New()
}

// verifyMembership runs the unmodified ics23.VerifyMembership with
// ics23.IavlSpec; a proof that makes it panic does not verify.
func verifyMembership(root []byte, p *ics23.CommitmentProof, key, value []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return ics23.VerifyMembership(ics23.IavlSpec, root, p, key, value)
}

// verifyNonMembership runs the unmodified ics23.VerifyNonMembership.
func verifyNonMembership(root []byte, p *ics23.CommitmentProof, key []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return ics23.VerifyNonMembership(ics23.IavlSpec, root, p, key)
}
