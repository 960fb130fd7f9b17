package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

type stateSyncResult struct{ *app.StateSyncResult }

func (r stateSyncResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "state sync enabled in %s: the node restores a peer's snapshot at its first start\n", r.Home)
	fmt.Fprintf(w, "  rpc servers   %v\n", r.RPCServers)
	fmt.Fprintf(w, "  trusted       height %d hash %s, for %s\n", r.TrustHeight, r.TrustHash, r.TrustPeriod)
	if r.FromNode {
		fmt.Fprintf(w, "  check the hash of height %d with another member before the first start: it was taken from %s\n", r.TrustHeight, r.RPCServers[0])
	}
	return nil
}

// stateSyncFlags are the flags of app.StateSyncSpec, shared by 'notaryd
// statesync' and 'notaryd genesis install --join'.
type stateSyncFlags struct {
	servers     []string
	trustHeight int64
	trustHash   string
	trustPeriod time.Duration
}

// register adds the flags to cmd; unless required, --rpc-servers is what
// turns state sync on.
func (s *stateSyncFlags) register(cmd *cobra.Command, required bool) {
	f := cmd.Flags()
	servers := "CometBFT RPC addresses of two or more nodes of the chain (http://host:port)"
	if !required {
		servers += ": join by state sync from their snapshots"
	}
	f.StringSliceVar(&s.servers, "rpc-servers", nil, servers)
	f.Int64Var(&s.trustHeight, "trust-height", 0, "height of a header the operator trusts")
	f.StringVar(&s.trustHash, "trust-hash", "", "hash of that header (hex)")
	f.DurationVar(&s.trustPeriod, "trust-period", 0, "how long a validator set stays trusted (default CometBFT's 168h)")
}

func (s *stateSyncFlags) spec() app.StateSyncSpec {
	return app.StateSyncSpec{RPCServers: s.servers, TrustHeight: s.trustHeight, TrustHash: s.trustHash, TrustPeriod: s.trustPeriod}
}

func newStateSyncCmd() *cobra.Command {
	var (
		home string
		sync stateSyncFlags
	)
	cmd := &cobra.Command{
		Use:   "statesync",
		Short: "make a new node's home join by state sync: restore a peer's snapshot instead of replaying the chain",
		Long: `statesync turns on CometBFT's state sync in the home of a node that has not
started yet (a full node made by 'notaryd testnet --full-nodes', or a
ministry's home after 'notaryd genesis install'; 'genesis install --join
--rpc-servers' does both at once). At its first start the
node fetches a recent snapshot from its peers, checks every chunk against
the snapshot's metadata and what it restores against the app hash the
light client verified, then follows the chain from there.

The light client starts from a header the operator trusts: --trust-height
and --trust-hash, as another member publishes them. Without them the
latest header of the first --rpc-server is taken, and printed for the
operator to check with another member before the first start.
docs/operations.md, "Joining by state sync", has every step.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			r, err := app.EnableStateSync(cmd.Context(), home, sync.spec())
			if err != nil {
				return nil, err
			}
			return stateSyncResult{r}, nil
		}),
	}
	cmd.Flags().StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node")
	sync.register(cmd, true)
	return cmd
}
