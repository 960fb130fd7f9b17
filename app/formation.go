package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/internal/pki"
	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Files of a ministry's home made by InitMinistry.
const (
	// JoinRequestFile is the ministry's signed join request.
	JoinRequestFile = join.RequestFile
	// NodeCSRFile is the request for the gateway's server certificate,
	// whose key (tls/node.key) stays in the home.
	NodeCSRFile = "tls/node.csr"
	// ClientCSRFile, in an identity directory, is the request for its
	// client certificate; the key is tls.key beside it.
	ClientCSRFile = "tls.csr"
)

// Errors of forming a consortium (CollectGenesis, VerifyGenesis).
var (
	// ErrJoinConflict: requests that cannot be in one genesis together
	// (a request given twice, an id or key used twice, other chains).
	ErrJoinConflict = errors.New("join requests conflict")
	// ErrJoinPower: the requested voting powers break the consortium's
	// rules.
	ErrJoinPower = errors.New("voting power refused")
	// ErrGenesisMismatch: a genesis file is not the one agreed on.
	ErrGenesisMismatch = errors.New("genesis does not match")
)

// MinistryInit describes the home of one ministry of a consortium being
// formed: its node and the voting power it asks for.
type MinistryInit struct {
	ChainID  string
	Ministry MinistrySpec
	Node     NodeSpec
	// TimeoutCommit is CometBFT's pause after a commit; 0 for 500 ms.
	TimeoutCommit time.Duration
	// EmptyBlocks and EmptyBlocksInterval are NetworkSpec's: by default
	// an idle chain makes no blocks.
	EmptyBlocks         bool
	EmptyBlocksInterval time.Duration
}

// MinistryHome is what InitMinistry wrote.
type MinistryHome struct {
	Home        string
	Request     *join.Request
	RequestFile string
	// NodeCSR and ClientCSR are the certificate requests for the
	// consortium CA: the gateway's server certificate and the governance
	// identity's client certificate.
	NodeCSR, ClientCSR string
	// IdentityDir is the governance identity's directory.
	IdentityDir string
}

// InitMinistry creates the home of one ministry of a consortium being
// formed: its consensus key, node key, governance identity and TLS keys,
// all made here, with certificate requests for the consortium CA and the
// join request signed by the governance key. The home has no genesis until
// InstallGenesis.
func InitMinistry(in MinistryInit) (*MinistryHome, error) {
	m, n := in.Ministry, in.Node
	if !ledger.ValidID(in.ChainID) {
		return nil, fmt.Errorf("chain id %q: use 1..64 of [a-z0-9-]", in.ChainID)
	}
	if !ledger.ValidID(m.ID) {
		return nil, fmt.Errorf("ministry id %q: use 1..64 of [a-z0-9-]", m.ID)
	}
	for _, f := range []string{"config/genesis.json", "config/priv_validator_key.json", JoinRequestFile} {
		if _, err := os.Stat(filepath.Join(n.Home, f)); err == nil {
			return nil, fmt.Errorf("%s already holds a node (%s); remove it or use another home", n.Home, f)
		}
	}
	if in.TimeoutCommit == 0 {
		in.TimeoutCommit = 500 * time.Millisecond
	}
	c := newNodeConfig(n, m.ID, true, blockPolicy{commit: in.TimeoutCommit, empty: in.EmptyBlocks, emptyInterval: in.EmptyBlocksInterval})
	if err := os.MkdirAll(filepath.Join(n.Home, "data"), 0o700); err != nil {
		return nil, err
	}
	cmtcfg.EnsureRoot(n.Home)
	consKey := cmted25519.GenPrivKey()
	privval.NewFilePV(consKey, c.Comet.PrivValidatorKeyFile(), c.Comet.PrivValidatorStateFile()).Save()
	nk := &p2p.NodeKey{PrivKey: cmted25519.GenPrivKey()}
	if err := nk.SaveAs(c.Comet.NodeKeyFile()); err != nil {
		return nil, err
	}
	if err := SaveConfig(c); err != nil {
		return nil, err
	}
	gov, err := identity.Generate(identity.RoleMinistry, m.ID, in.ChainID)
	if err != nil {
		return nil, err
	}
	gov.Node = n.gatewayAddr()
	out := &MinistryHome{Home: n.Home, IdentityDir: filepath.Join(n.Home, IdentitiesDir, m.ID)}
	if err := gov.Save(out.IdentityDir); err != nil {
		return nil, err
	}
	srv, err := pki.NewServerCSR("notary node "+m.ID, []string{"127.0.0.1", "localhost", n.Host})
	if err != nil {
		return nil, err
	}
	cli, err := pki.NewClientCSR(identity.RoleMinistry, m.ID)
	if err != nil {
		return nil, err
	}
	out.NodeCSR = filepath.Join(n.Home, NodeCSRFile)
	out.ClientCSR = filepath.Join(out.IdentityDir, ClientCSRFile)
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{filepath.Join(n.Home, TLSDir, "node.key"), srv.KeyPEM, 0o600},
		{out.NodeCSR, srv.CSRPEM, 0o644},
		{filepath.Join(out.IdentityDir, identity.KeyPEM), cli.KeyPEM, 0o600},
		{out.ClientCSR, cli.CSRPEM, 0o644},
	} {
		if err := pki.WriteFile(f.path, f.data, f.mode); err != nil {
			return nil, err
		}
	}
	req := &join.Request{
		ChainID: in.ChainID, Role: join.RoleMinistry, ID: m.ID, Name: m.Name, Power: m.Power,
		GovPubKey:       hex.EncodeToString(gov.Public()),
		ConsensusPubKey: hex.EncodeToString(consKey.PubKey().Bytes()),
		NodeID:          string(nk.ID()),
		P2PAddress:      net.JoinHostPort(n.Host, fmt.Sprint(n.P2PPort)),
		GatewayAddress:  n.gatewayAddr(),
	}
	tk, err := join.TLSKeyOf(cli.CSRPEM)
	if err != nil {
		return nil, err
	}
	req.TLSKey = hex.EncodeToString(tk)
	if err := req.Sign(gov.Key()); err != nil {
		return nil, err
	}
	if err := req.Check(); err != nil {
		return nil, err
	}
	out.Request, out.RequestFile = req, filepath.Join(n.Home, JoinRequestFile)
	if err := os.WriteFile(out.RequestFile, req.Encode(), 0o644); err != nil {
		return nil, err
	}
	return out, nil
}

