package ledger

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const (
	voting   = notaryv1.ProposalStatus_PROPOSAL_STATUS_VOTING
	passed   = notaryv1.ProposalStatus_PROPOSAL_STATUS_PASSED
	expired  = notaryv1.ProposalStatus_PROPOSAL_STATUS_EXPIRED
	failed   = notaryv1.ProposalStatus_PROPOSAL_STATUS_FAILED
	rejected = notaryv1.ProposalStatus_PROPOSAL_STATUS_REJECTED

	yes     = notaryv1.VoteOption_VOTE_OPTION_YES
	no      = notaryv1.VoteOption_VOTE_OPTION_NO
	abstain = notaryv1.VoteOption_VOTE_OPTION_ABSTAIN
)

// govMinistries names the ministries of the governance tests' genesis states.
var govMinistries = []string{"hacienda", "interior", "sanidad", "trabajo", "defensa", "justicia"}

// govGenesis is testGenesis with one ministry per power, named after
// govMinistries in order.
func govGenesis(powers ...int64) *notaryv1.GenesisState {
	g := testGenesis()
	g.Ministries = nil
	for i, p := range powers {
		id := govMinistries[i]
		g.Ministries = append(g.Ministries, &notaryv1.Ministry{
			Id: id, Name: "Ministerio de " + id,
			GovPubKey: pub(ministryGov(id)), ConsensusPubKey: pub(ministryCons(id)), Power: p,
		})
	}
	return g
}

// govMandate is a valid mandate: aeat may obtain tax data from sepe for
// eligibility checks during a year.
func govMandate(id string) *notaryv1.Mandate {
	return &notaryv1.Mandate{
		Id:                 id,
		LegalReference:     "Ley 58/2003, art. 94, BOE-A-2003-23186",
		RequestingAgencies: []string{"aeat"},
		ProvidingAgencies:  []string{"sepe"},
		Categories:         []string{"tax"},
		Purposes:           []string{"eligibility-check"},
		ValidFrom:          ts(genesisTime.Add(-time.Hour)),
		ValidUntil:         ts(genesisTime.AddDate(1, 0, 0)),
	}
}

func actAddAgency(id string, perms ...notaryv1.Permission) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: &notaryv1.Agency{
		Id: id, Name: "Agencia " + id, PubKey: pub(agencyKey(id)), Permissions: perms,
	}}}
}

func actRemoveAgency(id string) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: id}}
}

func actUpdateAgency(a *notaryv1.Agency) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_UpdateAgency{UpdateAgency: a}}
}

func actAddValidator(id string, power int64) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: &notaryv1.Ministry{
		Id: id, Name: "Ministerio de " + id, GovPubKey: pub(ministryGov(id)), ConsensusPubKey: pub(ministryCons(id)), Power: power,
	}}}
}

func actRemoveValidator(id string) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveValidator{RemoveValidator: id}}
}

func actReweight(id string, power int64) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ReweightValidator{
		ReweightValidator: &notaryv1.ReweightValidator{MinistryId: id, Power: power},
	}}
}

func actRegisterMandate(m *notaryv1.Mandate) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RegisterMandate{RegisterMandate: m}}
}

func actExpireMandate(id string) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ExpireMandate{ExpireMandate: id}}
}

func actChangeParams(p *notaryv1.Params) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ChangeParams{ChangeParams: p}}
}

func actRevoke(ds []byte) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_Revoke{Revoke: revokeBody(ds).GetRevoke()}}
}

func proposeBody(ministry, title string, a *notaryv1.ProposalAction) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{MinistryId: ministry, Title: title, Action: a}}}
}

func voteBody(ministry string, id uint64, opt notaryv1.VoteOption) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{MinistryId: ministry, ProposalId: id, Option: opt}}}
}

// govHarness is a fixture with governance helpers. Its tx method gives
// several transactions of one signer in one block consecutive sequences.
type govHarness struct {
	*fixture
	pending map[string]uint64
}

func newGovHarness(t *testing.T, g *notaryv1.GenesisState) *govHarness {
	t.Helper()
	return &govHarness{fixture: newFixture(t, g), pending: map[string]uint64{}}
}

// tx signs body with key's next sequence, counting the transactions already
// signed for the coming block.
func (h *govHarness) tx(key ed25519.PrivateKey, body *notaryv1.TxBody) []byte {
	k := string(pub(key))
	seq := h.seq[k] + h.pending[k]
	h.pending[k]++
	return h.signSeq(key, seq, body)
}

func (h *govHarness) propose(ministry string, a *notaryv1.ProposalAction) []byte {
	return h.tx(ministryGov(ministry), proposeBody(ministry, "Propuesta de "+ministry, a))
}

func (h *govHarness) vote(ministry string, id uint64, opt notaryv1.VoteOption) []byte {
	return h.tx(ministryGov(ministry), voteBody(ministry, id, opt))
}

// run mirrors fixture.block and also returns the block's EndResult.
func (h *govHarness) run(txs ...[]byte) ([]Outcome, EndResult) {
	f := h.fixture
	f.t.Helper()
	defer func() { h.pending = map[string]uint64{} }()
	e, err := f.l.NewExec(f.st, f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeDeliver)
	if err != nil {
		f.t.Fatalf("NewExec: %v", err)
	}
	outs := make([]Outcome, len(txs))
	for i, raw := range txs {
		tx, err := DecodeTx(testChain, raw, 0)
		if err != nil {
			outs[i] = Outcome{Err: err}
			continue
		}
		out, err := e.Run(uint32(i), tx)
		if err != nil {
			f.t.Fatalf("Run: store error %v", err)
		}
		if out.Err == nil {
			f.seq[string(tx.Signer)]++
		}
		outs[i] = out
	}
	end, err := e.End()
	if err != nil {
		f.t.Fatalf("End: %v", err)
	}
	_, f.leaves = e.LogLeaves()
	for _, d := range Entries(e.NewBatches()) {
		f.idx[makeDigestKey(d.Algorithm, d.Digest)] = d.Locator
	}
	f.height++
	f.time = f.time.Add(time.Second)
	return outs, end
}

// block shadows fixture.block, so that tx's sequences stay right.
func (h *govHarness) block(txs ...[]byte) []Outcome {
	h.t.Helper()
	outs, _ := h.run(txs...)
	return outs
}

// runOK runs a block whose transactions must all succeed.
func (h *govHarness) runOK(txs ...[]byte) EndResult {
	h.t.Helper()
	outs, end := h.run(txs...)
	for i, out := range outs {
		if out.Err != nil {
			h.t.Fatalf("tx %d: %v", i, out.Err)
		}
	}
	return end
}

// nextID is the id the next proposal will get.
func (h *govHarness) nextID() uint64 {
	h.t.Helper()
	meta, err := loadMeta(h.st)
	if err != nil {
		h.t.Fatal(err)
	}
	return meta.NextProposalId
}

// enact proposes a in one block, with the YES votes of voters (the first one
// proposes), and returns the proposal's id, the block's height and its
// EndResult.
func (h *govHarness) enact(a *notaryv1.ProposalAction, voters ...string) (uint64, int64, EndResult) {
	h.t.Helper()
	id := h.nextID()
	txs := [][]byte{h.propose(voters[0], a)}
	for _, v := range voters {
		txs = append(txs, h.vote(v, id, yes))
	}
	height := h.height
	end := h.runOK(txs...)
	return id, height, end
}

// enactPassed is enact by three of the four genesis ministries, checking that
// the proposal passed.
func (h *govHarness) enactPassed(a *notaryv1.ProposalAction) (uint64, int64, EndResult) {
	h.t.Helper()
	id, height, end := h.enact(a, "hacienda", "interior", "sanidad")
	if p := h.proposal(id); p.Status != passed || p.DecidedHeight != height {
		h.t.Fatalf("proposal %d: status %s at %d, result %q", id, p.Status, p.DecidedHeight, p.Result)
	}
	return id, height, end
}

