package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// Dev chain names.
const (
	devChainID  = "notary-dev"
	devMinistry = "dev-ministry"
	devAgency   = "dev-agency"
	devCitizen  = "dev-citizen"
)

// devInfo is printed when the dev chain runs.
type devInfo struct {
	Home        string `json:"home"`
	ChainID     string `json:"chain_id"`
	RPC         string `json:"rpc"`
	P2P         string `json:"p2p"`
	Gateway     string `json:"gateway"`
	HTTP        string `json:"http,omitempty"`
	Metrics     string `json:"metrics"`
	Public      string `json:"public,omitempty"`
	Agency      string `json:"agency_identity"`
	Citizen     string `json:"citizen_identity"`
	Ministry    string `json:"ministry_identity"`
	TrustBundle string `json:"trust_bundle"`
	Created     bool   `json:"created"`
}

func (d devInfo) Text(w io.Writer) error {
	verb := "running"
	if d.Created {
		verb = "created and running"
	}
	fmt.Fprintf(w, "dev chain %s %s\n", d.ChainID, verb)
	fmt.Fprintf(w, "  home             %s\n", d.Home)
	fmt.Fprintf(w, "  CometBFT RPC     %s   (try: curl -s %s/status)\n", d.RPC, d.RPC)
	fmt.Fprintf(w, "  p2p              %s\n", d.P2P)
	fmt.Fprintf(w, "  gateway (gRPC)   %s\n", d.Gateway)
	if d.HTTP != "" {
		fmt.Fprintf(w, "  gateway (HTTP)   %s\n", d.HTTP)
	}
	fmt.Fprintf(w, "  metrics          %s\n", d.Metrics)
	if d.Public != "" {
		fmt.Fprintf(w, "  public (HTTP)    %s   (try: curl -s %s/healthz)\n", d.Public, d.Public)
	}
	fmt.Fprintf(w, "  agency key       %s\n", d.Agency)
	fmt.Fprintf(w, "  citizen key      %s\n", d.Citizen)
	fmt.Fprintf(w, "  ministry key     %s\n", d.Ministry)
	fmt.Fprintf(w, "  trust bundle     %s\n", d.TrustBundle)
	fmt.Fprintf(w, "press Ctrl-C to stop; run again to resume, with --reset to start over\n")
	return nil
}

func newDevCmd() *cobra.Command {
	var (
		home  string
		reset bool
		ports portFlags
		block time.Duration
		empty emptyBlockFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "run a single-validator dev chain, created on first run",
		Long: `dev runs a single-validator development chain in its home (default
~/.notary-dev). On first run it creates the chain with one ministry, one
agency (dev-agency, all permissions, enrolment of citizens included), one
citizen key enrolled in genesis (dev-citizen), and the trust bundle
trust.json. Later runs resume it; --reset starts over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := filepath.Abs(home)
			if err != nil {
				return err
			}
			home = abs
			if reset {
				if err := os.RemoveAll(home); err != nil {
					return err
				}
			}
			created := false
			if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); os.IsNotExist(err) {
				if err := empty.check(); err != nil {
					return err
				}
				spec := app.NetworkSpec{
					ChainID:       devChainID,
					Ministries:    []app.MinistrySpec{{ID: devMinistry, Name: "Ministerio de Desarrollo (dev)", Power: 10}},
					Nodes:         []app.NodeSpec{ports.node(home)},
					Agencies:      []app.AgencySpec{{ID: devAgency, Name: "Agencia de Desarrollo (dev)", Permissions: allPermissions()}},
					Citizens:      []string{devCitizen},
					TimeoutCommit: block,
				}
				empty.apply(&spec)
				if _, err := app.GenerateNetwork(spec); err != nil {
					return err
				}
				created = true
			}
			cfg, err := app.LoadConfig(home)
			if err != nil {
				return err
			}
			format, _ := cmd.Flags().GetString(cli.FlagOutput)
			public := ""
			if cfg.App.Public.Listen != "" {
				public = "http://" + cfg.App.Public.Listen
			}
			return runNode(cmd.Context(), cfg, func(n *app.Node) error {
				ids := filepath.Join(home, app.IdentitiesDir)
				return cli.Print(cmd.OutOrStdout(), format, devInfo{
					Home:        home,
					ChainID:     n.Chain().ChainID(),
					RPC:         "http://" + trimScheme(cfg.Comet.RPC.ListenAddress),
					P2P:         trimScheme(cfg.Comet.P2P.ListenAddress),
					Gateway:     cfg.App.Gateway.ListenAddress,
					HTTP:        httpURL(cfg.App.Gateway.HTTPListenAddress),
					Metrics:     "http://" + cfg.Comet.Instrumentation.PrometheusListenAddr + "/metrics",
					Public:      public,
					Agency:      filepath.Join(ids, devAgency),
					Citizen:     filepath.Join(ids, devCitizen),
					Ministry:    filepath.Join(ids, devMinistry),
					TrustBundle: filepath.Join(home, app.TrustFile),
					Created:     created,
				})
			})
		},
	}
	cmd.Flags().StringVar(&home, FlagHome, defaultHome(".notary-dev"), "home directory of the dev chain")
	cmd.Flags().BoolVar(&reset, "reset", false, "delete the dev chain and create a new one")
	cmd.Flags().DurationVar(&block, "block-interval", 300*time.Millisecond, "pause after each block (CometBFT timeout_commit), for a new chain")
	ports.register(cmd, 26656, 9443)
	empty.register(cmd, ", for a new chain")
	return cmd
}

// httpURL is the base URL of the HTTP/JSON routes at addr; "" for none.
func httpURL(addr string) string {
	if addr == "" {
		return ""
	}
	return "https://" + addr
}

func trimScheme(addr string) string {
	for _, p := range []string{"tcp://", "unix://"} {
		if len(addr) > len(p) && addr[:len(p)] == p {
			return addr[len(p):]
		}
	}
	return addr
}
