package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// The abuse tests run a real node with the gateway over mutual TLS and
// attack it from the same process: a flooding agency against the
// per-identity rate limit, thousands of idle TCP connections against the
// connection limits, and a flood of streams and stream messages. Each
// checks that the abuse is shed, that another agency is served meanwhile
// within bounds (its p50 and p99 latency are logged, and compared with a
// baseline taken in the same test: the machine may be busy), and that
// blocks keep coming at the configured interval. A handler panic is
// covered by TestReceiptHookAndRecovery; attacks from many addresses and
// without a certificate by hostile_test.go.
//
// NOTARY_ABUSE_HEAVY=1 runs the heavy variants: 10,000 idle connections
// (or as many as the file descriptor limit allows) against the default
// limits, and longer floods.

// heavyAbuse reports whether the heavy variants were asked for.
func heavyAbuse() bool { return os.Getenv("NOTARY_ABUSE_HEAVY") != "" }

// quietAgency is the agency that is not abusing anything.
const quietAgency = "quiet-agency"

// latencies collects request durations.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// pct returns the p-th percentile (nearest rank).
func (l *latencies) pct(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), l.d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

func (l *latencies) String() string {
	l.mu.Lock()
	n := len(l.d)
	l.mu.Unlock()
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("n=%d p50 %v p99 %v", n, r(l.pct(50)), r(l.pct(99)))
}

// quietClient calls GetAccount as the quiet agency every interval until
// stop is closed, recording latencies; any error fails the test.
func quietClient(t *testing.T, gw gatewayv1.GatewayClient, pub []byte, every time.Duration, stop <-chan struct{}, lat *latencies, errs *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(every):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t0 := time.Now()
		_, err := gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: pub})
		cancel()
		if err != nil {
			errs.Add(1)
			t.Errorf("the quiet agency was refused: %v", err)
			continue
		}
		lat.add(time.Since(t0))
	}
}

// meanBlockInterval is the mean time between the headers of heights from
// and to (the block times CometBFT agreed on).
func meanBlockInterval(t *testing.T, n *apptest.Node, from, to int64) time.Duration {
	t.Helper()
	if to <= from {
		t.Fatalf("no block between heights %d and %d", from, to)
	}
	a, err := n.Chain().Header(from)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Chain().Header(to)
	if err != nil {
		t.Fatal(err)
	}
	return b.Time.Sub(a.Time) / time.Duration(to-from)
}

// checkBlocks fails the test if blocks came markedly slower during the
// abuse than before it.
func checkBlocks(t *testing.T, what string, before, during time.Duration) {
	t.Helper()
	t.Logf("%s: block interval %v before, %v during", what, before.Round(time.Millisecond), during.Round(time.Millisecond))
	if during > 5*before+2*time.Second {
		t.Errorf("%s slowed block production: mean interval %v before, %v during", what, before, during)
	}
}

// checkLatency fails the test if the agency that is not abusing anything
// was starved during the abuse: the bound catches a caller held up for
// seconds, not a slowdown (two shared cores, maybe busy with other work,
// run the attack and the node); the figures are logged.
func checkLatency(t *testing.T, what string, base, l *latencies) {
	t.Helper()
	if p99, bound := l.pct(99), max(5*time.Second, 20*base.pct(99)); p99 > bound {
		t.Errorf("%s: the agency connected before waited up to %v (p99), %v before the abuse", what, p99, base.pct(99))
	}
}

