package public

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/internal/ratelimit"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Limits of the server.
const (
	// MaxHeaderBytes bounds a request's line and headers.
	MaxHeaderBytes = 8 << 10
	// RateTableSize bounds the client addresses whose token buckets are kept.
	RateTableSize = 65_536
	// MaxInFlight bounds the status and code requests answered at once;
	// more are answered 503 at once.
	MaxInFlight = 64
	// StatusTimeout bounds the building of one status or code answer.
	StatusTimeout = 5 * time.Second
	// RetryV2Seconds is the Retry-After of a receipt v2 that no signed
	// checkpoint covers yet: a checkpoint is recorded every
	// checkpoint_interval heights and signed in the next blocks.
	RetryV2Seconds = 5
)

// Timeouts bound a client's connection.
type Timeouts struct {
	// ReadHeader bounds the time to send the request line and headers (a
	// client that never finishes them is disconnected).
	ReadHeader time.Duration
	// Read bounds the time to send the whole request.
	Read time.Duration
	// Write bounds the time from the end of the request's headers to the
	// end of the answer.
	Write time.Duration
	// Idle bounds a kept-alive connection without a request.
	Idle time.Duration
}

// DefaultTimeouts are the timeouts of a node's public endpoint.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 15 * time.Second, Idle: 60 * time.Second}
}

// Backend answers the status and code routes.
type Backend interface {
	// LiveStatus is receipt.Builder.LiveStatus.
	LiveStatus(ctx context.Context, alg ledger.HashAlgorithm, digest []byte) (*notaryv1.LiveStatus, error)
	// LiveStatusByCode is receipt.Builder.LiveStatusByCode.
	LiveStatusByCode(ctx context.Context, key []byte) (*notaryv1.LiveStatus, error)
	// CodeReceipt is receipt.Builder.CodeReceipt.
	CodeReceipt(ctx context.Context, key []byte) (*notaryv1.Receipt, error)
	// ReceiptV2ByCode is receipt.Builder.ReceiptV2ByCode.
	ReceiptV2ByCode(ctx context.Context, key []byte) (*notaryv1.Receipt, error)
	// CatchingUp reports whether the node is still syncing blocks.
	CatchingUp() bool
}

// Options are what a node's configuration does not say.
type Options struct {
	// Web holds the web verifier's files (index.html at its root), served
	// at "/" when public.serve_web is set; nil serves no page.
	Web fs.FS
	// Timeouts bound client connections; the zero value means
	// DefaultTimeouts.
	Timeouts Timeouts
	// Log is the evidence log served under LogPrefix; New takes the
	// node's (abci.Application.LogTiles). Nil serves none.
	Log LogSource
	// Checkpoints are the log's signed checkpoints served at
	// LogCheckpointPath, and those the code route's v2 receipts carry;
	// New takes the node's (without witnesses' cosignatures: pass the
	// node's checkpoint.Witnesses for those). Nil serves none.
	Checkpoints CheckpointSource
}

// Factory builds the public endpoint of a node from its configuration
// (app.toml [public]), without the web page; an empty listen address
// disables it.
func Factory(n *app.Node) (app.Service, error) { return NewFactory(Options{})(n) }

// NewFactory returns a factory of public endpoints with opts.
func NewFactory(opts Options) app.ServiceFactory {
	return func(n *app.Node) (app.Service, error) {
		s, err := New(n, opts)
		if err != nil || s == nil {
			return nil, err
		}
		return s, nil
	}
}

// nodeBackend answers from a running node.
type nodeBackend struct {
	*receipt.Builder
	chain app.Chain
}

func (b nodeBackend) CatchingUp() bool { return b.chain.CatchingUp() }

// New builds the public endpoint of n; it returns nil, nil if the
// configuration disables it. The v2 receipts of its code route carry the
// checkpoints of opts.Checkpoints. It listens only once started.
func New(n *app.Node, opts Options) (*Server, error) {
	cfg := n.Config.App.Public
	if cfg.Listen == "" {
		return nil, nil
	}
	b, err := receipt.FromNode(n)
	if err != nil {
		return nil, fmt.Errorf("public: %w", err)
	}
	if opts.Log == nil && n.App != nil {
		opts.Log = n.App.LiveLogTiles()
	}
	if opts.Checkpoints == nil && n.App != nil {
		opts.Checkpoints = checkpoint.NewNotes(n.Chain().ChainID(), func() (checkpoint.State, error) { return n.App.StateAt(0) })
	}
	if b.Log != nil && opts.Checkpoints != nil {
		b.Log.Checkpoints = opts.Checkpoints
	}
	return NewServer(cfg, nodeBackend{Builder: b, chain: n.Chain()}, n.Logger.With("module", "public"), opts)
}

// Server is a public endpoint.
type Server struct {
	cfg      app.PublicConfig
	backend  Backend
	web      fs.FS
	log      cmtlog.Logger
	m        *metrics
	limiter  *ratelimit.Table
	origins  map[string]bool
	anyOrig  bool
	inFlight chan struct{}
	etags    sync.Map // web file path -> its ETag
	logSrc   LogSource
	ckpts    CheckpointSource

	http     *http.Server
	addr     atomic.Value // string: the address actually listened on
	done     sync.WaitGroup
	stopOnce sync.Once
}

// NewServer builds a public endpoint answering from b with cfg.
func NewServer(cfg app.PublicConfig, b Backend, logger cmtlog.Logger, opts Options) (*Server, error) {
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("public: %w", err)
	}
	m := publicMetrics()
	limiter, err := ratelimit.New(cfg.RatePerSecond, cfg.Burst, RateTableSize, m.rateEvictions.Inc)
	if err != nil {
		return nil, fmt.Errorf("public: %w", err)
	}
	t := opts.Timeouts
	if t == (Timeouts{}) {
		t = DefaultTimeouts()
	}
	s := &Server{
		cfg: cfg, backend: b, log: logger, m: m, limiter: limiter,
		origins: map[string]bool{}, inFlight: make(chan struct{}, MaxInFlight),
	}
	if cfg.ServeWeb {
		s.web = opts.Web
	}
	s.logSrc = opts.Log
	s.ckpts = opts.Checkpoints
	for _, o := range cfg.CORSOrigins {
		if o == "*" {
			s.anyOrig = true
		}
		s.origins[o] = true
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	return s, nil
}

// Start listens and serves.
func (s *Server) Start() error {
	l, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("public: listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr.Store(l.Addr().String())
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("public: serve", "err", err)
		}
	}()
	s.log.Info("public: serving", "addr", l.Addr().String(), "loopback_only", loopbackOnly(l.Addr()), "web", s.web != nil)
	return nil
}

// Stop stops serving: requests in progress get a few seconds to finish.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			_ = s.http.Close()
		}
		s.done.Wait()
	})
	return nil
}

// Addr is the address the endpoint listens on (once started).
func (s *Server) Addr() string {
	a, _ := s.addr.Load().(string)
	return a
}

func loopbackOnly(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
