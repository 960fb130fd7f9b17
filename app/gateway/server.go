package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/internal/ratelimit"
	"github.com/gobtechlab/notary/app/version"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// ReceiptBuilder answers GetReceipt and GetCheckpoint. The receipt package
// provides one (receipt.Builder); without one those methods are Unimplemented.
// Errors should wrap registered ledger errors, which are mapped like any other.
type ReceiptBuilder interface {
	GetReceipt(context.Context, *notaryv1.GetReceiptRequest) (*notaryv1.GetReceiptResponse, error)
	GetCheckpoint(context.Context, *notaryv1.GetCheckpointRequest) (*notaryv1.GetCheckpointResponse, error)
}

// Options are what a node's configuration does not say.
type Options struct {
	// Receipts builds the receipt builder for the node; nil leaves GetReceipt
	// and GetCheckpoint Unimplemented.
	Receipts func(n *app.Node) (ReceiptBuilder, error)
	// Version is reported by GetStatus; empty: the module version of the binary.
	Version string
}

// Factory builds the gateway of a node from its configuration
// (app.toml [gateway]), with receipts (Receipts); an empty listen address
// disables it.
func Factory(n *app.Node) (app.Service, error) { return NewFactory(Options{Receipts: Receipts})(n) }

// NewFactory returns a factory of gateways with opts.
func NewFactory(opts Options) app.ServiceFactory {
	return func(n *app.Node) (app.Service, error) {
		s, err := New(n, opts)
		if err != nil || s == nil {
			return nil, err
		}
		return s, nil
	}
}

// Server is the gateway of one node.
type Server struct {
	gatewayv1.UnimplementedGatewayServer

	node     *app.Node
	app      *abci.Application
	cfg      app.GatewayConfig
	chainID  string
	version  string
	log      cmtlog.Logger
	m        *metrics
	receipts ReceiptBuilder

	chain app.Chain

	grpc    *grpc.Server
	health  *health.Server
	pool    atomic.Pointer[connPool] // the listener, once started
	http    *httpGateway             // the HTTP/JSON routes; nil without http_listen_address
	limiter *rateLimiter
	citizen *citizenRate
	members members // committed records of callers, per height
	tracker *commitTracker
	codec   *decodeCodec
	batches *lru.Cache[batchRef, batchLeaves] // leaves of recently read batches

	checkTxCalls atomic.Int64
	refusals     atomic.Int64

	stopping context.Context // done once Stop begins
	stop     context.CancelFunc
	cancel   context.CancelFunc
	done     sync.WaitGroup
	stopOnce sync.Once
	addr     atomic.Value // string: the address actually listened on
	httpAddr atomic.Value // string: the address of the HTTP/JSON routes
}

type batchRef struct {
	height  int64
	txIndex uint32
}

// batchLeaves are the digests and code keys (nil for a plain batch) of an
// AnchorBatch transaction.
type batchLeaves struct {
	digests, codeKeys []byte
	coded             bool // the digests are coded entries (AnchorBatch.coded)
}