// TestAbuseRateLimit floods the gateway with reads as one agency, over four
// connections at once: its identity's token bucket holds (what it gets
// through is at most rate_burst plus rate_per_second per second, the rest
// is ResourceExhausted naming the limit), while a second agency, reading
// and anchoring at its own pace, is never refused and keeps its latency.
func TestAbuseRateLimit(t *testing.T) {
	const rps, burst = 50, 50
	flood, workers := 3*time.Second, 16
	if heavyAbuse() {
		flood, workers = 15*time.Second, 64
	}
	n := apptest.Start(t, apptest.Options{
		TimeoutCommit: 100 * time.Millisecond,
		Agencies:      []app.AgencySpec{{ID: quietAgency, Name: "Agencia Tranquila", Permissions: apptest.AllPermissions}},
		Gateway: func(g *app.GatewayConfig) {
			g.RatePerSecond, g.RateBurst = rps, burst
		},
	})
	quietDir := n.Network.Agencies[quietAgency]
	quiet := n.Client(t, quietDir)
	quietID := n.Identity(t, quietDir)
	floodPub := n.Identity(t, n.Agency).Public()
	var floodConns []gatewayv1.GatewayClient
	for i := 0; i < 4; i++ {
		floodConns = append(floodConns, n.Client(t, n.Agency))
	}

	// The quiet agency alone: reads every 50 ms (20/s, under its limit).
	var qerrs atomic.Int64
	base := &latencies{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		quietClient(t, quiet, quietID.Public(), 50*time.Millisecond, stop, base, &qerrs)
	}()
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	<-done

	// The flood, with the quiet agency reading and anchoring meanwhile.
	during := &latencies{}
	submits := &latencies{}
	stop, done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		quietClient(t, quiet, quietID.Public(), 50*time.Millisecond, stop, during, &qerrs)
	}()
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		s := &signer{id: quietID}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			t0 := time.Now()
			_, err := quiet.Submit(ctx, &notaryv1.SubmitRequest{Tx: s.sign(anchorBody(quietAgency, 0, digestsOf(fmt.Sprintf("quiet/%d", i), 4)))})
			cancel()
			if err != nil {
				qerrs.Add(1)
				t.Errorf("the quiet agency's anchoring was refused: %v", err)
				return
			}
			submits.add(time.Since(t0))
		}
	}()
	var ok, limited, other atomic.Int64
	var otherErr atomic.Value
	start := time.Now()
	deadline := start.Add(flood)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gw := floodConns[w%len(floodConns)]
			for time.Now().Before(deadline) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: floodPub})
				cancel()
				switch {
				case err == nil:
					ok.Add(1)
				case status.Code(err) == codes.ResourceExhausted && strings.Contains(status.Convert(err).Message(), "rate_per_second"):
					limited.Add(1)
					if msg := status.Convert(err).Message(); !strings.Contains(msg, `exceeded for agency "`+apptest.AgencyID+`"; retry in `) {
						other.Add(1)
						otherErr.Store(fmt.Errorf("the refusal does not name the agency: %q", msg))
					}
				default:
					other.Add(1)
					otherErr.Store(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-done
	<-subDone

	allowed := float64(burst) + rps*elapsed.Seconds()
	t.Logf("flooding agency: %d requests in %v (%.0f/s): %d served, %d refused by the rate limit (allowed at most %.0f)",
		ok.Load()+limited.Load()+other.Load(), elapsed.Round(time.Millisecond),
		float64(ok.Load()+limited.Load()+other.Load())/elapsed.Seconds(), ok.Load(), limited.Load(), allowed)
	t.Logf("quiet agency reads: alone %v; during the flood %v; its anchorings during the flood (commit wait included) %v",
		base, during, submits)
	if other.Load() > 0 {
		t.Fatalf("%d flood requests failed otherwise than by the rate limit, e.g. %v", other.Load(), otherErr.Load())
	}
	if limited.Load() == 0 {
		t.Fatal("the flood was never rate limited")
	}
	if float64(ok.Load()) > allowed*1.1+5 {
		t.Fatalf("the flooding agency got %d requests through in %v; the limit allows %.0f", ok.Load(), elapsed, allowed)
	}
	if qerrs.Load() > 0 {
		t.Fatalf("the quiet agency was refused %d times", qerrs.Load())
	}
	if len(submits.d) == 0 {
		t.Fatal("the quiet agency anchored nothing during the flood")
	}
	// Starvation, not a slowdown, fails the test (the machine may be busy).
	t.Logf("the quiet agency's read p99: %v before the flood, %v during", base.pct(99), during.pct(99))
	if p99 := during.pct(99); p99 > 5*time.Second && p99 > 20*base.pct(99) {
		t.Fatalf("the quiet agency's read p99 went from %v to %v during the flood", base.pct(99), p99)
	}
}

// raiseFileLimit raises the soft limit on open files to the hard limit and
// returns the soft limit in force.
func raiseFileLimit(t *testing.T) uint64 {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			rl = want
		} else {
			t.Logf("setrlimit: %v (keeping %d)", err, rl.Cur)
		}
	}
	return rl.Cur
}

