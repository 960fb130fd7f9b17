package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// Exit codes of forming a consortium (genesis collect, verify, install),
// besides cli's: 1 a genesis that does not match, 2 a file that is not a
// join request or genesis (or bad arguments).
const (
	ExitUnsigned = 5 // a join request is unsigned, or not signed by its own key
	ExitConflict = 6 // join requests conflict: given twice, an id or key already in use, other chains
	ExitPower    = 7 // a requested voting power breaks the rules
)

// formationError maps an error of forming a consortium to its exit code.
func formationError(err error) error {
	switch {
	case errors.Is(err, join.ErrUnsigned), errors.Is(err, join.ErrBadSignature):
		return cli.Fail(ExitUnsigned, err)
	case errors.Is(err, app.ErrJoinConflict):
		return cli.Fail(ExitConflict, err)
	case errors.Is(err, app.ErrJoinPower):
		return cli.Fail(ExitPower, err)
	case errors.Is(err, app.ErrGenesisMismatch):
		return cli.Fail(cli.ExitFailure, err)
	case errors.Is(err, join.ErrMalformed), errors.Is(err, os.ErrNotExist):
		return cli.Fail(cli.ExitUsage, err)
	}
	return err
}

type collectResult struct {
	Out        string   `json:"out"`
	ChainID    string   `json:"chain_id"`
	Hash       string   `json:"genesis_hash"`
	Peers      string   `json:"peers"`
	Ministries []string `json:"ministries"`
	Agencies   []string `json:"agencies"`
}

func (r collectResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "wrote the genesis of chain %s to %s\n", r.ChainID, r.Out)
	fmt.Fprintf(w, "  genesis sha256   %s\n", r.Hash)
	fmt.Fprintf(w, "  validators       %s\n", strings.Join(r.Ministries, ", "))
	if len(r.Agencies) > 0 {
		fmt.Fprintf(w, "  agencies         %s\n", strings.Join(r.Agencies, ", "))
	}
	fmt.Fprintf(w, "  peers            %s\n", r.Peers)
	fmt.Fprintln(w, "send every ministry the file, the hash (by another channel) and the peers; each runs 'notaryd genesis install'")
	return nil
}

type verifyResult struct {
	File    string `json:"file"`
	ChainID string `json:"chain_id"`
	Hash    string `json:"genesis_hash"`
	Home    string `json:"home,omitempty"`
}

func (r verifyResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "%s is the agreed genesis of chain %s (sha256 %s)\n", r.File, r.ChainID, r.Hash)
	if r.Home != "" {
		fmt.Fprintf(w, "  and makes the ministry of %s a validator with the keys and power it requested\n", r.Home)
	}
	return nil
}

type installResult struct {
	*app.Installed
	// StateSync is set when install also turned on state sync.
	StateSync *app.StateSyncResult `json:"state_sync,omitempty"`
}

func (r installResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "installed the genesis of chain %s (sha256 %s) in %s\n", r.ChainID, r.GenesisHash, r.Home)
	fmt.Fprintf(w, "  persistent peers %s\n", strings.Join(r.Peers, ","))
	fmt.Fprintf(w, "  trust bundle     %s\n", r.TrustBundle)
	for _, m := range r.Missing {
		fmt.Fprintf(w, "  still missing    %s (from the consortium CA)\n", m)
	}
	if r.StateSync != nil {
		if err := (stateSyncResult{r.StateSync}).Text(w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "start the node with: notaryd start --home %s\n", r.Home)
	return nil
}

func newGenesisCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "genesis",
		Short: "form a consortium: collect join requests into a genesis, verify and install it",
		Long: `The genesis of a consortium formed by ministries on their own hosts:

  notaryd genesis collect REQUEST... --out genesis.json   (the coordinator)
  notaryd genesis verify genesis.json --hash HEX          (every ministry)
  notaryd genesis install genesis.json --hash HEX --peers LIST --home HOME

Exit codes: 0 done; 1 the genesis is not the agreed one; 2 a file is not a
join request or a genesis, or bad arguments; 5 a join request is unsigned
or not signed by its own key; 6 join requests conflict (one given twice,
an id, key, node id or address already in use, another chain); 7 a
requested voting power breaks the rules (each 1..2^40; with four
ministries or more, none 1/3 or more of the total).`,
	}
	cmd.AddCommand(newGenesisCollectCmd(), newGenesisVerifyCmd(), newGenesisInstallCmd())
	return cmd
}