// CollectOptions are the coordinator's choices for a genesis.
type CollectOptions struct {
	// GenesisTime; zero for now, to the second.
	GenesisTime time.Time
	// Params of the chain; nil for the defaults.
	Params *notaryv1.Params
}

// Collected is a genesis built from join requests.
type Collected struct {
	ChainID string
	Genesis []byte // the genesis file's bytes
	Hash    string // hex SHA-256 of Genesis, which every ministry checks
	// Peers is the persistent_peers list of every ministry's node
	// (node_id@p2p_address), in id order.
	Peers      []string
	Ministries []string
	Agencies   []string
}

// CollectGenesis checks join requests (their form, their signatures, that
// they fit together and the voting power rules) and builds the genesis of
// the chain they ask for: every ministry a validator with the power it
// requested, every agency registered with its permissions. Ministries and
// agencies are in id order, so the same requests and time give the same
// genesis whatever their order.
//
// Voting power: each ministry 1..2^40 (ledger), and with four ministries
// or more, the least that tolerate a faulty validator, none may hold 1/3
// or more of the total: one ministry alone could then halt the chain.
func CollectGenesis(reqs []*join.Request, opts CollectOptions) (*Collected, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no join request", join.ErrMalformed)
	}
	for _, r := range reqs {
		if err := r.Check(); err != nil {
			return nil, err
		}
		if err := r.Verify(); err != nil {
			return nil, err
		}
	}
	if err := checkConflicts(reqs); err != nil {
		return nil, err
	}
	var ms, as []*join.Request
	for _, r := range reqs {
		if r.Role == join.RoleMinistry {
			ms = append(ms, r)
		} else {
			as = append(as, r)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: no ministry's request: a chain needs at least one validator", ErrJoinConflict)
	}
	if err := checkPower(ms); err != nil {
		return nil, err
	}
	byID := func(a, b *join.Request) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(ms, byID)
	slices.SortFunc(as, byID)
	if opts.GenesisTime.IsZero() {
		opts.GenesisTime = time.Now().UTC().Truncate(time.Second)
	}
	if opts.Params == nil {
		opts.Params = ledger.DefaultParams()
	}
	out := &Collected{ChainID: reqs[0].ChainID}
	g := &notaryv1.GenesisState{Params: opts.Params}
	var genVals []cmttypes.GenesisValidator
	for _, r := range ms {
		gov, _ := hex.DecodeString(r.GovPubKey)
		cons, _ := hex.DecodeString(r.ConsensusPubKey)
		g.Ministries = append(g.Ministries, &notaryv1.Ministry{Id: r.ID, Name: r.Name, GovPubKey: gov, ConsensusPubKey: cons, Power: r.Power, TlsKeys: r.TLSKeys()})
		pk := cmted25519.PubKey(cons)
		genVals = append(genVals, cmttypes.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: r.Power, Name: r.Name})
		out.Peers = append(out.Peers, r.NodeID+"@"+r.P2PAddress)
		out.Ministries = append(out.Ministries, r.ID)
	}
	for _, r := range as {
		pub, _ := hex.DecodeString(r.PubKey)
		perms, _ := join.ParsePermissions(r.Permissions)
		g.Agencies = append(g.Agencies, &notaryv1.Agency{Id: r.ID, Name: r.Name, PubKey: pub, Permissions: perms, TlsKeys: r.TLSKeys()})
		out.Agencies = append(out.Agencies, r.ID)
	}
	doc, err := newGenesisDoc(out.ChainID, opts.GenesisTime, genVals, g)
	if err != nil {
		return nil, err
	}
	b, err := cmtjsonGenesis(doc)
	if err != nil {
		return nil, err
	}
	out.Genesis = b
	sum := sha256.Sum256(b)
	out.Hash = hex.EncodeToString(sum[:])
	return out, nil
}

