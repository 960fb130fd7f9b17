package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Governance.
//
// A ministry proposes an action (Propose); ministries vote with their voting
// power (Vote); at the end of every block (Exec.End) each open proposal is
// tallied again with the current power of the ministries that are still
// active, and decided:
//
//   - PASSED when yes * denominator > total * numerator (params.gov_threshold;
//     exactly the threshold does not pass), and its action applied; FAILED if
//     it passed but its action can no longer be applied (Proposal.result says
//     why), in which case nothing of the action is kept;
//   - REJECTED when even the power that has not voted NO or ABSTAIN could no
//     longer pass it;
//   - EXPIRED at its expiry height, if still below the threshold.
//
// Votes are accepted up to and including the expiry height. A proposal is
// checked twice: against the state when it is proposed (what can already be
// seen to be impossible or unsafe is refused), and again when it executes.
//
// # Validator safety
//
// A validator change (add, remove or reweight) is refused, at proposal time
// and at execution, with ErrUnsafeValidators unless:
//
//   - at least max(1, params.min_validators) validators stay active; and
//   - the validator power the block moves stays below 1/3 of the total power
//     in force when the block started: the sum over the validators the block
//     changes of |final power - power at the start of the block|, times 3,
//     must be less than that total. One change is the common case; two
//     proposals passing in one block are bounded together.
//
// The second rule protects liveness: CometBFT needs more than 2/3 of the power
// to commit, so a validator added with 1/3 or more of it that turns out to be
// offline (or a set of removed validators that were carrying the quorum)
// could halt the chain with no way to vote the change back. It also keeps
// consecutive validator sets overlapping by more than 2/3, which is what a
// light client, and a citizen's receipt, relies on to follow the transition.

// maxValidatorPower bounds one validator's voting power.
const maxValidatorPower = 1 << 40

// Event types emitted by governance.
const (
	EventGovPropose = "notary.gov.propose"
	EventGovVote    = "notary.gov.vote"
	EventGovOutcome = "notary.gov.outcome"
)

// ProposalActionName returns the name of a proposal's action, as CLIs and
// events show it ("add-agency", "remove-validator", ...), or "" if a carries
// no action.
func ProposalActionName(a *notaryv1.ProposalAction) string {
	switch a.GetAction().(type) {
	case *notaryv1.ProposalAction_AddAgency:
		return "add-agency"
	case *notaryv1.ProposalAction_RemoveAgency:
		return "remove-agency"
	case *notaryv1.ProposalAction_UpdateAgency:
		return "update-agency"
	case *notaryv1.ProposalAction_AddValidator:
		return "add-validator"
	case *notaryv1.ProposalAction_RemoveValidator:
		return "remove-validator"
	case *notaryv1.ProposalAction_ReweightValidator:
		return "reweight-validator"
	case *notaryv1.ProposalAction_RegisterMandate:
		return "register-mandate"
	case *notaryv1.ProposalAction_ExpireMandate:
		return "expire-mandate"
	case *notaryv1.ProposalAction_ChangeParams:
		return "change-params"
	case *notaryv1.ProposalAction_Revoke:
		return "revoke"
	case *notaryv1.ProposalAction_SetTlsKeys:
		return "set-tls-keys"
	case *notaryv1.ProposalAction_ScheduleUpgrade:
		return "schedule-upgrade"
	case *notaryv1.ProposalAction_CancelUpgrade:
		return "cancel-upgrade"
	}
	return ""
}

// ProposalActionTarget returns the id of the agency, ministry or mandate a
// proposal's action is about (for an upgrade, its name), or "" for actions
// about no single record (change-params, revoke).
func ProposalActionTarget(a *notaryv1.ProposalAction) string {
	switch x := a.GetAction().(type) {
	case *notaryv1.ProposalAction_AddAgency:
		return x.AddAgency.GetId()
	case *notaryv1.ProposalAction_RemoveAgency:
		return x.RemoveAgency
	case *notaryv1.ProposalAction_UpdateAgency:
		return x.UpdateAgency.GetId()
	case *notaryv1.ProposalAction_AddValidator:
		return x.AddValidator.GetId()
	case *notaryv1.ProposalAction_RemoveValidator:
		return x.RemoveValidator
	case *notaryv1.ProposalAction_ReweightValidator:
		return x.ReweightValidator.GetMinistryId()
	case *notaryv1.ProposalAction_RegisterMandate:
		return x.RegisterMandate.GetId()
	case *notaryv1.ProposalAction_ExpireMandate:
		return x.ExpireMandate
	case *notaryv1.ProposalAction_SetTlsKeys:
		return x.SetTlsKeys.GetAgencyId() + x.SetTlsKeys.GetMinistryId()
	case *notaryv1.ProposalAction_ScheduleUpgrade:
		return x.ScheduleUpgrade.GetName()
	case *notaryv1.ProposalAction_CancelUpgrade:
		return x.CancelUpgrade
	}
	return ""
}

