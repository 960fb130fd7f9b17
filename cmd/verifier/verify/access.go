package verify

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Access histories. A gateway answers GetAccessHistory with the head of a
// subject's history (count and hash chain, the AccessHead record), the
// entries (Exchange records), an ICS23 proof of each against the app hash of
// one height, and, when asked (with_checkpoint), the checkpoint: the signed
// header carrying that app hash and the validator transitions from genesis.
// AccessHistory checks all of it against the trust bundle with the same
// quorum rules as a receipt. Because the head is proven and commits to every
// entry in order, a node that leaves an entry out, adds one or reorders two
// is caught: the history is complete up to the checkpoint's height.

// ReasonHistoryIncomplete: the entries are not exactly the history the
// proven head commits to (one left out, added, altered or out of order).
const ReasonHistoryIncomplete Reason = "history_incomplete"

// Record is a state record with its ICS23 existence proof, as QueryState
// returns it, at the height of an access history.
type Record struct {
	Key   []byte
	Value []byte
	Proof []byte
}

// ProvenHistory is a verified access history: every value here was checked
// against signatures of validator sets reached from the trust bundle.
type ProvenHistory struct {
	ChainID string `json:"chain_id"`
	// Subject is the hex subject id.
	Subject string `json:"subject"`
	// Height is the state version the history is complete at; AsOf is the
	// time of the signed header carrying its app hash.
	Height int64     `json:"height"`
	AsOf   time.Time `json:"as_of"`
	// Count and Chain are the proven head (Chain in hex; empty history:
	// count 0 and no head record, proven absent).
	Count          uint64           `json:"count"`
	Chain          string           `json:"chain,omitempty"`
	Checkpoint     CheckpointInfo   `json:"checkpoint"`
	ValidatorChain []TransitionInfo `json:"validator_chain"`
	Entries        []AccessInfo     `json:"entries"`
}

// AccessInfo is one verified entry of an access history. The names and the
// legal reference are filled in from the records given to AccessHistory
// (proven at the same height); they are empty when none was given.
type AccessInfo struct {
	Index         uint64    `json:"index"`
	Height        int64     `json:"height"`
	Time          time.Time `json:"time"`
	Requester     string    `json:"requester_agency_id"`
	RequesterName string    `json:"requester_name,omitempty"`
	Provider      string    `json:"provider_agency_id"`
	ProviderName  string    `json:"provider_name,omitempty"`
	// ProviderConfirmed says whether the providing agency co-signed the
	// exchange; when false the requesting agency alone declared it, and
	// nothing proves the provider took part.
	ProviderConfirmed bool   `json:"provider_confirmed"`
	Category          string `json:"category"`
	Purpose           string `json:"purpose"`
	// ConsentID or MandateID is the basis.
	ConsentID      string `json:"consent_id,omitempty"`
	MandateID      string `json:"mandate_id,omitempty"`
	LegalReference string `json:"legal_reference,omitempty"`
	// Reference is the hex salted digest of the agency's case file, if any.
	Reference string `json:"reference,omitempty"`
	TxHash    string `json:"tx_hash"`
}

// MergeAccessPages joins the pages of one access history, fetched in order
// at one height, into one response: the first page's height, head, head
// proof and checkpoint, and the entries of every page. It fails if the pages
// disagree on the height or the head; AccessHistory checks the rest.
func MergeAccessPages(pages []*notaryv1.GetAccessHistoryResponse) (*notaryv1.GetAccessHistoryResponse, error) {
	if len(pages) == 0 || pages[0] == nil {
		return nil, errors.New("no pages")
	}
	first := pages[0]
	out := &notaryv1.GetAccessHistoryResponse{Height: first.Height, Head: first.Head, HeadProof: first.HeadProof, Checkpoint: first.Checkpoint}
	for i, p := range pages {
		if p == nil {
			return nil, fmt.Errorf("page %d is empty", i)
		}
		if p.Height != first.Height {
			return nil, fmt.Errorf("page %d is at height %d, the first at %d", i, p.Height, first.Height)
		}
		if !bytes.Equal(p.Head, first.Head) {
			return nil, fmt.Errorf("page %d has another head than the first", i)
		}
		out.Entries = append(out.Entries, p.Entries...)
	}
	return out, nil
}

