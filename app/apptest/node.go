package apptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtflags "github.com/cometbft/cometbft/libs/cli/flags"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/internal/pki"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// Names of the test chain and its participants.
const (
	ChainID    = "notary-test"
	MinistryID = "test-ministry"
	AgencyID   = "dev-agency"
	CitizenID  = "dev-citizen"
)

// AllPermissions are the permissions of the dev agency.
var AllPermissions = []notaryv1.Permission{
	notaryv1.Permission_PERMISSION_ANCHOR,
	notaryv1.Permission_PERMISSION_REVOKE,
	notaryv1.Permission_PERMISSION_EXCHANGE,
	notaryv1.Permission_PERMISSION_ENROLL,
}

// TestUnorderedWindow is the max_unordered_window of a test chain by
// default: its blocks come every 50 ms, twenty times as often as a
// consortium's, so the window is twenty times the default, and an unordered
// transaction gets as long to be committed as on a real chain. A loaded
// machine's mempool outruns the default window's 2.5 s there.
const TestUnorderedWindow = 20 * ledger.DefaultMaxUnorderedWindow

// Options configure a test node; the zero value is a working default.
type Options struct {
	// TimeoutCommit is the block interval (CometBFT timeout_commit);
	// default 50ms.
	TimeoutCommit time.Duration
	// NoEmptyBlocks makes blocks only for transactions (and the block that
	// signs a changed app hash), as production chains do; by default a
	// block follows every TimeoutCommit.
	NoEmptyBlocks bool
	// Agencies are registered in genesis besides the dev agency.
	Agencies []app.AgencySpec
	// Citizens are citizen identities created besides the dev citizen.
	Citizens []string
	// Params of the chain; nil for ledger.DefaultParams with
	// max_unordered_window TestUnorderedWindow.
	Params *notaryv1.Params
	// Gateway adjusts the gateway's configuration before the node starts.
	// By default the rate limit is off (tests send many requests from one
	// address), and so is the limit on citizens' transactions; everything
	// else is app.DefaultAppConfig's.
	Gateway func(*app.GatewayConfig)
	// Comet adjusts CometBFT's configuration before the node starts.
	Comet func(*cmtcfg.Config)
	// GatewayOptions are passed to gateway.NewFactory.
	GatewayOptions gateway.Options
	// NoGateway starts the node without the gateway.
	NoGateway bool
	// Public adjusts the public endpoint's configuration before the node
	// starts. By default it listens on a free port of 127.0.0.1 without a
	// rate limit; everything else is app.DefaultAppConfig's.
	Public func(*app.PublicConfig)
	// PublicOptions are passed to public.NewFactory.
	PublicOptions public.Options
	// NoPublic starts the node without the public endpoint.
	NoPublic bool
	// HTTP serves the gateway's HTTP/JSON routes too, on a port of the
	// kernel's choosing (Node.HTTPURL).
	HTTP bool
	// Ministry is the validator's ministry; default MinistryID, "Ministerio
	// de Pruebas", power 10.
	Ministry app.MinistrySpec
	// NoDevAgency leaves the dev agency out of genesis (Node.Agency is
	// then ""): only Agencies are registered.
	NoDevAgency bool
}

// Node is a running test node.
type Node struct {
	*app.Node
	// Gateway is the node's gateway server (nil with NoGateway).
	Gateway *gateway.Server
	// Public is the node's public endpoint (nil with NoPublic), and
	// PublicURL its base URL (http://127.0.0.1:port).
	Public    *public.Server
	PublicURL string
	// Network is what GenerateNetwork wrote.
	Network *app.Network
	// Home is the node's home directory; ChainID its chain.
	Home, ChainID string
	// Addr is the gateway's address (127.0.0.1:port).
	Addr string
	// Agency, Citizen and Ministry are the identity directories of the dev
	// agency, the dev citizen and the ministry's governance key.
	Agency, Citizen, Ministry string
	// TLSDir holds the network's CA (ca.crt, ca.key).
	TLSDir string

	log       *logBuffer
	cfg       *app.Config
	logger    cmtlog.Logger
	factory   app.ServiceFactory
	publicOpt public.Options
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1, outside the
// kernel's ephemeral port range (PortSpan): a port in that range can be
// taken, between this call and the listen of whoever uses it, by any
// outgoing connection or any listener on port 0 of the machine. A port is
// free if it can be listened on; the listeners are held until all n are
// found.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	lo, hi := PortSpan()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for try := 0; len(ports) < n; try++ {
		if try == 100*n {
			t.Fatalf("apptest: %d free ports not found in %d..%d", n, lo, hi-1)
		}
		p := lo + r.IntN(hi-lo)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, p)
	}
	return ports
}