func (h *govHarness) proposal(id uint64) *notaryv1.Proposal {
	h.t.Helper()
	p, err := loadProposal(h.st, id)
	if err != nil || p == nil {
		h.t.Fatalf("proposal %d: %v %v", id, p, err)
	}
	return p
}

func (h *govHarness) isOpen(id uint64) bool {
	h.t.Helper()
	ids, err := openProposalIDs(h.st)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (h *govHarness) ministry(id string) *notaryv1.Ministry {
	h.t.Helper()
	m, err := loadMinistry(h.st, id)
	if err != nil || m == nil {
		h.t.Fatalf("ministry %s: %v %v", id, m, err)
	}
	return m
}

func (h *govHarness) agency(id string) *notaryv1.Agency {
	h.t.Helper()
	a, err := loadAgency(h.st, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *govHarness) valsetChange(height int64) *notaryv1.ValsetChange {
	h.t.Helper()
	rec := &notaryv1.ValsetChange{}
	if ok, err := load(h.st, ValsetChangeKey(height), rec); !ok || err != nil {
		h.t.Fatalf("no validator-set change record at %d: %v", height, err)
	}
	return rec
}

func sameUpdates(got, want []ValidatorUpdate) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i].PubKey, want[i].PubKey) || got[i].Power != want[i].Power {
			return false
		}
	}
	return true
}

func findEvent(evs []Event, typ string, kv ...string) bool {
	for _, ev := range evs {
		if ev.Type != typ {
			continue
		}
		match := true
		for i := 0; i+1 < len(kv); i += 2 {
			found := false
			for _, a := range ev.Attributes {
				if a.Key == kv[i] && a.Value == kv[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if match {
			return true
		}
	}
	return false
}

func TestGovThreshold(t *testing.T) {
	cases := []struct {
		name                string
		powers              []int64
		threshold           *notaryv1.Fraction // nil: the default 2/3
		yes, no, abstaining []int              // indexes into govMinistries
		want                notaryv1.ProposalStatus
	}{
		{name: "exactly 2/3 does not pass", powers: []int64{10, 10, 10}, yes: []int{0, 1}, want: voting},
		{name: "just above 2/3 passes", powers: []int64{10, 10, 11}, yes: []int{0, 2}, want: passed},
		{name: "just below 2/3 does not pass", powers: []int64{10, 10, 11}, yes: []int{0, 1}, want: voting},
		{name: "unanimity passes", powers: []int64{10, 10, 10}, yes: []int{0, 1, 2}, want: passed},
		{name: "3 of 4 equal powers pass", powers: []int64{10, 10, 10, 10}, yes: []int{0, 1, 2}, want: passed},
		{name: "exactly 2/3 and the rest against is rejected", powers: []int64{10, 10, 10}, yes: []int{0, 1}, no: []int{2}, want: rejected},
		{name: "one against of four can still pass", powers: []int64{10, 10, 10, 10}, yes: []int{0}, no: []int{1}, want: voting},
		{name: "two against of four is rejected", powers: []int64{10, 10, 10, 10}, yes: []int{0}, no: []int{1, 2}, want: rejected},
		{name: "abstentions count like no for rejection", powers: []int64{10, 10, 10, 10}, yes: []int{0}, abstaining: []int{1, 2}, want: rejected},
		{name: "a single validator passes alone", powers: []int64{10}, yes: []int{0}, want: passed},
		{name: "threshold 3/4: exactly 3/4 does not pass", powers: []int64{10, 10, 10, 10}, threshold: &notaryv1.Fraction{Numerator: 3, Denominator: 4}, yes: []int{0, 1, 2}, want: voting},
		{name: "threshold 1/2: exactly half does not pass", powers: []int64{10, 10}, threshold: &notaryv1.Fraction{Numerator: 1, Denominator: 2}, yes: []int{0}, want: voting},
		{name: "threshold 1/2: above half passes", powers: []int64{10, 11}, threshold: &notaryv1.Fraction{Numerator: 1, Denominator: 2}, yes: []int{1}, want: passed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := govGenesis(tc.powers...)
			if tc.threshold != nil {
				g.Params.GovThreshold = tc.threshold
			}
			h := newGovHarness(t, g)
			id := h.nextID()
			txs := [][]byte{h.propose("hacienda", actAddAgency("nueva", notaryv1.Permission_PERMISSION_ANCHOR))}
			var wantYes, wantNo, wantAbstain int64
			for _, i := range tc.yes {
				txs = append(txs, h.vote(govMinistries[i], id, yes))
				wantYes += tc.powers[i]
			}
			for _, i := range tc.no {
				txs = append(txs, h.vote(govMinistries[i], id, no))
				wantNo += tc.powers[i]
			}
			for _, i := range tc.abstaining {
				txs = append(txs, h.vote(govMinistries[i], id, abstain))
				wantAbstain += tc.powers[i]
			}
			end := h.runOK(txs...)
			p := h.proposal(id)
			if p.Status != tc.want {
				t.Fatalf("status %s, want %s (yes %d no %d abstain %d)", p.Status, tc.want, p.YesPower, p.NoPower, p.AbstainPower)
			}
			if p.YesPower != wantYes || p.NoPower != wantNo || p.AbstainPower != wantAbstain {
				t.Fatalf("tally yes %d no %d abstain %d, want %d %d %d", p.YesPower, p.NoPower, p.AbstainPower, wantYes, wantNo, wantAbstain)
			}
			if got := h.agency("nueva") != nil; got != (tc.want == passed) {
				t.Fatalf("agency registered: %v, status %s", got, p.Status)
			}
			decided := tc.want != voting
			if h.isOpen(id) == decided || (p.DecidedHeight != 0) != decided {
				t.Fatalf("open %v, decided height %d, status %s", h.isOpen(id), p.DecidedHeight, p.Status)
			}
			if decided != findEvent(end.Events, EventGovOutcome, "id", "1", "status", ProposalStatusName(tc.want)) {
				t.Fatalf("outcome events %v", end.Events)
			}
		})
	}
}

func TestGovExpiry(t *testing.T) {
	t.Run("below threshold it expires", func(t *testing.T) {
		g := testGenesis()
		g.Params.ProposalLifetimeBlocks = 3
		h := newGovHarness(t, g)
		id := h.nextID()
		h.runOK(h.propose("hacienda", actAddAgency("nueva")), h.vote("hacienda", id, yes)) // height 1
		p := h.proposal(id)
		if p.SubmitHeight != 1 || p.ExpiryHeight != 4 || p.Status != voting || p.ProposerMinistryId != "hacienda" {
			t.Fatalf("proposal %v", p)
		}
		h.runOK() // 2
		h.runOK() // 3
		if p := h.proposal(id); p.Status != voting || !h.isOpen(id) {
			t.Fatalf("before expiry: %s", p.Status)
		}
		// A vote at the expiry height still counts; then it expires.
		end := h.runOK(h.vote("interior", id, yes)) // 4
		p = h.proposal(id)
		if p.Status != expired || p.DecidedHeight != 4 || p.YesPower != 20 || h.isOpen(id) {
			t.Fatalf("at expiry: %v", p)
		}
		if !findEvent(end.Events, EventGovOutcome, "id", "1", "status", "expired") {
			t.Fatalf("events %v", end.Events)
		}
		outs, _ := h.run(h.vote("sanidad", id, yes)) // 5
		mustFail(t, outs[0], ErrProposalClosed)
		if h.agency("nueva") != nil {
			t.Fatal("an expired proposal was executed")
		}
	})
	t.Run("votes at the expiry height can pass it", func(t *testing.T) {
		g := testGenesis()
		g.Params.ProposalLifetimeBlocks = 2
		h := newGovHarness(t, g)
		id := h.nextID()
		h.runOK(h.propose("hacienda", actAddAgency("nueva")))            // 1, expiry 3
		h.runOK(h.vote("hacienda", id, yes))                             // 2
		h.runOK(h.vote("interior", id, yes), h.vote("sanidad", id, yes)) // 3
		if p := h.proposal(id); p.Status != passed || p.DecidedHeight != 3 {
			t.Fatalf("proposal %v", p)
		}
		outs, _ := h.run(h.vote("trabajo", id, yes))
		mustFail(t, outs[0], ErrProposalClosed)
	})
	t.Run("a lifetime change applies to new proposals", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		p := DefaultParams()
		p.ProposalLifetimeBlocks = 5
		h.enactPassed(actChangeParams(p)) // height 1
		id := h.nextID()
		h.runOK(h.propose("hacienda", actAddAgency("nueva"))) // height 2
		if got := h.proposal(id).ExpiryHeight; got != 7 {
			t.Fatalf("expiry height %d, want 7", got)
		}
	})
}

func TestGovVoteRules(t *testing.T) {
	cases := []struct {
		name   string
		before func(h *govHarness) [][]byte
		tx     func(h *govHarness) []byte
		want   *Error
	}{
		{name: "yes", tx: func(h *govHarness) []byte { return h.vote("interior", 1, yes) }},
		{name: "no", tx: func(h *govHarness) []byte { return h.vote("interior", 1, no) }},
		{name: "abstain", tx: func(h *govHarness) []byte { return h.vote("interior", 1, abstain) }},
		{
			name:   "second vote by the same ministry",
			before: func(h *govHarness) [][]byte { return [][]byte{h.vote("interior", 1, yes)} },
			tx:     func(h *govHarness) []byte { return h.vote("interior", 1, no) },
			want:   ErrAlreadyVoted,
		},
		{
			name:   "same vote twice",
			before: func(h *govHarness) [][]byte { return [][]byte{h.vote("interior", 1, yes)} },
			tx:     func(h *govHarness) []byte { return h.vote("interior", 1, yes) },
			want:   ErrAlreadyVoted,
		},
		{name: "unknown proposal", tx: func(h *govHarness) []byte { return h.vote("interior", 99, yes) }, want: ErrProposalNotFound},
		{name: "proposal zero", tx: func(h *govHarness) []byte { return h.vote("interior", 0, yes) }, want: ErrProposalNotFound},
		{name: "unspecified option", tx: func(h *govHarness) []byte { return h.vote("interior", 1, 0) }, want: ErrInvalidVote},
		{name: "unknown option", tx: func(h *govHarness) []byte { return h.vote("interior", 1, 9) }, want: ErrInvalidVote},
		{
			name: "agency key",
			tx:   func(h *govHarness) []byte { return h.tx(agencyKey("aeat"), voteBody("aeat", 1, yes)) },
			want: ErrNotMinistry,
		},
		{
			name: "agency key naming a ministry",
			tx:   func(h *govHarness) []byte { return h.tx(agencyKey("aeat"), voteBody("interior", 1, yes)) },
			want: ErrNotMinistry,
		},
		{
			name: "citizen key",
			tx:   func(h *govHarness) []byte { return h.tx(citizenKey("ana"), voteBody("interior", 1, yes)) },
			want: ErrNotMinistry,
		},
		{
			name: "a ministry's consensus key",
			tx:   func(h *govHarness) []byte { return h.tx(ministryCons("interior"), voteBody("interior", 1, yes)) },
			want: ErrNotMinistry,
		},
		{
			name: "a ministry voting for another",
			tx:   func(h *govHarness) []byte { return h.tx(ministryGov("interior"), voteBody("sanidad", 1, yes)) },
			want: ErrSignerMismatch,
		},
		{
			name: "a decided proposal",
			before: func(h *govHarness) [][]byte {
				return [][]byte{h.vote("hacienda", 1, yes), h.vote("interior", 1, yes), h.vote("sanidad", 1, yes)}
			},
			tx:   func(h *govHarness) []byte { return h.vote("trabajo", 1, yes) },
			want: ErrProposalClosed,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newGovHarness(t, testGenesis())
			h.runOK(h.propose("hacienda", actAddAgency("nueva")))
			if tc.before != nil {
				h.runOK(tc.before(h)...)
			}
			raw := tc.tx(h)
			before := snapshot(h.st)
			height := h.height
			outs, _ := h.run(raw)
			if tc.want != nil {
				mustFail(t, outs[0], tc.want)
				if snapshot(h.st) != before {
					t.Fatal("a refused vote changed the state")
				}
				return
			}
			mustOK(t, outs[0])
			tx, _ := DecodeTx(testChain, raw, 0)
			opt := tx.Body.GetVote().Option
			rec := &notaryv1.VoteRecord{}
			if ok, err := load(h.st, VoteKey(1, "interior"), rec); !ok || err != nil {
				t.Fatalf("vote not stored: %v", err)
			}
			want := &notaryv1.VoteRecord{ProposalId: 1, MinistryId: "interior", Option: opt, Power: 10, Height: height}
			if !proto.Equal(rec, want) {
				t.Fatalf("vote record %v, want %v", rec, want)
			}
			p := h.proposal(1)
			if got := map[notaryv1.VoteOption]int64{yes: p.YesPower, no: p.NoPower, abstain: p.AbstainPower}; got[opt] != 10 || p.YesPower+p.NoPower+p.AbstainPower != 10 {
				t.Fatalf("tallies %v after a %s vote", got, opt)
			}
			if !findEvent(outs[0].Events, EventGovVote, "id", "1", "ministry", "interior", "power", "10") {
				t.Fatalf("events %v", outs[0].Events)
			}
		})
	}
	t.Run("two votes of one ministry in one block", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		h.runOK(h.propose("hacienda", actAddAgency("nueva")))
		outs, _ := h.run(h.vote("interior", 1, yes), h.vote("interior", 1, no))
		mustOK(t, outs[0])
		mustFail(t, outs[1], ErrAlreadyVoted)
		if p := h.proposal(1); p.YesPower != 10 || p.NoPower != 0 {
			t.Fatalf("proposal %v", p)
		}
	})
}

