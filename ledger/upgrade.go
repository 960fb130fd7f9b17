package ledger

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Governed upgrades.
//
// A schedule-upgrade proposal stores an UpgradePlan (name, height, info);
// a later one replaces it, a cancel-upgrade proposal removes it. Before the
// block at the plan's height is executed, the node's application asks
// UpgradeDue: a binary that has a handler registered under the plan's name
// calls ApplyUpgrade, which runs the handler's state migration, records the
// upgrade as done and removes the plan, all in that block's state version;
// a binary that has none stops before executing the block (abci package).
// The ledger only keeps the plan and applies the migration it is given: it
// never stops a node itself.

// UpgradeMinDelay is how many blocks ahead of the proposing block an
// upgrade height must be: operators get at least this many blocks to see
// the plan, and the votes time to pass it before its height.
const UpgradeMinDelay = 10

// maxUpgradeName bounds an upgrade name.
const maxUpgradeName = 64

// Event types of upgrades.
const (
	EventUpgradeScheduled = "notary.upgrade.scheduled"
	EventUpgradeCanceled  = "notary.upgrade.canceled"
	EventUpgradeApplied   = "notary.upgrade.applied"
)

// UpgradeHandler migrates the state at an upgrade's height, before the
// block's transactions. It must be deterministic: every node runs it on the
// same state and must reach the same app hash. A nil handler migrates
// nothing.
type UpgradeHandler func(st Store, plan *notaryv1.UpgradePlan) error

