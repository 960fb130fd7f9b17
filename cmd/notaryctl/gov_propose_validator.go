package main

import (
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func newProposeAddValidatorCmd() *cobra.Command {
	var (
		id, name, govKey, consKey, request string
		power                              int64
		certs                              []string
	)
	cmd := &cobra.Command{
		Use:   "add-validator (--request join-request.json | --id ID --name NAME --gov-key KEY --consensus-key KEY --power N [--tls-cert FILE])",
		Short: "propose adding a ministry and its validator",
		Long: `add-validator proposes a new ministry with its validator. --gov-key is the
ministry's governance key (hex, base64 or its identity directory);
--consensus-key its validator's consensus key (hex, base64, its
priv_validator_key.json, or its node home). The chain refuses a change that
moves 1/3 or more of the voting power at once. --request takes all of it
from the ministry's join request ('notaryd init --ministry'), checked
here: its signature by the ministry's governance key. --tls-cert (or the
request's tls_key) registers the key of the ministry's client certificate.`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if request != "" {
			r, err := readJoinRequest(request, join.RoleMinistry)
			if err != nil {
				return nil, "", err
			}
			gov, _ := hex.DecodeString(r.GovPubKey)
			cons, _ := hex.DecodeString(r.ConsensusPubKey)
			m := &notaryv1.Ministry{Id: r.ID, Name: r.Name, GovPubKey: gov, ConsensusPubKey: cons, Power: r.Power, TlsKeys: r.TLSKeys()}
			if cmd.Flags().Changed("power") {
				m.Power = power
			}
			return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: m}},
				fmt.Sprintf("Add %s (%s) as a validator with power %d", r.Name, r.ID, m.Power), nil
		}
		if err := required(cmd, "id", "name", "gov-key", "consensus-key", "power"); err != nil {
			return nil, "", err
		}
		tk, err := parseTLSKeys("tls-cert", certs)
		if err != nil {
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
		m := &notaryv1.Ministry{Id: id, Name: name, GovPubKey: gov, ConsensusPubKey: cons, Power: power, TlsKeys: tk}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: m}},
			fmt.Sprintf("Add %s (%s) as a validator with power %d", name, id, power), nil
	})
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "ministry id, 1..64 of [a-z0-9-]")
	f.StringVar(&name, "name", "", "ministry name")
	f.StringVar(&govKey, "gov-key", "", "the ministry's governance key: hex, base64 or identity directory")
	f.StringVar(&consKey, "consensus-key", "", "the validator's consensus key: hex, base64, priv_validator_key.json or node home")
	f.Int64Var(&power, "power", 0, "voting power (with --request: in place of the requested one)")
	f.StringVar(&request, "request", "", "the ministry's join request (join-request.json), in place of the other flags")
	f.StringSliceVar(&certs, "tls-cert", nil, "a PEM certificate or certificate request whose key the gateways accept for the ministry")
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