// cmtjsonGenesis encodes a genesis document as CometBFT's SaveAs writes it.
func cmtjsonGenesis(doc *cmttypes.GenesisDoc) ([]byte, error) {
	return cmtjson.MarshalIndent(doc, "", "  ")
}

// checkConflicts refuses requests that cannot be in one genesis: for
// another chain, given twice, an id, key, node id or p2p address that two
// requests use.
func checkConflicts(reqs []*join.Request) error {
	chain := reqs[0].ChainID
	seen := map[string]string{} // "kind value" -> who uses it
	for _, r := range reqs {
		who := r.Role + " " + fmt.Sprintf("%q", r.ID)
		if r.ChainID != chain {
			return fmt.Errorf("%w: the request of %s is for chain %q, the first request's for %q", ErrJoinConflict, who, r.ChainID, chain)
		}
		if prev, ok := seen["sig "+r.Signature]; ok {
			return fmt.Errorf("%w: the request of %s is given twice (%s)", ErrJoinConflict, who, prev)
		}
		seen["sig "+r.Signature] = who
		if prev, ok := seen["id "+r.ID]; ok {
			return fmt.Errorf("%w: id %q is requested by %s and by %s", ErrJoinConflict, r.ID, prev, who)
		}
		seen["id "+r.ID] = who
		uses := []struct{ kind, what, v string }{
			{"key", "governance key", r.GovPubKey},
			{"key", "consensus key", r.ConsensusPubKey},
			{"key", "signing key", r.PubKey},
			{"node", "node id", r.NodeID},
			{"addr", "p2p address", r.P2PAddress},
		}
		for _, u := range uses {
			if u.v == "" {
				continue
			}
			k := u.kind + " " + u.v
			if prev, ok := seen[k]; ok {
				return fmt.Errorf("%w: the %s %s of %s is already in use by %s", ErrJoinConflict, u.what, u.v, who, prev)
			}
			seen[k] = who + " (" + u.what + ")"
		}
	}
	return nil
}

// checkPower applies the voting power rules of CollectGenesis.
func checkPower(ms []*join.Request) error {
	var total int64
	for _, r := range ms {
		if r.Power <= 0 || r.Power > 1<<40 {
			return fmt.Errorf("%w: ministry %q requests power %d; each ministry's must be in 1..2^40", ErrJoinPower, r.ID, r.Power)
		}
		total += r.Power
	}
	if len(ms) < 4 {
		return nil
	}
	for _, r := range ms {
		if r.Power*3 >= total {
			return fmt.Errorf("%w: ministry %q requests power %d of %d; with four ministries or more none may hold 1/3 or more, or it alone could halt the chain", ErrJoinPower, r.ID, r.Power, total)
		}
	}
	return nil
}