// PortSpan returns the ports [lo, hi) that FreePorts picks from: the larger
// of the spans below and above the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, Linux's default 32768..60999),
// from 10000 up to 65535; 20000..32768 if the range cannot be read.
func PortSpan() (lo, hi int) {
	lo, hi = 20000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	el, err1 := strconv.Atoi(f[0])
	eh, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || el > eh {
		return lo, hi
	}
	below, above := max(0, el-10000), max(0, 65535-(eh+1))
	if below >= above {
		return 10000, max(10000, el)
	}
	return eh + 1, 65535
}

// Start generates a single-validator network in a temporary directory,
// starts its node with the gateway and waits for the first committed block.
// A node that cannot listen on a port of FreePorts (another process took it
// meanwhile) is started again, on other ports in a new directory.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	if opts.TimeoutCommit == 0 {
		opts.TimeoutCommit = 50 * time.Millisecond
	}
	if opts.Ministry.ID == "" {
		opts.Ministry = app.MinistrySpec{ID: MinistryID, Name: "Ministerio de Pruebas", Power: 10}
	}
	const attempts = 5
	for i := 1; ; i++ {
		n, err := start(t, opts)
		if err == nil {
			n.WaitHeight(t, 1)
			return n
		}
		if i == attempts || !addrInUse(err) {
			t.Fatalf("apptest: start: %v", err)
		}
		t.Logf("apptest: start: %v; again on other ports", err)
	}
}

// addrInUse reports whether err is a listen on a port already taken
// (CometBFT's RPC server reports it as text only).
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// start generates the network and starts its node; an error is the node's
// failure to start.
func start(t testing.TB, opts Options) (*Node, error) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "node")
	ports := FreePorts(t, 5)
	agencies := opts.Agencies
	if !opts.NoDevAgency {
		agencies = append([]app.AgencySpec{{ID: AgencyID, Name: "Agencia de Pruebas", Permissions: AllPermissions}}, agencies...)
	}
	params := opts.Params
	if params == nil {
		params = ledger.DefaultParams()
		params.MaxUnorderedWindow = TestUnorderedWindow
	}
	net, err := app.GenerateNetwork(app.NetworkSpec{
		ChainID:    ChainID,
		Ministries: []app.MinistrySpec{opts.Ministry},
		Nodes: []app.NodeSpec{{Home: home, Host: "127.0.0.1",
			P2PPort: ports[0], RPCPort: ports[1], GatewayPort: ports[2], MetricsPort: ports[3], PublicPort: ports[4]}},
		Agencies:      agencies,
		Citizens:      append([]string{CitizenID}, opts.Citizens...),
		Params:        params,
		TimeoutCommit: opts.TimeoutCommit,
		EmptyBlocks:   !opts.NoEmptyBlocks,
	})
	if err != nil {
		t.Fatalf("apptest: generate network: %v", err)
	}
	cfg, err := app.LoadConfig(home)
	if err != nil {
		t.Fatalf("apptest: %v", err)
	}
	cfg.App.Gateway.RatePerSecond = 0
	cfg.App.Gateway.CitizenTxRatePerSecond = 0
	if opts.Gateway != nil {
		opts.Gateway(&cfg.App.Gateway)
	}
	if opts.Comet != nil {
		opts.Comet(cfg.Comet)
	}
	if opts.HTTP {
		cfg.App.Gateway.HTTPListenAddress = "127.0.0.1:0"
	}
	if opts.NoGateway {
		cfg.App.Gateway.ListenAddress = ""
	}
	cfg.App.Public.RatePerSecond = 0
	if opts.Public != nil {
		opts.Public(&cfg.App.Public)
	}
	if opts.NoPublic {
		cfg.App.Public.Listen = ""
	}
	lb := &logBuffer{}
	logger, err := cmtflags.ParseLogLevel("main:info,state:error,notary:info,gateway:info,*:error",
		cmtlog.NewTMLogger(cmtlog.NewSyncWriter(lb)), cmtcfg.DefaultLogLevel)
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{Network: net, Home: home, ChainID: ChainID, TLSDir: filepath.Join(home, app.TLSDir), log: lb,
		Agency: net.Agencies[AgencyID], Citizen: net.Citizens[CitizenID], Ministry: net.Ministries[opts.Ministry.ID],
		cfg: cfg, logger: logger, publicOpt: opts.PublicOptions}
	n.factory = func(an *app.Node) (app.Service, error) {
		s, err := gateway.New(an, opts.GatewayOptions)
		if err != nil || s == nil {
			return nil, err
		}
		n.Gateway = s
		return s, nil
	}
	if err := n.run(t); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("apptest: stop: %v", err)
		}
		if t.Failed() {
			t.Logf("node log (last 8 KiB):\n%s", tail(lb.String(), 8<<10))
		}
	})
	return n, nil
}

