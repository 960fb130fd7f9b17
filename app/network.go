package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/internal/pki"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// MinistrySpec describes a validator ministry of a new network.
type MinistrySpec struct {
	ID, Name string
	Power    int64
}

// AgencySpec describes an agency of a new network.
type AgencySpec struct {
	ID, Name    string
	Permissions []notaryv1.Permission
}

// NodeSpec says where a ministry's node runs.
type NodeSpec struct {
	// Home is the node's home directory.
	Home string
	// Host is the address other nodes reach it at (p2p); "127.0.0.1" on one machine.
	Host string
	// P2PPort, RPCPort, GatewayPort and MetricsPort are its ports. RPC and
	// metrics listen on 127.0.0.1 only.
	P2PPort, RPCPort, GatewayPort, MetricsPort int
	// PublicPort is the public HTTP endpoint's port (app.toml [public]); 0
	// leaves the endpoint off. It listens on Host when Host is a loopback
	// address, and is listed in the trust bundle as http://Host:PublicPort;
	// otherwise it listens on 127.0.0.1, for a reverse proxy with TLS in
	// front (docs/operations.md, "Public endpoint"), and is not listed.
	PublicPort int
	// HTTPPort is the port of the gateway's HTTP/JSON routes; 0 serves
	// none.
	HTTPPort int
	// ListenAll makes p2p and the gateway listen on all interfaces (a
	// multi-host deployment); otherwise they listen on Host.
	ListenAll bool
}

// gatewayAddr is where participants reach the node's gateway: the default
// node of the identities that use it.
func (n NodeSpec) gatewayAddr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.GatewayPort)) }

// publicListen is where the node's public endpoint listens; "" if off.
func (n NodeSpec) publicListen() string {
	switch {
	case n.PublicPort == 0:
		return ""
	case loopbackHost(n.Host):
		return net.JoinHostPort(n.Host, strconv.Itoa(n.PublicPort))
	default:
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.PublicPort))
	}
}

// PublicEndpoint is the base URL verifiers reach the node's public endpoint
// at, as the trust bundle lists it; "" if the node does not serve it on a
// loopback address (an operator's reverse proxy decides the URL then).
func (n NodeSpec) PublicEndpoint() string {
	if n.PublicPort == 0 || !loopbackHost(n.Host) {
		return ""
	}
	return "http://" + net.JoinHostPort(n.Host, strconv.Itoa(n.PublicPort))
}

// loopbackHost reports whether host names the local machine only.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// FullNodeSpec describes a node that follows the chain without being in the
// genesis validator set: an observer that joins late, or the node of a
// ministry that the consortium may vote in as a validator later. It gets a
// consensus key (unused until governance adds it) and, like every ministry,
// a governance identity; Ministry.Power is not used.
type FullNodeSpec struct {
	Ministry MinistrySpec
	Node     NodeSpec
}

// NetworkSpec describes a new network: its genesis and one node per ministry.
type NetworkSpec struct {
	ChainID     string
	GenesisTime time.Time
	Ministries  []MinistrySpec
	Nodes       []NodeSpec // one per ministry, same order
	// FullNodes are non-validator nodes of the same chain; they dial the
	// validators, which do not list them as peers.
	FullNodes []FullNodeSpec
	Agencies  []AgencySpec
	// Citizens are names of citizen identities to create (dev and tests);
	// genesis enrols their keys.
	Citizens []string
	// Params of the chain; nil for the defaults.
	Params *notaryv1.Params
	// TimeoutCommit is CometBFT's pause after a commit (block interval).
	TimeoutCommit time.Duration
	// EmptyBlocks makes a block every TimeoutCommit whether transactions
	// come or not (CometBFT's create_empty_blocks): dev chains and tests.
	// Off, the default, a block is made when transactions are waiting,
	// and once after each block that changed the state, to sign its app
	// hash; an idle chain makes no blocks and its data does not grow.
	EmptyBlocks bool
	// EmptyBlocksInterval, if positive, makes an empty block after that long
	// without one (CometBFT's create_empty_blocks_interval), whether or not
	// EmptyBlocks is set: a chain that wants a signed header at least that
	// recent, at the cost of a block each time.
	EmptyBlocksInterval time.Duration
	// IdentitiesDir receives agency and citizen identities; by default the
	// first node's home/identities.
	IdentitiesDir string
	// CADir receives the consortium CA certificate and key; by default the
	// first node's home/tls.
	CADir string
	// PublicEndpoints are the base URLs the trust bundle lists for the
	// consortium's public endpoints; by default NodeSpec.PublicEndpoint of
	// every node that has one.
	PublicEndpoints []string
	// VerifierURL is the base URL of the consortium's published web
	// verifier, which the trust bundle lists as the base of the links of
	// verification codes (QR codes); "" lists none.
	VerifierURL string
}