// ProposalStatusName returns a status as a short lowercase word ("voting",
// "passed", "expired", "failed", "rejected").
func ProposalStatusName(s notaryv1.ProposalStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "PROPOSAL_STATUS_"))
}

// ThresholdMet reports whether yes power out of total power is strictly more
// than the fraction t: yes * t.denominator > total * t.numerator, computed
// exactly. A missing or zero-denominator threshold is never met.
func ThresholdMet(yes, total int64, t *notaryv1.Fraction) bool {
	if t == nil || t.Denominator == 0 || yes <= 0 || total < 0 {
		return false
	}
	yh, yl := bits.Mul64(uint64(yes), t.Denominator)
	th, tl := bits.Mul64(uint64(total), t.Numerator)
	return yh > th || yh == th && yl > tl
}

// propose validates a proposal, refuses it if the state already shows its
// action to be impossible or unsafe, and opens it for votes. c.ministry is
// the signer's active ministry.
func (c *txContext) propose(m *notaryv1.Propose) error {
	p := c.e.params
	if m.Title == "" {
		return wrapf(ErrInvalidProposal, "the proposal has no title")
	}
	if err := checkText("title", m.Title, p.MaxTextBytes); err != nil {
		return err
	}
	if err := validateAction(m.Action, p); err != nil {
		return err
	}
	if err := checkUpgradeLead(m.Action, c.e.block.Height); err != nil {
		return err
	}
	meta, err := loadMeta(c.st)
	if err != nil {
		return err
	}
	id := meta.NextProposalId
	if id == 0 {
		id = 1
	}
	// Apply the action to a scratch buffer that is thrown away: whatever it
	// refuses now it would refuse at execution too, unless the state changes.
	if _, err := c.e.runAction(c.st, m.Action, id, &blockValset{}); err != nil {
		return err
	}
	meta.NextProposalId = id + 1
	if err := c.st.Set(MetaKey(), Encode(meta)); err != nil {
		return err
	}
	h := c.e.block.Height
	prop := &notaryv1.Proposal{
		Id:                 id,
		ProposerMinistryId: c.ministry.Id,
		Title:              m.Title,
		Action:             m.Action,
		SubmitHeight:       h,
		ExpiryHeight:       h + int64(p.ProposalLifetimeBlocks),
		Status:             notaryv1.ProposalStatus_PROPOSAL_STATUS_VOTING,
	}
	if err := c.st.Set(ProposalKey(id), Encode(prop)); err != nil {
		return err
	}
	if err := c.st.Set(OpenProposalKey(id), marker()); err != nil {
		return err
	}
	c.result = &notaryv1.TxResult{Created: &notaryv1.TxResult_ProposalId{ProposalId: id}}
	c.emit(EventGovPropose,
		"id", strconv.FormatUint(id, 10),
		"ministry", c.ministry.Id,
		"action", ProposalActionName(m.Action),
		"expiry_height", strconv.FormatInt(prop.ExpiryHeight, 10))
	return nil
}

// vote records the signer's ministry's vote on an open proposal, with the
// ministry's current power, and updates the proposal's tallies.
func (c *txContext) vote(m *notaryv1.Vote) error {
	prop, err := loadProposal(c.st, m.ProposalId)
	if err != nil {
		return err
	}
	if prop == nil {
		return wrapf(ErrProposalNotFound, "%d", m.ProposalId)
	}
	h := c.e.block.Height
	if prop.Status != notaryv1.ProposalStatus_PROPOSAL_STATUS_VOTING {
		return wrapf(ErrProposalClosed, "proposal %d is %s", prop.Id, ProposalStatusName(prop.Status))
	}
	if h > prop.ExpiryHeight {
		return wrapf(ErrProposalClosed, "proposal %d expired at height %d", prop.Id, prop.ExpiryHeight)
	}
	switch m.Option {
	case notaryv1.VoteOption_VOTE_OPTION_YES:
		prop.YesPower += c.ministry.Power
	case notaryv1.VoteOption_VOTE_OPTION_NO:
		prop.NoPower += c.ministry.Power
	case notaryv1.VoteOption_VOTE_OPTION_ABSTAIN:
		prop.AbstainPower += c.ministry.Power
	default:
		return wrapf(ErrInvalidVote, "option %d", m.Option)
	}
	key := VoteKey(prop.Id, c.ministry.Id)
	prev, err := c.st.Get(key)
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrAlreadyVoted, "ministry %q on proposal %d", c.ministry.Id, prop.Id)
	}
	rec := &notaryv1.VoteRecord{
		ProposalId: prop.Id,
		MinistryId: c.ministry.Id,
		Option:     m.Option,
		Power:      c.ministry.Power,
		Height:     h,
	}
	if err := c.st.Set(key, Encode(rec)); err != nil {
		return err
	}
	if err := c.st.Set(ProposalKey(prop.Id), Encode(prop)); err != nil {
		return err
	}
	c.emit(EventGovVote,
		"id", strconv.FormatUint(prop.Id, 10),
		"ministry", c.ministry.Id,
		"option", strings.ToLower(strings.TrimPrefix(m.Option.String(), "VOTE_OPTION_")),
		"power", strconv.FormatInt(c.ministry.Power, 10))
	return nil
}