func TestGovProposeRules(t *testing.T) {
	anchored := digests("gov-propose", 2)
	withMandate := func() *notaryv1.GenesisState {
		g := testGenesis()
		g.Mandates = []*notaryv1.Mandate{govMandate("ley-1")}
		return g
	}
	hacienda := func(a *notaryv1.ProposalAction) func(h *govHarness) []byte {
		return func(h *govHarness) []byte { return h.propose("hacienda", a) }
	}
	agency := func(mod func(a *notaryv1.Agency)) *notaryv1.Agency {
		a := &notaryv1.Agency{Id: "nueva", Name: "Agencia nueva", PubKey: pub(agencyKey("nueva"))}
		mod(a)
		return a
	}
	ministry := func(mod func(m *notaryv1.Ministry)) *notaryv1.ProposalAction {
		a := actAddValidator("defensa", 10)
		mod(a.GetAddValidator())
		return a
	}
	mandate := func(mod func(m *notaryv1.Mandate)) *notaryv1.ProposalAction {
		m := govMandate("ley-2")
		mod(m)
		return actRegisterMandate(m)
	}
	params := func(mod func(p *notaryv1.Params)) *notaryv1.ProposalAction {
		p := DefaultParams()
		mod(p)
		return actChangeParams(p)
	}
	withTitle := func(title string) func(h *govHarness) []byte {
		return func(h *govHarness) []byte {
			return h.tx(ministryGov("hacienda"), proposeBody("hacienda", title, actAddAgency("nueva")))
		}
	}
	// readonly is the genesis agency "readonly", as an update would name it.
	readonly := func(mod func(a *notaryv1.Agency)) *notaryv1.Agency {
		a := &notaryv1.Agency{Id: "readonly", Name: "Agencia readonly", PubKey: pub(agencyKey("readonly"))}
		mod(a)
		return a
	}
	cases := []struct {
		name string
		tx   func(h *govHarness) []byte
		want *Error
	}{
		// Valid proposals of every kind.
		{name: "add agency", tx: hacienda(actAddAgency("nueva", notaryv1.Permission_PERMISSION_ANCHOR))},
		{name: "remove agency", tx: hacienda(actRemoveAgency("sepe"))},
		{name: "update agency", tx: hacienda(actUpdateAgency(readonly(func(a *notaryv1.Agency) { a.Permissions = allPerms })))},
		{name: "add validator", tx: hacienda(actAddValidator("defensa", 13))},
		{name: "remove validator", tx: hacienda(actRemoveValidator("trabajo"))},
		{name: "reweight validator", tx: hacienda(actReweight("trabajo", 23))},
		{name: "register mandate", tx: hacienda(actRegisterMandate(govMandate("ley-2")))},
		{name: "expire mandate", tx: hacienda(actExpireMandate("ley-1"))},
		{name: "change params", tx: hacienda(params(func(p *notaryv1.Params) { p.MaxDigestsPerBatch = 10 }))},
		{name: "revoke", tx: hacienda(actRevoke(digestAt(anchored, 0)))},
		{name: "proposed by another ministry", tx: func(h *govHarness) []byte { return h.propose("trabajo", actAddAgency("nueva")) }},

		// Who may propose.
		{name: "agency key", tx: func(h *govHarness) []byte {
			return h.tx(agencyKey("aeat"), proposeBody("aeat", "t", actAddAgency("nueva")))
		}, want: ErrNotMinistry},
		{name: "citizen key", tx: func(h *govHarness) []byte {
			return h.tx(citizenKey("ana"), proposeBody("hacienda", "t", actAddAgency("nueva")))
		}, want: ErrNotMinistry},
		{name: "a ministry proposing for another", tx: func(h *govHarness) []byte {
			return h.tx(ministryGov("interior"), proposeBody("hacienda", "t", actAddAgency("nueva")))
		}, want: ErrSignerMismatch},

		// The proposal itself.
		{name: "no action", tx: hacienda(nil), want: ErrInvalidProposal},
		{name: "empty action", tx: hacienda(&notaryv1.ProposalAction{}), want: ErrInvalidProposal},
		{name: "no title", tx: withTitle(""), want: ErrInvalidProposal},
		{name: "title too long", tx: withTitle(strings.Repeat("x", 513)), want: ErrTextTooLong},
		{name: "title with a control character", tx: withTitle("alta\nde agencia"), want: ErrInvalidText},

		// Agencies.
		{name: "add an existing agency", tx: hacienda(actAddAgency("sepe")), want: ErrAgencyExists},
		{name: "update agency with a bad id", tx: hacienda(actUpdateAgency(agency(func(a *notaryv1.Agency) { a.Id = "Nueva" }))), want: ErrInvalidField},
		{name: "add agency with a bad id", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.Id = "-x" })}}), want: ErrInvalidField},
		{name: "add agency without a name", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.Name = "" })}}), want: ErrInvalidField},
		{name: "add agency with a short key", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.PubKey = a.PubKey[:31] })}}), want: ErrBadPublicKey},
		{name: "add agency with unsorted permissions", tx: hacienda(actAddAgency("nueva", notaryv1.Permission_PERMISSION_REVOKE, notaryv1.Permission_PERMISSION_ANCHOR)), want: ErrInvalidField},
		{name: "add agency marked active", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.Active = true })}}), want: ErrInvalidProposal},
		{name: "add agency with another agency's key", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.PubKey = pub(agencyKey("sepe")) })}}), want: ErrKeyInUse},
		{name: "add agency with a ministry's governance key", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.PubKey = pub(ministryGov("sanidad")) })}}), want: ErrKeyInUse},
		{name: "add agency with a consensus key", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: agency(func(a *notaryv1.Agency) { a.PubKey = pub(ministryCons("sanidad")) })}}), want: ErrKeyInUse},
		{name: "remove an unknown agency", tx: hacienda(actRemoveAgency("nadie")), want: ErrUnknownAgency},
		{name: "remove with a bad id", tx: hacienda(actRemoveAgency("")), want: ErrInvalidField},
		{name: "update an unknown agency", tx: hacienda(actUpdateAgency(agency(func(*notaryv1.Agency) {}))), want: ErrUnknownAgency},
		{name: "update that changes nothing", tx: hacienda(actUpdateAgency(readonly(func(*notaryv1.Agency) {}))), want: ErrInvalidProposal},
		{name: "update to a key in use", tx: hacienda(actUpdateAgency(readonly(func(a *notaryv1.Agency) { a.PubKey = pub(agencyKey("aeat")) }))), want: ErrKeyInUse},

		// Validators.
		{name: "add an existing ministry", tx: hacienda(ministry(func(m *notaryv1.Ministry) { m.Id = "sanidad" })), want: ErrMinistryExists},
		{name: "add validator with power 0", tx: hacienda(actAddValidator("defensa", 0)), want: ErrInvalidField},
		{name: "add validator with power above 2^40", tx: hacienda(actAddValidator("defensa", 1<<40+1)), want: ErrInvalidField},
		{name: "add validator with 1/3 of the power", tx: hacienda(actAddValidator("defensa", 14)), want: ErrUnsafeValidators},
		{name: "add validator with a consensus key in use", tx: hacienda(ministry(func(m *notaryv1.Ministry) { m.ConsensusPubKey = pub(ministryCons("sanidad")) })), want: ErrKeyInUse},
		{name: "add validator with an agency's key", tx: hacienda(ministry(func(m *notaryv1.Ministry) { m.GovPubKey = pub(agencyKey("aeat")) })), want: ErrKeyInUse},
		{name: "add validator with one key for both", tx: hacienda(ministry(func(m *notaryv1.Ministry) { m.GovPubKey = m.ConsensusPubKey })), want: ErrInvalidField},
		{name: "add validator marked active", tx: hacienda(ministry(func(m *notaryv1.Ministry) { m.Active = true })), want: ErrInvalidProposal},
		{name: "remove an unknown validator", tx: hacienda(actRemoveValidator("defensa")), want: ErrMinistryNotFound},
		{name: "reweight an unknown validator", tx: hacienda(actReweight("defensa", 10)), want: ErrMinistryNotFound},
		{name: "reweight to 0", tx: hacienda(actReweight("trabajo", 0)), want: ErrInvalidField},
		{name: "reweight by 1/3 of the power", tx: hacienda(actReweight("trabajo", 24)), want: ErrUnsafeValidators},
		{name: "reweight to the same power", tx: hacienda(actReweight("trabajo", 10)), want: ErrInvalidProposal},

		// Mandates.
		{name: "register an existing mandate", tx: hacienda(actRegisterMandate(govMandate("ley-1"))), want: ErrMandateExists},
		{name: "mandate for an unknown agency", tx: hacienda(mandate(func(m *notaryv1.Mandate) { m.ProvidingAgencies = []string{"nadie"} })), want: ErrUnknownAgency},
		{name: "mandate with an unknown category", tx: hacienda(mandate(func(m *notaryv1.Mandate) { m.Categories = []string{"genetic"} })), want: ErrUnknownCategory},
		{name: "mandate with an unknown purpose", tx: hacienda(mandate(func(m *notaryv1.Mandate) { m.Purposes = []string{"marketing"} })), want: ErrUnknownPurpose},
		{name: "mandate ending before it starts", tx: hacienda(mandate(func(m *notaryv1.Mandate) { m.ValidUntil = m.ValidFrom })), want: ErrInvalidValidity},
		{name: "mandate without a legal reference", tx: hacienda(mandate(func(m *notaryv1.Mandate) { m.LegalReference = "" })), want: ErrInvalidField},
		{name: "mandate naming its proposal", tx: hacienda(mandate(func(m *notaryv1.Mandate) { m.ProposalId = 1 })), want: ErrInvalidProposal},
		{name: "expire an unknown mandate", tx: hacienda(actExpireMandate("ley-9")), want: ErrMandateNotFound},

		// Params.
		{name: "params with a threshold below 1/2", tx: hacienda(params(func(p *notaryv1.Params) { p.GovThreshold = &notaryv1.Fraction{Numerator: 1, Denominator: 3} })), want: ErrInvalidParams},
		{name: "params missing", tx: hacienda(actChangeParams(nil)), want: ErrInvalidParams},
		{name: "params with more min_validators than validators", tx: hacienda(params(func(p *notaryv1.Params) { p.MinValidators = 5 })), want: ErrInvalidParams},
		{name: "params already in force", tx: hacienda(actChangeParams(DefaultParams())), want: ErrInvalidProposal},

		// Revocation.
		{name: "revoke a digest never anchored", tx: hacienda(actRevoke(digests("other", 1))), want: ErrNotAnchored},
		{name: "revoke without a reason", tx: hacienda(&notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_Revoke{Revoke: &notaryv1.Revoke{
			HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digestAt(anchored, 0),
		}}}), want: ErrInvalidReason},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newGovHarness(t, withMandate())
			h.runOK(h.tx(agencyKey("aeat"), anchorBody("aeat", anchored)))
			raw := tc.tx(h)
			before := snapshot(h.st)
			id, height := h.nextID(), h.height
			outs, _ := h.run(raw)
			out := outs[0]
			if tc.want != nil {
				mustFail(t, out, tc.want)
				if snapshot(h.st) != before || h.nextID() != id {
					t.Fatal("a refused proposal changed the state")
				}
				return
			}
			mustOK(t, out)
			if got := out.Result.GetProposalId(); got != id {
				t.Fatalf("result names proposal %d, want %d", got, id)
			}
			if h.nextID() != id+1 {
				t.Fatalf("next proposal id %d", h.nextID())
			}
			tx, _ := DecodeTx(testChain, raw, 0)
			m := tx.Body.GetPropose()
			p := h.proposal(id)
			want := &notaryv1.Proposal{
				Id: id, ProposerMinistryId: m.MinistryId, Title: m.Title, Action: m.Action,
				SubmitHeight: height, ExpiryHeight: height + 20_000, Status: voting,
			}
			if !proto.Equal(p, want) {
				t.Fatalf("proposal %v, want %v", p, want)
			}
			if !h.isOpen(id) {
				t.Fatal("proposal not open")
			}
			if !findEvent(out.Events, EventGovPropose, "id", "1", "ministry", m.MinistryId, "action", ProposalActionName(m.Action)) {
				t.Fatalf("events %v", out.Events)
			}
		})
	}
}

