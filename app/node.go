package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtflags "github.com/cometbft/cometbft/libs/cli/flags"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/asynccheck"
	"github.com/gobtechlab/notary/app/internal/batchsync"
	"github.com/gobtechlab/notary/app/internal/blockdb"
	"github.com/gobtechlab/notary/app/internal/forward"
	"github.com/gobtechlab/notary/app/internal/pagecache"
	"github.com/gobtechlab/notary/app/internal/partrelay"
)

// Node is a running notary node: CometBFT with the notary application
// in-process, and the services around it.
type Node struct {
	Config *Config
	Comet  *node.Node
	App    *abci.Application
	Logger cmtlog.Logger

	services []Service
	forward  *forward.Reactor // nil while the mempool gossips
}

// Forward sends a transaction this node received from its sender (and
// accepted into its mempool) to the next proposers, when the node does not
// gossip its mempool (app/internal/forward); otherwise gossip carries it.
func (n *Node) Forward(tx []byte) {
	if n.forward != nil {
		n.forward.Forward(tx)
	}
}

// Service is something a node runs beside CometBFT (the gRPC gateway).
type Service interface {
	Start() error
	Stop() error
}

// ServiceFactory builds a service for a node before it starts.
type ServiceFactory func(n *Node) (Service, error)

// NewNode builds a node from a loaded configuration, with the services the
// factories build (cmd/notaryd passes the gateway); Start runs it.
func NewNode(cfg *Config, logger cmtlog.Logger, services ...ServiceFactory) (*Node, error) {
	genDoc, err := cmttypes.GenesisDocFromFile(cfg.Comet.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	blocks := &blockStoreSource{backend: dbm.BackendType(cfg.Comet.DBBackend), dir: cfg.Comet.DBDir()}
	app, err := abci.NewApplication(abci.Options{
		Dir:                 filepath.Join(cfg.Comet.DBDir(), "app"),
		ChainID:             genDoc.ChainID,
		IAVLCacheSize:       cfg.App.State.IAVLCacheSize,
		TxCacheSize:         cfg.App.State.TxCacheSize,
		DigestFilterBytes:   digestFilterBytes(cfg.App.State.DigestFilterMB),
		LightRelayedChecks:  cfg.App.State.LightRelayedChecks,
		OptimisticExecution: cfg.App.State.OptimisticExecution,
		Blocks:              blocks,
		Logger:              logger.With("module", "notary"),
	})
	blocks.close()
	if err != nil {
		return nil, err
	}
	if _, err := dropUnexecutableBlock(dbm.BackendType(cfg.Comet.DBBackend), cfg.Comet.DBDir(), app, logger); err != nil {
		app.Close()
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(cfg.Comet.NodeKeyFile())
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("node key: %w", err)
	}
	pv := privval.LoadOrGenFilePV(cfg.Comet.PrivValidatorKeyFile(), cfg.Comet.PrivValidatorStateFile())
	var opts []node.Option
	var fwd *forward.Reactor
	// CometBFT's consensus reactor, relaying proposal parts only to peers
	// that do not receive them from elsewhere (app/internal/partrelay).
	relay := partrelay.New(pv.Key.PubKey.Address(), cfg.App.P2P.BlockPartHold.Duration)
	opts = append(opts, func(n *node.Node) { relay.Wrap(n.ConsensusReactor()) }, node.CustomReactors(map[string]p2p.Reactor{"CONSENSUS": relay}))
	// A transaction a block names by reference and this node lacks is
	// fetched from its peers (app/internal/batchsync).
	bsync := batchsync.New(app, cfg.Comet.Mempool.MaxTxBytes, logger.With("module", "batchsync"))
	opts = append(opts, node.CustomReactors(map[string]p2p.Reactor{"BATCHSYNC": bsync}))
	if !cfg.Comet.Mempool.Broadcast {
		fwd = forward.New(pv.Key.PubKey.Address(), cfg.Comet.Mempool.MaxTxBytes, cfg.App.State.BatchReferences, logger.With("module", "forward"))
		opts = append(opts, node.CustomReactors(map[string]p2p.Reactor{"FORWARD": fwd}))
	}
	comet, err := node.NewNode(cfg.Comet, pv, nodeKey,
		// Each ABCI connection gets its own mutex: the application is safe
		// for concurrent use, so queries and CheckTx need not wait for blocks.
		// CheckTx is answered on its own goroutine, not in the p2p routine
		// of the peer that relayed the transaction (asynccheck).
		asynccheck.NewClientCreator(app),
		func() (*cmttypes.GenesisDoc, error) { return genDoc, nil },
		stopSafeDBProvider,
		metricsProvider(cfg, logger),
		logger, opts...)
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("cometbft: %w", err)
	}
	n := &Node{Config: cfg, Comet: comet, App: app, Logger: logger, forward: fwd}
	env, err := comet.ConfigureRPC()
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("cometbft: %w", err)
	}
	cons, ok := env.ConsensusState.(partrelay.Consensus)
	if !ok {
		app.Close()
		return nil, fmt.Errorf("cometbft: consensus state %T gives no round state", env.ConsensusState)
	}
	relay.Attach(cons)
	app.SetFetcher(bsync.Fetch)
	mp := comet.Mempool()
	app.SetCommitted(func(hashes [][32]byte) {
		for _, h := range hashes {
			_ = mp.RemoveTxByKey(cmttypes.TxKey(h)) // absent: another node's, or already gone
		}
	})
	if fwd != nil {
		fwd.Attach(comet.Mempool(), env.ConsensusState, app.ProposedHeight)
	}
	// The block store's tables and the consensus log's old files are not
	// read in normal operation: out of the page cache with them, which then
	// holds the digest index (app/internal/pagecache).
	n.services = append(n.services, pagecache.New(logger.With("module", "pagecache"),
		filepath.Join(cfg.Comet.DBDir(), blockdb.HeightsName+".db", "*.ldb"),
		cfg.Comet.Consensus.WalFile()+".*"))
	for _, f := range services {
		s, err := f(n)
		if err != nil {
			app.Close()
			return nil, err
		}
		if s != nil {
			n.services = append(n.services, s)
		}
	}
	return n, nil
}

