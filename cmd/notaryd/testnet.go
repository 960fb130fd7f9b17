package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// Ministries of the Government of Spain, in the order testnet uses them for
// validators and then full nodes.
var testnetMinistries = []app.MinistrySpec{
	{ID: "hacienda", Name: "Ministerio de Hacienda"},
	{ID: "interior", Name: "Ministerio del Interior"},
	{ID: "sanidad", Name: "Ministerio de Sanidad"},
	{ID: "trabajo", Name: "Ministerio de Trabajo y Economía Social"},
	{ID: "educacion", Name: "Ministerio de Educación, Formación Profesional y Deportes"},
	{ID: "justicia", Name: "Ministerio de la Presidencia, Justicia y Relaciones con las Cortes"},
	{ID: "defensa", Name: "Ministerio de Defensa"},
	{ID: "exteriores", Name: "Ministerio de Asuntos Exteriores, Unión Europea y Cooperación"},
	{ID: "transportes", Name: "Ministerio de Transportes y Movilidad Sostenible"},
	{ID: "industria", Name: "Ministerio de Industria y Turismo"},
	{ID: "agricultura", Name: "Ministerio de Agricultura, Pesca y Alimentación"},
	{ID: "politica-territorial", Name: "Ministerio de Política Territorial y Memoria Democrática"},
	{ID: "transicion-ecologica", Name: "Ministerio para la Transición Ecológica y el Reto Demográfico"},
	{ID: "cultura", Name: "Ministerio de Cultura"},
	{ID: "economia", Name: "Ministerio de Economía, Comercio y Empresa"},
	{ID: "derechos-sociales", Name: "Ministerio de Derechos Sociales, Consumo y Agenda 2030"},
	{ID: "ciencia", Name: "Ministerio de Ciencia, Innovación y Universidades"},
	{ID: "igualdad", Name: "Ministerio de Igualdad"},
	{ID: "inclusion", Name: "Ministerio de Inclusión, Seguridad Social y Migraciones"},
	{ID: "transformacion-digital", Name: "Ministerio para la Transformación Digital y de la Función Pública"},
	{ID: "vivienda", Name: "Ministerio de Vivienda y Agenda Urbana"},
	{ID: "juventud", Name: "Ministerio de Juventud e Infancia"},
}

// Agencies of the Spanish administration, in the order testnet registers
// them (each with every permission).
var testnetAgencies = []app.AgencySpec{
	{ID: "aeat", Name: "Agencia Estatal de Administración Tributaria"},
	{ID: "dgt", Name: "Dirección General de Tráfico"},
	{ID: "sepe", Name: "Servicio Público de Empleo Estatal"},
	{ID: "inss", Name: "Instituto Nacional de la Seguridad Social"},
	{ID: "aemps", Name: "Agencia Española de Medicamentos y Productos Sanitarios"},
	{ID: "tgss", Name: "Tesorería General de la Seguridad Social"},
	{ID: "catastro", Name: "Dirección General del Catastro"},
	{ID: "policia", Name: "Dirección General de la Policía"},
	{ID: "ine", Name: "Instituto Nacional de Estadística"},
	{ID: "boe", Name: "Agencia Estatal Boletín Oficial del Estado"},
	{ID: "sepie", Name: "Servicio Español para la Internacionalización de la Educación"},
	{ID: "seguridad-juridica", Name: "Dirección General de Seguridad Jurídica y Fe Pública"},
}

// Port layout of a testnet node: base + portStride*k + offset, where k counts
// the earlier nodes on the same host.
const (
	portStride    = 10
	offsetP2P     = 0
	offsetRPC     = 1
	offsetGateway = 2
	offsetMetrics = 3
	offsetPublic  = 4
)

// Files and folders testnet writes into --out besides one home per node.
const (
	testnetManifest = "network.json"
	testnetCADir    = "ca"
)

// testnetNode describes one generated node.
type testnetNode struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"` // validator or full
	Home    string `json:"home"`
	Host    string `json:"host"`
	NodeID  string `json:"node_id"`
	P2P     string `json:"p2p"`
	RPC     string `json:"rpc"`
	Gateway string `json:"gateway"`
	Metrics string `json:"metrics"`
	// Public is where the public endpoint listens (127.0.0.1 on every
	// host: an operator opens it, see docs/operations.md).
	Public    string `json:"public"`
	Power     int64  `json:"power,omitempty"`
	GovKeyDir string `json:"governance_identity"`
}

// testnetResult is what testnet wrote; it is also saved as network.json.
type testnetResult struct {
	Dir         string            `json:"dir"`
	ChainID     string            `json:"chain_id"`
	GenesisHash string            `json:"genesis_hash"`
	TrustBundle string            `json:"trust_bundle"`
	CA          string            `json:"ca"`
	Nodes       []testnetNode     `json:"nodes"`
	Agencies    map[string]string `json:"agency_identities"`
}