// dialIdle opens up to n plain TCP connections to addr that never send a
// byte, perAddr of them from each loopback address hostileAddr(first),
// hostileAddr(first+1), ..., with a few dialers at once, and returns them.
func dialIdle(addr string, n, perAddr, first int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: hostileAddr(first + i/perAddr)}, Timeout: 10 * time.Second}
				c, err := d.Dial("tcp", addr)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	var out []net.Conn
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	if e, _ := firstErr.Load().(error); e != nil && len(out) < n {
		return out, e
	}
	return out, nil
}

// closedByGateway counts the connections of conns the gateway closed by
// deadline.
func closedByGateway(conns []net.Conn, deadline time.Time) int {
	var closed atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(deadline)
			if _, err := c.Read(make([]byte, 1)); err != nil && !os.IsTimeout(err) {
				closed.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(closed.Load())
}

// TestAbuseConnections holds a thousand idle TCP connections on the
// gateway, from 125 loopback addresses (10,000 from 1,250 with
// NOTARY_ABUSE_HEAVY, as far as the file descriptor limit allows), against
// max_unauthenticated_connections of 200 (the default with
// NOTARY_ABUSE_HEAVY), and 40 from a single address, then floods it with
// streams (more than max_concurrent_streams per connection, each sending
// garbage at 100 messages per second). Throughout: the gateway holds at most
// max_connections_per_address connections of one address and
// max_unauthenticated_connections in all, closing the oldest to admit new
// ones; new clients, an agency and a caller without a certificate, get in
// at once; an agency connected before keeps being served; blocks keep their
// interval; the idle connections are gone after the handshake deadline.
// Stream messages beyond the agency's rate limit are answered
// ResourceExhausted on the stream.
func TestAbuseConnections(t *testing.T) {
	idle, maxUnauth := 1000, 200
	streamFlood := 2 * time.Second
	if heavyAbuse() {
		idle, maxUnauth, streamFlood = 10_000, app.DefaultAppConfig().Gateway.MaxUnauthenticatedConnections, 10*time.Second
	}
	const perAddr, oneAddr = 8, 40
	defaults := app.DefaultAppConfig().Gateway
	// The client ends of every connection are in this process.
	if limit := raiseFileLimit(t); uint64(idle+oneAddr+maxUnauth+2000) > limit {
		idle = int(limit) - oneAddr - maxUnauth - 2000
		t.Logf("open files limited to %d: %d idle connections", limit, idle)
	}
	const rps, burst = 200, 200
	n := apptest.Start(t, apptest.Options{
		TimeoutCommit: 100 * time.Millisecond,
		Agencies:      []app.AgencySpec{{ID: quietAgency, Name: "Agencia Tranquila", Permissions: apptest.AllPermissions}},
		Gateway: func(g *app.GatewayConfig) {
			g.MaxUnauthenticatedConnections = maxUnauth
			g.RatePerSecond, g.RateBurst = rps, burst
		},
	})
	quietDir := n.Network.Agencies[quietAgency]
	quiet := n.Client(t, quietDir)
	quietPub := n.Identity(t, quietDir).Public()
	if _, err := quiet.GetStatus(ctxT(t), &notaryv1.GetStatusRequest{}); err != nil {
		t.Fatal(err)
	}
	// Blocks and the quiet agency's reads before any abuse.
	var qerrs atomic.Int64
	base := &latencies{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); quietClient(t, quiet, quietPub, 20*time.Millisecond, stop, base, &qerrs) }()
	h0 := n.Height()
	time.Sleep(1500 * time.Millisecond)
	h1 := n.Height()
	close(stop)
	<-done
	before := meanBlockInterval(t, n, h0, h1)

	// Idle connections: first from one address, then from many.
	lat := &latencies{}
	stop, done = make(chan struct{}), make(chan struct{})
	go func() { defer close(done); quietClient(t, quiet, quietPub, 20*time.Millisecond, stop, lat, &qerrs) }()
	t0 := time.Now()
	single, err := dialIdle(n.Addr, oneAddr, oneAddr, 0)
	t.Cleanup(func() {
		for _, c := range single {
			_ = c.Close()
		}
	})
	if err != nil {
		t.Fatalf("%d connections from one address: %v", len(single), err)
	}
	if closed := closedByGateway(single, time.Now().Add(time.Second)); closed != oneAddr-defaults.MaxConnectionsPerAddress {
		t.Fatalf("%d of %d connections from one address closed, want %d (max_connections_per_address %d)",
			closed, oneAddr, oneAddr-defaults.MaxConnectionsPerAddress, defaults.MaxConnectionsPerAddress)
	}
	conns, err := dialIdle(n.Addr, idle, perAddr, 1)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	if err != nil {
		t.Logf("dialing stopped at %d connections: %v", len(conns), err)
	}
	if len(conns) < maxUnauth {
		t.Fatalf("only %d idle connections opened: %v", len(conns), err)
	}
	opened := time.Since(t0)
	h2 := n.Height()
	held := n.Gateway.Connections()
	if held.Unauthenticated > maxUnauth {
		t.Fatalf("%d unauthenticated connections held, over max_unauthenticated_connections %d", held.Unauthenticated, maxUnauth)
	}
	// New clients get in at once: an agency, and a caller without a
	// certificate (which evicts the oldest idle connection).
	for _, who := range []struct{ name, dir string }{{"a new agency connection", n.Agency}, {"a new connection without a certificate", ""}} {
		cc := n.Dial(t, who.dir)
		_, err := gatewayv1.NewGatewayClient(cc).GetStatus(ctxT(t), &notaryv1.GetStatusRequest{})
		_ = cc.Close()
		if err != nil {
			t.Fatalf("%s with %d idle ones open: %v", who.name, len(conns), err)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	h3 := n.Height()
	close(stop)
	<-done
	if qerrs.Load() > 0 {
		t.Fatalf("the agency connected before was refused %d times", qerrs.Load())
	}
	t.Logf("%d idle connections opened in %v (%d from one address, %d from %d others) against max_unauthenticated_connections %d: %d unauthenticated held, %d authenticated; new clients got in; the agency connected before: %v, before the abuse %v",
		len(single)+len(conns), opened.Round(time.Millisecond), len(single), len(conns), (len(conns)+perAddr-1)/perAddr, maxUnauth,
		held.Unauthenticated, held.Authenticated, lat, base)
	checkBlocks(t, "idle connections", before, meanBlockInterval(t, n, h2, h3))
	checkLatency(t, "idle connections", base, lat)
	// Connections that never start their handshake are closed once
	// tls_handshake_timeout passes.
	if closed := closedByGateway(conns, time.Now().Add(defaults.TLSHandshakeTimeout.Duration+5*time.Second)); closed != len(conns) {
		t.Fatalf("%d of %d idle connections still open after the handshake deadline", len(conns)-closed, len(conns))
	}
	for deadline := time.Now().Add(5 * time.Second); n.Gateway.Connections().Unauthenticated > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d unauthenticated connections left after the handshake deadline", n.Gateway.Connections().Unauthenticated)
		}
	}
	for _, c := range append(single, conns...) {
		_ = c.Close()
	}
	single, conns = nil, nil
	// A stream flood as the dev agency: 4 connections with 100 streams
	// each (max_concurrent_streams is 64: the rest wait on the client),
	// each stream sending a garbage transaction every streamPace: 256
	// streams at 100 messages per second, 128 times the agency's rate
	// limit. (Unpaced senders in this process would only measure how two
	// cores share between attacker and node.)
	const streamPace = 10 * time.Millisecond
	lat2 := &latencies{}
	stop, done = make(chan struct{}), make(chan struct{})
	go func() { defer close(done); quietClient(t, quiet, quietPub, 20*time.Millisecond, stop, lat2, &qerrs) }()
	h4 := n.Height()
	var sent, rateRefused, invalid, streamRefused, other atomic.Int64
	var otherErr atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), streamFlood)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < 4; c++ {
		gw := gatewayv1.NewGatewayClient(n.Dial(t, n.Agency))
		for s := 0; s < 100; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := gw.SubmitStream(ctx)
				if err != nil {
					return // the flood's deadline passed while it waited for a slot
				}
				recvDone := make(chan struct{})
				go func() {
					defer close(recvDone)
					for {
						r, err := st.Recv()
						if err != nil {
							switch {
							case status.Code(err) == codes.ResourceExhausted:
								streamRefused.Add(1)
							case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), status.Code(err) == codes.Canceled, status.Code(err) == codes.DeadlineExceeded:
							default:
								other.Add(1)
								otherErr.Store(err)
							}
							return
						}
						switch codes.Code(r.GrpcCode) {
						case codes.ResourceExhausted:
							rateRefused.Add(1)
						case codes.InvalidArgument:
							invalid.Add(1)
						default:
							other.Add(1)
							otherErr.Store(fmt.Errorf("stream response %v: %s", codes.Code(r.GrpcCode), r.Log))
						}
					}
				}()
				tick := time.NewTicker(streamPace)
				defer tick.Stop()
				for ctx.Err() == nil {
					if err := st.Send(&notaryv1.SubmitRequest{Tx: []byte{0x0a, 0x01, 0x00}}); err != nil {
						break
					}
					sent.Add(1)
					select {
					case <-tick.C:
					case <-ctx.Done():
					}
				}
				<-recvDone
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	h5 := n.Height()
	close(stop)
	<-done
	allowed := float64(burst) + rps*elapsed.Seconds()
	t.Logf("stream flood for %v: %d messages sent; %d answered on the stream ResourceExhausted (rate), %d got through the limit (InvalidArgument), %d streams refused at open; allowed at most %.0f; the agency connected before: %v",
		elapsed.Round(time.Millisecond), sent.Load(), rateRefused.Load(), invalid.Load(), streamRefused.Load(), allowed, lat2)
	if other.Load() > 0 {
		t.Fatalf("%d unexpected answers in the stream flood, e.g. %v", other.Load(), otherErr.Load())
	}
	if rateRefused.Load()+streamRefused.Load() == 0 {
		t.Fatal("the stream flood was never rate limited")
	}
	if float64(invalid.Load()) > allowed*1.1+5 {
		t.Fatalf("%d stream messages got through the rate limit in %v; it allows %.0f", invalid.Load(), elapsed, allowed)
	}
	if qerrs.Load() > 0 {
		t.Fatalf("the quiet agency was refused %d times", qerrs.Load())
	}
	checkBlocks(t, "stream flood", before, meanBlockInterval(t, n, h4, h5))
	checkLatency(t, "stream flood", base, lat2)
	if n.HasPanic() {
		t.Fatalf("the node logged a panic:\n%s", n.Log())
	}
}
