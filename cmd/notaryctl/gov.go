package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func newGovCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gov",
		Short: "consortium governance: propose, vote, list (ministries)",
		Long: `gov is the consortium's governance. A ministry proposes an action with its
governance identity (--identity, the ministry's directory under identities/);
ministries vote with their voting power; a proposal passes with more than
the chain's gov_threshold (2/3 by default) of the total power before it
expires, and its action runs at the end of that block.`,
	}
	cmd.AddCommand(newGovProposeCmd(), newGovVoteCmd(), newGovListCmd(), newGovParamsCmd())
	return cmd
}

// proposalView is a governance proposal.
type proposalView struct {
	ID       uint64 `json:"id"`
	Title    string `json:"title"`
	Action   string `json:"action"`
	Target   string `json:"target,omitempty"`
	Proposer string `json:"proposer_ministry_id"`
	Status   string `json:"status"`
	Yes      int64  `json:"yes_power"`
	No       int64  `json:"no_power"`
	Abstain  int64  `json:"abstain_power"`
	Submit   int64  `json:"submit_height"`
	Expiry   int64  `json:"expiry_height"`
	Decided  int64  `json:"decided_height,omitempty"`
	Result   string `json:"result,omitempty"`
	// UpgradeHeight is a schedule-upgrade's height.
	UpgradeHeight int64 `json:"upgrade_height,omitempty"`
	// Witnesses and WitnessThreshold are a change-params' witness policy.
	Witnesses        []witnessView `json:"witnesses,omitempty"`
	WitnessThreshold uint32        `json:"witness_threshold,omitempty"`
}

// witnessView is a witness registered by governance.
type witnessView struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

func viewWitnesses(ws []*notaryv1.Witness) []witnessView {
	var out []witnessView
	for _, w := range ws {
		out = append(out, witnessView{Name: w.GetName(), Key: w.GetKey()})
	}
	return out
}

// witnessPolicy is a witness policy in words: "k of n witnesses (name
// <key name>, ...)", or "no witnesses".
func witnessPolicy(ws []witnessView, k uint32) string {
	if len(ws) == 0 {
		return "no witnesses"
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		kn, _, _ := strings.Cut(w.Key, "+")
		names[i] = fmt.Sprintf("%s <%s>", safe(w.Name), safe(kn))
	}
	return fmt.Sprintf("%d of %d %s (%s)", k, len(ws), plural(len(ws), "witness", "witnesses"), strings.Join(names, ", "))
}

func viewProposal(p *notaryv1.Proposal) proposalView {
	return proposalView{
		ID: p.GetId(), Title: p.GetTitle(), Action: ledger.ProposalActionName(p.GetAction()), Target: ledger.ProposalActionTarget(p.GetAction()),
		Proposer: p.GetProposerMinistryId(), Status: ledger.ProposalStatusName(p.GetStatus()),
		Yes: p.GetYesPower(), No: p.GetNoPower(), Abstain: p.GetAbstainPower(),
		Submit: p.GetSubmitHeight(), Expiry: p.GetExpiryHeight(), Decided: p.GetDecidedHeight(), Result: p.GetResult(),
		UpgradeHeight:    p.GetAction().GetScheduleUpgrade().GetHeight(),
		Witnesses:        viewWitnesses(p.GetAction().GetChangeParams().GetWitnesses()),
		WitnessThreshold: p.GetAction().GetChangeParams().GetWitnessThreshold(),
	}
}

// describe is the proposal's action and target in words.
func (p proposalView) describe() string {
	if p.Action == "change-params" && len(p.Witnesses) > 0 {
		return safe(p.Action) + ": " + witnessPolicy(p.Witnesses, p.WitnessThreshold)
	}
	if p.Target == "" {
		return safe(p.Action)
	}
	if p.UpgradeHeight != 0 {
		return fmt.Sprintf("%s %s at height %d", safe(p.Action), safe(p.Target), p.UpgradeHeight)
	}
	return safe(p.Action) + " " + safe(p.Target)
}

// requireMinistry refuses an identity that is not a ministry's.
func requireMinistry(s *session, what string) error {
	if s.id.Role != identity.RoleMinistry {
		return cli.Usage("%s needs a ministry's governance identity (--identity DIR), not a %s's (%s)", what, s.id.Role, s.id.Dir())
	}
	return nil
}

// totalPower is the power of the active validator ministries.
func totalPower(ctx context.Context, s *session) (int64, error) {
	st, err := s.c.Status(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, m := range st.GetValidators() {
		total += m.GetPower()
	}
	return total, nil
}

// share formats part of total as a percentage.
func share(part, total int64) string {
	if total <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(total))
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