func (r testnetResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "created chain %s in %s\n", r.ChainID, r.Dir)
	fmt.Fprintln(w, "  (every key made on this machine: for labs and tests; a consortium forms with 'notaryd init --ministry')")
	fmt.Fprintf(w, "  genesis sha256   %s\n", r.GenesisHash)
	fmt.Fprintf(w, "  trust bundle     %s\n", r.TrustBundle)
	fmt.Fprintf(w, "  consortium CA    %s   (ca.key signs certificates: keep it offline)\n", r.CA)
	fmt.Fprintf(w, "\n  %-12s %-9s %-22s %-18s %-18s %-22s %s\n", "node", "role", "p2p", "gateway (gRPC)", "rpc", "public (HTTP)", "metrics")
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "  %-12s %-9s %-22s %-18s %-18s %-22s %s\n", n.ID, n.Role, n.P2P, n.Gateway, n.RPC, n.Public, n.Metrics)
	}
	fmt.Fprintln(w)
	for _, id := range sortedKeys(r.Agencies) {
		fmt.Fprintf(w, "  agency %-10s %s\n", id, r.Agencies[id])
	}
	fmt.Fprintf(w, "\nstart each node with: notaryd start --home %s/<node>   (or scripts/localnet.sh start %s)\n", r.Dir, r.Dir)
	return nil
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// testnetOptions are the flags of testnet.
type testnetOptions struct {
	out, chainID       string
	validators, full   int
	agencies, basePort int
	hosts              []string
	power              int64
	block              time.Duration
	empty              emptyBlockFlags
	verifierURL        string
}

func newTestnetCmd() *cobra.Command {
	var o testnetOptions
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "generate every home of a multi-validator network on one machine (labs and tests)",
		Long: `testnet generates a whole consortium network in --out, on one machine:
every ministry's and agency's private keys and the consortium CA key are
made here, side by side. It is for labs and tests (and hosts of one
operator); a real consortium is formed with each ministry's keys made on
its own host: 'notaryd init --ministry', 'notaryd genesis collect',
'notaryd ca sign' (docs/operations.md, "Forming a consortium").

  <out>/<ministry>/      one node home per ministry (hacienda, interior,
                         sanidad, trabajo, ...): consensus key, p2p key,
                         the shared genesis, config with persistent peers,
                         the node's TLS certificate, and the ministry's
                         governance identity under identities/<ministry>
  <out>/identities/<id>  the agencies' identities (signing key and mTLS
                         client certificate): aeat, dgt, sepe, ...
  <out>/ca/              the consortium CA (ca.crt, and ca.key, which signs
                         certificates: keep it offline in production)
  <out>/trust.json       the trust bundle for verifiers (also in every home)
  <out>/network.json     what was generated: nodes, roles, addresses, node ids

Validators are the first --validators ministries, with --power each; the
next --full-nodes ministries get non-validator nodes of the same chain (the
consortium can vote them in later). Every agency gets every permission.

Ports: node k on a host uses base-port + 10k + {0 p2p, 1 CometBFT RPC,
2 gateway, 3 metrics, 4 public HTTP endpoint}. On one machine (the default,
every host 127.0.0.1) the nodes get distinct ports; with --hosts naming one
host per node, nodes on different hosts share the same ports, and p2p and the
gateway listen on all interfaces (0.0.0.0). RPC, metrics and the public
endpoint listen on 127.0.0.1 only; on one machine the trust bundle lists the
public endpoints, on several hosts the operator opens them behind a reverse
proxy with TLS and exports the bundle with their URLs (notaryd trust export
--public-endpoint). --verifier-url names the consortium's published web
verifier in the bundle, the base of the links of verification codes.`,
		Example: `  notaryd testnet --validators 4 --out ./localnet
  notaryd testnet --validators 4 --agencies 2 --out ./net \
      --hosts 10.0.0.11,10.0.0.12,10.0.0.13,10.0.0.14`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) { return runTestnet(o) }),
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "./localnet", "directory to create the network in")
	f.StringVar(&o.chainID, "chain-id", "notary-localnet", "chain id, [a-z0-9-]")
	f.IntVar(&o.validators, "validators", 4, fmt.Sprintf("number of validator ministries, 1..%d", len(testnetMinistries)))
	f.IntVar(&o.full, "full-nodes", 0, "number of extra non-validator nodes")
	f.IntVar(&o.agencies, "agencies", 3, fmt.Sprintf("number of agencies, 0..%d", len(testnetAgencies)))
	f.IntVar(&o.basePort, "base-port", 26700, "first port; node k on a host uses base-port+10k .. +4")
	f.StringSliceVar(&o.hosts, "hosts", nil, "address of each node for its peers, validators then full nodes (default 127.0.0.1 for all)")
	f.Int64Var(&o.power, "power", 10, "voting power of each validator")
	f.DurationVar(&o.block, "block-interval", 500*time.Millisecond, "pause after each block (CometBFT timeout_commit)")
	o.empty.register(cmd, "")
	f.StringVar(&o.verifierURL, "verifier-url", "", "base URL of the published web verifier the trust bundle names, for the links of verification codes (default: none)")
	return cmd
}