// digestFilterBytes maps app.toml's digest_filter_mb (0 disables the
// filter) to abci.Options.DigestFilterBytes (where 0 means the default).
func digestFilterBytes(mb int) int {
	if mb <= 0 {
		return -1
	}
	return mb << 20
}

// Start starts CometBFT and then the services.
func (n *Node) Start() error {
	if err := n.Comet.Start(); err != nil {
		return fmt.Errorf("start cometbft: %w", err)
	}
	for _, s := range n.services {
		if err := s.Start(); err != nil {
			n.Stop()
			return err
		}
	}
	return nil
}

// Stop stops the services, then CometBFT, then closes the application.
func (n *Node) Stop() error {
	var errs []error
	for i := len(n.services) - 1; i >= 0; i-- {
		errs = append(errs, n.services[i].Stop())
	}
	if n.Comet.IsRunning() {
		errs = append(errs, n.Comet.Stop())
		n.Comet.Wait()
	}
	errs = append(errs, n.App.Close())
	return errors.Join(errs...)
}

// cometMetricsOnce: CometBFT registers its Prometheus metrics in the
// process-wide default registry, so only the first node of a process (there
// is one in production; tests start several) can have them.
var cometMetricsOnce sync.Once

func metricsProvider(cfg *Config, logger cmtlog.Logger) node.MetricsProvider {
	if cfg.Comet.Instrumentation.Prometheus {
		first := false
		cometMetricsOnce.Do(func() { first = true })
		if first {
			return node.DefaultMetricsProvider(cfg.Comet.Instrumentation)
		}
		logger.Info("CometBFT metrics are already registered in this process; this node runs without them")
	}
	nop := *cfg.Comet.Instrumentation
	nop.Prometheus = false
	return node.DefaultMetricsProvider(&nop)
}

