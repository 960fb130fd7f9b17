package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	flog "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Receipts v2 (docs/receipt.md, "Receipt v2"): document -> anchored digest
// -> batch root -> the batch's leaf of the evidence log -> a checkpoint the
// trust bundle accepts.

// Sources of the validator set a checkpoint was checked against.
const (
	// LogTrustBundleCheckpoint: the trust bundle's log_validators, the set
	// of the log checkpoint the bundle carries.
	LogTrustBundleCheckpoint = "log_validators"
	// LogTrustGenesis: the trust bundle's genesis validators (a bundle
	// without a log checkpoint).
	LogTrustGenesis = "genesis_validators"
)

// LogInfo is what a receipt v2 proves through the evidence log.
type LogInfo struct {
	// LeafIndex is the batch's leaf in the log.
	LeafIndex uint64 `json:"leaf_index"`
	// Size and Root are the checkpoint's.
	Size uint64 `json:"size"`
	Root string `json:"root"`
	// Trust names the set the checkpoint was checked against
	// (LogTrustBundleCheckpoint or LogTrustGenesis).
	Trust string `json:"trust"`
	// BundleCheckpoint is set when the checkpoint's body is the trust
	// bundle's own checkpoint.
	BundleCheckpoint bool         `json:"bundle_checkpoint,omitempty"`
	Signers          []SignerInfo `json:"signers"`
	SignedPower      int64        `json:"signed_power"`
	TotalPower       int64        `json:"total_power"`
	// Witnesses are the names of the bundle's witnesses whose cosignatures
	// verified.
	Witnesses []string `json:"witnesses"`
}

// refuseV1 refuses a receipt v1 under a trust bundle that requires v2.
func (v *run) refuseV1(*notaryv1.Receipt, *parsedReceipt) (string, *Failure) {
	return "", fail(ReasonReceiptV2Required,
		"the trust bundle carries an evidence log checkpoint or requires witnesses' cosignatures, and so accepts receipts v2 only; renew this receipt with `verifier renew`")
}

// renewAdvice ends the detail of a checkpoint that the bundle's set does
// not sign.
const renewAdvice = "if the consortium's validators changed since the trust bundle was exported, update the trust bundle or renew the receipt (`verifier renew`)"

