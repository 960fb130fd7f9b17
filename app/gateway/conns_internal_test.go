package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/gobtechlab/notary/app/internal/pki"
)

// poolHarness is a connPool on a loopback listener, its accepted
// connections delivered in order.
type poolHarness struct {
	pool     *connPool
	accepted chan *poolConn
}

func newPoolHarness(t *testing.T, maxAuth, maxUnauth, maxPerAddr int, idle time.Duration) *poolHarness {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &poolHarness{pool: newConnPool(l, maxAuth, maxUnauth, maxPerAddr, idle, gatewayMetrics()), accepted: make(chan *poolConn, 64)}
	go func() {
		for {
			c, err := h.pool.Accept()
			if err != nil {
				close(h.accepted)
				return
			}
			h.accepted <- c.(*poolConn)
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	return h
}

// dial connects from src; with wantAccepted, it returns the gateway's side
// of the connection too.
func (h *poolHarness) dial(t *testing.T, src string, wantAccepted bool) (net.Conn, *poolConn) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", h.pool.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if !wantAccepted {
		return c, nil
	}
	select {
	case pc := <-h.accepted:
		if pc.RemoteAddr().String() != c.LocalAddr().String() {
			t.Fatalf("accepted %v, want %v", pc.RemoteAddr(), c.LocalAddr())
		}
		return c, pc
	case <-time.After(10 * time.Second):
		t.Fatalf("connection from %s not accepted", src)
		return nil, nil
	}
}

// closedWithin reports whether the gateway closed c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func (h *poolHarness) wantCounts(t *testing.T, auth, unauth int) {
	t.Helper()
	if a, u := h.pool.counts(); a != auth || u != unauth {
		t.Fatalf("counts: %d authenticated, %d unauthenticated; want %d, %d", a, u, auth, unauth)
	}
}

// TestConnPoolPerAddress: connections over max_connections_per_address are
// closed at once; other addresses are not affected; a promoted connection
// no longer counts against its address.
func TestConnPoolPerAddress(t *testing.T) {
	h := newPoolHarness(t, 10, 10, 3, time.Minute)
	var first *poolConn
	for i := 0; i < 3; i++ {
		_, pc := h.dial(t, "127.20.0.1", true)
		if first == nil {
			first = pc
		}
	}
	for i := 0; i < 2; i++ {
		c, _ := h.dial(t, "127.20.0.1", false)
		if !closedWithin(c, 5*time.Second) {
			t.Fatalf("connection %d over the address's limit stayed open", 4+i)
		}
	}
	h.dial(t, "127.20.0.2", true)
	h.wantCounts(t, 0, 4)
	if !h.pool.promote(first) {
		t.Fatal("promotion refused")
	}
	h.wantCounts(t, 1, 3)
	c, _ := h.dial(t, "127.20.0.1", true)
	if closedWithin(c, 100*time.Millisecond) {
		t.Fatal("a connection under the address's limit was closed")
	}
}

// TestConnPoolEvictsOldest: when the unauthenticated pool is full, a new
// connection is admitted and the oldest unauthenticated one is closed;
// authenticated connections are never evicted, and the authenticated pool
// takes at most max_connections.
func TestConnPoolEvictsOldest(t *testing.T) {
	h := newPoolHarness(t, 1, 3, 16, time.Minute)
	var clients []net.Conn
	var server []*poolConn
	for i := 0; i < 3; i++ {
		c, pc := h.dial(t, "127.21.0."+string(rune('1'+i)), true)
		clients, server = append(clients, c), append(server, pc)
	}
	if !h.pool.promote(server[0]) {
		t.Fatal("promotion refused")
	}
	if h.pool.promote(server[1]) {
		t.Fatal("promoted past max_connections")
	}
	h.wantCounts(t, 1, 2)
	for i := 3; i < 6; i++ {
		c, pc := h.dial(t, "127.21.0."+string(rune('1'+i)), true)
		clients, server = append(clients, c), append(server, pc)
	}
	h.wantCounts(t, 1, 3)
	for i, c := range clients {
		evicted := i == 1 || i == 2
		if got := closedWithin(c, 300*time.Millisecond); got != evicted {
			t.Errorf("connection %d: closed %v, want %v", i, got, evicted)
		}
	}
	// A closed connection leaves the counts once, however often it is closed.
	_ = server[0].Close()
	_ = server[0].Close()
	_ = server[5].Close()
	h.wantCounts(t, 0, 2)
	if len(h.pool.byRemote) != 2 || len(h.pool.perAddr) != 2 {
		t.Fatalf("tables not released: %d connections, %d addresses", len(h.pool.byRemote), len(h.pool.perAddr))
	}
}

// TestConnPoolIdle: an unauthenticated connection is closed once it has had
// no request in progress for the idle timeout; one with a request in
// progress, or authenticated, is not.
func TestConnPoolIdle(t *testing.T) {
	const idle = 150 * time.Millisecond
	h := newPoolHarness(t, 10, 10, 16, idle)
	quiet, _ := h.dial(t, "127.22.0.1", true)
	busy, busyPC := h.dial(t, "127.22.0.2", true)
	member, memberPC := h.dial(t, "127.22.0.3", true)
	busyPC.begin()
	(&Server{}).promoteConn(context.WithValue(context.Background(), connKey{}, memberPC))
	if !closedWithin(quiet, 5*time.Second) {
		t.Fatal("an idle unauthenticated connection stayed open")
	}
	if closedWithin(busy, 3*idle) || closedWithin(member, idle) {
		t.Fatal("a connection with a request in progress, or a promoted one, was closed as idle")
	}
	busyPC.end()
	if !closedWithin(busy, 5*time.Second) {
		t.Fatal("an unauthenticated connection stayed open after its request")
	}
	h.wantCounts(t, 1, 0)
}

