package gateway_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// The hostile-connection tests attack the gateway from many loopback
// addresses (Linux routes all of 127.0.0.0/8 to the loopback interface, so
// a client socket can be bound to any 127.x.y.z) without a client
// certificate, the way an attacker on the network would, while a registered
// agency works.

// hostileKind is what a hostile connection does once open.
type hostileKind int

const (
	// idleH2 completes TLS and the HTTP/2 preface, then sends nothing: an
	// idle gRPC connection.
	idleH2 hostileKind = iota
	// halfOpen sends the 5 bytes of a TLS record header announcing a
	// ClientHello that never comes.
	halfOpen
	// slowHandshake sends a real ClientHello one byte every 250 ms.
	slowHandshake
	numHostileKinds
)

func (k hostileKind) String() string {
	return [...]string{"idle after TLS and HTTP/2 preface", "half-open (5 bytes)", "slow handshake"}[k]
}

// hostileAddr is the loopback address of the i-th attacking host:
// 127.10.0.1, 127.10.0.2, ... (never 127.0.0.1, the honest clients').
func hostileAddr(i int) net.IP {
	return net.IPv4(127, byte(10+i/(250*250)), byte(i/250%250), byte(1+i%250))
}

// attacker holds connections to a gateway: each slot keeps one connection
// of its kind open, from its own source address, and opens another (after
// a pause of 0.5 to 1.5 s) when the gateway closes it.
type attacker struct {
	target string
	tls    *tls.Config

	opened    atomic.Int64 // connections opened
	dialFails atomic.Int64 // dials that failed
	closed    atomic.Int64 // connections the gateway closed
	open      atomic.Int64 // connections open now (as the attacker sees them)
	slotsUp   atomic.Int64 // slots that opened their first connection

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newAttacker starts slots hostile connections against target, perAddr
// of them from each source address, the kinds mixed evenly; cfg verifies
// the gateway's certificate.
func newAttacker(target string, cfg *tls.Config, slots, perAddr int) *attacker {
	a := &attacker{target: target, tls: cfg.Clone()}
	a.tls.NextProtos = []string{"h2"}
	// An attacker keeps its own handshakes cheap.
	a.tls.CurvePreferences = []tls.CurveID{tls.X25519}
	if host, _, err := net.SplitHostPort(target); err == nil {
		a.tls.ServerName = host
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	for i := 0; i < slots; i++ {
		a.wg.Add(1)
		go a.slot(i, hostileKind(i%int(numHostileKinds)), hostileAddr(i/perAddr))
	}
	return a
}

func (a *attacker) stop() {
	a.cancel()
	a.wg.Wait()
}

// attackStats are an attacker's counts.
type attackStats struct {
	Opened, Closed, Open, DialFails, SlotsUp int64
}

func (a *attacker) stats() attackStats {
	return attackStats{Opened: a.opened.Load(), Closed: a.closed.Load(), Open: a.open.Load(), DialFails: a.dialFails.Load(), SlotsUp: a.slotsUp.Load()}
}

func (s attackStats) String() string {
	return fmt.Sprintf("%d connections opened, %d closed by the gateway, %d open now, %d dials failed",
		s.Opened, s.Closed, s.Open, s.DialFails)
}

// The attacker runs in a process of its own (this test binary again,
// running TestHostileHelper), as it would on another machine: its
// goroutines and file descriptors are not the node's.
const hostileEnv = "NOTARY_HOSTILE_ATTACK"

// attackSpec is what the helper process attacks.
type attackSpec struct {
	Target, CAFile string
	Slots, PerAddr int
}

// TestHostileHelper is the attacker's process of the hostile-connection
// tests; it runs only when started by them. It prints its counts as JSON
// lines and stops when its standard input closes.
func TestHostileHelper(t *testing.T) {
	env := os.Getenv(hostileEnv)
	if env == "" {
		t.Skip("the attacker process of TestAbuseHostileConnections")
	}
	var spec attackSpec
	if err := json.Unmarshal([]byte(env), &spec); err != nil {
		t.Fatal(err)
	}
	raiseFileLimit(t)
	pem, err := os.ReadFile(spec.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	a := newAttacker(spec.Target, &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}, spec.Slots, spec.PerAddr)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); a.cancel() }()
	enc := json.NewEncoder(os.Stdout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for a.ctx.Err() == nil {
		_ = enc.Encode(a.stats())
		select {
		case <-tick.C:
		case <-a.ctx.Done():
		}
	}
	a.stop()
	_ = enc.Encode(a.stats())
}

// attackerProc is a running attacker process.
type attackerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	last  atomic.Pointer[attackStats]
	done  chan struct{}
}