func TestGovUnsafeValidators(t *testing.T) {
	cases := []struct {
		name   string
		powers []int64
		min    uint32
		action *notaryv1.ProposalAction
		want   *Error
	}{
		{"remove the last validator", []int64{10}, 1, actRemoveValidator("hacienda"), ErrUnsafeValidators},
		{"remove below min_validators", []int64{10, 10, 10, 10}, 4, actRemoveValidator("hacienda"), ErrUnsafeValidators},
		{"remove down to min_validators", []int64{10, 10, 10, 10}, 3, actRemoveValidator("hacienda"), nil},
		{"remove half of the power", []int64{10, 10}, 1, actRemoveValidator("hacienda"), ErrUnsafeValidators},
		{"remove a validator of less than 1/3", []int64{4, 10}, 1, actRemoveValidator("hacienda"), nil},
		{"reweight up by exactly 1/3", []int64{10, 10, 10}, 1, actReweight("hacienda", 20), ErrUnsafeValidators},
		{"reweight up by less than 1/3", []int64{10, 10, 10}, 1, actReweight("hacienda", 19), nil},
		{"reweight down by more than 1/3", []int64{20, 10, 10, 10}, 1, actReweight("hacienda", 3), ErrUnsafeValidators},
		{"reweight down by less than 1/3", []int64{20, 10, 10, 10}, 1, actReweight("hacienda", 4), nil},
		{"add a validator of exactly 1/3", []int64{10, 10, 10}, 1, actAddValidator("justicia", 10), ErrUnsafeValidators},
		{"add a validator of less than 1/3", []int64{10, 10, 10}, 1, actAddValidator("justicia", 9), nil},
		{"add a second validator to a single one", []int64{10}, 1, actAddValidator("justicia", 3), nil},
		{"add an equal second validator to a single one", []int64{10}, 1, actAddValidator("justicia", 10), ErrUnsafeValidators},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := govGenesis(tc.powers...)
			g.Params.MinValidators = tc.min
			h := newGovHarness(t, g)
			out := h.block(h.propose("hacienda", tc.action))[0]
			if tc.want != nil {
				mustFail(t, out, tc.want)
				return
			}
			mustOK(t, out)
		})
	}
}