// checkLogCheckpoint checks the receipt's checkpoint against the trust
// bundle's policy: valid for its set, not contradicting its checkpoint,
// cosigned as it requires.
func (v *run) checkLogCheckpoint(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	set := trustedLogSet(v.tb)
	trust := LogTrustGenesis
	if len(v.tb.LogCheckpoint) > 0 {
		trust = LogTrustBundleCheckpoint
	}
	c, err := VerifyLogCheckpoint(v.tb.ChainId, p.log.checkpoint, set.vals)
	if err != nil {
		switch {
		case errors.Is(err, ErrCheckpointNoSigner):
			return "", fail(ReasonValidatorSetNotReached, "the receipt's checkpoint is signed by no validator of the trust bundle's %s: %v; %s", setName(trust), err, renewAdvice)
		case errors.Is(err, ErrCheckpointQuorum):
			return "", fail(ReasonInsufficientSignatures, "the receipt's checkpoint is not signed by more than 2/3 of the power of the trust bundle's %s: %v; %s", setName(trust), err, renewAdvice)
		case errors.Is(err, ErrCheckpointSignature):
			return "", fail(ReasonSignatureInvalid, "the receipt's checkpoint: %v", err)
		case errors.Is(err, ErrCheckpointOrigin):
			return "", fail(ReasonWrongChain, "the receipt's checkpoint: %v", err)
		}
		return "", fail(ReasonProofInvalid, "the receipt's checkpoint: %v", err)
	}
	info := &LogInfo{LeafIndex: p.log.leafIndex, Size: c.Size, Root: fmt.Sprintf("%x", c.Root), Trust: trust,
		SignedPower: c.SignedPower, TotalPower: c.TotalPower, Witnesses: []string{}}
	power := map[string]int64{}
	for _, val := range set.vals {
		power[val.MinistryID] = val.Power
	}
	for _, id := range c.Signers {
		info.Signers = append(info.Signers, SignerInfo{MinistryID: id, Name: set.names[id], Power: power[id], Source: SourceTrustBundle})
	}
	if len(v.tb.LogCheckpoint) > 0 {
		// CheckTrustBundle verified the bundle's checkpoint: its body is
		// read here, not verified again.
		var bc flog.Checkpoint
		if _, err := bc.Unmarshal(noteBody(v.tb.LogCheckpoint)); err != nil {
			return "", fail(ReasonProofInvalid, "the trust bundle's checkpoint: %v", err)
		}
		if c.Size == bc.Size && !bytes.Equal(c.Root, bc.Hash) {
			return "", fail(ReasonCheckpointFork, "the receipt's checkpoint of size %d has root %x, the trust bundle's checkpoint of that size has root %x: the log was forked",
				c.Size, c.Root, bc.Hash)
		}
		info.BundleCheckpoint = bytes.Equal(noteBody(p.log.checkpoint), noteBody(v.tb.LogCheckpoint))
	}
	policy := v.tb
	if info.BundleCheckpoint {
		// The bundle vouches for its own checkpoint: no cosignature needed.
		policy = &notaryv1.TrustBundle{Witnesses: v.tb.Witnesses}
	}
	names, err := verifyCosignatures(policy, p.log.checkpoint, c)
	if err != nil {
		if errors.Is(err, ErrInsufficientCosigned) {
			return "", fail(ReasonInsufficientCosignatures, "the receipt's checkpoint of size %d: %v (witnesses that cosigned: %s)", c.Size, err, orNone(names))
		}
		if errors.Is(err, ErrCosignatureInvalid) {
			return "", fail(ReasonSignatureInvalid, "the receipt's checkpoint of size %d: %v", c.Size, err)
		}
		return "", fail(ReasonProofInvalid, "the receipt's checkpoint of size %d: %v", c.Size, err)
	}
	if names != nil {
		info.Witnesses = names
	}
	v.proven.Log = info
	detail := fmt.Sprintf("checkpoint of size %d, root %x, signed by %d validators of the trust bundle's %s, power %d of %d (more than 2/3)",
		c.Size, c.Root, len(c.Signers), setName(trust), c.SignedPower, c.TotalPower)
	if info.BundleCheckpoint {
		detail += "; it is the trust bundle's own checkpoint"
	}
	if len(v.tb.Witnesses) > 0 {
		detail += fmt.Sprintf("; cosigned by %d of the bundle's %d witnesses (%d required)", len(info.Witnesses), len(v.tb.Witnesses), v.tb.WitnessThreshold)
	}
	return detail, nil
}

func setName(trust string) string {
	if trust == LogTrustBundleCheckpoint {
		return "log validators (the set of its checkpoint)"
	}
	return "genesis validators"
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// checkLogInclusion checks the RFC 6962 inclusion of the leaf at its index
// in the log of the checkpoint's size and root.
func (v *run) checkLogInclusion(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	l, info := p.log, v.proven.Log
	if l.leafIndex >= info.Size {
		return "", fail(ReasonProofInvalid, "leaf %d of a log of %d leaves", l.leafIndex, info.Size)
	}
	root, err := decodeHex(info.Root, hashSize)
	if err != nil {
		return "", fail(ReasonProofInvalid, "checkpoint root: %v", err)
	}
	leafHash := rfc6962.DefaultHasher.HashLeaf(l.leaf)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, l.leafIndex, info.Size, leafHash, l.proof, root); err != nil {
		return "", fail(ReasonProofInvalid, "the inclusion proof of leaf %d (hash %x) does not lead to the root %x of the log of size %d: %v",
			l.leafIndex, leafHash, root, info.Size, err)
	}
	return fmt.Sprintf("leaf %d (hash %x) is in the log of size %d with root %x (%d proof hashes)", l.leafIndex, leafHash, info.Size, root, len(l.proof)), nil
}