// startAttacker starts an attacker process against the gateway of n.
func startAttacker(t *testing.T, n *apptest.Node, slots, perAddr int) *attackerProc {
	t.Helper()
	spec, err := json.Marshal(attackSpec{Target: n.Addr, CAFile: filepath.Join(n.TLSDir, "ca.crt"), Slots: slots, PerAddr: perAddr})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileHelper$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), hostileEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &attackerProc{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	p.last.Store(&attackStats{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var st attackStats
			if json.Unmarshal(sc.Bytes(), &st) == nil {
				p.last.Store(&st)
			}
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *attackerProc) stats() attackStats { return *p.last.Load() }

// stop ends the attack and waits for the process (killing it after 30 s).
func (p *attackerProc) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.cmd.Wait()
}

// waitUp waits until every slot opened a connection (at most 60 s).
func (p *attackerProc) waitUp(t *testing.T, slots int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for p.stats().SlotsUp < int64(slots) {
		select {
		case <-p.done:
			t.Fatalf("the attacker process ended: %v", p.stats())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("attacker: only %d of %d slots connected in 60 s: %v", p.stats().SlotsUp, slots, p.stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// h2Preface is the HTTP/2 client connection preface and an empty SETTINGS
// frame: what a gRPC client sends before its first request.
var h2Preface = append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)

func (a *attacker) slot(i int, kind hostileKind, src net.IP) {
	defer a.wg.Done()
	rng := rand.New(rand.NewSource(int64(i)))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
	first := true
	for a.ctx.Err() == nil {
		c, err := d.DialContext(a.ctx, "tcp", a.target)
		if err != nil {
			if a.ctx.Err() == nil {
				a.dialFails.Add(1)
			}
		} else {
			a.opened.Add(1)
			a.open.Add(1)
			if first {
				first = false
				a.slotsUp.Add(1)
			}
			stop := context.AfterFunc(a.ctx, func() { _ = c.Close() })
			a.hold(c, kind)
			stop()
			_ = c.Close()
			a.open.Add(-1)
			if a.ctx.Err() == nil {
				a.closed.Add(1)
			}
		}
		select {
		case <-a.ctx.Done():
		case <-time.After(500*time.Millisecond + time.Duration(rng.Int63n(int64(time.Second)))):
		}
	}
}

// hold does what kind does on c and returns once the connection fails
// (the gateway closed it, or the attack stops).
func (a *attacker) hold(c net.Conn, kind hostileKind) {
	switch kind {
	case idleH2:
		tc := tls.Client(c, a.tls)
		if err := tc.Handshake(); err != nil {
			return
		}
		if _, err := tc.Write(h2Preface); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, tc)
	case halfOpen:
		if _, err := c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	case slowHandshake:
		_ = tls.Client(&dribbleConn{Conn: c, ctx: a.ctx}, a.tls).Handshake()
	}
}

// dribbleConn writes one byte every 250 ms.
type dribbleConn struct {
	net.Conn
	ctx context.Context
}

func (d *dribbleConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := d.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
		select {
		case <-d.ctx.Done():
			return i + 1, d.ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return len(p), nil
}

// dialFrom is a gRPC dial option that binds the client's socket to src.
func dialFrom(src net.IP) grpc.DialOption {
	return grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
		return d.DialContext(ctx, "tcp", addr)
	})
}

// TestAbuseHostileConnections holds 2,000 hostile connections without a
// client certificate (10,000 with NOTARY_ABUSE_HEAVY), a third each idle
// after TLS and the HTTP/2 preface, half-open and in a slow handshake,
// from 250 loopback addresses (1,250 heavy), reopening each one the gateway
// closes. Meanwhile a registered agency reads over the connection it had
// before and, over a new connection each round, anchors a batch and reads:
// every call succeeds, and its latencies are logged against a baseline
// taken before the attack in the same test.
func TestAbuseHostileConnections(t *testing.T) {
	slots, perAddr, attack := 2000, 8, 5*time.Second
	if heavyAbuse() {
		slots, attack = 10_000, 20*time.Second
	}
	if limit := raiseFileLimit(t); uint64(slots+4000) > limit {
		t.Skipf("open files limited to %d: %d hostile connections need more", limit, slots)
	}
	n := apptest.Start(t, apptest.Options{
		TimeoutCommit: 100 * time.Millisecond,
		Agencies:      []app.AgencySpec{{ID: quietAgency, Name: "Agencia Tranquila", Permissions: apptest.AllPermissions}},
	})
	quietDir := n.Network.Agencies[quietAgency]
	quietTLS := n.ClientTLS(t, quietDir)
	quiet := n.Client(t, quietDir)
	quietID := n.Identity(t, quietDir)
	if _, err := quiet.GetStatus(ctxT(t), &notaryv1.GetStatusRequest{}); err != nil {
		t.Fatal(err)
	}
	s := &signer{id: quietID}

	// work is the agency's load: reads every 20 ms over its connection,
	// and rounds of (new connection, anchor, read) one after the other.
	work := func(d time.Duration) (reads, rounds *latencies, failures []error) {
		reads, rounds = &latencies{}, &latencies{}
		var mu sync.Mutex
		fail := func(err error) {
			mu.Lock()
			failures = append(failures, err)
			mu.Unlock()
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				t0 := time.Now()
				_, err := quiet.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: quietID.Public()})
				cancel()
				if err != nil {
					fail(fmt.Errorf("read over the established connection: %w", err))
					continue
				}
				reads.add(time.Since(t0))
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				err := func() error {
					cc, err := grpc.NewClient(n.Addr, grpc.WithTransportCredentials(credentials.NewTLS(quietTLS)))
					if err != nil {
						return err
					}
					defer func() { _ = cc.Close() }()
					gw := gatewayv1.NewGatewayClient(cc)
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					if _, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: s.sign(anchorBody(quietAgency, 0, digestsOf(fmt.Sprintf("hostile/%d/%d", time.Now().UnixNano(), i), 4)))}); err != nil {
						s.seq--
						return fmt.Errorf("anchor over a new connection: %w", err)
					}
					if _, err := gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: quietID.Public()}); err != nil {
						return fmt.Errorf("read over a new connection: %w", err)
					}
					return nil
				}()
				if err != nil {
					fail(err)
					continue
				}
				rounds.add(time.Since(t0))
			}
		}()
		time.Sleep(d)
		close(stop)
		wg.Wait()
		return reads, rounds, failures
	}

	baseReads, baseRounds, failures := work(2 * time.Second)
	if len(failures) > 0 {
		t.Fatalf("before the attack: %v", failures[0])
	}

	maxUnauth := app.DefaultAppConfig().Gateway.MaxUnauthenticatedConnections
	evicted0 := counterValue(t, "notary_gateway_connections_closed_total", map[string]string{"reason": "unauthenticated_pool_full"})
	t0 := time.Now()
	a := startAttacker(t, n, slots, perAddr)
	a.waitUp(t, slots)
	t.Logf("%d hostile connections from %d addresses up in %v: %v", slots, (slots+perAddr-1)/perAddr, time.Since(t0).Round(time.Millisecond), a.stats())
	// The gateway's counts, sampled through the attack.
	var peakUnauth, minAuth atomic.Int64
	minAuth.Store(1 << 30)
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			c := n.Gateway.Connections()
			if int64(c.Unauthenticated) > peakUnauth.Load() {
				peakUnauth.Store(int64(c.Unauthenticated))
			}
			if int64(c.Authenticated) < minAuth.Load() {
				minAuth.Store(int64(c.Authenticated))
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	reads, rounds, failures := work(attack)
	close(stopSampling)
	<-sampled
	evicted := counterValue(t, "notary_gateway_connections_closed_total", map[string]string{"reason": "unauthenticated_pool_full"}) - evicted0
	t.Logf("attacker after %v: %v; the gateway held at most %d unauthenticated connections (limit %d), evicted the oldest %.0f times, and kept at least %d authenticated",
		attack, a.stats(), peakUnauth.Load(), maxUnauth, evicted, minAuth.Load())
	if peakUnauth.Load() > int64(maxUnauth) {
		t.Errorf("%d unauthenticated connections held, over the limit of %d", peakUnauth.Load(), maxUnauth)
	}
	if minAuth.Load() < 1 {
		t.Errorf("the agency's established connection left the authenticated pool")
	}
	if evicted == 0 {
		t.Errorf("the attack filled no pool: nothing was evicted")
	}
	total := len(reads.d) + len(rounds.d) + len(failures)
	t.Logf("the agency: reads over its connection before the attack %v, during %v", baseReads, reads)
	t.Logf("the agency: rounds of new connection, anchor (commit wait included) and read before the attack %v, during %v", baseRounds, rounds)
	t.Logf("the agency's success rate during the attack: %d of %d (%.2f%%)", total-len(failures), total, 100*float64(total-len(failures))/float64(max(total, 1)))
	if len(failures) > 0 {
		var msgs []string
		for i, err := range failures {
			if i == 5 {
				msgs = append(msgs, fmt.Sprintf("... (%d in all)", len(failures)))
				break
			}
			msgs = append(msgs, err.Error())
		}
		t.Fatalf("the agency was refused %d times during the attack:\n%s", len(failures), strings.Join(msgs, "\n"))
	}
	if len(rounds.d) == 0 {
		t.Fatal("the agency completed no round during the attack")
	}
	// Generous bounds: two shared cores run the attacker, the node and the
	// agency; what matters is that every call succeeds.
	if p99, bound := rounds.pct(99), max(10*baseRounds.pct(99), 5*time.Second); p99 > bound {
		t.Errorf("the agency's rounds took up to %v (p99) during the attack, %v before", p99, baseRounds.pct(99))
	}
	if p99, bound := reads.pct(99), max(20*baseReads.pct(99), 2*time.Second); p99 > bound {
		t.Errorf("the agency's reads took up to %v (p99) during the attack, %v before", p99, baseReads.pct(99))
	}
	if n.HasPanic() {
		t.Fatalf("the node logged a panic:\n%s", n.Log())
	}
}

