package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// voteResult is the gov vote command's result.
type voteResult struct {
	ProposalID uint64       `json:"proposal_id"`
	Ministry   string       `json:"ministry_id"`
	Option     string       `json:"option"`
	Height     int64        `json:"height"`
	TxHash     string       `json:"tx_hash"`
	TotalPower int64        `json:"total_power"`
	Proposal   proposalView `json:"proposal"`
}

func (r *voteResult) Text(w io.Writer) error {
	p := r.Proposal
	fmt.Fprintf(w, "%s voted %s on proposal %d (%s) at height %d\n", safe(r.Ministry), safe(r.Option), r.ProposalID, p.describe(), r.Height)
	fmt.Fprintf(w, "  proposal is %s: yes %d (%s), no %d, abstain %d of %d", safe(p.Status), p.Yes, share(p.Yes, r.TotalPower), p.No, p.Abstain, r.TotalPower)
	if p.Decided != 0 {
		fmt.Fprintf(w, "; decided at height %d", p.Decided)
		if p.Result != "" {
			fmt.Fprintf(w, " (%s)", safe(p.Result))
		}
		_, err := fmt.Fprintln(w)
		return err
	}
	_, err := fmt.Fprintf(w, "; open until height %d\n", p.Expiry)
	return err
}

func newGovVoteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "vote ID yes|no|abstain",
		Short: "vote on a proposal with this ministry's voting power",
		Long: `vote casts this ministry's vote on an open proposal, with its current voting
power, once. A proposal that passes with this vote is executed at the end of
the block: the answer shows its status after that block.

Exit codes: 0 voted; 1 refused (closed or unknown proposal, already voted,
not a ministry); 2 usage error; 4 node unreachable.`,
		Args: cobra.ExactArgs(2),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return nil, cli.Usage("proposal id %q: want a positive number", args[0])
			}
			var option notaryv1.VoteOption
			switch strings.ToLower(args[1]) {
			case "yes":
				option = notaryv1.VoteOption_VOTE_OPTION_YES
			case "no":
				option = notaryv1.VoteOption_VOTE_OPTION_NO
			case "abstain":
				option = notaryv1.VoteOption_VOTE_OPTION_ABSTAIN
			default:
				return nil, cli.Usage("vote %q: want yes, no or abstain", args[1])
			}
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			if err := requireMinistry(s, "gov vote"); err != nil {
				return nil, err
			}
			resp, err := s.c.Submit(s.ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
				MinistryId: s.id.ID, ProposalId: id, Option: option}}})
			if err != nil {
				return nil, s.fail(fmt.Errorf("vote on proposal %d: %w", id, err))
			}
			res := &voteResult{ProposalID: id, Ministry: s.id.ID, Option: strings.ToLower(args[1]), Height: resp.GetHeight(), TxHash: hex.EncodeToString(resp.GetTxHash())}
			pr, err := s.c.Gateway().GetProposal(s.ctx, &notaryv1.GetProposalRequest{Id: id, Height: resp.GetHeight()})
			if err != nil {
				return nil, s.fail(fmt.Errorf("voted at height %d, but reading proposal %d failed: %w", res.Height, id, err))
			}
			res.Proposal = viewProposal(pr.GetProposal())
			if res.TotalPower, err = totalPower(s.ctx, s); err != nil {
				return nil, s.fail(err)
			}
			return res, nil
		}),
	}
}