// checkLogBatch checks the batch record of the leaf: its key is the key
// of its height and transaction index, with a valid time and agency id.
func (v *run) checkLogBatch(_ *notaryv1.Receipt, p *parsedReceipt) (string, *Failure) {
	b := p.batch
	if b.Height < v.tb.InitialHeight {
		return "", fail(ReasonProofInvalid, "the batch record's height %d is below the chain's initial height %d", b.Height, v.tb.InitialHeight)
	}
	if key := ledger.BatchKey(b.Height, b.TxIndex); !bytes.Equal(key, p.log.batchKey) {
		return "", fail(ReasonProofInvalid, "the leaf's key %q is not the key %q of its batch record (height %d, tx %d)", p.log.batchKey, key, b.Height, b.TxIndex)
	}
	if f := checkTime("the batch record", b.Time); f != nil {
		return "", f
	}
	if !ledger.ValidID(b.AgencyId) {
		return "", fail(ReasonProofInvalid, "the batch record's agency id %q is not 1..64 characters of [a-z0-9-] not starting with '-'", b.AgencyId)
	}
	v.proven.Batch = BatchInfo{Height: b.Height, TxIndex: b.TxIndex, LeafIndex: p.leafIndex, Count: b.Count, Label: b.Label, Time: b.Time.AsTime().UTC()}
	v.proven.RegisteredAt = b.Time.AsTime().UTC()
	v.proven.Issuer = AgencyInfo{ID: b.AgencyId}
	return fmt.Sprintf("batch %s (%d digests, root %x) anchored by agency %q at %s", ledger.FormatBatchID(b.Height, b.TxIndex), b.Count, b.Root, b.AgencyId, formatTime(b.Time)), nil
}

// checkLiveStatusV2 is CheckLiveStatus for a receipt v2.
func checkLiveStatusV2(trust *notaryv1.TrustBundle, rcpt *notaryv1.Receipt, live *notaryv1.LiveStatus) (*LiveCheck, error) {
	if trust == nil || rcpt.Document == nil {
		return nil, &LiveError{Code: LiveMismatch, Detail: "no trust bundle or no receipt to check the live status against"}
	}
	p, err := parseReceipt(rcpt)
	if err != nil {
		return nil, &LiveError{Code: LiveMismatch, Detail: err.Error()}
	}
	if err := checkLiveFor(live, rcpt, p.batch.Height); err != nil {
		return nil, err
	}
	if p.status, err = parseCheckpoint("status.checkpoint", live.Status.Checkpoint); err == nil {
		if len(live.Status.Revocation) > 0 {
			p.revocation = &notaryv1.Revocation{}
			if err = decodeRecord("status.revocation", live.Status.Revocation, p.revocation); err == nil {
				p.revocationRaw = live.Status.Revocation
			}
		}
	}
	if err == nil {
		p.statusProof, err = decodeProof("status.proof", live.Status.Proof, p.revocation != nil)
	}
	for i, t := range live.ValidatorChain {
		if err != nil {
			break
		}
		var pt *parsedTransition
		if pt, err = parseTransition(fmt.Sprintf("validator_chain[%d]", i), t); err == nil {
			p.transitions = append(p.transitions, pt)
		}
	}
	if err != nil {
		return nil, &LiveError{Code: LiveMalformed, Detail: err.Error()}
	}
	fp, err := checkTrust(trust)
	if err != nil {
		return nil, &LiveError{Code: LiveMismatch, Detail: err.Error()}
	}
	v := newRun(trust, fp, nil)
	v.proven = &Proven{}
	if p.status.height < p.batch.Height {
		return nil, &LiveError{Code: LiveNotValid, Reason: ReasonProofInvalid, Detail: fmt.Sprintf("status height %d is below the batch height %d", p.status.height, p.batch.Height)}
	}
	if n := len(p.transitions); n > 0 && p.transitions[n-1].header.Height >= p.status.header.Height {
		return nil, &LiveError{Code: LiveNotValid, Reason: ReasonValidatorSetNotReached, Detail: "a validator transition is not below the status header"}
	}
	if _, f := v.checkValidatorChain(rcpt, p); f != nil {
		return nil, &LiveError{Code: LiveNotValid, Reason: f.Reason, Detail: f.Detail}
	}
	info, _, f := v.checkCheckpoint("status checkpoint", p.status)
	if f != nil {
		return nil, &LiveError{Code: LiveNotValid, Reason: f.Reason, Detail: f.Detail}
	}
	if f := checkHeaderOrder(p); f != nil {
		return nil, &LiveError{Code: LiveNotValid, Reason: f.Reason, Detail: f.Detail}
	}
	v.proven.Status = StatusInfo{Height: info.Height, AsOf: info.Time}
	if _, f := v.checkStatus(rcpt, p); f != nil {
		return nil, &LiveError{Code: LiveNotValid, Reason: f.Reason, Detail: f.Detail}
	}
	c := LiveCheck(v.proven.Status)
	return &c, nil
}
