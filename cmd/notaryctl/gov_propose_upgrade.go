package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func checkUpgradeName(name string) error {
	if !ledger.ValidUpgradeName(name) {
		return cli.Usage("upgrade name %q: must be 1..64 of [a-z0-9.-], starting with a letter or digit", name)
	}
	return nil
}

func newProposeScheduleUpgradeCmd() *cobra.Command {
	var (
		height, in int64
		info       string
	)
	cmd := &cobra.Command{
		Use:   "schedule-upgrade NAME (--height H | --in N) [--info TEXT]",
		Short: "propose a software upgrade at a height",
		Long: fmt.Sprintf(`schedule-upgrade proposes the upgrade NAME at height H (--height) or N blocks
from the chain's current height (--in). Once it passes, every node stops
before executing block H unless its binary knows NAME (it logs UPGRADE
NEEDED and exits with status 8); operators then start the binary of the
upgrade, which runs its state migration at H and continues. A plan that
passes replaces the one scheduled before; cancel-upgrade removes it.

NAME is 1..64 of [a-z0-9.-], starting with a letter or digit. H must be at
least %d blocks ahead of the block that records the proposal, and still
ahead when the proposal passes (otherwise the proposal FAILS). --info is a
public text for operators: where to get the binary, its checksum.`, ledger.UpgradeMinDelay),
		Args: cobra.ExactArgs(1),
	}
	cmd.RunE = proposeRun(func(s *session) (*notaryv1.ProposalAction, string, error) {
		name := cmd.Flags().Arg(0)
		if err := checkUpgradeName(name); err != nil {
			return nil, "", err
		}
		switch {
		case cmd.Flags().Changed("height") == cmd.Flags().Changed("in"):
			return nil, "", cli.Usage("schedule-upgrade: give one of --height and --in")
		case cmd.Flags().Changed("in"):
			if in < ledger.UpgradeMinDelay {
				return nil, "", cli.Usage("--in %d: an upgrade must be at least %d blocks ahead", in, ledger.UpgradeMinDelay)
			}
			st, err := s.c.Status(s.ctx)
			if err != nil {
				return nil, "", fmt.Errorf("read the chain's height: %w", err)
			}
			height = st.GetLatestHeight() + in
		case height <= 0:
			return nil, "", cli.Usage("--height %d: must be positive", height)
		}
		plan := &notaryv1.UpgradePlan{Name: name, Height: height, Info: info}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ScheduleUpgrade{ScheduleUpgrade: plan}},
			fmt.Sprintf("Upgrade to %s at height %d", name, height), nil
	})
	f := cmd.Flags()
	f.Int64Var(&height, "height", 0, "height of the first block the new binary executes")
	f.Int64Var(&in, "in", 0, "schedule the upgrade this many blocks after the current height")
	f.StringVar(&info, "info", "", "text for operators: where to get the binary, its checksum")
	return cmd
}

func newProposeCancelUpgradeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel-upgrade NAME",
		Short: "propose cancelling the scheduled upgrade NAME",
		Args:  cobra.ExactArgs(1),
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		name := cmd.Flags().Arg(0)
		if err := checkUpgradeName(name); err != nil {
			return nil, "", err
		}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_CancelUpgrade{CancelUpgrade: name}},
			"Cancel the upgrade " + name, nil
	})
	return cmd
}