// Network is what GenerateNetwork wrote.
type Network struct {
	ChainID     string
	GenesisHash string
	Homes       []string
	Agencies    map[string]string // agency id -> identity directory
	Ministries  map[string]string // ministry id -> governance identity directory
	Citizens    map[string]string // citizen name -> identity directory
	TrustFiles  []string
	// FullHomes are the homes of the full nodes, in spec order.
	FullHomes []string
	// ConsensusKeys maps every node's ministry id to its ed25519 consensus
	// public key (validators and full nodes).
	ConsensusKeys map[string][]byte
	// NodeIDs maps every node's ministry id to its p2p node id.
	NodeIDs map[string]string
}

// GenerateNetwork creates the homes of a new network: keys, a shared genesis,
// the consortium CA with node and participant certificates, CometBFT and app
// configuration with persistent peers, and the trust bundle in every home.
func GenerateNetwork(spec NetworkSpec) (*Network, error) {
	if !ledger.ValidID(strings.ToLower(spec.ChainID)) || spec.ChainID != strings.ToLower(spec.ChainID) {
		return nil, fmt.Errorf("chain id %q: use 1..64 of [a-z0-9-]", spec.ChainID)
	}
	if len(spec.Ministries) == 0 || len(spec.Ministries) != len(spec.Nodes) {
		return nil, errors.New("one node per ministry, at least one")
	}
	seen := map[string]bool{}
	for _, m := range spec.Ministries {
		seen[m.ID] = true
	}
	for _, f := range spec.FullNodes {
		if !ledger.ValidID(f.Ministry.ID) {
			return nil, fmt.Errorf("full node id %q: use 1..64 of [a-z0-9-]", f.Ministry.ID)
		}
		if seen[f.Ministry.ID] {
			return nil, fmt.Errorf("node id %q is used twice", f.Ministry.ID)
		}
		seen[f.Ministry.ID] = true
	}
	for _, n := range allNodes(spec) {
		if _, err := os.Stat(filepath.Join(n.Home, "config", "genesis.json")); err == nil {
			return nil, fmt.Errorf("%s already holds a chain (remove it or use another home)", n.Home)
		}
	}
	if spec.GenesisTime.IsZero() {
		spec.GenesisTime = time.Now().UTC().Truncate(time.Second)
	}
	if spec.Params == nil {
		spec.Params = ledger.DefaultParams()
	}
	if spec.TimeoutCommit == 0 {
		spec.TimeoutCommit = 500 * time.Millisecond
	}
	first := spec.Nodes[0].Home
	if spec.IdentitiesDir == "" {
		spec.IdentitiesDir = filepath.Join(first, IdentitiesDir)
	}
	if spec.CADir == "" {
		spec.CADir = filepath.Join(first, TLSDir)
	}
	net := &Network{ChainID: spec.ChainID, Agencies: map[string]string{}, Ministries: map[string]string{}, Citizens: map[string]string{},
		ConsensusKeys: map[string][]byte{}, NodeIDs: map[string]string{}}

	ca, err := pki.NewCA("GobTechLab Notary consortium CA ("+spec.ChainID+")", spec.GenesisTime.Add(-time.Hour), 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := ca.Save(spec.CADir); err != nil {
		return nil, err
	}
	certValidity := 2 * 365 * 24 * time.Hour
	notBefore := spec.GenesisTime.Add(-time.Hour)

	// Keys and genesis.
	g := &notaryv1.GenesisState{Params: spec.Params}
	var genVals []cmttypes.GenesisValidator
	// Keys of every node: validators first, then full nodes.
	nodes, monikers := allNodes(spec), allMonikers(spec)
	nodeIDs := make([]p2p.ID, len(nodes))
	for i, n := range nodes {
		id := monikers[i]
		c := nodeConfig(spec, n, id)
		if err := os.MkdirAll(filepath.Join(n.Home, "data"), 0o700); err != nil {
			return nil, err
		}
		cmtcfg.EnsureRoot(n.Home)
		consKey := cmted25519.GenPrivKey()
		pv := privval.NewFilePV(consKey, c.Comet.PrivValidatorKeyFile(), c.Comet.PrivValidatorStateFile())
		pv.Save()
		nk := &p2p.NodeKey{PrivKey: cmted25519.GenPrivKey()}
		if err := nk.SaveAs(c.Comet.NodeKeyFile()); err != nil {
			return nil, err
		}
		nodeIDs[i] = nk.ID()
		net.NodeIDs[id] = string(nk.ID())
		net.ConsensusKeys[id] = consKey.PubKey().Bytes()
		gov, err := identity.Generate(identity.RoleMinistry, id, spec.ChainID)
		if err != nil {
			return nil, err
		}
		gov.Node = n.gatewayAddr()
		dir := filepath.Join(n.Home, IdentitiesDir, id)
		if err := saveParticipant(gov, dir, ca, notBefore, certValidity); err != nil {
			return nil, err
		}
		net.Ministries[id] = dir
		if i >= len(spec.Ministries) {
			continue
		}
		m := spec.Ministries[i]
		g.Ministries = append(g.Ministries, &notaryv1.Ministry{
			Id: m.ID, Name: m.Name, GovPubKey: gov.Public(), ConsensusPubKey: consKey.PubKey().Bytes(), Power: m.Power,
		})
		genVals = append(genVals, cmttypes.GenesisValidator{
			Address: consKey.PubKey().Address(), PubKey: consKey.PubKey(), Power: m.Power, Name: m.Name,
		})
	}
	for _, a := range spec.Agencies {
		id, err := identity.Generate(identity.RoleAgency, a.ID, spec.ChainID)
		if err != nil {
			return nil, err
		}
		id.Node = spec.Nodes[0].gatewayAddr()
		dir := filepath.Join(spec.IdentitiesDir, a.ID)
		if err := saveParticipant(id, dir, ca, notBefore, certValidity); err != nil {
			return nil, err
		}
		net.Agencies[a.ID] = dir
		g.Agencies = append(g.Agencies, &notaryv1.Agency{Id: a.ID, Name: a.Name, PubKey: id.Public(), Permissions: a.Permissions})
	}
	for _, name := range spec.Citizens {
		id, err := identity.Generate(identity.RoleCitizen, "", spec.ChainID)
		if err != nil {
			return nil, err
		}
		id.Node = spec.Nodes[0].gatewayAddr()
		dir := filepath.Join(spec.IdentitiesDir, name)
		if err := id.Save(dir); err != nil {
			return nil, err
		}
		if err := pki.WriteFile(filepath.Join(dir, identity.CAPEM), ca.PEM, 0o644); err != nil {
			return nil, err
		}
		net.Citizens[name] = dir
		g.Citizens = append(g.Citizens, id.Public())
	}
	doc, err := newGenesisDoc(spec.ChainID, spec.GenesisTime, genVals, g)
	if err != nil {
		return nil, err
	}

	// Per-node files.
	for i, n := range nodes {
		c := nodeConfig(spec, n, monikers[i])
		// Validators peer with the other validators; a full node with every
		// other node.
		var peers []string
		for j, o := range nodes {
			if j != i && (j < len(spec.Nodes) || i >= len(spec.Nodes)) {
				peers = append(peers, fmt.Sprintf("%s@%s:%d", nodeIDs[j], o.Host, o.P2PPort))
			}
		}
		c.Comet.P2P.PersistentPeers = strings.Join(peers, ",")
		if err := doc.SaveAs(c.Comet.GenesisFile()); err != nil {
			return nil, err
		}
		if err := SaveConfig(c); err != nil {
			return nil, err
		}
		hosts := []string{"127.0.0.1", "localhost", n.Host}
		srv, err := ca.IssueServer("notary node "+monikers[i], hosts, notBefore, certValidity)
		if err != nil {
			return nil, err
		}
		tlsDir := filepath.Join(n.Home, TLSDir)
		for name, data := range map[string][]byte{"ca.crt": ca.PEM, "node.crt": srv.CertPEM} {
			if err := pki.WriteFile(filepath.Join(tlsDir, name), data, 0o644); err != nil {
				return nil, err
			}
		}
		if err := pki.WriteFile(filepath.Join(tlsDir, "node.key"), srv.KeyPEM, 0o600); err != nil {
			return nil, err
		}
		if i < len(spec.Nodes) {
			net.Homes = append(net.Homes, n.Home)
		} else {
			net.FullHomes = append(net.FullHomes, n.Home)
		}
	}
	genBytes, err := os.ReadFile(filepath.Join(first, "config", "genesis.json"))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(genBytes)
	net.GenesisHash = hex.EncodeToString(sum[:])
	trust, err := TrustBundleFromGenesis(genBytes)
	if err != nil {
		return nil, err
	}
	endpoints := spec.PublicEndpoints
	if endpoints == nil {
		for _, n := range nodes {
			if e := n.PublicEndpoint(); e != "" {
				endpoints = append(endpoints, e)
			}
		}
	}
	if trust.PublicEndpoints, err = PublicEndpoints(endpoints); err != nil {
		return nil, err
	}
	if trust.VerifierUrl, err = VerifierURL(spec.VerifierURL); err != nil {
		return nil, err
	}
	for _, h := range append(append([]string(nil), net.Homes...), net.FullHomes...) {
		p := filepath.Join(h, TrustFile)
		if err := WriteTrustBundle(p, trust); err != nil {
			return nil, err
		}
		net.TrustFiles = append(net.TrustFiles, p)
	}
	return net, nil
}

// newGenesisDoc builds the genesis document of a chain with validators
// genVals and application state g, which it validates.
func newGenesisDoc(chainID string, t time.Time, genVals []cmttypes.GenesisValidator, g *notaryv1.GenesisState) (*cmttypes.GenesisDoc, error) {
	if err := ledger.ValidateGenesis(g); err != nil {
		return nil, err
	}
	appState, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(g)
	if err != nil {
		return nil, err
	}
	cp := cmttypes.DefaultConsensusParams()
	cp.Block.MaxBytes = 16 << 20
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     t,
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: cp,
		Validators:      genVals,
		AppState:        json.RawMessage(appState),
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, err
	}
	return doc, nil
}

