package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// statusPeer is one connected peer.
type statusPeer struct {
	ID       string `json:"id"`
	Moniker  string `json:"moniker"`
	Address  string `json:"address"`
	Outbound bool   `json:"outbound"`
}

// statusResult is what status reports about a running node.
type statusResult struct {
	RPC         string       `json:"rpc"`
	Moniker     string       `json:"moniker"`
	NodeID      string       `json:"node_id"`
	ChainID     string       `json:"chain_id"`
	Version     string       `json:"cometbft_version"`
	Height      int64        `json:"height"`
	BlockTime   time.Time    `json:"block_time"`
	BlockHash   string       `json:"block_hash"`
	AppHeight   int64        `json:"app_height"`
	AppHash     string       `json:"app_hash"`
	Earliest    int64        `json:"earliest_height"`
	CatchingUp  bool         `json:"catching_up"`
	VotingPower int64        `json:"voting_power"`
	Validator   string       `json:"validator_address"`
	Peers       []statusPeer `json:"peers"`
}

func (s statusResult) Text(w io.Writer) error {
	sync := "no (at the tip of the peers it knows)"
	if s.CatchingUp {
		sync = "yes (block sync)"
	}
	role := "full node (not in the validator set)"
	if s.VotingPower > 0 {
		role = fmt.Sprintf("validator %s, voting power %d", s.Validator, s.VotingPower)
	}
	fmt.Fprintf(w, "node %s (%s) on chain %s, CometBFT %s\n", s.Moniker, s.NodeID, s.ChainID, s.Version)
	fmt.Fprintf(w, "  rpc          %s\n", s.RPC)
	fmt.Fprintf(w, "  height       %d   (%s, block %s)\n", s.Height, s.BlockTime.UTC().Format(time.RFC3339), s.BlockHash)
	fmt.Fprintf(w, "  app hash     %s   (state after height %d)\n", s.AppHash, s.AppHeight)
	fmt.Fprintf(w, "  earliest     %d\n", s.Earliest)
	fmt.Fprintf(w, "  catching up  %s\n", sync)
	fmt.Fprintf(w, "  role         %s\n", role)
	fmt.Fprintf(w, "  peers        %d\n", len(s.Peers))
	for _, p := range s.Peers {
		dir := "in "
		if p.Outbound {
			dir = "out"
		}
		fmt.Fprintf(w, "    %s %-22s %-12s %s\n", dir, p.Address, p.Moniker, p.ID)
	}
	return nil
}

func newStatusCmd() *cobra.Command {
	var home, rpc string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "show height, peers, catching-up and app hash of a running node",
		Long: `status asks a running node, through its CometBFT RPC (which listens on
127.0.0.1 only, so run it on the node's machine), for its height, the block
time and hash, the app hash of its last committed state, whether it is
catching up, its voting power and its peers.

The RPC address is --rpc if given, else the one in --home's config.toml.
Exit code 4 when the node does not answer.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			addr := rpc
			if addr == "" {
				a, err := rpcFromHome(home)
				if err != nil {
					return nil, err
				}
				addr = a
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return nodeStatus(ctx, addr)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node (to find its RPC address)")
	f.StringVar(&rpc, "rpc", "", "CometBFT RPC address, host:port (default: from the home's config)")
	f.DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the node")
	return cmd
}

// rpcFromHome reads the RPC listen address of a home's config.toml.
func rpcFromHome(home string) (string, error) {
	if _, err := os.Stat(filepath.Join(home, "config", "config.toml")); err != nil {
		return "", cli.Usage("no node home at %s (give --home, or --rpc host:port)", home)
	}
	cfg, err := app.LoadConfig(home)
	if err != nil {
		return "", cli.Usage("%v", err)
	}
	return trimScheme(cfg.Comet.RPC.ListenAddress), nil
}

// nodeStatus queries a node's CometBFT RPC at addr (host:port).
func nodeStatus(ctx context.Context, addr string) (*statusResult, error) {
	addr = trimScheme(strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://"))
	c, err := rpchttp.New("tcp://"+addr, "/websocket")
	if err != nil {
		return nil, cli.Usage("--rpc %q: %v", addr, err)
	}
	unavailable := func(what string, err error) error {
		return cli.Fail(cli.ExitUnavail, fmt.Errorf("node at %s: %s: %w (is it running? see its log)", addr, what, err))
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, unavailable("status", err)
	}
	info, err := c.ABCIInfo(ctx)
	if err != nil {
		return nil, unavailable("abci_info", err)
	}
	ni, err := c.NetInfo(ctx)
	if err != nil {
		return nil, unavailable("net_info", err)
	}
	res := &statusResult{
		RPC:         addr,
		Moniker:     st.NodeInfo.Moniker,
		NodeID:      string(st.NodeInfo.DefaultNodeID),
		ChainID:     st.NodeInfo.Network,
		Version:     st.NodeInfo.Version,
		Height:      st.SyncInfo.LatestBlockHeight,
		BlockTime:   st.SyncInfo.LatestBlockTime,
		BlockHash:   hex.EncodeToString(st.SyncInfo.LatestBlockHash),
		AppHeight:   info.Response.LastBlockHeight,
		AppHash:     hex.EncodeToString(info.Response.LastBlockAppHash),
		Earliest:    st.SyncInfo.EarliestBlockHeight,
		CatchingUp:  st.SyncInfo.CatchingUp,
		VotingPower: st.ValidatorInfo.VotingPower,
		Validator:   st.ValidatorInfo.Address.String(),
		Peers:       []statusPeer{},
	}
	for _, p := range ni.Peers {
		res.Peers = append(res.Peers, statusPeer{
			ID: string(p.NodeInfo.DefaultNodeID), Moniker: p.NodeInfo.Moniker,
			Address: p.RemoteIP + portOf(p.NodeInfo.ListenAddr), Outbound: p.IsOutbound,
		})
	}
	return res, nil
}

// portOf returns ":port" of a listen address such as tcp://0.0.0.0:26656.
func portOf(listen string) string {
	if i := strings.LastIndexByte(listen, ':'); i >= 0 {
		return listen[i:]
	}
	return ""
}