// endGovernance decides the open proposals, in id order, executes those that
// pass, and records the block's validator updates.
func (e *Exec) endGovernance() ([]Event, error) {
	ids, err := openProposalIDs(e.st)
	if err != nil {
		return nil, err
	}
	g := &govEnd{e: e, vs: &blockValset{}}
	for _, id := range ids {
		if err := g.decide(id); err != nil {
			return nil, err
		}
	}
	if err := g.recordValset(); err != nil {
		return nil, err
	}
	return g.events, nil
}

// govEnd is the governance work of the end of one block.
type govEnd struct {
	e      *Exec
	vs     *blockValset
	events []Event

	// power of each active ministry, and their total; reloaded after an
	// action executes.
	power  map[string]int64
	total  int64
	loaded bool
}

func (g *govEnd) emit(typ string, kv ...string) {
	ev := Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attributes = append(ev.Attributes, Attribute{Key: kv[i], Value: kv[i+1]})
	}
	g.events = append(g.events, ev)
}

// loadPower loads the power of the active ministries, if needed.
func (g *govEnd) loadPower() error {
	if g.loaded {
		return nil
	}
	ms, err := allMinistries(g.e.st)
	if err != nil {
		return err
	}
	g.power, g.total = make(map[string]int64, len(ms)), 0
	for _, m := range ms {
		if m.Active {
			g.power[m.Id] = m.Power
			g.total += m.Power
		}
	}
	g.loaded = true
	return nil
}

// tally counts the stored votes on proposal id with the current power of the
// ministries that are still active.
func (g *govEnd) tally(id uint64) (yes, no, abstain int64, err error) {
	if err := g.loadPower(); err != nil {
		return 0, 0, 0, err
	}
	var derr error
	prefix := VotePrefix(id)
	err = g.e.st.Iterate(prefix, PrefixEnd(prefix), func(k, v []byte) bool {
		rec := &notaryv1.VoteRecord{}
		if err := proto.Unmarshal(v, rec); err != nil {
			derr = &StoreError{fmt.Errorf("decode vote at %q: %w", k, err)}
			return false
		}
		pw := g.power[rec.MinistryId]
		switch rec.Option {
		case notaryv1.VoteOption_VOTE_OPTION_YES:
			yes += pw
		case notaryv1.VoteOption_VOTE_OPTION_NO:
			no += pw
		case notaryv1.VoteOption_VOTE_OPTION_ABSTAIN:
			abstain += pw
		}
		return true
	})
	if err == nil {
		err = derr
	}
	return yes, no, abstain, err
}

// decide tallies open proposal id and, if it is decided, executes it when it
// passed, closes it and emits its outcome.
func (g *govEnd) decide(id uint64) error {
	e := g.e
	prop, err := loadProposal(e.st, id)
	if err != nil {
		return err
	}
	if prop == nil || prop.Status != notaryv1.ProposalStatus_PROPOSAL_STATUS_VOTING {
		return &StoreError{fmt.Errorf("proposal %d is marked open but is not voting", id)}
	}
	yes, no, abstain, err := g.tally(id)
	if err != nil {
		return err
	}
	changed := yes != prop.YesPower || no != prop.NoPower || abstain != prop.AbstainPower
	prop.YesPower, prop.NoPower, prop.AbstainPower = yes, no, abstain
	h := e.block.Height
	th := e.params.GovThreshold
	var evs []Event
	switch {
	case ThresholdMet(yes, g.total, th):
		run, err := e.runAction(e.st, prop.Action, id, g.vs)
		var se *StoreError
		switch {
		case errors.As(err, &se):
			return se
		case err != nil:
			prop.Status, prop.Result = notaryv1.ProposalStatus_PROPOSAL_STATUS_FAILED, err.Error()
		default:
			if err := run.ctx.cache.flush(); err != nil {
				return tag(err)
			}
			g.vs.commit(run.change)
			e.logLeaves = append(e.logLeaves, run.ctx.leaves...)
			evs = run.ctx.events
			g.loaded = false
			prop.Status = notaryv1.ProposalStatus_PROPOSAL_STATUS_PASSED
		}
	case !ThresholdMet(g.total-no-abstain, g.total, th):
		prop.Status = notaryv1.ProposalStatus_PROPOSAL_STATUS_REJECTED
	case h >= prop.ExpiryHeight:
		prop.Status = notaryv1.ProposalStatus_PROPOSAL_STATUS_EXPIRED
	default:
		if changed {
			return e.st.Set(ProposalKey(id), Encode(prop))
		}
		return nil
	}
	prop.DecidedHeight = h
	if err := e.st.Set(ProposalKey(id), Encode(prop)); err != nil {
		return err
	}
	if err := e.st.Delete(OpenProposalKey(id)); err != nil {
		return err
	}
	g.events = append(g.events, evs...)
	kv := []string{
		"id", strconv.FormatUint(id, 10),
		"status", ProposalStatusName(prop.Status),
		"action", ProposalActionName(prop.Action),
	}
	if prop.Result != "" {
		kv = append(kv, "result", prop.Result)
	}
	g.emit(EventGovOutcome, kv...)
	return nil
}