// VerifyGenesis checks a genesis file against the SHA-256 (hex) the
// coordinator published, and that it is a valid genesis. With a ministry's
// request (its own, from its home), it also checks that the genesis makes
// that ministry a validator with the keys and power it asked for.
func VerifyGenesis(genesis []byte, hash string, own *join.Request) (*cmttypes.GenesisDoc, error) {
	sum := sha256.Sum256(genesis)
	got := hex.EncodeToString(sum[:])
	if want := strings.ToLower(strings.TrimSpace(hash)); got != want {
		return nil, fmt.Errorf("%w: the file's SHA-256 is %s, not the agreed %s; do not use it", ErrGenesisMismatch, got, want)
	}
	doc, err := cmttypes.GenesisDocFromJSON(genesis)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGenesisMismatch, err)
	}
	var g notaryv1.GenesisState
	if err := protojson.Unmarshal(doc.AppState, &g); err != nil {
		return nil, fmt.Errorf("%w: app_state: %w", ErrGenesisMismatch, err)
	}
	if err := ledger.ValidateGenesis(&g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGenesisMismatch, err)
	}
	if own == nil {
		return doc, nil
	}
	if doc.ChainID != own.ChainID {
		return nil, fmt.Errorf("%w: it is of chain %q, the home's request of %q", ErrGenesisMismatch, doc.ChainID, own.ChainID)
	}
	gov, _ := hex.DecodeString(own.GovPubKey)
	cons, _ := hex.DecodeString(own.ConsensusPubKey)
	for _, m := range g.Ministries {
		if m.Id != own.ID {
			continue
		}
		if !bytes.Equal(m.GovPubKey, gov) || !bytes.Equal(m.ConsensusPubKey, cons) || m.Power != own.Power {
			return nil, fmt.Errorf("%w: ministry %q is in it with other keys or power than its request", ErrGenesisMismatch, own.ID)
		}
		return doc, nil
	}
	return nil, fmt.Errorf("%w: ministry %q is not in it", ErrGenesisMismatch, own.ID)
}

// VerifyGenesisLater checks a genesis for a ministry voted in after the
// chain started: the agreed hash, a valid genesis of the home's chain, and
// that the ministry is not in it (a ministry in the genesis installs it
// with VerifyGenesis's checks). The node syncs from the genesis and
// becomes a validator at the block that passes its add-validator proposal.
func VerifyGenesisLater(genesis []byte, hash string, own *join.Request) (*cmttypes.GenesisDoc, error) {
	doc, err := VerifyGenesis(genesis, hash, nil)
	if err != nil {
		return nil, err
	}
	if doc.ChainID != own.ChainID {
		return nil, fmt.Errorf("%w: it is of chain %q, the home's request of %q", ErrGenesisMismatch, doc.ChainID, own.ChainID)
	}
	var g notaryv1.GenesisState
	if err := protojson.Unmarshal(doc.AppState, &g); err != nil {
		return nil, fmt.Errorf("%w: app_state: %w", ErrGenesisMismatch, err)
	}
	for _, m := range g.Ministries {
		if m.Id == own.ID {
			return nil, fmt.Errorf("%w: ministry %q is in it: install it without --join", ErrGenesisMismatch, own.ID)
		}
	}
	return doc, nil
}