// saveParticipant saves an identity with a client certificate for it.
func saveParticipant(id *identity.Identity, dir string, ca *pki.CA, notBefore time.Time, validity time.Duration) error {
	if err := id.Save(dir); err != nil {
		return err
	}
	cert, err := ca.IssueClient(id.Role, id.ID, notBefore, validity)
	if err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(dir, identity.CertPEM), cert.CertPEM, 0o644); err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(dir, identity.KeyPEM), cert.KeyPEM, 0o600); err != nil {
		return err
	}
	return pki.WriteFile(filepath.Join(dir, identity.CAPEM), ca.PEM, 0o644)
}

// allNodes returns the validators' nodes followed by the full nodes.
func allNodes(spec NetworkSpec) []NodeSpec {
	out := append([]NodeSpec(nil), spec.Nodes...)
	for _, f := range spec.FullNodes {
		out = append(out, f.Node)
	}
	return out
}

// allMonikers returns the ministry ids of allNodes, in the same order.
func allMonikers(spec NetworkSpec) []string {
	var out []string
	for _, m := range spec.Ministries {
		out = append(out, m.ID)
	}
	for _, f := range spec.FullNodes {
		out = append(out, f.Ministry.ID)
	}
	return out
}

// nodeConfig returns the configuration of node n of spec, named moniker.
func nodeConfig(spec NetworkSpec, n NodeSpec, moniker string) *Config {
	return newNodeConfig(n, moniker, len(spec.Nodes)+len(spec.FullNodes) > 1,
		blockPolicy{commit: spec.TimeoutCommit, empty: spec.EmptyBlocks, emptyInterval: spec.EmptyBlocksInterval})
}

