package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// initResult describes a created home.
type initResult struct {
	Home        string            `json:"home"`
	ChainID     string            `json:"chain_id"`
	GenesisHash string            `json:"genesis_hash"`
	TrustBundle string            `json:"trust_bundle"`
	Ministry    string            `json:"ministry_identity"`
	Agencies    map[string]string `json:"agency_identities,omitempty"`
	Citizens    map[string]string `json:"citizen_identities,omitempty"`
}

func (r initResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "created chain %s in %s\n", r.ChainID, r.Home)
	fmt.Fprintf(w, "  genesis sha256   %s\n", r.GenesisHash)
	fmt.Fprintf(w, "  trust bundle     %s\n", r.TrustBundle)
	fmt.Fprintf(w, "  ministry key     %s\n", r.Ministry)
	for id, dir := range r.Agencies {
		fmt.Fprintf(w, "  agency %-9s %s\n", id, dir)
	}
	for name, dir := range r.Citizens {
		fmt.Fprintf(w, "  citizen %-8s %s\n", name, dir)
	}
	return nil
}

func newInitCmd() *cobra.Command {
	var (
		home, chainID, ministryID, ministryName string
		agencies                                []string
		power                                   int64
		ports                                   portFlags
		empty                                   emptyBlockFlags
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "create the home of a single-validator chain (keys, genesis, tls, config)",
		Long: `init creates a home for a new single-validator chain: the ministry's
consensus and governance keys, the genesis, the consortium CA with the node's
TLS certificate, and the configuration. For a network of several ministries,
use 'notaryd testnet'.

--agency id:name (repeatable) registers an agency with all permissions and
writes its identity under <home>/identities/<id>.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			if chainID == "" {
				return nil, cli.Usage("--chain-id is required")
			}
			var specs []app.AgencySpec
			for _, a := range agencies {
				id, name, ok := strings.Cut(a, ":")
				if !ok || !ledger.ValidID(id) || name == "" {
					return nil, cli.Usage("--agency %q: want id:name with id of [a-z0-9-]", a)
				}
				specs = append(specs, app.AgencySpec{ID: id, Name: name, Permissions: allPermissions()})
			}
			if err := empty.check(); err != nil {
				return nil, err
			}
			spec := app.NetworkSpec{
				ChainID:    chainID,
				Ministries: []app.MinistrySpec{{ID: ministryID, Name: ministryName, Power: power}},
				Nodes:      []app.NodeSpec{ports.node(home)},
				Agencies:   specs,
			}
			empty.apply(&spec)
			net, err := app.GenerateNetwork(spec)
			if err != nil {
				return nil, err
			}
			return initResult{
				Home: home, ChainID: net.ChainID, GenesisHash: net.GenesisHash, TrustBundle: net.TrustFiles[0],
				Ministry: net.Ministries[ministryID], Agencies: net.Agencies,
			}, nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node")
	f.StringVar(&chainID, "chain-id", "", "chain id, [a-z0-9-] (required)")
	f.StringVar(&ministryID, "ministry-id", "ministry", "id of the validator ministry")
	f.StringVar(&ministryName, "ministry-name", "Ministry", "official name of the validator ministry")
	f.Int64Var(&power, "power", 10, "voting power of the validator")
	f.StringArrayVar(&agencies, "agency", nil, "register an agency, id:name (repeatable)")
	ports.register(cmd, 26656, 0)
	empty.register(cmd, "")
	return cmd
}

// portFlags are the listening ports of one node.
type portFlags struct {
	host                                     string
	p2p, rpc, gateway, metrics, public, http int
}

// register registers the port flags; httpDefault is the default of
// --http-port (0: no HTTP/JSON gateway).
func (p *portFlags) register(cmd *cobra.Command, p2pDefault, httpDefault int) {
	f := cmd.Flags()
	f.StringVar(&p.host, "host", "127.0.0.1", "address the node's p2p and gateway listen on")
	f.IntVar(&p.p2p, "p2p-port", p2pDefault, "p2p port")
	f.IntVar(&p.rpc, "rpc-port", p2pDefault+1, "CometBFT RPC port (127.0.0.1 only)")
	f.IntVar(&p.gateway, "gateway-port", 9090, "gRPC gateway port")
	f.IntVar(&p.metrics, "metrics-port", p2pDefault+4, "Prometheus metrics port (127.0.0.1 only)")
	f.IntVar(&p.public, "public-port", 26680, "public HTTP endpoint port (live status, web verifier), on 127.0.0.1 until opened in app.toml [public]; 0 for none")
	f.IntVar(&p.http, "http-port", httpDefault, "HTTP/JSON gateway port (HTTPS, the gRPC gateway's certificates); 0 serves none")
}

func (p portFlags) node(home string) app.NodeSpec {
	return app.NodeSpec{Home: home, Host: p.host, P2PPort: p.p2p, RPCPort: p.rpc, GatewayPort: p.gateway, MetricsPort: p.metrics, PublicPort: p.public, HTTPPort: p.http}
}

func allPermissions() []notaryv1.Permission {
	return []notaryv1.Permission{
		notaryv1.Permission_PERMISSION_ANCHOR,
		notaryv1.Permission_PERMISSION_REVOKE,
		notaryv1.Permission_PERMISSION_EXCHANGE,
		notaryv1.Permission_PERMISSION_ENROLL,
	}
}