// New builds the gateway of n; it returns nil, nil if the configuration
// disables it. It listens only once started.
func New(n *app.Node, opts Options) (*Server, error) {
	cfg := n.Config.App.Gateway
	if cfg.ListenAddress == "" {
		return nil, nil
	}
	if err := n.Config.App.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	var (
		creds credentials.TransportCredentials
		tc    *tls.Config
	)
	if cfg.TLSCert != "" {
		var err error
		tc, err = serverTLS(n.Config.Path(cfg.TLSCert), n.Config.Path(cfg.TLSKey), n.Config.Path(cfg.ClientCA))
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(tc)
	} else {
		if !loopback(cfg.ListenAddress) {
			return nil, fmt.Errorf("gateway: listen_address %s is not a loopback address: set tls_cert and tls_key to serve it", cfg.ListenAddress)
		}
		if cfg.HTTPListenAddress != "" && !loopback(cfg.HTTPListenAddress) {
			return nil, fmt.Errorf("gateway: http_listen_address %s is not a loopback address: set tls_cert and tls_key to serve it", cfg.HTTPListenAddress)
		}
		creds = insecure.NewCredentials()
	}
	batches, err := lru.New[batchRef, batchLeaves](64)
	if err != nil {
		return nil, err
	}
	remember := 2 * n.Config.Comet.Mempool.CacheSize
	if remember < 10_000 {
		remember = 10_000
	}
	m := gatewayMetrics()
	limiter, err := newRateLimiter(cfg.RatePerSecond, cfg.RateBurst, cfg.RateTableSize, m.rateEvictions.Inc)
	if err != nil {
		return nil, err
	}
	s := &Server{
		node:    n,
		app:     n.App,
		cfg:     cfg,
		chainID: n.Chain().ChainID(),
		version: opts.Version,
		log:     n.Logger.With("module", "gateway"),
		m:       m,
		chain:   n.Chain(),
		health:  health.NewServer(),
		limiter: limiter,
		citizen: newCitizenRate(cfg.CitizenTxRatePerSecond, cfg.CitizenTxBurst),
		tracker: newCommitTracker(remember),
		codec:   newDecodeCodec(),
		batches: batches,
	}
	s.stopping, s.stop = context.WithCancel(context.Background())
	if s.version == "" {
		s.version = buildVersion()
	}
	if opts.Receipts != nil {
		rb, err := opts.Receipts(n)
		if err != nil {
			return nil, fmt.Errorf("gateway: receipts: %w", err)
		}
		s.receipts = rb
	}
	s.grpc = grpc.NewServer(
		grpc.Creds(&handshakeCreds{TransportCredentials: creds, timeout: cfg.TLSHandshakeTimeout.Duration, onHandshake: s.authenticate, m: m}),
		grpc.StatsHandler(connStats{pool: s.pool.Load}),
		grpc.ForceServerCodecV2(s.codec),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.MaxSendMsgSize(cfg.MaxSendMsgBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.ConnectionTimeout(2*cfg.TLSHandshakeTimeout.Duration),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             cfg.KeepaliveMinTime.Duration,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: cfg.IdleTimeout.Duration,
			Time:              2 * time.Minute,
			Timeout:           20 * time.Second,
		}),
		grpc.ChainUnaryInterceptor(s.recoverUnary, s.metricsUnary, s.limitUnary),
		grpc.ChainStreamInterceptor(s.recoverStream, s.metricsStream, s.limitStream),
	)
	gatewayv1.RegisterGatewayServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	if cfg.HTTPListenAddress != "" {
		var htc *tls.Config
		if tc != nil {
			htc = tc.Clone()
			htc.NextProtos = []string{"h2", "http/1.1"}
		}
		if s.http, err = newHTTPGateway(s, htc); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func buildVersion() string { return version.Get().String() }

// Start listens and serves; it follows committed blocks for Submit.
func (s *Server) Start() error {
	l, err := net.Listen("tcp", s.cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", s.cfg.ListenAddress, err)
	}
	s.addr.Store(l.Addr().String())
	pool := newConnPool(l, s.cfg.MaxConnections, s.cfg.MaxUnauthenticatedConnections, s.cfg.MaxConnectionsPerAddress,
		s.cfg.UnauthenticatedIdleTimeout.Duration, s.m)
	s.pool.Store(pool)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	d := &dispatcher{
		chain:   s.chain,
		tracker: s.tracker,
		log:     s.log,
		committed: func() int64 {
			h, _, _ := s.app.LastCommit()
			return h
		},
	}
	if s.http != nil {
		hl, err := net.Listen("tcp", s.cfg.HTTPListenAddress)
		if err != nil {
			_ = l.Close()
			cancel()
			return fmt.Errorf("gateway: listen on %s: %w", s.cfg.HTTPListenAddress, err)
		}
		s.httpAddr.Store(hl.Addr().String())
		hpool := newConnPool(hl, s.cfg.MaxConnections, s.cfg.MaxUnauthenticatedConnections, s.cfg.MaxConnectionsPerAddress,
			s.cfg.UnauthenticatedIdleTimeout.Duration, s.m)
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			if err := s.http.serve(hpool); err != nil {
				s.log.Error("gateway: serve HTTP", "err", err)
			}
		}()
		s.log.Info("gateway: serving HTTP/JSON", "addr", hl.Addr().String(), "tls", s.cfg.TLSCert != "")
	}
	s.done.Add(2)
	go func() { defer s.done.Done(); d.run(ctx) }()
	go func() {
		defer s.done.Done()
		if err := s.grpc.Serve(pool); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("gateway: serve", "err", err)
		}
	}()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(gatewayv1.Gateway_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	s.log.Info("gateway: serving", "addr", l.Addr().String(), "tls", s.cfg.TLSCert != "")
	return nil
}

// Stop answers every waiting submission with Unavailable, stops serving
// (in-flight calls get a few seconds to finish) and stops following blocks.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.health.Shutdown()
		s.stop()
		s.tracker.close(status.Error(codes.Unavailable, "the node is stopping; the transaction may still be committed: look it up or resubmit the same bytes"))
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.http.srv.Shutdown(ctx); err != nil {
				_ = s.http.srv.Close()
			}
			cancel()
		}
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			s.grpc.Stop()
			<-stopped
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.done.Wait()
	})
	return nil
}

// Addr is the address the gateway listens on (once started).
func (s *Server) Addr() string {
	a, _ := s.addr.Load().(string)
	return a
}

// HTTPAddr is the address of the HTTP/JSON routes (once started); empty
// without http_listen_address.
func (s *Server) HTTPAddr() string {
	a, _ := s.httpAddr.Load().(string)
	return a
}

// CheckTxCalls is the number of transactions handed to the mempool since
// start. Tests use it to show that refused writes never reach CheckTx.
func (s *Server) CheckTxCalls() int64 { return s.checkTxCalls.Load() }

// Refusals is the number of requests refused by the gateway's own checks
// (limits and authorisation) since start.
func (s *Server) Refusals() int64 { return s.refusals.Load() }