func newGenesisCollectCmd() *cobra.Command {
	var (
		out         string
		genesisTime string
	)
	cmd := &cobra.Command{
		Use:   "collect REQUEST... --out genesis.json",
		Short: "check join requests (signatures, conflicts, power) and write the genesis they form",
		Long: `collect reads the join requests of the founding ministries ('notaryd init
--ministry') and agencies ('notaryctl identity new'), checks each one's
signature by its own key, that they fit together and the voting power
rules, and writes the genesis: every ministry a validator with the power
it requested, every agency registered with its permissions. It prints the
genesis file's SHA-256, which every ministry checks, and the peers list
for 'notaryd genesis install'.`,
		Args: cobra.MinimumNArgs(1),
		RunE: cli.Run(func(_ *cobra.Command, args []string) (any, error) {
			if out == "" {
				return nil, cli.Usage("--out is required")
			}
			var opts app.CollectOptions
			if genesisTime != "" {
				t, err := time.Parse(time.RFC3339, genesisTime)
				if err != nil {
					return nil, cli.Usage("--genesis-time %q: want RFC 3339 (2026-01-02T15:04:05Z)", genesisTime)
				}
				opts.GenesisTime = t.UTC()
			}
			var reqs []*join.Request
			for _, p := range args {
				r, err := app.LoadJoinRequest(p)
				if err != nil {
					return nil, formationError(err)
				}
				if err := r.Verify(); err != nil {
					return nil, formationError(fmt.Errorf("%s: %w", p, err))
				}
				reqs = append(reqs, r)
			}
			c, err := app.CollectGenesis(reqs, opts)
			if err != nil {
				return nil, formationError(err)
			}
			if _, err := os.Stat(out); err == nil {
				return nil, cli.Usage("%s exists; remove it or choose another --out", out)
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(out, c.Genesis, 0o644); err != nil {
				return nil, err
			}
			return collectResult{Out: out, ChainID: c.ChainID, Hash: c.Hash, Peers: strings.Join(c.Peers, ","),
				Ministries: c.Ministries, Agencies: c.Agencies}, nil
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "genesis file to write (required)")
	cmd.Flags().StringVar(&genesisTime, "genesis-time", "", "genesis time, RFC 3339 (default: now)")
	return cmd
}

func newGenesisVerifyCmd() *cobra.Command {
	var hash, home string
	cmd := &cobra.Command{
		Use:   "verify GENESIS --hash HEX",
		Short: "check a genesis against the SHA-256 the coordinator published (and, with --home, this ministry's place in it)",
		Args:  cobra.ExactArgs(1),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			if hash == "" {
				return nil, cli.Usage("--hash is required: the genesis SHA-256 the coordinator published")
			}
			b, err := inputfile.ReadFile(args[0])
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			var own *join.Request
			if home != "" {
				if own, err = app.LoadJoinRequest(filepath.Join(home, app.JoinRequestFile)); err != nil {
					return nil, formationError(err)
				}
			}
			doc, err := app.VerifyGenesis(b, hash, own)
			if err != nil {
				return nil, formationError(fmt.Errorf("%s: %w", args[0], err))
			}
			return verifyResult{File: args[0], ChainID: doc.ChainID, Hash: strings.ToLower(hash), Home: home}, nil
		}),
	}
	cmd.Flags().StringVar(&hash, "hash", "", "the genesis SHA-256, hex (required)")
	cmd.Flags().StringVar(&home, FlagHome, "", "a ministry's home: also check that the genesis has its keys and power")
	return cmd
}

func newGenesisInstallCmd() *cobra.Command {
	var (
		hash, home, peers string
		later             bool
		sync              stateSyncFlags
	)
	cmd := &cobra.Command{
		Use:   "install GENESIS --hash HEX --peers LIST [--join] [--rpc-servers LIST]",
		Short: "verify a genesis for this ministry's home and install it with the peers and trust bundle",
		Long: `install checks a genesis against the agreed hash and against the home's
join request (its keys and power in it), then installs it with the peers
and the trust bundle.

--join installs the genesis of a running consortium in the home of a
ministry voted in later ('notaryd init --ministry' made the home; the
consortium passes 'notaryctl gov propose add-validator --request'): the
ministry must not be in the genesis. The node syncs from the peers and
becomes a validator at the block that passed the proposal.

--rpc-servers (with --trust-height, --trust-hash, --trust-period) also turns
on state sync, as 'notaryd statesync' does: at its first start the node
restores a peer's snapshot instead of replaying the chain from genesis
(with --join, or for a founding ministry's node installed on a new host
after the chain started).`,
		Args: cobra.ExactArgs(1),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			if hash == "" {
				return nil, cli.Usage("--hash is required: the genesis SHA-256 the coordinator published")
			}
			b, err := inputfile.ReadFile(args[0])
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			var list []string
			for _, p := range strings.Split(peers, ",") {
				if p = strings.TrimSpace(p); p != "" {
					list = append(list, p)
				}
			}
			in, err := app.InstallGenesis(home, b, hash, list, later)
			if err != nil {
				return nil, formationError(fmt.Errorf("%s: %w", args[0], err))
			}
			res := installResult{Installed: in}
			if len(sync.servers) > 0 {
				if res.StateSync, err = app.EnableStateSync(cmd.Context(), home, sync.spec()); err != nil {
					return nil, err
				}
			}
			return res, nil
		}),
	}
	cmd.Flags().StringVar(&hash, "hash", "", "the genesis SHA-256, hex (required)")
	cmd.Flags().StringVar(&peers, "peers", "", "the consortium's nodes, node_id@host:port,... as 'genesis collect' printed them")
	cmd.Flags().StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node (made by 'notaryd init --ministry')")
	cmd.Flags().BoolVar(&later, "join", false, "the ministry joins a running consortium: it is not in the genesis")
	sync.register(cmd, false)
	return cmd
}