// blockPolicy says when CometBFT makes blocks: its pause after a commit
// and its empty blocks (NetworkSpec.EmptyBlocks, EmptyBlocksInterval).
type blockPolicy struct {
	commit        time.Duration
	empty         bool
	emptyInterval time.Duration
}

// newNodeConfig returns the configuration of node n named moniker, with
// CometBFT's peer exchange on or off and its block policy.
func newNodeConfig(n NodeSpec, moniker string, pex bool, b blockPolicy) *Config {
	listen := n.Host
	if n.ListenAll {
		listen = "0.0.0.0"
	}
	c := cmtcfg.DefaultConfig()
	c.SetRoot(n.Home)
	c.Moniker = moniker
	c.DBBackend = "goleveldb"
	c.LogLevel = "main:info,state:info,notary:info,p2p:error,*:error"
	c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", n.RPCPort)
	c.RPC.Unsafe = false
	c.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", listen, n.P2PPort)
	c.P2P.AddrBookStrict = n.Host != "127.0.0.1" && n.Host != "localhost"
	c.P2P.AllowDuplicateIP = true
	c.P2P.PexReactor = pex
	c.Consensus.TimeoutCommit = b.commit
	c.Consensus.CreateEmptyBlocks = b.empty
	c.Consensus.CreateEmptyBlocksInterval = b.emptyInterval
	// CometBFT's default; a shorter one costs rounds when a loaded
	// proposer is late (docs/adr/0013-consensus-and-p2p-settings.md).
	c.Consensus.TimeoutPropose = 3 * time.Second
	c.Mempool.MaxTxBytes = 2 << 20
	c.Mempool.Size = 10_000
	c.TxIndex.Indexer = "null"
	c.Instrumentation.Prometheus = true
	c.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", n.MetricsPort)
	ac := DefaultAppConfig()
	ac.Gateway.ListenAddress = fmt.Sprintf("%s:%d", listen, n.GatewayPort)
	ac.Public.Listen = n.publicListen()
	if n.HTTPPort != 0 {
		ac.Gateway.HTTPListenAddress = fmt.Sprintf("%s:%d", listen, n.HTTPPort)
	}
	return &Config{Home: n.Home, Comet: c, App: ac}
}