// NewLogger returns CometBFT's logger writing to stdout at the config's level.
func NewLogger(cfg *Config) (cmtlog.Logger, error) {
	logger := cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stdout))
	if cfg.Comet.LogFormat == "json" {
		logger = cmtlog.NewTMJSONLogger(cmtlog.NewSyncWriter(os.Stdout))
	}
	logger, err := cmtflags.ParseLogLevel(cfg.Comet.LogLevel, logger, cmtcfg.DefaultLogLevel)
	if err != nil {
		return nil, fmt.Errorf("log_level: %w", err)
	}
	return logger, nil
}

// blockStoreSource reads committed blocks from CometBFT's block store, for
// rebuilding the digest index. It opens the store on first use; close must
// be called before CometBFT opens it.
type blockStoreSource struct {
	backend dbm.BackendType
	dir     string
	db      dbm.DB
	bs      *store.BlockStore
}

func (b *blockStoreSource) BlockTxs(height int64) ([][]byte, error) {
	if b.bs == nil {
		db, err := OpenBlockStore(b.backend, b.dir)
		if err != nil {
			return nil, err
		}
		b.db, b.bs = db, store.NewBlockStore(db)
	}
	blk := b.bs.LoadBlock(height)
	if blk == nil {
		return nil, fmt.Errorf("block %d is not in the block store", height)
	}
	out := make([][]byte, len(blk.Txs))
	for i, tx := range blk.Txs {
		out[i] = tx
	}
	return out, nil
}

func (b *blockStoreSource) close() {
	if b.db != nil {
		b.db.Close()
		b.db, b.bs = nil, nil
	}
}

// stopSafeDBProvider opens CometBFT's databases like cmtcfg.DefaultDBProvider,
// wrapped so that a read after Close finds nothing instead of failing.
// CometBFT v0.38 closes its block store while a consensus reactor routine
// may still read it (queryMaj23Routine checks that the reactor runs, sleeps,
// then loads a commit), and the block store panics on a read error: a
// stopping node (several run in one test process) then took the process
// down with "leveldb: closed". Nothing reads after Close while a node runs.
func stopSafeDBProvider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	var db dbm.DB
	var err error
	if ctx.ID == "blockstore" && dbm.BackendType(ctx.Config.DBBackend) == dbm.GoLevelDBBackend {
		db, err = OpenBlockStore(dbm.GoLevelDBBackend, ctx.Config.DBDir())
	} else {
		db, err = cmtcfg.DefaultDBProvider(ctx)
	}
	if err != nil {
		return nil, err
	}
	return &stopSafeDB{DB: db}, nil
}

// OpenBlockStore opens CometBFT's block store in dataDir as a node does:
// with goleveldb, split into a database of the keys with a height, in height
// order, and one of the others (app/internal/blockdb); with another backend,
// as CometBFT does. A tool that reads a node's block store must open it so.
// A block store created before the split is opened as it was, one goleveldb
// database.
func OpenBlockStore(backend dbm.BackendType, dataDir string) (dbm.DB, error) {
	if backend != dbm.GoLevelDBBackend {
		return dbm.NewDB("blockstore", backend, dataDir)
	}
	db, _, err := blockdb.Open(dataDir)
	return db, err
}

// stopSafeDB is a dbm.DB whose Get and Has answer "absent" once it is closed.
type stopSafeDB struct {
	dbm.DB
	mu     sync.RWMutex // Close waits for the reads in progress
	closed bool
}

func (d *stopSafeDB) Get(key []byte) ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, nil
	}
	return d.DB.Get(key)
}

func (d *stopSafeDB) Has(key []byte) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, nil
	}
	return d.DB.Has(key)
}

func (d *stopSafeDB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return d.DB.Close()
}