// AccessHistory verifies the whole access history of subject, as a gateway
// returned it with with_checkpoint (MergeAccessPages joins the pages),
// against the trust bundle: the checkpoint (validator transitions from the
// trust bundle, header signed by more than 2/3 of the voting power), the
// head and every entry by ICS23 against the header's app hash, and that the
// entries, from index 0, are exactly those the head's count and hash chain
// commit to (ledger.VerifyAccessHistory). Records (agency and mandate
// records at the same height, from QueryState) name the agencies and the
// laws of the entries; each is verified too.
//
// A history that does not verify gives a *Failure, whose Reason says why;
// any other error means the trust bundle is invalid.
func AccessHistory(trust *notaryv1.TrustBundle, subject []byte, resp *notaryv1.GetAccessHistoryResponse, records ...Record) (*ProvenHistory, error) {
	if trust == nil {
		return nil, errors.New("no trust bundle")
	}
	if err := CheckTrustBundle(trust); err != nil {
		return nil, err
	}
	h, f := accessHistory(trust, subject, resp, records)
	if f != nil {
		return nil, f
	}
	return h, nil
}

func accessHistory(trust *notaryv1.TrustBundle, subject []byte, resp *notaryv1.GetAccessHistoryResponse, records []Record) (*ProvenHistory, *Failure) {
	if len(subject) != ledger.DigestSize {
		return nil, fail(ReasonMalformed, "subject id of %d bytes, want %d", len(subject), ledger.DigestSize)
	}
	if resp == nil {
		return nil, fail(ReasonMalformed, "no response")
	}
	if resp.Checkpoint == nil || resp.Checkpoint.Checkpoint == nil {
		return nil, fail(ReasonMalformed, "the response has no checkpoint (ask the gateway with with_checkpoint)")
	}
	pc, err := parseCheckpoint("checkpoint", resp.Checkpoint.Checkpoint)
	if err != nil {
		return nil, fail(ReasonMalformed, "%v", err)
	}
	p := &parsedReceipt{}
	for i, t := range resp.Checkpoint.ValidatorChain {
		if t == nil {
			return nil, fail(ReasonMalformed, "validator_chain[%d]: empty", i)
		}
		pt, err := parseTransition(fmt.Sprintf("validator_chain[%d]", i), t)
		if err != nil {
			return nil, fail(ReasonMalformed, "%v", err)
		}
		p.transitions = append(p.transitions, pt)
	}
	if resp.Height != pc.height {
		return nil, fail(ReasonProofInvalid, "the history is at height %d, its checkpoint at %d", resp.Height, pc.height)
	}

	// The checkpoint, exactly as a receipt's.
	v := newRun(trust, "", nil)
	v.proven = &Proven{ChainID: trust.ChainId, ValidatorChain: []TransitionInfo{}}
	if _, f := v.checkValidatorChain(nil, p); f != nil {
		return nil, f
	}
	if n := len(p.transitions); n > 0 {
		if last := p.transitions[n-1].header.Height; last >= pc.header.Height {
			return nil, fail(ReasonValidatorSetNotReached, "validator transition at header %d is not below the checkpoint header %d", last, pc.header.Height)
		}
	}
	cp, _, f := v.checkCheckpoint("checkpoint", pc)
	if f != nil {
		return nil, f
	}
	root := pc.header.AppHash
	out := &ProvenHistory{
		ChainID: trust.ChainId, Subject: hex.EncodeToString(subject), Height: pc.height, AsOf: cp.Time,
		Checkpoint: *cp, ValidatorChain: v.proven.ValidatorChain, Entries: []AccessInfo{},
	}

	// The head: proven present, or proven absent for an empty history.
	headKey := ledger.AccessHeadKey(subject)
	head := &notaryv1.AccessHead{}
	if len(resp.Head) == 0 {
		pf, err := decodeProof("head_proof", resp.HeadProof, false)
		if err != nil {
			return nil, fail(ReasonMalformed, "%v", err)
		}
		if !bytes.Equal(pf.GetNonexist().GetKey(), headKey) {
			return nil, fail(ReasonProofInvalid, "the non-existence proof of the head is for key %q, not %q", pf.GetNonexist().GetKey(), headKey)
		}
		if !verifyNonMembership(root, pf, headKey) {
			return nil, fail(ReasonProofInvalid, "the ICS23 proof that the subject has no history does not verify against app hash %x of height %d", root, pc.height)
		}
	} else {
		if err := decodeRecord("head", resp.Head, head); err != nil {
			return nil, fail(ReasonMalformed, "%v", err)
		}
		pf, err := decodeProof("head_proof", resp.HeadProof, true)
		if err != nil {
			return nil, fail(ReasonMalformed, "%v", err)
		}
		if !verifyMembership(root, pf, headKey, resp.Head) {
			return nil, fail(ReasonProofInvalid, "the ICS23 proof of the history head does not verify against app hash %x of height %d", root, pc.height)
		}
		out.Chain = hex.EncodeToString(head.Chain)
	}
	out.Count = head.Count

	// The entries: each in its place, about the subject, proven; then all
	// of them against the head's count and chain.
	if uint64(len(resp.Entries)) != head.Count {
		return nil, fail(ReasonHistoryIncomplete, "%d entries, but the proven head of height %d counts %d", len(resp.Entries), pc.height, head.Count)
	}
	raws := make([][]byte, len(resp.Entries))
	out.Entries = make([]AccessInfo, len(resp.Entries))
	if f := checkEntries(subject, root, pc.height, resp.Entries, raws, out.Entries); f != nil {
		return nil, f
	}
	if err := ledger.VerifyAccessHistory(subject, head, raws); err != nil {
		return nil, fail(ReasonHistoryIncomplete, "%v", err)
	}

	// The records that name agencies and laws.
	agencies, mandates, f := verifyRecords(root, pc.height, records)
	if f != nil {
		return nil, f
	}
	for i := range out.Entries {
		e := &out.Entries[i]
		e.RequesterName, e.ProviderName = agencies[e.Requester], agencies[e.Provider]
		if m, ok := mandates[e.MandateID]; ok && e.MandateID != "" {
			e.LegalReference = m
		}
	}
	return out, nil
}