// TrustBundleFromGenesis derives the trust bundle of a genesis document: the
// chain id, the SHA-256 of the genesis file, and the genesis validators with
// their ministries' names, in CometBFT's validator-set order.
func TrustBundleFromGenesis(genesisJSON []byte) (*notaryv1.TrustBundle, error) {
	doc, err := cmttypes.GenesisDocFromJSON(genesisJSON)
	if err != nil {
		return nil, err
	}
	var g notaryv1.GenesisState
	if err := protojson.Unmarshal(doc.AppState, &g); err != nil {
		return nil, fmt.Errorf("genesis app_state: %w", err)
	}
	sum := sha256.Sum256(genesisJSON)
	tb := &notaryv1.TrustBundle{ChainId: doc.ChainID, GenesisHash: hex.EncodeToString(sum[:]), InitialHeight: doc.InitialHeight}
	for _, m := range g.Ministries {
		tb.Validators = append(tb.Validators, &notaryv1.TrustedValidator{
			MinistryId: m.Id, Name: m.Name, PubKey: m.ConsensusPubKey, Power: m.Power,
		})
	}
	SortValidators(tb.Validators)
	return tb, nil
}

// SortValidators puts validators in CometBFT's order: voting power
// descending, then address (first 20 bytes of SHA-256 of the key) ascending.
func SortValidators(vs []*notaryv1.TrustedValidator) {
	addr := func(pk []byte) []byte { s := sha256.Sum256(pk); return s[:20] }
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Power != vs[j].Power {
			return vs[i].Power > vs[j].Power
		}
		return bytes.Compare(addr(vs[i].PubKey), addr(vs[j].PubKey)) < 0
	})
}