// LoadJoinRequest reads and checks the form of a join request file (not
// its signature).
func LoadJoinRequest(path string) (*join.Request, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := join.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Installed is what InstallGenesis wrote.
type Installed struct {
	Home        string
	ChainID     string
	GenesisHash string
	Peers       []string // the persistent peers set (the others' nodes)
	TrustBundle string
	// Missing lists the TLS files the home still needs from the
	// consortium CA before its gateway can start.
	Missing []string
}

// InstallGenesis verifies a genesis for a ministry's home (VerifyGenesis
// with the home's own join request) and installs it: config/genesis.json,
// the persistent peers (every entry of peers but the home's own node), and
// the trust bundle.
func InstallGenesis(home string, genesis []byte, hash string, peers []string, later bool) (*Installed, error) {
	own, err := LoadJoinRequest(filepath.Join(home, JoinRequestFile))
	if err != nil {
		return nil, err
	}
	var doc *cmttypes.GenesisDoc
	if later {
		doc, err = VerifyGenesisLater(genesis, hash, own)
	} else {
		doc, err = VerifyGenesis(genesis, hash, own)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	var others []string
	for _, p := range peers {
		id, addr, ok := strings.Cut(p, "@")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("peer %q: want node_id@host:port", p)
		}
		if id != own.NodeID {
			others = append(others, p)
		}
	}
	cfg.Comet.P2P.PersistentPeers = strings.Join(others, ",")
	if old, err := os.ReadFile(cfg.Comet.GenesisFile()); err == nil && !bytes.Equal(old, genesis) {
		return nil, fmt.Errorf("%w: %s already holds another genesis; a home runs one chain", ErrGenesisMismatch, cfg.Comet.GenesisFile())
	}
	if err := os.WriteFile(cfg.Comet.GenesisFile(), genesis, 0o644); err != nil {
		return nil, err
	}
	if err := SaveConfig(cfg); err != nil {
		return nil, err
	}
	tb, err := TrustBundleFromGenesis(genesis)
	if err != nil {
		return nil, err
	}
	out := &Installed{Home: cfg.Home, ChainID: doc.ChainID, GenesisHash: tb.GenesisHash, Peers: others, TrustBundle: filepath.Join(cfg.Home, TrustFile)}
	if err := WriteTrustBundle(out.TrustBundle, tb); err != nil {
		return nil, err
	}
	for _, f := range []string{cfg.App.Gateway.TLSCert, cfg.App.Gateway.ClientCA} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(cfg.Path(f)); err != nil {
			out.Missing = append(out.Missing, cfg.Path(f))
		}
	}
	return out, nil
}

// CA validity and the validity of the certificates it issues.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	CertValidity = 2 * 365 * 24 * time.Hour
)

// NewConsortiumCA creates the consortium CA in dir (ca.crt, and ca.key,
// which stays offline), for chain chainID.
func NewConsortiumCA(dir, chainID string) (certFile string, err error) {
	if !ledger.ValidID(chainID) {
		return "", fmt.Errorf("chain id %q: use 1..64 of [a-z0-9-]", chainID)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.key")); err == nil {
		return "", fmt.Errorf("%s already holds a CA key; use another directory", dir)
	}
	ca, err := pki.NewCA("GobTechLab Notary consortium CA ("+chainID+")", time.Now().Add(-time.Hour).UTC().Truncate(time.Second), CAValidity)
	if err != nil {
		return "", err
	}
	if err := ca.Save(dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, "ca.crt"), nil
}

// IssuedCert describes a certificate the consortium CA issued from a
// request (SignCSR).
type IssuedCert struct {
	// Client: a participant's client certificate (Role, ID); otherwise a
	// gateway's server certificate (Hosts).
	Client   bool     `json:"client"`
	Role     string   `json:"role,omitempty"`
	ID       string   `json:"id,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	Subject  string   `json:"subject"`
	NotAfter string   `json:"not_after"`
	CertPEM  []byte   `json:"-"`
}

// SignCSR issues, with the consortium CA in caDir, the certificate a PEM
// request asks for: a participant's client certificate (the request names
// agency/<id> or ministry/<id>) or a gateway's server certificate (its
// host names and IPs), valid from an hour ago for validity (0: two years).
func SignCSR(caDir string, csrPEM []byte, validity time.Duration) (*IssuedCert, error) {
	ca, err := pki.LoadCA(caDir)
	if err != nil {
		return nil, fmt.Errorf("consortium CA: %w", err)
	}
	if validity <= 0 {
		validity = CertValidity
	}
	s, err := ca.SignCSR(csrPEM, time.Now().Add(-time.Hour).UTC().Truncate(time.Second), validity)
	if err != nil {
		return nil, err
	}
	if s.Client && !ledger.ValidID(s.ID) {
		return nil, fmt.Errorf("certificate request names %s %q: not a valid id", s.Role, s.ID)
	}
	return &IssuedCert{Client: s.Client, Role: s.Role, ID: s.ID, Hosts: s.Hosts, Subject: s.Subject,
		NotAfter: s.NotAfter.Format(time.RFC3339), CertPEM: s.CertPEM}, nil
}