// TestHandshakeDeadline: a TLS handshake that does not complete within the
// timeout fails; one that does completes, and its connection and client
// certificate are handed on.
func TestHandshakeDeadline(t *testing.T) {
	ca, err := pki.NewCA("test CA", time.Now().Add(-time.Hour), time.Hour*24)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.IssueServer("node", []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Hour*24)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := ca.IssueClient("agency", "an-agency", time.Now().Add(-time.Hour), time.Hour*24)
	if err != nil {
		t.Fatal(err)
	}
	srvCert, err := srv.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cliCert, err := cli.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	serverCfg := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, NextProtos: []string{"h2"}}
	clientCfg := &tls.Config{Certificates: []tls.Certificate{cliCert}, RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}}

	const timeout = 200 * time.Millisecond
	h := newPoolHarness(t, 10, 10, 16, time.Minute)
	type handed struct {
		pc         *poolConn
		role, id   string
		handshaked bool
	}
	got := make(chan handed, 1)
	creds := &handshakeCreds{TransportCredentials: credentials.NewTLS(serverCfg), timeout: timeout, m: gatewayMetrics(),
		onHandshake: func(pc *poolConn, info credentials.AuthInfo) {
			role, id := certIdentity(info)
			got <- handed{pc: pc, role: role, id: id, handshaked: true}
		}}

	// A half-open connection: a TLS record header, then nothing.
	c, pc := h.dial(t, "127.23.0.1", true)
	if _, err := c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	_, _, err = creds.ServerHandshake(pc)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("half-open handshake: %v, want a deadline error", err)
	}
	if d := time.Since(t0); d < timeout || d > timeout+2*time.Second {
		t.Fatalf("half-open handshake failed after %v, want about %v", d, timeout)
	}

	// A complete handshake with a client certificate.
	c, pc = h.dial(t, "127.23.0.2", true)
	go func() {
		tc := tls.Client(c, clientCfg)
		_ = tc.Handshake()
		_, _ = io.Copy(io.Discard, tc)
	}()
	conn, _, err := creds.ServerHandshake(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	r := <-got
	if r.pc != pc || r.role != "agency" || r.id != "an-agency" {
		t.Fatalf("handed on %+v", r)
	}
}

// TestRateLimiter: the address table never refuses for being full (the
// least recently used address is evicted and starts afresh); members'
// buckets are untouched by address traffic; a refusal says when to retry.
func TestRateLimiter(t *testing.T) {
	member := rateKey{role: "agency", id: "a"}
	addr := func(s string) rateKey { return rateKey{prefix: s} }
	type call struct {
		key       rateKey
		want      bool
		retryOver time.Duration // if refused, the retry is over this
	}
	cases := []struct {
		name       string
		perSecond  float64
		burst      int
		table      int
		calls      []call
		wantEvicts int
	}{
		{name: "a full table evicts, never refuses", perSecond: 1, burst: 1, table: 2,
			calls:      []call{{addr("1"), true, 0}, {addr("2"), true, 0}, {addr("3"), true, 0}, {addr("4"), true, 0}, {addr("4"), false, 500 * time.Millisecond}},
			wantEvicts: 2},
		{name: "an evicted address starts with a full bucket", perSecond: 1, burst: 1, table: 1,
			calls:      []call{{addr("1"), true, 0}, {addr("1"), false, 0}, {addr("2"), true, 0}, {addr("1"), true, 0}},
			wantEvicts: 2},
		{name: "members are not in the address table", perSecond: 1, burst: 2, table: 1,
			calls: []call{{member, true, 0}, {member, true, 0}, {member, false, 500 * time.Millisecond},
				{addr("1"), true, 0}, {addr("2"), true, 0}, {addr("3"), true, 0}, {member, false, 0}},
			wantEvicts: 2},
		{name: "retry", perSecond: 10, burst: 1, table: 4,
			calls: []call{{addr("1"), true, 0}, {addr("1"), false, 50 * time.Millisecond}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evicts := 0
			r, err := newRateLimiter(tc.perSecond, tc.burst, tc.table, func() { evicts++ })
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tc.calls {
				ok, retry := r.allow(c.key)
				if ok != c.want {
					t.Fatalf("call %d (%+v): allowed %v, want %v", i, c.key, ok, c.want)
				}
				if !ok && (retry <= c.retryOver || retry > time.Second) {
					t.Fatalf("call %d: retry in %v, want over %v and at most 1s", i, retry, c.retryOver)
				}
			}
			if evicts != tc.wantEvicts {
				t.Fatalf("%d evictions, want %d", evicts, tc.wantEvicts)
			}
		})
	}
	var none *rateLimiter
	if ok, _ := none.allow(member); !ok {
		t.Fatal("no limiter refused")
	}
	if r, err := newRateLimiter(0, 0, 0, nil); r != nil || err != nil {
		t.Fatalf("rate 0: %v, %v; want no limiter", r, err)
	}
}

func TestRateKeyDescribe(t *testing.T) {
	if got := (rateKey{prefix: "2001:db8::/64"}).describe(); got[:len("addresses 2001:db8::/64 (")] != "addresses 2001:db8::/64 (" {
		t.Errorf("describe: %q", got)
	}
}
