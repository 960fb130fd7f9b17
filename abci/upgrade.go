package abci

import (
	"fmt"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// UpgradeNeededError stops the execution of the block at the height of a
// scheduled upgrade this binary does not know.
type UpgradeNeededError struct {
	Plan *notaryv1.UpgradePlan
}

// Error implements error.
func (e *UpgradeNeededError) Error() string {
	msg := fmt.Sprintf("UPGRADE %q NEEDED at height %d: this binary does not know it; install the binary that does and restart the node",
		e.Plan.Name, e.Plan.Height)
	if e.Plan.Info != "" {
		msg += " (info: " + e.Plan.Info + ")"
	}
	return msg
}

// checkUpgrade stops FinalizeBlock at height if the last committed state
// schedules there an upgrade this binary does not know: Options.UpgradeNeeded
// is called, and the error returned if it returns. A known upgrade is
// applied by execute.
func (a *Application) checkUpgrade(height int64) error {
	c := a.committed.Load()
	if c.height == 0 || height != c.height+1 {
		return nil // execute refuses a height it does not expect
	}
	view, err := a.StateAt(c.height)
	if err != nil {
		return fmt.Errorf("abci: FinalizeBlock %d: %w", height, err)
	}
	plan, err := ledger.UpgradeDue(view, height)
	if err != nil {
		return fmt.Errorf("abci: FinalizeBlock %d: %w", height, err)
	}
	if plan == nil {
		return nil
	}
	if _, known := a.opts.Upgrades[plan.Name]; known {
		return nil
	}
	a.abortOptimistic()
	uerr := &UpgradeNeededError{Plan: plan}
	a.log.Error(uerr.Error(), "upgrade", plan.Name, "height", plan.Height, "info", plan.Info)
	if f := a.opts.UpgradeNeeded; f != nil {
		f(plan)
	}
	return uerr
}

// applyUpgrade runs, on the working tree (a.mu held), the migration of the
// upgrade scheduled at height, if any, and returns its event. An unknown
// upgrade returns an *UpgradeNeededError (checkUpgrade has stopped the
// node before).
func (a *Application) applyUpgrade(height int64) ([]ledger.Event, error) {
	st := workingStore{a.tree}
	plan, err := ledger.UpgradeDue(st, height)
	if err != nil || plan == nil {
		return nil, err
	}
	handler, known := a.opts.Upgrades[plan.Name]
	if !known {
		return nil, &UpgradeNeededError{Plan: plan}
	}
	ev, err := ledger.ApplyUpgrade(st, plan, height, handler)
	if err != nil {
		return nil, fmt.Errorf("abci: FinalizeBlock %d: %w", height, err)
	}
	a.log.Info("upgrade applied", "upgrade", plan.Name, "height", height)
	return []ledger.Event{ev}, nil
}