func runTestnet(o testnetOptions) (*testnetResult, error) {
	nodes := o.validators + o.full
	switch {
	case o.validators < 1 || o.validators > len(testnetMinistries):
		return nil, cli.Usage("--validators must be 1..%d, not %d", len(testnetMinistries), o.validators)
	case o.full < 0 || nodes > len(testnetMinistries):
		return nil, cli.Usage("--validators plus --full-nodes must be at most %d (one ministry each)", len(testnetMinistries))
	case o.agencies < 0 || o.agencies > len(testnetAgencies):
		return nil, cli.Usage("--agencies must be 0..%d, not %d", len(testnetAgencies), o.agencies)
	case o.power < 1:
		return nil, cli.Usage("--power must be positive")
	case o.block <= 0:
		return nil, cli.Usage("--block-interval must be positive")
	case o.out == "":
		return nil, cli.Usage("--out is required")
	}
	if err := o.empty.check(); err != nil {
		return nil, err
	}
	hosts := o.hosts
	if len(hosts) == 0 {
		hosts = make([]string, nodes)
		for i := range hosts {
			hosts[i] = "127.0.0.1"
		}
	}
	if len(hosts) != nodes {
		return nil, cli.Usage("--hosts lists %d addresses for %d nodes: give one per node, validators first", len(hosts), nodes)
	}
	listenAll := false
	perHost := map[string]int{}
	maxPerHost := 0
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, ":/ ") {
			return nil, cli.Usage("--hosts: %q is not a host name or IPv4 address", h)
		}
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			listenAll = true
		}
		perHost[h]++
		maxPerHost = max(maxPerHost, perHost[h])
	}
	if o.basePort < 1024 || o.basePort+portStride*(maxPerHost-1)+offsetPublic > 65535 {
		return nil, cli.Usage("--base-port %d: the ports must lie in 1024..65535", o.basePort)
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return nil, err
	}
	if err := checkEmptyOut(out); err != nil {
		return nil, err
	}

	spec := app.NetworkSpec{
		ChainID:       o.chainID,
		TimeoutCommit: o.block,
		IdentitiesDir: filepath.Join(out, app.IdentitiesDir),
		CADir:         filepath.Join(out, testnetCADir),
		VerifierURL:   o.verifierURL,
	}
	o.empty.apply(&spec)
	var nodeList []testnetNode
	used := map[string]int{}
	for i := 0; i < nodes; i++ {
		m := testnetMinistries[i]
		h := hosts[i]
		port := o.basePort + portStride*used[h]
		used[h]++
		ns := app.NodeSpec{
			Home: filepath.Join(out, m.ID), Host: h, ListenAll: listenAll,
			P2PPort: port + offsetP2P, RPCPort: port + offsetRPC, GatewayPort: port + offsetGateway, MetricsPort: port + offsetMetrics,
			PublicPort: port + offsetPublic,
		}
		role := "validator"
		if i < o.validators {
			m.Power = o.power
			spec.Ministries = append(spec.Ministries, m)
			spec.Nodes = append(spec.Nodes, ns)
		} else {
			role = "full"
			spec.FullNodes = append(spec.FullNodes, app.FullNodeSpec{Ministry: m, Node: ns})
		}
		nodeList = append(nodeList, testnetNode{
			ID: m.ID, Name: m.Name, Role: role, Home: ns.Home, Host: h, Power: m.Power,
			P2P:     fmt.Sprintf("%s:%d", h, ns.P2PPort),
			RPC:     fmt.Sprintf("127.0.0.1:%d", ns.RPCPort),
			Gateway: fmt.Sprintf("%s:%d", h, ns.GatewayPort),
			Metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", ns.MetricsPort),
			Public:  fmt.Sprintf("http://127.0.0.1:%d", ns.PublicPort),
		})
	}
	for _, a := range testnetAgencies[:o.agencies] {
		a.Permissions = allPermissions()
		spec.Agencies = append(spec.Agencies, a)
	}
	network, err := app.GenerateNetwork(spec)
	if err != nil {
		return nil, err
	}
	for i := range nodeList {
		nodeList[i].NodeID = network.NodeIDs[nodeList[i].ID]
		nodeList[i].GovKeyDir = network.Ministries[nodeList[i].ID]
	}
	res := &testnetResult{
		Dir: out, ChainID: network.ChainID, GenesisHash: network.GenesisHash,
		TrustBundle: filepath.Join(out, app.TrustFile), CA: spec.CADir,
		Nodes: nodeList, Agencies: network.Agencies,
	}
	if res.Agencies == nil {
		res.Agencies = map[string]string{}
	}
	trust, err := os.ReadFile(network.TrustFiles[0])
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(res.TrustBundle, trust, 0o644); err != nil {
		return nil, err
	}
	manifest, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, testnetManifest), append(manifest, '\n'), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// checkEmptyOut refuses to generate into a directory that already holds a
// network (or anything else but an empty bin/ or logs).
func checkEmptyOut(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch e.Name() {
		case "bin", ".gitignore":
			continue
		}
		return fmt.Errorf("%s is not empty (it holds %s): remove it or choose another --out", out, e.Name())
	}
	return nil
}
