package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// govListResult is the gov list command's result.
type govListResult struct {
	Height     int64          `json:"height"`
	TotalPower int64          `json:"total_power"`
	Proposals  []proposalView `json:"proposals"`
}

func (r *govListResult) Text(w io.Writer) error {
	if len(r.Proposals) == 0 {
		_, err := fmt.Fprintf(w, "no proposals (as of height %d)\n", r.Height)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tSTATUS\tACTION\tYES\tNO\tEXPIRES\tPROPOSER\tTITLE\n")
	for _, p := range r.Proposals {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d (%s)\t%d\t%d\t%s\t%s\n",
			p.ID, safe(p.Status), p.describe(), p.Yes, share(p.Yes, r.TotalPower), p.No, p.Expiry, safe(p.Proposer), safe(p.Title))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d %s as of height %d; total voting power %d\n",
		len(r.Proposals), plural(len(r.Proposals), "proposal", "proposals"), r.Height, r.TotalPower)
	return err
}

func newGovListCmd() *cobra.Command {
	var (
		statusFilter string
		limit        int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list governance proposals, newest first",
		Long: `list shows governance proposals, newest first: id, status (voting, passed,
rejected, expired, failed), action and target, the yes power and its share of
the total voting power, the no power, the expiry height, the proposer and
the title.

Exit codes: 0 ok; 2 usage error; 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			if limit < 1 {
				return nil, cli.Usage("--limit must be at least 1")
			}
			if statusFilter != "" {
				known := false
				for v := range notaryv1.ProposalStatus_name {
					if v != 0 && ledger.ProposalStatusName(notaryv1.ProposalStatus(v)) == statusFilter {
						known = true
					}
				}
				if !known {
					return nil, cli.Usage("--status %q: use voting, passed, rejected, expired or failed", statusFilter)
				}
			}
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			res := &govListResult{Proposals: []proposalView{}}
			token := ""
			for len(res.Proposals) < limit {
				resp, err := s.c.Gateway().ListProposals(s.ctx, &notaryv1.ListProposalsRequest{PageToken: token, PageSize: 100})
				if err != nil {
					return nil, s.fail(fmt.Errorf("list proposals: %w", err))
				}
				if res.Height == 0 {
					res.Height = resp.GetHeight()
				}
				for _, p := range resp.GetProposals() {
					v := viewProposal(p)
					if (statusFilter == "" || v.Status == statusFilter) && len(res.Proposals) < limit {
						res.Proposals = append(res.Proposals, v)
					}
				}
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if res.TotalPower, err = totalPower(s.ctx, s); err != nil {
				return nil, s.fail(err)
			}
			return res, nil
		}),
	}
	cmd.Flags().StringVar(&statusFilter, "status", "", "only proposals with this status: voting, passed, rejected, expired or failed")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many proposals")
	return cmd
}
