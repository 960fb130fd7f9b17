package gateway

import (
	"container/list"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/stats"

	"github.com/gobtechlab/notary/app/internal/ratelimit"
)

// Connection admission. Every connection the gateway accepts starts
// unauthenticated: it counts against max_unauthenticated_connections (all
// of them together) and max_connections_per_address (those of its address
// prefix, see ratelimit.AddrPrefix). A connection over the per-address limit
// is closed at once; when the unauthenticated pool is full, the oldest
// unauthenticated connection is closed to make room, so that a flood of
// connections churns itself and cannot keep a new one out. The TLS
// handshake, and then the HTTP/2 preface, must each complete within
// tls_handshake_timeout (handshakeCreds). A connection whose verified client
// certificate names a member the chain lists (an active agency or
// ministry), or that carried a request signed by a registered citizen
// (Server.promoteConn), is promoted: it leaves the unauthenticated pool and
// counts against max_connections, which only promoted connections use. An
// unauthenticated connection without a request in progress for
// unauthenticated_idle_timeout is closed (connStats sees requests begin and
// end).

// connPool is the gateway's listener: it admits connections as above and
// keeps the counts.
type connPool struct {
	net.Listener
	maxAuth, maxUnauth, maxPerAddr int
	idle                           time.Duration
	m                              *metrics

	mu       sync.Mutex
	unauth   list.List            // of *poolConn, oldest first
	perAddr  map[string]int       // unauthenticated connections by address prefix
	auth     int                  // promoted connections
	byRemote map[string]*poolConn // open connections by remote address
}

// Connection states.
const (
	connUnauth = iota
	connAuth
	connClosed
)

// Reasons a connection is closed by the gateway's limits (the metric's
// label).
const (
	closedPoolFull   = "unauthenticated_pool_full"
	closedPerAddress = "per_address_limit"
	closedIdle       = "unauthenticated_idle"
	closedHandshake  = "tls_handshake_timeout"
)

// poolConn is an admitted connection.
type poolConn struct {
	net.Conn
	pool   *connPool
	prefix string
	remote string

	// Guarded by pool.mu.
	state    int
	elem     *list.Element // in pool.unauth while unauthenticated
	member   rateKey       // the listed member its certificate names, if any
	active   int           // requests in progress
	idleAt   time.Time     // when it may be closed as idle
	idleTime *time.Timer

	closeOnce sync.Once
}

func newConnPool(l net.Listener, maxAuth, maxUnauth, maxPerAddr int, idle time.Duration, m *metrics) *connPool {
	return &connPool{Listener: l, maxAuth: maxAuth, maxUnauth: maxUnauth, maxPerAddr: maxPerAddr, idle: idle, m: m,
		perAddr: map[string]int{}, byRemote: map[string]*poolConn{}}
}

// Accept implements net.Listener: it returns the next connection admitted.
func (p *connPool) Accept() (net.Conn, error) {
	for {
		c, err := p.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if pc := p.admit(c); pc != nil {
			return pc, nil
		}
	}
}

// admit admits c, closing the oldest unauthenticated connection if the pool
// is full; it returns nil (and closes c) if c's address is over its limit.
func (p *connPool) admit(c net.Conn) *poolConn {
	prefix := ratelimit.AddrPrefix(c.RemoteAddr())
	p.mu.Lock()
	if p.perAddr[prefix] >= p.maxPerAddr {
		p.mu.Unlock()
		_ = c.Close()
		p.m.connsClosed.WithLabelValues(closedPerAddress).Inc()
		return nil
	}
	var victim *poolConn
	if p.unauth.Len() >= p.maxUnauth {
		victim = p.unauth.Front().Value.(*poolConn)
		p.releaseLocked(victim)
	}
	pc := &poolConn{Conn: c, pool: p, prefix: prefix, remote: c.RemoteAddr().String(), state: connUnauth}
	pc.elem = p.unauth.PushBack(pc)
	p.perAddr[prefix]++
	p.byRemote[pc.remote] = pc
	pc.idleAt = time.Now().Add(p.idle)
	pc.idleTime = time.AfterFunc(p.idle, pc.idleExpired)
	p.m.conns.WithLabelValues(poolUnauth).Inc()
	p.mu.Unlock()
	if victim != nil {
		_ = victim.Conn.Close()
		p.m.connsClosed.WithLabelValues(closedPoolFull).Inc()
	}
	return pc
}

// releaseLocked takes pc out of the counts (once).
func (p *connPool) releaseLocked(pc *poolConn) {
	switch pc.state {
	case connUnauth:
		p.unauth.Remove(pc.elem)
		pc.elem = nil
		if p.perAddr[pc.prefix]--; p.perAddr[pc.prefix] <= 0 {
			delete(p.perAddr, pc.prefix)
		}
		p.m.conns.WithLabelValues(poolUnauth).Dec()
	case connAuth:
		p.auth--
		p.m.conns.WithLabelValues(poolAuth).Dec()
	case connClosed:
		return
	}
	pc.state = connClosed
	pc.idleTime.Stop()
	if p.byRemote[pc.remote] == pc {
		delete(p.byRemote, pc.remote)
	}
}