// recordValset adds the block's validator changes to the Exec's updates, one
// per consensus key with its final power, in the order keys were first
// changed (a key whose power ends where it started gets none), and, if the
// block returns updates, stores a ValsetChange record linked to the previous
// one.
func (g *govEnd) recordValset() error {
	e := g.e
	for _, k := range g.vs.order {
		final := g.vs.final[k]
		if final == g.vs.start[k] {
			continue
		}
		e.valChanges = append(e.valChanges, g.vs.ministry[k])
		e.valUpdates = append(e.valUpdates, ValidatorUpdate{PubKey: []byte(k), Power: final})
	}
	if len(e.valUpdates) == 0 {
		return nil
	}
	ids := append([]string(nil), e.valChanges...)
	sort.Strings(ids)
	uniq := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			uniq = append(uniq, id)
		}
	}
	meta, err := loadMeta(e.st)
	if err != nil {
		return err
	}
	h := e.block.Height
	rec := &notaryv1.ValsetChange{Height: h, PreviousChangeHeight: meta.LastValsetChangeHeight, MinistryIds: uniq}
	if err := e.st.Set(ValsetChangeKey(h), Encode(rec)); err != nil {
		return err
	}
	meta.LastValsetChangeHeight = h
	return e.st.Set(MetaKey(), Encode(meta))
}

// valChange is one action's change of a validator's power (0: not a
// validator).
type valChange struct {
	ministryID    string
	key           []byte
	before, after int64
}

// blockValset accumulates the validator changes of one block: the safety rule
// bounds their sum, and each consensus key gets one update with its final
// power, in the order keys were first changed. Maps are only looked up, never
// iterated.
type blockValset struct {
	loaded     bool
	startTotal int64    // total active power when the block started
	order      []string // consensus keys, in order of first change
	start      map[string]int64
	final      map[string]int64
	ministry   map[string]string
}

// moved returns the power the block moves if ch is applied too.
func (v *blockValset) moved(ch valChange) int64 {
	var sum int64
	seen := false
	for _, k := range v.order {
		final := v.final[k]
		if k == string(ch.key) {
			final, seen = ch.after, true
		}
		sum += absDiff(final, v.start[k])
	}
	if !seen {
		sum += absDiff(ch.after, ch.before)
	}
	return sum
}

