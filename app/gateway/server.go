package gateway

import (
	"context"
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
	lis     *limitListener
	limiter *rateLimiter
	tracker *commitTracker
	codec   *decodeCodec
	batches *lru.Cache[batchRef, []byte] // digests of recently read batches

	checkTxCalls atomic.Int64
	refusals     atomic.Int64

	stopping context.Context // done once Stop begins
	stop     context.CancelFunc
	cancel   context.CancelFunc
	done     sync.WaitGroup
	stopOnce sync.Once
	addr     atomic.Value // string: the address actually listened on
}

type batchRef struct {
	height  int64
	txIndex uint32
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
	var creds credentials.TransportCredentials
	if cfg.TLSCert != "" {
		tc, err := serverTLS(n.Config.Path(cfg.TLSCert), n.Config.Path(cfg.TLSKey), n.Config.Path(cfg.ClientCA))
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(tc)
	} else {
		if !loopback(cfg.ListenAddress) {
			return nil, fmt.Errorf("gateway: listen_address %s is not a loopback address: set tls_cert and tls_key to serve it", cfg.ListenAddress)
		}
		creds = insecure.NewCredentials()
	}
	batches, err := lru.New[batchRef, []byte](64)
	if err != nil {
		return nil, err
	}
	remember := 2 * n.Config.Comet.Mempool.CacheSize
	if remember < 10_000 {
		remember = 10_000
	}
	s := &Server{
		node:    n,
		app:     n.App,
		cfg:     cfg,
		chainID: n.Chain().ChainID(),
		version: opts.Version,
		log:     n.Logger.With("module", "gateway"),
		m:       gatewayMetrics(),
		chain:   n.Chain(),
		health:  health.NewServer(),
		limiter: newRateLimiter(cfg.RatePerSecond, cfg.RateBurst),
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
		grpc.Creds(creds),
		grpc.ForceServerCodecV2(s.codec),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.MaxSendMsgSize(cfg.MaxSendMsgBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.ConnectionTimeout(10*time.Second),
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
	s.lis = newLimitListener(l, s.cfg.MaxConnections, 2*time.Second)
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
	s.done.Add(2)
	go func() { defer s.done.Done(); d.run(ctx) }()
	go func() {
		defer s.done.Done()
		if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
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

// CheckTxCalls is the number of transactions handed to the mempool since
// start. Tests use it to show that refused writes never reach CheckTx.
func (s *Server) CheckTxCalls() int64 { return s.checkTxCalls.Load() }

// Refusals is the number of requests refused by the gateway's own checks
// (limits and authorisation) since start.
func (s *Server) Refusals() int64 { return s.refusals.Load() }

// Connections is the number of open connections within max_connections.
func (s *Server) Connections() int64 {
	if s.lis == nil {
		return 0
	}
	return s.lis.Active()
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

// admit applies the connection and rate limits to a call.
func (s *Server) admit(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil && s.lis.isOver(p.Addr.String()) {
		return s.refuse("max_connections", status.Errorf(codes.ResourceExhausted,
			"gateway limit max_connections (%d) reached: this connection is closed; retry later", s.cfg.MaxConnections))
	}
	c := callerFrom(ctx)
	if !s.limiter.allow(c.identity()) {
		return s.refuse("rate", s.rateError(c))
	}
	return nil
}

func (s *Server) rateError(c caller) error {
	return status.Errorf(codes.ResourceExhausted,
		"gateway limit rate_per_second (%g/s, rate_burst %d) exceeded for %s; slow down and retry",
		s.cfg.RatePerSecond, s.cfg.RateBurst, c.identity())
}

func (s *Server) limitUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	bad := decodeError(req)
	if err := s.admit(ctx, info.FullMethod); err != nil {
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
	return toStatus(s.log, info.FullMethod, h(srv, &checkedStream{ServerStream: ss}))
}