// TestAbuseRateTable makes one call without a client certificate from each
// of 3,000 loopback addresses (10,000 with NOTARY_ABUSE_HEAVY) against a
// rate table of 1,000 entries, then calls as the ministry and as an agency:
// neither is refused, and no address making its first call is either. A
// caller over its limit is told the real limit and who it applies to.
func TestAbuseRateTable(t *testing.T) {
	const table, rps, burst = 1000, 20, 10
	addrs := 3000
	if heavyAbuse() {
		addrs = 10_000
	}
	n := apptest.Start(t, apptest.Options{
		TimeoutCommit: 100 * time.Millisecond,
		Gateway: func(g *app.GatewayConfig) {
			g.RatePerSecond, g.RateBurst = rps, burst
			g.RateTableSize = table
		},
	})
	public := n.ClientTLS(t, "")
	evicted0 := counterValue(t, "notary_gateway_rate_table_evictions_total", nil)
	var next, refused atomic.Int64
	var firstErr atomic.Value
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= addrs {
					return
				}
				err := func() error {
					cc, err := grpc.NewClient(n.Addr, grpc.WithTransportCredentials(credentials.NewTLS(public)), dialFrom(hostileAddr(i)))
					if err != nil {
						return err
					}
					defer func() { _ = cc.Close() }()
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					_, err = gatewayv1.NewGatewayClient(cc).GetStatus(ctx, &notaryv1.GetStatusRequest{})
					return err
				}()
				if err != nil {
					refused.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Errorf("address %v: %w", hostileAddr(i), err))
				}
			}
		}()
	}
	wg.Wait()
	evicted := counterValue(t, "notary_gateway_rate_table_evictions_total", nil) - evicted0
	t.Logf("%d addresses made one call each in %v against a rate table of %d: %d refused, %.0f evicted from the table",
		addrs, time.Since(t0).Round(time.Millisecond), table, refused.Load(), evicted)
	if refused.Load() > 0 {
		t.Errorf("%d addresses were refused their first call, e.g. %v", refused.Load(), firstErr.Load())
	}
	if want := float64(addrs - table); evicted < want {
		t.Errorf("%.0f addresses evicted from the rate table, want at least %.0f", evicted, want)
	}
	for _, who := range []struct{ name, dir string }{{"the ministry", n.Ministry}, {"the agency", n.Agency}} {
		if _, err := n.Client(t, who.dir).GetStatus(ctxT(t), &notaryv1.GetStatusRequest{}); err != nil {
			t.Fatalf("%s after the table filled: %v", who.name, err)
		}
	}

	// Over the limit, the refusal names the limit and the caller.
	limit := fmt.Sprintf("gateway limit rate_per_second (%d requests/s, rate_burst %d) exceeded for ", rps, burst)
	src := hostileAddr(addrs + 1)
	cases := []struct {
		name string
		gw   gatewayv1.GatewayClient
		want string
	}{
		{"an address", gatewayv1.NewGatewayClient(n.DialTLS(t, public, dialFrom(src))),
			limit + "address " + src.String() + " (callers without the client certificate of a listed member are limited per address); retry in "},
		{"an agency", n.Client(t, n.Agency), limit + `agency "` + apptest.AgencyID + `"; retry in `},
		{"a ministry", n.Client(t, n.Ministry), limit + `ministry "` + apptest.MinistryID + `"; retry in `},
	}
	for _, tc := range cases {
		var err error
		for i := 0; i < 4*burst && err == nil; i++ {
			_, err = tc.gw.GetStatus(ctxT(t), &notaryv1.GetStatusRequest{})
		}
		wantCode(t, err, codes.ResourceExhausted, tc.name+" over its limit")
		if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, tc.want) || !strings.HasSuffix(msg, "ms") {
			t.Errorf("%s over its limit: %q, want %q followed by a duration", tc.name, msg, tc.want)
		}
	}
}