// run builds and starts the node from its home; an error is the node's
// failure to start.
func (n *Node) run(t testing.TB) error {
	t.Helper()
	pub := func(an *app.Node) (app.Service, error) {
		s, err := public.New(an, n.publicOpt)
		if err != nil || s == nil {
			return nil, err
		}
		n.Public = s
		return s, nil
	}
	an, err := app.NewNode(n.cfg, n.logger, n.factory, pub)
	if err != nil {
		t.Fatalf("apptest: new node: %v", err)
	}
	n.Node = an
	if err := an.Start(); err != nil {
		return err
	}
	if n.Gateway != nil {
		n.Addr = n.Gateway.Addr()
	}
	if n.Public != nil {
		n.PublicURL = "http://" + n.Public.Addr()
	}
	return nil
}

// Restart stops the node and starts it again from its home, as a restarted
// process would (nothing kept in memory), and waits until it commits a
// block past the height it stopped at. The gateway listens on the same
// address; connections to it must be dialled again.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	h := n.Height()
	if err := n.Stop(); err != nil {
		t.Fatalf("apptest: stop for restart: %v", err)
	}
	n.Gateway, n.Public = nil, nil
	if err := n.run(t); err != nil {
		t.Fatalf("apptest: restart: %v", err)
	}
	n.WaitHeight(t, h+1)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// Log returns everything the node logged so far.
func (n *Node) Log() string { return n.log.String() }

// Height is the last committed height.
func (n *Node) Height() int64 {
	h, _, _ := n.App.LastCommit()
	return h
}

// WaitHeight waits until the node has committed height h (at most 30 s).
func (n *Node) WaitHeight(t testing.TB, h int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n.Height() < h {
		if time.Now().After(deadline) {
			t.Fatalf("apptest: height %d not reached in 30 s (at %d)", h, n.Height())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Identity loads the identity in dir.
func (n *Node) Identity(t testing.TB, dir string) *identity.Identity {
	t.Helper()
	id, err := identity.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// CA loads the network's CA, to issue more certificates in tests.
func (n *Node) CA(t testing.TB) *pki.CA {
	t.Helper()
	ca, err := pki.LoadCA(n.TLSDir)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// ClientTLS is the TLS configuration of identity directory dir (its client
// certificate, if it has one, and the network's CA); "" for no client
// certificate.
func (n *Node) ClientTLS(t testing.TB, dir string) *tls.Config {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(n.Home, app.TLSDir) // ca.crt only: no tls.crt there
	}
	cfg, err := identity.ClientTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Dial connects to the gateway over TLS as the identity in dir ("" for no
// client certificate); the connection is closed by t.Cleanup.
func (n *Node) Dial(t testing.TB, dir string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	return n.DialTLS(t, n.ClientTLS(t, dir), opts...)
}

// DialTLS connects to the gateway with a given TLS configuration.
func (n *Node) DialTLS(t testing.TB, cfg *tls.Config, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(n.Addr, append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(cfg))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Client is a Gateway client over Dial(t, dir).
func (n *Node) Client(t testing.TB, dir string) gatewayv1.GatewayClient {
	t.Helper()
	return gatewayv1.NewGatewayClient(n.Dial(t, dir))
}

// HTTPURL is the URL of path on the gateway's HTTP/JSON routes (Options.HTTP).
func (n *Node) HTTPURL(path string) string {
	return "https://" + n.Gateway.HTTPAddr() + path
}

// HTTPClient is an HTTPS client of the gateway's HTTP/JSON routes as the
// identity in dir ("" for no client certificate); it speaks HTTP/2 when
// h2, HTTP/1.1 otherwise.
func (n *Node) HTTPClient(t testing.TB, dir string, h2 bool) *http.Client {
	t.Helper()
	cfg := n.ClientTLS(t, dir)
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2}
	if !h2 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

// HasPanic reports whether the node's log mentions a panic.
func (n *Node) HasPanic() bool { return strings.Contains(strings.ToLower(n.Log()), "panic") }

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