// ValidUpgradeName reports whether name is 1..64 of [a-z0-9.-] starting
// with [a-z0-9].
func ValidUpgradeName(name string) bool {
	if name == "" || len(name) > maxUpgradeName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func checkUpgradeName(name string) error {
	if !ValidUpgradeName(name) {
		return wrapf(ErrInvalidUpgrade, "name %q must be 1..64 of [a-z0-9.-], starting with a letter or digit", name)
	}
	return nil
}

// validateUpgradePlan checks a plan whatever the state.
func validateUpgradePlan(u *notaryv1.UpgradePlan, p *notaryv1.Params) error {
	if u == nil {
		return wrapf(ErrInvalidUpgrade, "no plan")
	}
	if err := checkUpgradeName(u.Name); err != nil {
		return err
	}
	if u.Height <= 0 {
		return wrapf(ErrInvalidUpgrade, "height %d must be positive", u.Height)
	}
	if err := checkText("info", u.Info, p.MaxTextBytes); err != nil {
		return err
	}
	if u.ProposalId != 0 {
		return wrapf(ErrInvalidProposal, "proposal_id is set by the chain")
	}
	return nil
}

// checkUpgradeLead refuses, at proposal time, an upgrade height less than
// UpgradeMinDelay blocks after height h.
func checkUpgradeLead(a *notaryv1.ProposalAction, h int64) error {
	u := a.GetScheduleUpgrade()
	if u == nil {
		return nil
	}
	least := h + UpgradeMinDelay
	var err error
	switch {
	case u.Height <= h:
		err = wrapf(ErrInvalidUpgrade, "height %d is past: the chain is at height %d and an upgrade height must be at least %d (%d blocks ahead)",
			u.Height, h, least, UpgradeMinDelay)
	case u.Height < least:
		err = wrapf(ErrInvalidUpgrade, "height %d is too soon: the chain is at height %d and an upgrade height must be at least %d (%d blocks ahead)",
			u.Height, h, least, UpgradeMinDelay)
	default:
		return nil
	}
	return fmt.Errorf("%s: %w", ProposalActionName(a), err)
}

// scheduleUpgrade stores the plan, replacing the one scheduled before, if
// any. The plan's height must still be ahead of the executing block.
func (r *actionRun) scheduleUpgrade(u *notaryv1.UpgradePlan) error {
	h := r.height()
	if u.Height <= h {
		return wrapf(ErrInvalidUpgrade, "height %d is not in the future: the chain is at height %d", u.Height, h)
	}
	done, err := LoadUpgradeDone(r.ctx.st, u.Name)
	if err != nil {
		return err
	}
	if done != nil {
		return wrapf(ErrInvalidUpgrade, "upgrade %q was already applied at height %d", u.Name, done.Height)
	}
	prev, err := LoadUpgradePlan(r.ctx.st)
	if err != nil {
		return err
	}
	plan := proto.Clone(u).(*notaryv1.UpgradePlan)
	plan.ProposalId = r.id
	if err := r.ctx.st.Set(UpgradePlanKey(), Encode(plan)); err != nil {
		return err
	}
	kv := []string{"name", plan.Name, "height", strconv.FormatInt(plan.Height, 10), "proposal", strconv.FormatUint(r.id, 10)}
	if prev != nil {
		kv = append(kv, "replaces", prev.Name)
	}
	r.ctx.emit(EventUpgradeScheduled, kv...)
	return nil
}

// cancelUpgrade removes the scheduled plan, which must be named name.
func (r *actionRun) cancelUpgrade(name string) error {
	plan, err := LoadUpgradePlan(r.ctx.st)
	if err != nil {
		return err
	}
	if plan == nil {
		return wrapf(ErrUpgradeNotFound, "no upgrade is scheduled")
	}
	if plan.Name != name {
		return wrapf(ErrUpgradeNotFound, "the scheduled upgrade is %q, not %q", plan.Name, name)
	}
	if err := r.ctx.st.Delete(UpgradePlanKey()); err != nil {
		return err
	}
	r.ctx.emit(EventUpgradeCanceled, "name", name, "height", strconv.FormatInt(plan.Height, 10))
	return nil
}

// LoadUpgradePlan returns the scheduled upgrade, or nil if there is none.
func LoadUpgradePlan(st Store) (*notaryv1.UpgradePlan, error) {
	p := &notaryv1.UpgradePlan{}
	ok, err := load(wrapStore(st), UpgradePlanKey(), p)
	if !ok {
		return nil, err
	}
	return p, nil
}

// LoadUpgradeDone returns the record of the applied upgrade name, or nil.
func LoadUpgradeDone(st Store, name string) (*notaryv1.UpgradeDone, error) {
	d := &notaryv1.UpgradeDone{}
	ok, err := load(wrapStore(st), UpgradeDoneKey(name), d)
	if !ok {
		return nil, err
	}
	return d, nil
}

// UpgradeDue returns the plan that must be applied before the block at
// height is executed, or nil if there is none.
func UpgradeDue(st Store, height int64) (*notaryv1.UpgradePlan, error) {
	plan, err := LoadUpgradePlan(st)
	if err != nil || plan == nil || plan.Height > height {
		return nil, err
	}
	return plan, nil
}

// ApplyUpgrade runs handler (nil: no migration) for plan before the block
// at height is executed, records the upgrade as done and removes the plan.
// Nothing is written if the handler fails. It returns the event to report.
func ApplyUpgrade(st Store, plan *notaryv1.UpgradePlan, height int64, handler UpgradeHandler) (Event, error) {
	cs := newCacheStore(wrapStore(st))
	if handler != nil {
		if err := handler(cs, proto.Clone(plan).(*notaryv1.UpgradePlan)); err != nil {
			return Event{}, fmt.Errorf("upgrade %q: migration: %w", plan.Name, err)
		}
	}
	done := &notaryv1.UpgradeDone{Name: plan.Name, Height: height, ProposalId: plan.ProposalId}
	if err := cs.Set(UpgradeDoneKey(plan.Name), Encode(done)); err != nil {
		return Event{}, err
	}
	if err := cs.Delete(UpgradePlanKey()); err != nil {
		return Event{}, err
	}
	if err := cs.flush(); err != nil {
		return Event{}, tag(err)
	}
	return Event{Type: EventUpgradeApplied, Attributes: []Attribute{
		{Key: "name", Value: plan.Name},
		{Key: "height", Value: strconv.FormatInt(height, 10)},
	}}, nil
}