func TestGovUnsafeAtExecution(t *testing.T) {
	t.Run("two additions in one block move 1/3 together", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		h.runOK(h.propose("hacienda", actAddValidator("defensa", 8)), h.propose("interior", actAddValidator("justicia", 8)))
		// All four vote: once defensa is in, proposal 2 needs more than 2/3 of 48.
		var votes [][]byte
		for _, m := range []string{"hacienda", "interior", "sanidad", "trabajo"} {
			votes = append(votes, h.vote(m, 1, yes), h.vote(m, 2, yes))
		}
		end := h.runOK(votes...)
		if p := h.proposal(1); p.Status != passed {
			t.Fatalf("first addition: %v", p)
		}
		p := h.proposal(2)
		if p.Status != failed || !strings.Contains(p.Result, ErrUnsafeValidators.Error()) || h.isOpen(2) {
			t.Fatalf("second addition: %v", p)
		}
		if m, _ := loadMinistry(h.st, "justicia"); m != nil {
			t.Fatal("a failed proposal left its ministry behind")
		}
		if acct, _ := loadAccount(h.st, pub(ministryGov("justicia"))); acct != nil {
			t.Fatal("a failed proposal left its account behind")
		}
		want := []ValidatorUpdate{{PubKey: pub(ministryCons("defensa")), Power: 8}}
		if !sameUpdates(end.ValidatorUpdates, want) {
			t.Fatalf("updates %v", end.ValidatorUpdates)
		}
		if !findEvent(end.Events, EventGovOutcome, "id", "2", "status", "failed") {
			t.Fatalf("events %v", end.Events)
		}
	})
	t.Run("the same additions in two blocks pass", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		for _, add := range []*notaryv1.ProposalAction{actAddValidator("defensa", 8), actAddValidator("justicia", 8)} {
			id, _, end := h.enact(add, "hacienda", "interior", "sanidad", "trabajo")
			if p := h.proposal(id); p.Status != passed || len(end.ValidatorUpdates) != 1 {
				t.Fatalf("proposal %v, updates %v", p, end.ValidatorUpdates)
			}
		}
	})
	t.Run("two removals in one block leave too few", func(t *testing.T) {
		g := govGenesis(30, 30, 30, 1, 1)
		g.Params.MinValidators = 4
		h := newGovHarness(t, g)
		h.runOK(h.propose("hacienda", actRemoveValidator("trabajo")), h.propose("interior", actRemoveValidator("defensa")))
		var votes [][]byte
		for _, m := range []string{"hacienda", "interior", "sanidad"} {
			votes = append(votes, h.vote(m, 1, yes), h.vote(m, 2, yes))
		}
		end := h.runOK(votes...)
		if p := h.proposal(1); p.Status != passed {
			t.Fatalf("first removal: %v", p)
		}
		if p := h.proposal(2); p.Status != failed || !strings.Contains(p.Result, "the minimum is 4") {
			t.Fatalf("second removal: %v", p)
		}
		if !h.ministry("defensa").Active {
			t.Fatal("a failed removal deactivated the ministry")
		}
		want := []ValidatorUpdate{{PubKey: pub(ministryCons("trabajo")), Power: 0}}
		if !sameUpdates(end.ValidatorUpdates, want) {
			t.Fatalf("updates %v", end.ValidatorUpdates)
		}
	})
}