// ConnectionCounts are the connections a gateway holds open.
type ConnectionCounts struct {
	// Authenticated connections are those of members the chain lists and
	// of promoted citizens (within max_connections).
	Authenticated int
	// Unauthenticated are the others (within
	// max_unauthenticated_connections).
	Unauthenticated int
}

// Connections returns the connections open now.
func (s *Server) Connections() ConnectionCounts {
	p := s.pool.Load()
	if p == nil {
		return ConnectionCounts{}
	}
	a, u := p.counts()
	return ConnectionCounts{Authenticated: a, Unauthenticated: u}
}

// authenticate runs after a connection's TLS handshake: a connection whose
// verified client certificate names a member the chain lists is rate
// limited as that member and promoted to the authenticated pool.
func (s *Server) authenticate(pc *poolConn, info credentials.AuthInfo) {
	role, id := certIdentity(info)
	if role == "" || !s.listed(role, id) {
		return
	}
	pc.setMember(rateKey{role: role, id: id})
	if !pc.pool.promote(pc) {
		s.log.Debug("gateway: max_connections reached: a member's connection stays unauthenticated", "member", role+"/"+id)
	}
}

// listed reports whether the latest committed state lists role/id as an
// active member: an active agency or ministry.
func (s *Server) listed(role, id string) bool {
	if role != "agency" && role != "ministry" {
		return false
	}
	m, err := s.member(role, id)
	if err != nil {
		s.log.Error("gateway: read a member's record", "member", role+"/"+id, "err", err)
		return false
	}
	return m.found && m.active
}

// promoteConn moves the connection a request came on to the authenticated
// pool (within max_connections): the request carried a signature of a
// registered citizen. The connection is then no longer subject to the
// limits of unauthenticated connections; its requests are still rate
// limited by address.
func (s *Server) promoteConn(ctx context.Context) {
	if pc := connFrom(ctx); pc != nil {
		pc.pool.promote(pc)
	}
}

func (s *Server) refuse(reason string, err error) error {
	s.refusals.Add(1)
	s.m.refused.WithLabelValues(reason).Inc()
	return err
}

// methodName shortens "/notary.v1.Gateway/Submit" to "Submit".
func methodName(full string) string {
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// Interceptors, outermost first: recovery, metrics, limits (which also
// answer requests that do not decode, once counted and rate limited).

func (s *Server) recovered(method string, r any) error {
	s.log.Error("gateway: handler panic recovered", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, internalMessage)
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, s.recovered(info.FullMethod, r)
		}
	}()
	return h(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(info.FullMethod, r)
		}
	}()
	return h(srv, ss)
}

// observe counts a call and its latency by method and code (Internal for a
// panic, which it passes on). The metrics interceptors defer it directly, so
// that its recover sees the handler's panic.
func (s *Server) observe(method string, start time.Time, err *error) {
	r := recover()
	code := status.Code(*err)
	if r != nil {
		code = codes.Internal
	}
	name := methodName(method)
	s.m.requests.WithLabelValues(name, code.String()).Inc()
	s.m.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if r != nil {
		panic(r)
	}
}

func (s *Server) metricsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer s.observe(info.FullMethod, time.Now(), &err)
	return h(ctx, req)
}

func (s *Server) metricsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer s.observe(info.FullMethod, time.Now(), &err)
	return h(srv, ss)
}

// admit applies the rate limit to a call.
func (s *Server) admit(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	return s.allowRate(ctx)
}

// allowRate takes a token from the bucket of the caller of ctx: the listed
// member its connection authenticated, or else its address. The refusal
// names the limit, the caller and when to retry.
func (s *Server) allowRate(ctx context.Context) error {
	if s.limiter == nil {
		return nil
	}
	k := rateKeyOf(ctx)
	ok, retry := s.limiter.allow(k)
	if ok {
		return nil
	}
	retry = (retry + time.Millisecond - 1).Truncate(time.Millisecond)
	return s.refuse("rate", status.Errorf(codes.ResourceExhausted,
		"gateway limit rate_per_second (%g requests/s, rate_burst %d) exceeded for %s; retry in %v",
		s.cfg.RatePerSecond, s.cfg.RateBurst, k.describe(), retry))
}

// rateKeyOf is what the caller of ctx is rate limited under.
func rateKeyOf(ctx context.Context) rateKey {
	if pc := connFrom(ctx); pc != nil {
		return pc.rateKey()
	}
	if p, ok := peer.FromContext(ctx); ok {
		return rateKey{prefix: ratelimit.AddrPrefix(p.Addr)}
	}
	return rateKey{}
}

func (s *Server) limitUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	bad := decodeError(req)
	if err := s.admit(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	if err := s.checkMember(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, s.refuse("malformed", malformed(req, bad))
	}
	resp, err := h(ctx, req)
	return resp, toStatus(s.log, info.FullMethod, err)
}

func (s *Server) limitStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.admit(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	// A stream is not refused when it opens: each of its messages is
	// checked (precheck), and a refusal comes in its response, which the
	// stream's clients report rather than reconnect on.
	return toStatus(s.log, info.FullMethod, h(srv, &checkedStream{ServerStream: ss}))
}
