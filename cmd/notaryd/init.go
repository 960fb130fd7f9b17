package main

import (
	"fmt"
	"io"
	"net"
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
		formMinistry                            string
		agencies                                []string
		power                                   int64
		ports                                   portFlags
		empty                                   emptyBlockFlags
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "create a home: a single-validator chain, or one ministry of a consortium being formed (--ministry)",
		Long: `init creates a home for a new single-validator chain: the ministry's
consensus and governance keys, the genesis, the consortium CA with the node's
TLS certificate, and the configuration.

With --ministry ID it creates instead the home of one ministry of a
consortium being formed, on that ministry's own host: its consensus key,
node key, governance identity and TLS keys are made there and never leave
it. It writes <home>/join-request.json (public keys, node id, addresses,
name and requested power, signed by the governance key) for the
coordinator's 'notaryd genesis collect', and certificate requests for the
consortium CA ('notaryd ca sign'): <home>/tls/node.csr (the gateway) and
<home>/identities/ID/tls.csr (the governance identity's client
certificate). The home gets its genesis by 'notaryd genesis install'.
docs/operations.md, "Forming a consortium", has every step. A ministry
voted into a running consortium makes its home the same way and installs
the genesis with 'notaryd genesis install --join'; with --rpc-servers
there, its node joins by state sync from a peer's snapshot ('notaryd
statesync' does the same for any new home).

--agency id:name (repeatable, single-validator chains only) registers an
agency with all permissions and writes its identity under
<home>/identities/<id>.

'notaryd testnet' generates every home of a network on one machine (labs
and tests).`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			if chainID == "" {
				return nil, cli.Usage("--chain-id is required")
			}
			if err := empty.check(); err != nil {
				return nil, err
			}
			if formMinistry != "" {
				if len(agencies) > 0 {
					return nil, cli.Usage("--agency goes with a single-validator chain; in a consortium agencies ask to join with 'notaryctl identity new'")
				}
				if !cmd.Flags().Changed("ministry-name") {
					return nil, cli.Usage("--ministry needs --ministry-name, the ministry's official name")
				}
				node := ports.node(home)
				// A ministry's own host: p2p and the gateway listen on
				// every interface unless it is a loopback address.
				node.ListenAll = !isLoopback(ports.host)
				h, err := app.InitMinistry(app.MinistryInit{
					ChainID:     chainID,
					Ministry:    app.MinistrySpec{ID: formMinistry, Name: ministryName, Power: power},
					Node:        node,
					EmptyBlocks: empty.always, EmptyBlocksInterval: empty.interval,
				})
				if err != nil {
					return nil, err
				}
				return ministryInitResult{Home: h.Home, ChainID: chainID, Ministry: formMinistry, Request: h.RequestFile,
					NodeCSR: h.NodeCSR, ClientCSR: h.ClientCSR, Identity: h.IdentityDir, NodeID: h.Request.NodeID,
					P2P: h.Request.P2PAddress, Gateway: h.Request.GatewayAddress, Power: power}, nil
			}
			var specs []app.AgencySpec
			for _, a := range agencies {
				id, name, ok := strings.Cut(a, ":")
				if !ok || !ledger.ValidID(id) || name == "" {
					return nil, cli.Usage("--agency %q: want id:name with id of [a-z0-9-]", a)
				}
				specs = append(specs, app.AgencySpec{ID: id, Name: name, Permissions: allPermissions()})
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
	f.StringVar(&ministryID, "ministry-id", "ministry", "id of the validator ministry (single-validator chain)")
	f.StringVar(&formMinistry, "ministry", "", "id of this ministry in a consortium being formed: make its keys and join request only")
	f.StringVar(&ministryName, "ministry-name", "Ministry", "official name of the validator ministry")
	f.Int64Var(&power, "power", 10, "voting power of the validator (with --ministry: the power requested)")
	f.StringArrayVar(&agencies, "agency", nil, "register an agency, id:name (repeatable)")
	ports.register(cmd, 26656, 0)
	empty.register(cmd, "")
	return cmd
}

// ministryInitResult describes the home of a ministry of a consortium
// being formed.
type ministryInitResult struct {
	Home      string `json:"home"`
	ChainID   string `json:"chain_id"`
	Ministry  string `json:"ministry"`
	Request   string `json:"join_request"`
	NodeCSR   string `json:"node_csr"`
	ClientCSR string `json:"client_csr"`
	Identity  string `json:"governance_identity"`
	NodeID    string `json:"node_id"`
	P2P       string `json:"p2p_address"`
	Gateway   string `json:"gateway_address"`
	Power     int64  `json:"power"`
}

func (r ministryInitResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "created the home of ministry %s (chain %s) in %s; its keys stay here\n", r.Ministry, r.ChainID, r.Home)
	fmt.Fprintf(w, "  join request     %s   (send it to the coordinator)\n", r.Request)
	fmt.Fprintf(w, "  gateway CSR      %s   (for 'notaryd ca sign'; the certificate goes to tls/node.crt)\n", r.NodeCSR)
	fmt.Fprintf(w, "  governance CSR   %s   (the certificate goes to tls.crt beside it)\n", r.ClientCSR)
	fmt.Fprintf(w, "  governance key   %s   (move it off the node)\n", r.Identity)
	fmt.Fprintf(w, "  node             %s@%s, gateway %s, power %d\n", r.NodeID, r.P2P, r.Gateway, r.Power)
	fmt.Fprintln(w, "next: 'notaryd genesis install GENESIS --hash HEX --peers LIST' once the coordinator publishes the genesis")
	return nil
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

// isLoopback reports whether host names the local machine only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