// verifyRecords verifies agency and mandate records against root; it
// returns agency names and mandates' legal references by id.
func verifyRecords(root []byte, height int64, records []Record) (map[string]string, map[string]string, *Failure) {
	agencies, mandates := map[string]string{}, map[string]string{}
	for i, r := range records {
		what := fmt.Sprintf("records[%d]", i)
		pf, err := decodeProof(what+".proof", r.Proof, true)
		if err != nil {
			return nil, nil, fail(ReasonMalformed, "%v", err)
		}
		var key []byte
		switch {
		case bytes.HasPrefix(r.Key, ledger.AgencyPrefix()):
			a := &notaryv1.Agency{}
			if err := decodeRecord(what+".value", r.Value, a); err != nil {
				return nil, nil, fail(ReasonMalformed, "%v", err)
			}
			key = ledger.AgencyKey(a.Id)
			agencies[a.Id] = a.Name
		case bytes.HasPrefix(r.Key, ledger.MandatePrefix()):
			m := &notaryv1.Mandate{}
			if err := decodeRecord(what+".value", r.Value, m); err != nil {
				return nil, nil, fail(ReasonMalformed, "%v", err)
			}
			key = ledger.MandateKey(m.Id)
			mandates[m.Id] = m.LegalReference
		default:
			return nil, nil, fail(ReasonMalformed, "%s: key %q is neither an agency nor a mandate record", what, r.Key)
		}
		if !bytes.Equal(key, r.Key) {
			return nil, nil, fail(ReasonProofInvalid, "%s: the record at key %q is for key %q", what, r.Key, key)
		}
		if !verifyMembership(root, pf, key, r.Value) {
			return nil, nil, fail(ReasonProofInvalid, "the ICS23 proof of record %q does not verify against app hash %x of height %d", key, root, height)
		}
	}
	return agencies, mandates, nil
}