// PublicEndpoints checks base URLs of public endpoints for a trust bundle
// (verify.CheckEndpoint: https://host[:port], or http:// on a loopback
// address, nothing after the host) and returns them without a trailing
// slash, each once, in the order given (empty strings left out).
func PublicEndpoints(urls []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, raw := range urls {
		if raw == "" {
			continue
		}
		e := strings.TrimSuffix(raw, "/")
		if err := verify.CheckEndpoint(e); err != nil {
			return nil, fmt.Errorf("public endpoint: %w", err)
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// VerifierURL checks the base URL of a published web verifier for a trust
// bundle (verify.CheckEndpoint, as public endpoints) and returns it without
// a trailing slash; "" stays "" (none).
func VerifierURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u := strings.TrimSuffix(raw, "/")
	if err := verify.CheckEndpoint(u); err != nil {
		return "", fmt.Errorf("verifier URL: %w", err)
	}
	return u, nil
}

// WriteTrustBundle writes a trust bundle in its canonical bytes
// (verify.EncodeTrustBundle), the same on every build, so that its
// fingerprint can be published.
func WriteTrustBundle(path string, tb *notaryv1.TrustBundle) error {
	b, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// TrustExport says what an exported trust bundle lists besides the
// chain's genesis.
type TrustExport struct {
	// PublicEndpoints to list; nil: those of the trust bundle already in
	// the home, if any.
	PublicEndpoints []string
	// VerifierURL to list (VerifierURL; "" for none); nil: that of the
	// trust bundle already in the home, if any.
	VerifierURL *string
	// Log is what the bundle carries of the evidence log
	// (checkpoint.ForBundle); nil: nothing, the genesis-only bundle.
	Log *BundleLog
}

// BundleLog is what a trust bundle carries of the chain's evidence log: a
// recent valid checkpoint with its validator set, and the witness policy
// of the params (docs/witness.md).
type BundleLog struct {
	// Checkpoint is the C2SP signed note of the checkpoint, with the
	// validators' signatures and the witnesses' cosignatures; nil for none
	// (Missing says why).
	Checkpoint []byte
	// Validators is the checkpoint's validator set (its LogCheckpoint
	// record) with the ministries' names, in ministry id order.
	Validators []*notaryv1.TrustedValidator
	// Witnesses and WitnessThreshold are params.witnesses and
	// params.witness_threshold.
	Witnesses        []*notaryv1.Witness
	WitnessThreshold uint32
	// Size is the checkpoint's log size; Signers the ministries whose
	// signatures it carries; Cosigners the registered witnesses whose
	// cosignatures it carries. For the report only.
	Size      uint64
	Signers   []string
	Cosigners []string
	// Missing says why there is no checkpoint, if there is none.
	Missing string
}

// ErrNoWitnessedCheckpoint: ExportTrustBundle was given a witness policy
// (threshold k > 0) without a checkpoint cosigned by k witnesses.
var ErrNoWitnessedCheckpoint = errors.New("no checkpoint cosigned as the witness policy requires")

// ExportTrustBundle writes the trust bundle of the home's genesis to path,
// listing the public endpoints and the verifier URL of x. A witness policy
// (x.Log with WitnessThreshold k > 0) without a checkpoint is
// ErrNoWitnessedCheckpoint; a bundle verify.CheckTrustBundle refuses is not
// written.
func ExportTrustBundle(home, path string, x TrustExport) (*notaryv1.TrustBundle, error) {
	gen, err := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return nil, err
	}
	tb, err := TrustBundleFromGenesis(gen)
	if err != nil {
		return nil, err
	}
	old, err := homeTrust(home, tb.ChainId)
	if err != nil {
		return nil, err
	}
	endpoints := x.PublicEndpoints
	if endpoints == nil {
		endpoints = old.GetPublicEndpoints()
	}
	if tb.PublicEndpoints, err = PublicEndpoints(endpoints); err != nil {
		return nil, err
	}
	verifierURL := old.GetVerifierUrl()
	if x.VerifierURL != nil {
		verifierURL = *x.VerifierURL
	}
	if tb.VerifierUrl, err = VerifierURL(verifierURL); err != nil {
		return nil, err
	}
	if l := x.Log; l != nil {
		if l.Checkpoint == nil && l.WitnessThreshold > 0 {
			return nil, fmt.Errorf("%w: the witness policy requires cosignatures of %d registered witnesses and no checkpoint carries them (%s); a bundle without a checkpoint trusts the genesis validators only: export again once the witnesses cosigned one, or export the genesis-only bundle (--no-checkpoint)",
				ErrNoWitnessedCheckpoint, l.WitnessThreshold, l.Missing)
		}
		tb.LogCheckpoint, tb.LogValidators = l.Checkpoint, l.Validators
		tb.Witnesses, tb.WitnessThreshold = l.Witnesses, l.WitnessThreshold
	}
	if err := verify.CheckTrustBundle(tb); err != nil {
		return nil, fmt.Errorf("the exported bundle would not be accepted: %w", err)
	}
	return tb, WriteTrustBundle(path, tb)
}

// homeTrust returns the trust bundle in home; nil if there is none.
func homeTrust(home, chainID string) (*notaryv1.TrustBundle, error) {
	p := filepath.Join(home, TrustFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	old := &notaryv1.TrustBundle{}
	if err := protojson.Unmarshal(b, old); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if old.ChainId != chainID {
		return nil, fmt.Errorf("%s is the trust bundle of chain %q, not %q", p, old.ChainId, chainID)
	}
	return old, nil
}
