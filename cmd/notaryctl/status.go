package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// validatorView is a validator ministry.
type validatorView struct {
	MinistryID   string  `json:"ministry_id"`
	Name         string  `json:"name"`
	Power        int64   `json:"power"`
	Share        float64 `json:"share"`
	ConsensusKey string  `json:"consensus_pub_key"`
}

// statusResult is the status command's result.
type statusResult struct {
	ChainID    string          `json:"chain_id"`
	Height     int64           `json:"height"`
	BlockTime  time.Time       `json:"block_time"`
	AppHash    string          `json:"app_hash"`
	CatchingUp bool            `json:"catching_up"`
	NodeID     string          `json:"node_id"`
	Moniker    string          `json:"moniker"`
	Version    string          `json:"version"`
	TotalPower int64           `json:"total_power"`
	Validators []validatorView `json:"validators"`
}

func (r *statusResult) Text(w io.Writer) error {
	sync := "no"
	if r.CatchingUp {
		sync = "yes (its answers may be behind the chain)"
	}
	fmt.Fprintf(w, "chain %s at height %d (%s)\n", safe(r.ChainID), r.Height, stamp(r.BlockTime))
	fmt.Fprintf(w, "  app hash     %s\n", safe(r.AppHash))
	fmt.Fprintf(w, "  node         %s (%s), version %s\n", safe(r.Moniker), safe(r.NodeID), safe(r.Version))
	fmt.Fprintf(w, "  catching up  %s\n", sync)
	fmt.Fprintf(w, "  validators   %d, total power %d\n", len(r.Validators), r.TotalPower)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range r.Validators {
		fmt.Fprintf(tw, "    %s\t%s\tpower %d\t%.1f%%\n", safe(v.MinistryID), safe(v.Name), v.Power, 100*v.Share)
	}
	return tw.Flush()
}

func newStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "show the chain id, height and validators",
		Long: `status asks the node's gateway for the chain id, the latest committed height
and its block time and app hash, whether the node is catching up, and the
validators: each ministry with its name, voting power and share of it.

Exit codes: 0 ok; 2 usage error; 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			st, err := s.c.Status(s.ctx)
			if err != nil {
				return nil, s.fail(err)
			}
			res := &statusResult{
				ChainID: st.GetChainId(), Height: st.GetLatestHeight(), BlockTime: utc(st.GetLatestBlockTime()),
				AppHash: hex.EncodeToString(st.GetLatestAppHash()), CatchingUp: st.GetCatchingUp(),
				NodeID: st.GetNodeId(), Moniker: st.GetMoniker(), Version: st.GetVersion(),
				Validators: []validatorView{},
			}
			for _, m := range st.GetValidators() {
				res.TotalPower += m.GetPower()
			}
			for _, m := range st.GetValidators() {
				v := validatorView{MinistryID: m.GetId(), Name: m.GetName(), Power: m.GetPower(), ConsensusKey: hex.EncodeToString(m.GetConsensusPubKey())}
				if res.TotalPower > 0 {
					v.Share = float64(v.Power) / float64(res.TotalPower)
				}
				res.Validators = append(res.Validators, v)
			}
			return res, nil
		}),
	}
}