func TestGovActions(t *testing.T) {
	t.Run("add agency", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		mustFail(t, h.block(h.tx(agencyKey("nueva"), anchorBody("nueva", digests("n", 1))))[0], ErrUnknownSigner)
		_, height, _ := h.enactPassed(actAddAgency("nueva", notaryv1.Permission_PERMISSION_ANCHOR))
		a := h.agency("nueva")
		want := &notaryv1.Agency{Id: "nueva", Name: "Agencia nueva", PubKey: pub(agencyKey("nueva")),
			Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}, Active: true, SinceHeight: height}
		if !proto.Equal(a, want) {
			t.Fatalf("agency %v", a)
		}
		acct, _ := loadAccount(h.st, pub(agencyKey("nueva")))
		if acct == nil || acct.Role != notaryv1.Role_ROLE_AGENCY || acct.Owner != "nueva" || acct.NextSequence != 0 {
			t.Fatalf("account %v", acct)
		}
		mustOK(t, h.block(h.tx(agencyKey("nueva"), anchorBody("nueva", digests("n", 1))))[0])
	})
	t.Run("remove agency", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		_, height, _ := h.enactPassed(actRemoveAgency("aeat"))
		if a := h.agency("aeat"); a.Active || a.SinceHeight != height {
			t.Fatalf("agency %v", a)
		}
		mustFail(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("r", 1))))[0], ErrInactive)
		mustFail(t, h.block(h.propose("hacienda", actRemoveAgency("aeat")))[0], ErrInactive)
		mustFail(t, h.block(h.propose("hacienda", actAddAgency("aeat")))[0], ErrAgencyExists)
		// Its key stays reserved.
		mustFail(t, h.block(h.propose("hacienda", &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: &notaryv1.Agency{
			Id: "aeat-2", Name: "AEAT", PubKey: pub(agencyKey("aeat")),
		}}}))[0], ErrKeyInUse)
	})
	t.Run("update agency permissions and name", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		mustFail(t, h.block(h.tx(agencyKey("readonly"), anchorBody("readonly", digests("u", 1))))[0], ErrUnauthorized)
		_, height, _ := h.enactPassed(actUpdateAgency(&notaryv1.Agency{
			Id: "readonly", Name: "Agencia de lectura", PubKey: pub(agencyKey("readonly")),
			Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR},
		}))
		if a := h.agency("readonly"); a.Name != "Agencia de lectura" || !a.Active || a.SinceHeight != height {
			t.Fatalf("agency %v", a)
		}
		mustOK(t, h.block(h.tx(agencyKey("readonly"), anchorBody("readonly", digests("u", 1))))[0])
		mustFail(t, h.block(h.tx(agencyKey("readonly"), revokeBody(digests("u", 1))))[0], ErrUnauthorized)
		// Permissions can be taken away too.
		h.enactPassed(actUpdateAgency(&notaryv1.Agency{Id: "aeat", Name: "Agencia aeat", PubKey: pub(agencyKey("aeat"))}))
		mustFail(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("u2", 1))))[0], ErrUnauthorized)
	})
	t.Run("update agency key", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		mustOK(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("k0", 1))))[0])
		newKey := testKey("agency/aeat-rotated")
		h.enactPassed(actUpdateAgency(&notaryv1.Agency{Id: "aeat", Name: "Agencia aeat", PubKey: pub(newKey), Permissions: allPerms}))
		if acct, _ := loadAccount(h.st, pub(agencyKey("aeat"))); acct != nil {
			t.Fatalf("old account kept: %v", acct)
		}
		acct, _ := loadAccount(h.st, pub(newKey))
		if acct == nil || acct.Role != notaryv1.Role_ROLE_AGENCY || acct.Owner != "aeat" || acct.NextSequence != 0 {
			t.Fatalf("new account %v", acct)
		}
		mustFail(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("k1", 1))))[0], ErrUnknownSigner)
		mustOK(t, h.block(h.signSeq(newKey, 0, anchorBody("aeat", digests("k2", 1))))[0])
		// The agency's earlier anchors are still its own: it may revoke them.
		mustOK(t, h.block(h.signSeq(newKey, 1, revokeBody(digests("k0", 1))))[0])
	})
	t.Run("add and remove validators", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		_, h1, end := h.enactPassed(actAddValidator("defensa", 10))
		want := []ValidatorUpdate{{PubKey: pub(ministryCons("defensa")), Power: 10}}
		if !sameUpdates(end.ValidatorUpdates, want) {
			t.Fatalf("updates %v", end.ValidatorUpdates)
		}
		if m := h.ministry("defensa"); !m.Active || m.Power != 10 || m.SinceHeight != h1 {
			t.Fatalf("ministry %v", m)
		}
		if acct, _ := loadAccount(h.st, pub(ministryGov("defensa"))); acct == nil || acct.Role != notaryv1.Role_ROLE_MINISTRY || acct.Owner != "defensa" {
			t.Fatalf("account %v", acct)
		}
		rec := h.valsetChange(h1)
		if !proto.Equal(rec, &notaryv1.ValsetChange{Height: h1, PreviousChangeHeight: 0, MinistryIds: []string{"defensa"}}) {
			t.Fatalf("valset change %v", rec)
		}
		if meta, _ := loadMeta(h.st); meta.LastValsetChangeHeight != h1 {
			t.Fatalf("meta %v", meta)
		}
		// A block without a validator change returns none and records none.
		if end := h.runOK(); len(end.ValidatorUpdates) != 0 {
			t.Fatalf("updates %v", end.ValidatorUpdates)
		}
		if ok, _ := load(h.st, ValsetChangeKey(h.height-1), &notaryv1.ValsetChange{}); ok {
			t.Fatal("a change record without a change")
		}
		// The new ministry votes with its power: 4 of 5 pass.
		id, h2, end := h.enact(actRemoveValidator("trabajo"), "defensa", "hacienda", "interior", "sanidad")
		if p := h.proposal(id); p.Status != passed || p.YesPower != 40 {
			t.Fatalf("proposal %v", p)
		}
		want = []ValidatorUpdate{{PubKey: pub(ministryCons("trabajo")), Power: 0}}
		if !sameUpdates(end.ValidatorUpdates, want) {
			t.Fatalf("updates %v", end.ValidatorUpdates)
		}
		if m := h.ministry("trabajo"); m.Active || m.Power != 0 || m.SinceHeight != h2 {
			t.Fatalf("ministry %v", m)
		}
		rec = h.valsetChange(h2)
		if !proto.Equal(rec, &notaryv1.ValsetChange{Height: h2, PreviousChangeHeight: h1, MinistryIds: []string{"trabajo"}}) {
			t.Fatalf("valset change %v", rec)
		}
		// A removed ministry can neither vote nor propose, and its key is
		// never reused.
		next := h.nextID()
		h.runOK(h.propose("hacienda", actAddAgency("nueva")))
		mustFail(t, h.block(h.vote("trabajo", next, yes))[0], ErrInactive)
		mustFail(t, h.block(h.propose("trabajo", actAddAgency("otra")))[0], ErrInactive)
		mustFail(t, h.block(h.propose("hacienda", actAddValidator("trabajo", 5)))[0], ErrMinistryExists)
		mustFail(t, h.block(h.propose("hacienda", &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: &notaryv1.Ministry{
			Id: "trabajo-2", Name: "Trabajo", GovPubKey: pub(testKey("gov/trabajo-2")), ConsensusPubKey: pub(ministryCons("trabajo")), Power: 5,
		}}}))[0], ErrKeyInUse)
		mustFail(t, h.block(h.propose("hacienda", actRemoveValidator("trabajo")))[0], ErrInactive)
	})
	t.Run("reweight validator", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		_, height, end := h.enactPassed(actReweight("hacienda", 13))
		want := []ValidatorUpdate{{PubKey: pub(ministryCons("hacienda")), Power: 13}}
		if !sameUpdates(end.ValidatorUpdates, want) {
			t.Fatalf("updates %v", end.ValidatorUpdates)
		}
		if m := h.ministry("hacienda"); m.Power != 13 || !m.Active || m.SinceHeight != height {
			t.Fatalf("ministry %v", m)
		}
		if rec := h.valsetChange(height); len(rec.MinistryIds) != 1 || rec.MinistryIds[0] != "hacienda" {
			t.Fatalf("valset change %v", rec)
		}
		// Its next vote carries the new power.
		id := h.nextID()
		h.runOK(h.propose("interior", actAddAgency("nueva")), h.vote("hacienda", id, yes))
		rec := &notaryv1.VoteRecord{}
		if ok, _ := load(h.st, VoteKey(id, "hacienda"), rec); !ok || rec.Power != 13 {
			t.Fatalf("vote %v", rec)
		}
	})
	t.Run("register and expire mandates", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		md := govMandate("ley-nueva")
		id, height, _ := h.enactPassed(actRegisterMandate(md))
		got := &notaryv1.Mandate{}
		if ok, err := load(h.st, MandateKey("ley-nueva"), got); !ok || err != nil {
			t.Fatalf("mandate not stored: %v", err)
		}
		want := proto.Clone(md).(*notaryv1.Mandate)
		want.ProposalId, want.RegisteredHeight = id, height
		if !proto.Equal(got, want) {
			t.Fatalf("mandate %v, want %v", got, want)
		}
		mustFail(t, h.block(h.propose("hacienda", actRegisterMandate(govMandate("ley-nueva"))))[0], ErrMandateExists)
		_, height, _ = h.enactPassed(actExpireMandate("ley-nueva"))
		if ok, _ := load(h.st, MandateKey("ley-nueva"), got); !ok || got.ExpiredHeight != height || got.ProposalId != id {
			t.Fatalf("mandate %v", got)
		}
		mustFail(t, h.block(h.propose("hacienda", actExpireMandate("ley-nueva")))[0], ErrMandateExpired)
		// A mandate may not name a removed agency.
		h.enactPassed(actRemoveAgency("sepe"))
		mustFail(t, h.block(h.propose("hacienda", actRegisterMandate(govMandate("ley-otra"))))[0], ErrInactive)
	})
	t.Run("change params from the next block", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		p := DefaultParams()
		p.MaxDigestsPerBatch = 2
		id := h.nextID()
		outs, _ := h.run(
			h.propose("hacienda", actChangeParams(p)),
			h.vote("hacienda", id, yes), h.vote("interior", id, yes), h.vote("sanidad", id, yes),
			h.tx(agencyKey("aeat"), anchorBody("aeat", digests("p1", 3))),
		)
		for _, out := range outs {
			mustOK(t, out)
		}
		if got := h.proposal(id); got.Status != passed {
			t.Fatalf("proposal %v", got)
		}
		stored, err := loadParams(h.st)
		if err != nil || !proto.Equal(stored, p) {
			t.Fatalf("params %v %v", stored, err)
		}
		mustFail(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("p2", 3))))[0], ErrBatchTooLarge)
		mustOK(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("p3", 2))))[0])
	})
	t.Run("revoke by governance", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		ds := digests("gov-revoke", 3)
		mustOK(t, h.block(h.tx(agencyKey("aeat"), anchorBody("aeat", ds)))[0])
		_, height, end := h.enactPassed(actRevoke(digestAt(ds, 1)))
		rev := &notaryv1.Revocation{}
		if ok, _ := load(h.st, RevocationKey(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, digestAt(ds, 1)), rev); !ok {
			t.Fatal("revocation not stored")
		}
		if rev.RevokedBy != "governance/1" || rev.Height != height || rev.LeafIndex != 1 || rev.BatchHeight != 1 {
			t.Fatalf("revocation %v", rev)
		}
		if !findEvent(end.Events, "notary.revoke", "by", "governance/1") || !findEvent(end.Events, EventGovOutcome, "id", "1", "status", "passed", "action", "revoke") {
			t.Fatalf("events %v", end.Events)
		}
		mustFail(t, h.block(h.tx(agencyKey("aeat"), revokeBody(digestAt(ds, 1))))[0], ErrAlreadyRevoked)
	})
	t.Run("revoke a coded document by governance", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		ds, keys := digests("gov-coded", 2), codeKeys("gov-coded", 2)
		mustOK(t, h.block(h.tx(agencyKey("aeat"), codedBody("aeat", ds, keys)))[0])
		act := &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_Revoke{Revoke: revokeCodesBody(pSHA2, keyAt(keys, 1)).GetRevoke()}}
		h.enactPassed(act)
		rev := &notaryv1.Revocation{}
		if ok, _ := load(h.st, RevocationKey(CodeKeyIndex, CodeKeyIndexDigest(keyAt(keys, 1))), rev); !ok {
			t.Fatal("revocation not stored")
		}
		if rev.RevokedBy != "governance/1" || rev.LeafIndex != 1 || !bytes.Equal(rev.CodeKey, keyAt(keys, 1)) || len(rev.Digest) != 0 {
			t.Fatalf("revocation %v", rev)
		}
		mustFail(t, h.block(h.tx(agencyKey("aeat"), revokeCodesBody(pSHA2, keyAt(keys, 1))))[0], ErrAlreadyRevoked)
	})
}