func (v *blockValset) commit(ch *valChange) {
	if ch == nil {
		return
	}
	k := string(ch.key)
	if v.start == nil {
		v.start, v.final, v.ministry = map[string]int64{}, map[string]int64{}, map[string]string{}
	}
	if _, ok := v.start[k]; !ok {
		v.order = append(v.order, k)
		v.start[k] = ch.before
		v.ministry[k] = ch.ministryID
	}
	v.final[k] = ch.after
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// actionRun is the execution of one proposal action on its own write buffer.
type actionRun struct {
	ctx    *txContext
	params *notaryv1.Params // the params in the state at this point
	id     uint64           // the proposal's id
	vs     *blockValset     // the block's validator changes so far
	change *valChange       // this action's validator change, if any
}

// runAction applies action a of proposal id on a write buffer over parent and
// returns it unflushed: the caller flushes it (execution) or drops it (the
// check at proposal time). vs holds the validator changes already made in
// the block; the action's own change is returned in the run, not committed.
func (e *Exec) runAction(parent Store, a *notaryv1.ProposalAction, id uint64, vs *blockValset) (*actionRun, error) {
	cs := newCacheStore(parent)
	r := &actionRun{ctx: &txContext{e: e, cache: cs, st: wrapStore(cs)}, id: id, vs: vs}
	p, err := loadParams(r.ctx.st)
	if err != nil {
		return nil, err
	}
	r.params = p
	if err := validateAction(a, p); err != nil {
		return nil, err
	}
	switch x := a.Action.(type) {
	case *notaryv1.ProposalAction_AddAgency:
		err = r.addAgency(x.AddAgency)
	case *notaryv1.ProposalAction_RemoveAgency:
		err = r.removeAgency(x.RemoveAgency)
	case *notaryv1.ProposalAction_UpdateAgency:
		err = r.updateAgency(x.UpdateAgency)
	case *notaryv1.ProposalAction_AddValidator:
		err = r.addValidator(x.AddValidator)
	case *notaryv1.ProposalAction_RemoveValidator:
		err = r.removeValidator(x.RemoveValidator)
	case *notaryv1.ProposalAction_ReweightValidator:
		err = r.reweightValidator(x.ReweightValidator)
	case *notaryv1.ProposalAction_RegisterMandate:
		err = r.registerMandate(x.RegisterMandate)
	case *notaryv1.ProposalAction_ExpireMandate:
		err = r.expireMandate(x.ExpireMandate)
	case *notaryv1.ProposalAction_ChangeParams:
		err = r.changeParams(x.ChangeParams)
	case *notaryv1.ProposalAction_Revoke:
		err = r.ctx.revokeDigests(x.Revoke, "", "governance/"+strconv.FormatUint(id, 10))
	case *notaryv1.ProposalAction_SetTlsKeys:
		err = r.setTLSKeys(x.SetTlsKeys)
	case *notaryv1.ProposalAction_ScheduleUpgrade:
		err = r.scheduleUpgrade(x.ScheduleUpgrade)
	case *notaryv1.ProposalAction_CancelUpgrade:
		err = r.cancelUpgrade(x.CancelUpgrade)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// validateAction checks a proposal's action against params, whatever the
// state.
func validateAction(a *notaryv1.ProposalAction, p *notaryv1.Params) error {
	name := ProposalActionName(a)
	var err error
	switch x := a.GetAction().(type) {
	case nil:
		return wrapf(ErrInvalidProposal, "the proposal has no action")
	case *notaryv1.ProposalAction_AddAgency:
		err = validateNewAgency(x.AddAgency, p)
	case *notaryv1.ProposalAction_UpdateAgency:
		err = validateNewAgency(x.UpdateAgency, p)
	case *notaryv1.ProposalAction_RemoveAgency:
		err = checkActionID("agency", x.RemoveAgency)
	case *notaryv1.ProposalAction_SetTlsKeys:
		err = validateSetTLSKeys(x.SetTlsKeys)
	case *notaryv1.ProposalAction_AddValidator:
		m := x.AddValidator
		err = validateMinistry(m, p)
		if err == nil && (m.Active || m.SinceHeight != 0) {
			err = wrapf(ErrInvalidProposal, "active and since_height are set by the chain")
		}
	case *notaryv1.ProposalAction_RemoveValidator:
		err = checkActionID("ministry", x.RemoveValidator)
	case *notaryv1.ProposalAction_ReweightValidator:
		rw := x.ReweightValidator
		err = checkActionID("ministry", rw.GetMinistryId())
		if err == nil && (rw.Power <= 0 || rw.Power > maxValidatorPower) {
			err = wrapf(ErrInvalidField, "power %d not in 1..2^40", rw.Power)
		}
	case *notaryv1.ProposalAction_RegisterMandate:
		md := x.RegisterMandate
		err = validateMandate(md, p, func(string) bool { return true })
		if err == nil && (md.ProposalId != 0 || md.RegisteredHeight != 0 || md.ExpiredHeight != 0) {
			err = wrapf(ErrInvalidProposal, "proposal_id, registered_height and expired_height are set by the chain")
		}
	case *notaryv1.ProposalAction_ExpireMandate:
		err = checkActionID("mandate", x.ExpireMandate)
	case *notaryv1.ProposalAction_ChangeParams:
		err = ValidateParams(x.ChangeParams)
	case *notaryv1.ProposalAction_Revoke:
		if x.Revoke == nil {
			return wrapf(ErrInvalidProposal, "revoke names no digests")
		}
		err = validateRevoke(x.Revoke, p)
	case *notaryv1.ProposalAction_ScheduleUpgrade:
		err = validateUpgradePlan(x.ScheduleUpgrade, p)
	case *notaryv1.ProposalAction_CancelUpgrade:
		err = checkUpgradeName(x.CancelUpgrade)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func validateNewAgency(a *notaryv1.Agency, p *notaryv1.Params) error {
	if err := validateAgency(a, p); err != nil {
		return err
	}
	if a.Active || a.SinceHeight != 0 {
		return wrapf(ErrInvalidProposal, "active and since_height are set by the chain")
	}
	return nil
}

func checkActionID(kind, id string) error {
	if !ValidID(id) {
		return wrapf(ErrInvalidField, "%s id %q must be 1..64 of [a-z0-9-]", kind, id)
	}
	return nil
}

func (r *actionRun) height() int64 { return r.ctx.e.block.Height }

// keyUser names who already uses key (any account, or a ministry's consensus
// or governance key), or returns "" if nobody does.
func (r *actionRun) keyUser(key []byte) (string, error) { return keyUser(r.ctx.st, key) }

func (r *actionRun) requireUnusedKey(key []byte) error {
	who, err := r.keyUser(key)
	if err != nil {
		return err
	}
	if who != "" {
		return wrapf(ErrKeyInUse, "key %x is used by %s", key, who)
	}
	return nil
}

// activeAgency loads agency id and checks that it exists and is active.
func (r *actionRun) activeAgency(id string) (*notaryv1.Agency, error) {
	a, err := loadAgency(r.ctx.st, id)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, wrapf(ErrUnknownAgency, "%q", id)
	}
	if !a.Active {
		return nil, wrapf(ErrInactive, "agency %q was removed at height %d", id, a.SinceHeight)
	}
	return a, nil
}

// activeMinistry loads ministry id and checks that it exists and is active.
func (r *actionRun) activeMinistry(id string) (*notaryv1.Ministry, error) {
	m, err := loadMinistry(r.ctx.st, id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, wrapf(ErrMinistryNotFound, "%q", id)
	}
	if !m.Active {
		return nil, wrapf(ErrInactive, "ministry %q was removed at height %d", id, m.SinceHeight)
	}
	return m, nil
}

func (r *actionRun) putAgency(a *notaryv1.Agency) error {
	return r.ctx.st.Set(AgencyKey(a.Id), Encode(a))
}

func (r *actionRun) putAccount(pub []byte, role notaryv1.Role, owner string) error {
	acct := &notaryv1.Account{PubKey: pub, Role: role, Owner: owner}
	return r.ctx.st.Set(AccountKey(pub), Encode(acct))
}

func (r *actionRun) addAgency(a *notaryv1.Agency) error {
	prev, err := loadAgency(r.ctx.st, a.Id)
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrAgencyExists, "%q", a.Id)
	}
	if err := r.requireUnusedKey(a.PubKey); err != nil {
		return err
	}
	rec := &notaryv1.Agency{Id: a.Id, Name: a.Name, PubKey: a.PubKey, Permissions: a.Permissions, TlsKeys: a.TlsKeys, Active: true, SinceHeight: r.height()}
	if err := r.putAgency(rec); err != nil {
		return err
	}
	return r.putAccount(a.PubKey, notaryv1.Role_ROLE_AGENCY, a.Id)
}

func (r *actionRun) removeAgency(id string) error {
	a, err := r.activeAgency(id)
	if err != nil {
		return err
	}
	a.Active, a.SinceHeight = false, r.height()
	return r.putAgency(a)
}

// updateAgency replaces an agency's name, key and permissions. A new key gets
// a new account (sequence 0); the old key's account is deleted.
func (r *actionRun) updateAgency(u *notaryv1.Agency) error {
	a, err := r.activeAgency(u.Id)
	if err != nil {
		return err
	}
	newKey := !bytes.Equal(a.PubKey, u.PubKey)
	if !newKey && a.Name == u.Name && samePermissions(a.Permissions, u.Permissions) && sameKeys(a.TlsKeys, u.TlsKeys) {
		return wrapf(ErrInvalidProposal, "the update changes nothing in agency %q", u.Id)
	}
	if newKey {
		if err := r.requireUnusedKey(u.PubKey); err != nil {
			return err
		}
	}
	rec := &notaryv1.Agency{Id: u.Id, Name: u.Name, PubKey: u.PubKey, Permissions: u.Permissions, TlsKeys: u.TlsKeys, Active: true, SinceHeight: r.height()}
	if err := r.putAgency(rec); err != nil {
		return err
	}
	if !newKey {
		return nil
	}
	if err := r.ctx.st.Delete(AccountKey(a.PubKey)); err != nil {
		return err
	}
	return r.putAccount(u.PubKey, notaryv1.Role_ROLE_AGENCY, u.Id)
}

func validateSetTLSKeys(k *notaryv1.SetTLSKeys) error {
	switch {
	case k == nil || (k.AgencyId == "") == (k.MinistryId == ""):
		return wrapf(ErrInvalidProposal, "set-tls-keys names exactly one of agency_id and ministry_id")
	case len(k.TlsKeys) == 0:
		return wrapf(ErrInvalidProposal, "set-tls-keys names no key: register at least one certificate key (remove the member to refuse all)")
	case k.AgencyId != "":
		if err := checkActionID("agency", k.AgencyId); err != nil {
			return err
		}
		return validateTLSKeys("agency "+k.AgencyId, k.TlsKeys)
	}
	if err := checkActionID("ministry", k.MinistryId); err != nil {
		return err
	}
	return validateTLSKeys("ministry "+k.MinistryId, k.TlsKeys)
}

// setTLSKeys replaces the certificate keys of an active agency or ministry.
func (r *actionRun) setTLSKeys(k *notaryv1.SetTLSKeys) error {
	if k.AgencyId != "" {
		a, err := r.activeAgency(k.AgencyId)
		if err != nil {
			return err
		}
		if sameKeys(a.TlsKeys, k.TlsKeys) {
			return wrapf(ErrInvalidProposal, "agency %q already has these tls_keys", a.Id)
		}
		a.TlsKeys, a.SinceHeight = k.TlsKeys, r.height()
		return r.putAgency(a)
	}
	m, err := r.activeMinistry(k.MinistryId)
	if err != nil {
		return err
	}
	if sameKeys(m.TlsKeys, k.TlsKeys) {
		return wrapf(ErrInvalidProposal, "ministry %q already has these tls_keys", m.Id)
	}
	m.TlsKeys, m.SinceHeight = k.TlsKeys, r.height()
	return r.putMinistry(m)
}

func sameKeys(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func samePermissions(a, b []notaryv1.Permission) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkValidators applies the validator safety rule (see the top of this
// file) to a change of ministryID's validator from before to after power,
// and stages the change.
func (r *actionRun) checkValidators(ministryID string, key []byte, before, after int64) error {
	ms, err := allMinistries(r.ctx.st)
	if err != nil {
		return err
	}
	var count, total int64
	for _, m := range ms {
		if m.Active {
			count++
			total += m.Power
		}
	}
	if !r.vs.loaded {
		// No validator changed yet in this block: the state's total is the
		// total in force when the block started.
		r.vs.startTotal, r.vs.loaded = total, true
	}
	switch {
	case before == 0 && after > 0:
		count++
	case before > 0 && after == 0:
		count--
	}
	minVals := int64(r.params.MinValidators)
	if minVals < 1 {
		minVals = 1
	}
	if count < minVals {
		return wrapf(ErrUnsafeValidators, "ministry %q: %d validators would remain, the minimum is %d", ministryID, count, minVals)
	}
	ch := valChange{ministryID: ministryID, key: key, before: before, after: after}
	if moved := r.vs.moved(ch); moved*3 >= r.vs.startTotal {
		return wrapf(ErrUnsafeValidators, "ministry %q: the block would move %d of %d voting power; a block must move less than 1/3", ministryID, moved, r.vs.startTotal)
	}
	r.change = &ch
	return nil
}

func (r *actionRun) putMinistry(m *notaryv1.Ministry) error {
	return r.ctx.st.Set(MinistryKey(m.Id), Encode(m))
}

func (r *actionRun) addValidator(m *notaryv1.Ministry) error {
	prev, err := loadMinistry(r.ctx.st, m.Id)
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrMinistryExists, "%q", m.Id)
	}
	if err := r.requireUnusedKey(m.GovPubKey); err != nil {
		return err
	}
	if err := r.requireUnusedKey(m.ConsensusPubKey); err != nil {
		return err
	}
	if err := r.checkValidators(m.Id, m.ConsensusPubKey, 0, m.Power); err != nil {
		return err
	}
	rec := &notaryv1.Ministry{
		Id: m.Id, Name: m.Name, GovPubKey: m.GovPubKey, ConsensusPubKey: m.ConsensusPubKey,
		Power: m.Power, TlsKeys: m.TlsKeys, Active: true, SinceHeight: r.height(),
	}
	if err := r.putMinistry(rec); err != nil {
		return err
	}
	return r.putAccount(m.GovPubKey, notaryv1.Role_ROLE_MINISTRY, m.Id)
}

// removeValidator removes a ministry's validator; the ministry can no longer
// vote, and its votes on open proposals no longer count. Its records and its
// keys stay (keys are never reused).
func (r *actionRun) removeValidator(id string) error {
	m, err := r.activeMinistry(id)
	if err != nil {
		return err
	}
	if err := r.checkValidators(id, m.ConsensusPubKey, m.Power, 0); err != nil {
		return err
	}
	m.Power, m.Active, m.SinceHeight = 0, false, r.height()
	return r.putMinistry(m)
}

func (r *actionRun) reweightValidator(rw *notaryv1.ReweightValidator) error {
	m, err := r.activeMinistry(rw.MinistryId)
	if err != nil {
		return err
	}
	if m.Power == rw.Power {
		return wrapf(ErrInvalidProposal, "ministry %q already has power %d", m.Id, m.Power)
	}
	if err := r.checkValidators(m.Id, m.ConsensusPubKey, m.Power, rw.Power); err != nil {
		return err
	}
	m.Power, m.SinceHeight = rw.Power, r.height()
	return r.putMinistry(m)
}

// registerMandate stores a mandate whose agencies all exist and are active,
// checked against the params in force.
func (r *actionRun) registerMandate(md *notaryv1.Mandate) error {
	found, err := load(r.ctx.st, MandateKey(md.Id), &notaryv1.Mandate{})
	if err != nil {
		return err
	}
	if found {
		return wrapf(ErrMandateExists, "%q", md.Id)
	}
	for _, ids := range [][]string{md.RequestingAgencies, md.ProvidingAgencies} {
		for _, id := range ids {
			if _, err := r.activeAgency(id); err != nil {
				return fmt.Errorf("mandate %s: %w", md.Id, err)
			}
		}
	}
	rec := proto.Clone(md).(*notaryv1.Mandate)
	rec.ProposalId, rec.RegisteredHeight, rec.ExpiredHeight = r.id, r.height(), 0
	return r.ctx.st.Set(MandateKey(md.Id), Encode(rec))
}

func (r *actionRun) expireMandate(id string) error {
	md := &notaryv1.Mandate{}
	found, err := load(r.ctx.st, MandateKey(id), md)
	if err != nil {
		return err
	}
	if !found {
		return wrapf(ErrMandateNotFound, "%q", id)
	}
	if md.ExpiredHeight != 0 {
		return wrapf(ErrMandateExpired, "mandate %q was expired at height %d", id, md.ExpiredHeight)
	}
	md.ExpiredHeight = r.height()
	return r.ctx.st.Set(MandateKey(id), Encode(md))
}

// changeParams stores new params; NewExec loads them for the next block.
func (r *actionRun) changeParams(p *notaryv1.Params) error {
	if proto.Equal(p, r.params) {
		return wrapf(ErrInvalidProposal, "the params are already in force")
	}
	if p.EvidenceLog != r.params.EvidenceLog {
		// The log holds all evidence from its first leaf: it starts with
		// the chain (genesis), never in the middle of one.
		return wrapf(ErrInvalidParams, "evidence_log is set by the genesis document and cannot change")
	}
	ms, err := allMinistries(r.ctx.st)
	if err != nil {
		return err
	}
	active := 0
	for _, m := range ms {
		if m.Active {
			active++
		}
	}
	if int64(p.MinValidators) > int64(active) {
		return wrapf(ErrInvalidParams, "min_validators %d exceeds the %d active validators", p.MinValidators, active)
	}
	return r.ctx.st.Set(ParamsKey(), Encode(p))
}

// keyUser names who already uses key in st (any account, or a ministry's
// consensus or governance key), or returns "" if nobody does.
func keyUser(st Store, key []byte) (string, error) {
	acct, err := loadAccount(st, key)
	if err != nil {
		return "", err
	}
	if acct != nil {
		if acct.Role == notaryv1.Role_ROLE_CITIZEN {
			return "a citizen account", nil
		}
		return fmt.Sprintf("%s %q", strings.ToLower(strings.TrimPrefix(acct.Role.String(), "ROLE_")), acct.Owner), nil
	}
	ms, err := allMinistries(st)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if bytes.Equal(m.ConsensusPubKey, key) || bytes.Equal(m.GovPubKey, key) {
			return fmt.Sprintf("ministry %q", m.Id), nil
		}
	}
	return "", nil
}

// loadProposal returns proposal id, or nil if there is none.
func loadProposal(st Store, id uint64) (*notaryv1.Proposal, error) {
	p := &notaryv1.Proposal{}
	ok, err := load(st, ProposalKey(id), p)
	if !ok {
		return nil, err
	}
	return p, nil
}

// allMinistries returns every ministry record, active or not, in id order.
func allMinistries(st Store) ([]*notaryv1.Ministry, error) {
	var out []*notaryv1.Ministry
	var derr error
	prefix := MinistryPrefix()
	err := st.Iterate(prefix, PrefixEnd(prefix), func(k, v []byte) bool {
		m := &notaryv1.Ministry{}
		if err := proto.Unmarshal(v, m); err != nil {
			derr = &StoreError{fmt.Errorf("decode ministry at %q: %w", k, err)}
			return false
		}
		out = append(out, m)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, derr
}

// openProposalIDs returns the ids of the open proposals, ascending.
func openProposalIDs(st Store) ([]uint64, error) {
	var ids []uint64
	var derr error
	err := st.Iterate(prefixOpen, PrefixEnd(prefixOpen), func(k, _ []byte) bool {
		rest := k[len(prefixOpen):]
		if len(rest) != 8 {
			derr = &StoreError{fmt.Errorf("bad open proposal key %q", k)}
			return false
		}
		ids = append(ids, binary.BigEndian.Uint64(rest))
		return true
	})
	if err != nil {
		return nil, err
	}
	return ids, derr
}