// checkEntries checks each entry on its own (in its place, about subject,
// proven against root) and fills raws and infos; the entries are split
// among the processors, and the failure of the lowest entry is reported, so
// the result does not depend on the scheduling.
func checkEntries(subject, root []byte, height int64, entries []*notaryv1.AccessEntry, raws [][]byte, infos []AccessInfo) *Failure {
	workers := min(runtime.GOMAXPROCS(0), (len(entries)+63)/64)
	if workers <= 1 {
		return checkRange(subject, root, height, entries, raws, infos, 0, len(entries))
	}
	results := make([]*Failure, workers)
	var wg sync.WaitGroup
	per := (len(entries) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min((w+1)*per, len(entries))
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = checkRange(subject, root, height, entries, raws, infos, lo, hi)
		}()
	}
	wg.Wait()
	for _, f := range results { // in entry order: the lowest failure
		if f != nil {
			return f
		}
	}
	return nil
}

// checkRange checks entries[lo:hi] in order and returns the failure of the
// first that fails.
func checkRange(subject, root []byte, height int64, entries []*notaryv1.AccessEntry, raws [][]byte, infos []AccessInfo, lo, hi int) *Failure {
	for i := lo; i < hi; i++ {
		e := entries[i]
		if e == nil {
			return fail(ReasonMalformed, "entries[%d]: empty", i)
		}
		x := &notaryv1.Exchange{}
		if err := decodeRecord(entryField(i, "record"), e.Record, x); err != nil {
			return fail(ReasonMalformed, "%v", err)
		}
		if x.Index != uint64(i) {
			return fail(ReasonHistoryIncomplete, "entry %d of the history is entry %d: entries are missing or out of order", i, x.Index)
		}
		if !bytes.Equal(x.Subject, subject) {
			return fail(ReasonHistoryIncomplete, "entry %d is about another subject", i)
		}
		pf, err := decodeProof(entryField(i, "proof"), e.Proof, true)
		if err != nil {
			return fail(ReasonMalformed, "%v", err)
		}
		if !verifyMembership(root, pf, ledger.ExchangeKey(subject, uint64(i)), e.Record) {
			return fail(ReasonProofInvalid, "the ICS23 proof of history entry %d does not verify against app hash %x of height %d", i, root, height)
		}
		if x.Time == nil || x.Height < 1 || x.Height > height {
			return fail(ReasonProofInvalid, "entry %d has no time or height %d outside 1..%d", i, x.Height, height)
		}
		raws[i] = e.Record
		infos[i] = AccessInfo{
			Index: x.Index, Height: x.Height, Time: x.Time.AsTime().UTC(),
			Requester: x.RequesterAgencyId, Provider: x.ProviderAgencyId, ProviderConfirmed: x.ProviderConfirmed,
			Category: x.Category, Purpose: x.Purpose,
			ConsentID: x.GetConsentId(), MandateID: x.GetMandateId(),
			Reference: hex.EncodeToString(x.Reference), TxHash: hex.EncodeToString(x.TxHash),
		}
	}
	return nil
}

// entryField names a field of an entry in messages.
func entryField(i int, field string) string { return "entries[" + strconv.Itoa(i) + "]." + field }