func TestGovFailedOutcome(t *testing.T) {
	h := newGovHarness(t, testGenesis())
	h.runOK(
		h.propose("hacienda", actRemoveAgency("sepe")),
		h.propose("interior", actUpdateAgency(&notaryv1.Agency{Id: "sepe", Name: "Servicio Público de Empleo Estatal", PubKey: pub(agencyKey("sepe")), Permissions: allPerms})),
	)
	var votes [][]byte
	for _, m := range []string{"hacienda", "interior", "sanidad"} {
		votes = append(votes, h.vote(m, 1, yes), h.vote(m, 2, yes))
	}
	height := h.height
	end := h.runOK(votes...)
	if p := h.proposal(1); p.Status != passed || p.Result != "" {
		t.Fatalf("removal: %v", p)
	}
	p := h.proposal(2)
	if p.Status != failed || p.DecidedHeight != height || !strings.Contains(p.Result, ErrInactive.Error()) || h.isOpen(2) {
		t.Fatalf("update: %v", p)
	}
	if a := h.agency("sepe"); a.Active || a.Name != "Agencia sepe" {
		t.Fatalf("a failed update changed the agency: %v", a)
	}
	if len(end.Events) != 2 || !findEvent(end.Events[:1], EventGovOutcome, "id", "1", "status", "passed") ||
		!findEvent(end.Events[1:], EventGovOutcome, "id", "2", "status", "failed", "result", p.Result) {
		t.Fatalf("events %v", end.Events)
	}
}

func TestGovOneUpdatePerValidator(t *testing.T) {
	h := newGovHarness(t, testGenesis())
	h.runOK(
		h.propose("hacienda", actReweight("hacienda", 12)),
		h.propose("interior", actReweight("interior", 11)),
		h.propose("sanidad", actReweight("hacienda", 13)),
	)
	var votes [][]byte
	for _, m := range []string{"hacienda", "interior", "sanidad"} {
		for id := uint64(1); id <= 3; id++ {
			votes = append(votes, h.vote(m, id, yes))
		}
	}
	height := h.height
	end := h.runOK(votes...)
	for id := uint64(1); id <= 3; id++ {
		if p := h.proposal(id); p.Status != passed {
			t.Fatalf("proposal %d: %v", id, p)
		}
	}
	want := []ValidatorUpdate{
		{PubKey: pub(ministryCons("hacienda")), Power: 13},
		{PubKey: pub(ministryCons("interior")), Power: 11},
	}
	if !sameUpdates(end.ValidatorUpdates, want) {
		t.Fatalf("updates %v, want %v", end.ValidatorUpdates, want)
	}
	rec := h.valsetChange(height)
	if !proto.Equal(rec, &notaryv1.ValsetChange{Height: height, MinistryIds: []string{"hacienda", "interior"}}) {
		t.Fatalf("valset change %v", rec)
	}
	if m := h.ministry("hacienda"); m.Power != 13 {
		t.Fatalf("ministry %v", m)
	}
}

