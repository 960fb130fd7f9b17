package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func newProposeAddValidatorCmd() *cobra.Command {
	var (
		id, name, govKey, consKey string
		power                     int64
	)
	cmd := &cobra.Command{
		Use:   "add-validator --id ID --name NAME --gov-key KEY --consensus-key KEY --power N",
		Short: "propose adding a ministry and its validator",
		Long: `add-validator proposes a new ministry with its validator. --gov-key is the
ministry's governance key (hex, base64 or its identity directory);
--consensus-key its validator's consensus key (hex, base64, its
priv_validator_key.json, or its node home). The chain refuses a change that
moves 1/3 or more of the voting power at once.`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if err := required(cmd, "id", "name", "gov-key", "consensus-key", "power"); err != nil {
			return nil, "", err
		}
		if power <= 0 {
			return nil, "", cli.Usage("--power must be positive")
		}
		gov, err := parsePubKey("gov-key", govKey)
		if err != nil {
			return nil, "", err
		}
		cons, err := parsePubKey("consensus-key", consKey)
		if err != nil {
			return nil, "", err
		}
		m := &notaryv1.Ministry{Id: id, Name: name, GovPubKey: gov, ConsensusPubKey: cons, Power: power}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: m}},
			fmt.Sprintf("Add %s (%s) as a validator with power %d", name, id, power), nil
	})
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "ministry id, 1..64 of [a-z0-9-]")
	f.StringVar(&name, "name", "", "ministry name")
	f.StringVar(&govKey, "gov-key", "", "the ministry's governance key: hex, base64 or identity directory")
	f.StringVar(&consKey, "consensus-key", "", "the validator's consensus key: hex, base64, priv_validator_key.json or node home")
	f.Int64Var(&power, "power", 0, "voting power")
	return cmd
}

func newProposeReweightCmd() *cobra.Command {
	var (
		id    string
		power int64
	)
	cmd := &cobra.Command{
		Use:   "reweight-validator --id ID --power N",
		Short: "propose changing a ministry's voting power",
		Args:  cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if err := required(cmd, "id", "power"); err != nil {
			return nil, "", err
		}
		if power <= 0 {
			return nil, "", cli.Usage("--power must be positive (remove-validator removes one)")
		}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ReweightValidator{
				ReweightValidator: &notaryv1.ReweightValidator{MinistryId: id, Power: power}}},
			fmt.Sprintf("Set the voting power of %s to %d", id, power), nil
	})
	cmd.Flags().StringVar(&id, "id", "", "ministry id")
	cmd.Flags().Int64Var(&power, "power", 0, "new voting power")
	return cmd
}