// promote moves pc to the authenticated pool if there is room; it reports
// whether pc is authenticated.
func (p *connPool) promote(pc *poolConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case pc.state == connAuth:
		return true
	case pc.state != connUnauth || p.auth >= p.maxAuth:
		return false
	}
	p.unauth.Remove(pc.elem)
	pc.elem = nil
	if p.perAddr[pc.prefix]--; p.perAddr[pc.prefix] <= 0 {
		delete(p.perAddr, pc.prefix)
	}
	p.auth++
	pc.state = connAuth
	pc.idleTime.Stop()
	p.m.conns.WithLabelValues(poolUnauth).Dec()
	p.m.conns.WithLabelValues(poolAuth).Inc()
	return true
}

// counts returns the authenticated and unauthenticated connections open.
func (p *connPool) counts() (auth, unauth int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.auth, p.unauth.Len()
}

// lookup returns the open connection from remote address addr.
func (p *connPool) lookup(addr net.Addr) *poolConn {
	if addr == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byRemote[addr.String()]
}

// Close implements net.Conn.
func (pc *poolConn) Close() error {
	err := pc.Conn.Close()
	pc.closeOnce.Do(func() {
		pc.pool.mu.Lock()
		pc.pool.releaseLocked(pc)
		pc.pool.mu.Unlock()
	})
	return err
}

// setMember records the listed member pc's certificate names.
func (pc *poolConn) setMember(k rateKey) {
	pc.pool.mu.Lock()
	pc.member = k
	pc.pool.mu.Unlock()
}

// rateKey is what requests on pc are rate limited under.
func (pc *poolConn) rateKey() rateKey {
	pc.pool.mu.Lock()
	defer pc.pool.mu.Unlock()
	if pc.member.member() {
		return pc.member
	}
	return rateKey{prefix: pc.prefix}
}

// begin and end bracket a request on pc.
func (pc *poolConn) begin() {
	pc.pool.mu.Lock()
	pc.active++
	pc.pool.mu.Unlock()
}

func (pc *poolConn) end() {
	p := pc.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.active--; pc.active == 0 && pc.state == connUnauth {
		pc.idleAt = time.Now().Add(p.idle)
		pc.idleTime.Reset(p.idle)
	}
}

// idleExpired closes pc if it is still unauthenticated and has had no
// request in progress for the idle timeout.
func (pc *poolConn) idleExpired() {
	p := pc.pool
	p.mu.Lock()
	if pc.state != connUnauth || pc.active > 0 || time.Now().Before(pc.idleAt) {
		p.mu.Unlock()
		return
	}
	p.releaseLocked(pc)
	p.mu.Unlock()
	_ = pc.Conn.Close()
	p.m.connsClosed.WithLabelValues(closedIdle).Inc()
}

// handshakeCreds wraps the gateway's transport credentials: the handshake
// must complete within timeout, and the HTTP/2 preface that follows within
// timeout again (gRPC clears the deadline once the connection is set up).
// After the handshake, onHandshake sees the connection and what it
// authenticated.
type handshakeCreds struct {
	credentials.TransportCredentials
	timeout     time.Duration
	onHandshake func(*poolConn, credentials.AuthInfo)
	m           *metrics
}

// ServerHandshake implements credentials.TransportCredentials.
func (h *handshakeCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	_ = raw.SetDeadline(time.Now().Add(h.timeout))
	conn, info, err := h.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			h.m.connsClosed.WithLabelValues(closedHandshake).Inc()
		}
		return nil, nil, err
	}
	_ = raw.SetDeadline(time.Now().Add(h.timeout))
	if pc, ok := raw.(*poolConn); ok && h.onHandshake != nil {
		h.onHandshake(pc, info)
	}
	return conn, info, nil
}

// Clone implements credentials.TransportCredentials.
func (h *handshakeCreds) Clone() credentials.TransportCredentials {
	c := *h
	c.TransportCredentials = h.TransportCredentials.Clone()
	return &c
}

// connStats is a grpc stats.Handler that ties requests to their pooled
// connection: the connection is in the context of every request on it
// (connFrom), and a request in progress keeps it from being idle.
type connStats struct{ pool func() *connPool }

type connKey struct{}

type rpcKey struct{}

// rpcMark records that a request was counted as begun.
type rpcMark struct {
	pc    *poolConn
	begun atomic.Bool
}

// connFrom returns the pooled connection a request came on, if any.
func connFrom(ctx context.Context) *poolConn {
	pc, _ := ctx.Value(connKey{}).(*poolConn)
	return pc
}

// TagConn implements stats.Handler.
func (h connStats) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	p := h.pool()
	if p == nil {
		return ctx
	}
	if pc := p.lookup(info.RemoteAddr); pc != nil {
		return context.WithValue(ctx, connKey{}, pc)
	}
	return ctx
}

// HandleConn implements stats.Handler.
func (connStats) HandleConn(context.Context, stats.ConnStats) {}

// TagRPC implements stats.Handler.
func (connStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	if pc := connFrom(ctx); pc != nil {
		return context.WithValue(ctx, rpcKey{}, &rpcMark{pc: pc})
	}
	return ctx
}

// HandleRPC implements stats.Handler.
func (connStats) HandleRPC(ctx context.Context, s stats.RPCStats) {
	m, _ := ctx.Value(rpcKey{}).(*rpcMark)
	if m == nil {
		return
	}
	switch s.(type) {
	case *stats.Begin:
		if m.begun.CompareAndSwap(false, true) {
			m.pc.begin()
		}
	case *stats.End:
		if m.begun.CompareAndSwap(true, false) {
			m.pc.end()
		}
	}
}