func TestGovChangeUndoneInOneBlock(t *testing.T) {
	h := newGovHarness(t, testGenesis())
	h.runOK(
		h.propose("hacienda", actReweight("hacienda", 12)),
		h.propose("interior", actReweight("hacienda", 15)),
		h.propose("sanidad", actReweight("hacienda", 12)),
	)
	h.runOK(h.vote("hacienda", 1, yes), h.vote("interior", 1, yes), h.vote("sanidad", 1, yes)) // 10 -> 12
	// 12 -> 15 -> 12 in one block: no update, no change record.
	height := h.height
	end := h.runOK(
		h.vote("hacienda", 2, yes), h.vote("interior", 2, yes), h.vote("sanidad", 2, yes),
		h.vote("hacienda", 3, yes), h.vote("interior", 3, yes), h.vote("sanidad", 3, yes),
	)
	if p2, p3 := h.proposal(2), h.proposal(3); p2.Status != passed || p3.Status != passed {
		t.Fatalf("proposals %v %v", p2, p3)
	}
	if len(end.ValidatorUpdates) != 0 || h.ministry("hacienda").Power != 12 {
		t.Fatalf("updates %v", end.ValidatorUpdates)
	}
	if ok, _ := load(h.st, ValsetChangeKey(height), &notaryv1.ValsetChange{}); ok {
		t.Fatal("a change record without a change")
	}
	if meta, _ := loadMeta(h.st); meta.LastValsetChangeHeight != height-1 {
		t.Fatalf("meta %v", meta)
	}
}

func TestGovTallyUsesCurrentPower(t *testing.T) {
	t.Run("reweighted ministry", func(t *testing.T) {
		h := newGovHarness(t, testGenesis())
		h.runOK(h.propose("hacienda", actReweight("hacienda", 13)), h.propose("interior", actAddAgency("nueva")))
		// Proposal 1 passes first and makes hacienda's power 13; proposal
		// 2 is then tallied with it: 23 of 43.
		h.runOK(
			h.vote("hacienda", 2, yes), h.vote("interior", 2, yes),
			h.vote("hacienda", 1, yes), h.vote("interior", 1, yes), h.vote("sanidad", 1, yes),
		)
		if p := h.proposal(1); p.Status != passed {
			t.Fatalf("proposal 1: %v", p)
		}
		p := h.proposal(2)
		if p.Status != voting || p.YesPower != 23 {
			t.Fatalf("proposal 2: %v", p)
		}
		rec := &notaryv1.VoteRecord{}
		if ok, _ := load(h.st, VoteKey(2, "hacienda"), rec); !ok || rec.Power != 10 {
			t.Fatalf("the vote record keeps the power it was cast with: %v", rec)
		}
		h.runOK(h.vote("sanidad", 2, yes)) // 33 of 43
		if p := h.proposal(2); p.Status != passed || p.YesPower != 33 {
			t.Fatalf("proposal 2: %v", p)
		}
	})
	t.Run("removed ministry", func(t *testing.T) {
		h := newGovHarness(t, govGenesis(10, 10, 10, 10, 10))
		h.runOK(h.propose("hacienda", actRemoveValidator("defensa")), h.propose("interior", actAddAgency("nueva")))
		h.runOK(
			h.vote("defensa", 2, yes), h.vote("hacienda", 2, yes),
			h.vote("hacienda", 1, yes), h.vote("interior", 1, yes), h.vote("sanidad", 1, yes), h.vote("trabajo", 1, yes),
		)
		if p := h.proposal(1); p.Status != passed {
			t.Fatalf("proposal 1: %v", p)
		}
		// defensa's vote no longer counts: 10 of 40.
		if p := h.proposal(2); p.Status != voting || p.YesPower != 10 {
			t.Fatalf("proposal 2: %v", p)
		}
		h.runOK(h.vote("interior", 2, yes), h.vote("sanidad", 2, yes)) // 30 of 40
		if p := h.proposal(2); p.Status != passed {
			t.Fatalf("proposal 2: %v", p)
		}
	})
}

func TestGovCheckMode(t *testing.T) {
	// The mempool sees a proposal and a vote on it, and never executes
	// governance.
	h := newGovHarness(t, govGenesis(10))
	e, err := h.l.NewExec(NewOverlay(h.st), h.idx, BlockInfo{Height: h.height, Time: h.time}, ModeCheck)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{h.propose("hacienda", actAddAgency("nueva")), h.vote("hacienda", 1, yes)} {
		tx, err := DecodeTx(testChain, raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(0, tx)
		if err != nil || out.Err != nil {
			t.Fatalf("check: %v %v", err, out.Err)
		}
	}
	end, err := e.End()
	if err != nil || len(end.Events) != 0 || len(end.ValidatorUpdates) != 0 {
		t.Fatalf("check-mode end: %v %v", end, err)
	}
	if p, _ := loadProposal(h.st, 1); p != nil {
		t.Fatal("check mode wrote to the state")
	}
}

func TestProposalActionNames(t *testing.T) {
	cases := []struct {
		action       *notaryv1.ProposalAction
		name, target string
	}{
		{nil, "", ""},
		{&notaryv1.ProposalAction{}, "", ""},
		{actAddAgency("nueva"), "add-agency", "nueva"},
		{actRemoveAgency("aeat"), "remove-agency", "aeat"},
		{actUpdateAgency(&notaryv1.Agency{Id: "sepe"}), "update-agency", "sepe"},
		{actAddValidator("defensa", 1), "add-validator", "defensa"},
		{actRemoveValidator("trabajo"), "remove-validator", "trabajo"},
		{actReweight("hacienda", 3), "reweight-validator", "hacienda"},
		{actRegisterMandate(govMandate("ley-1")), "register-mandate", "ley-1"},
		{actExpireMandate("ley-1"), "expire-mandate", "ley-1"},
		{actChangeParams(DefaultParams()), "change-params", ""},
		{actRevoke(digests("x", 1)), "revoke", ""},
	}
	for _, tc := range cases {
		if got := ProposalActionName(tc.action); got != tc.name {
			t.Errorf("ProposalActionName(%v) = %q, want %q", tc.action, got, tc.name)
		}
		if got := ProposalActionTarget(tc.action); got != tc.target {
			t.Errorf("ProposalActionTarget(%v) = %q, want %q", tc.action, got, tc.target)
		}
	}
	for s, want := range map[notaryv1.ProposalStatus]string{voting: "voting", passed: "passed", expired: "expired", failed: "failed", rejected: "rejected"} {
		if got := ProposalStatusName(s); got != want {
			t.Errorf("ProposalStatusName(%s) = %q", s, got)
		}
	}
}

func TestThresholdMet(t *testing.T) {
	twoThirds := &notaryv1.Fraction{Numerator: 2, Denominator: 3}
	big := &notaryv1.Fraction{Numerator: 1 << 62, Denominator: 1<<62 + 1}
	cases := []struct {
		yes, total int64
		t          *notaryv1.Fraction
		want       bool
	}{
		{20, 30, twoThirds, false},
		{21, 31, twoThirds, true},
		{20, 31, twoThirds, false},
		{0, 0, twoThirds, false},
		{1, 1, twoThirds, true},
		{10, 10, nil, false},
		{10, 10, &notaryv1.Fraction{Numerator: 1}, false},
		// Products beyond 64 bits are compared exactly.
		{1 << 62, 1<<62 + 1, big, false},
		{1<<62 + 1, 1<<62 + 1, big, true},
		{1 << 40 * 1000, 1 << 40 * 1500, twoThirds, false},
		{1<<40*1000 + 1, 1 << 40 * 1500, twoThirds, true},
	}
	for _, tc := range cases {
		if got := ThresholdMet(tc.yes, tc.total, tc.t); got != tc.want {
			t.Errorf("ThresholdMet(%d, %d, %v) = %v, want %v", tc.yes, tc.total, tc.t, got, tc.want)
		}
	}
}
