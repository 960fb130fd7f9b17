package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	cs "github.com/cometbft/cometbft/consensus"
	cmtflags "github.com/cometbft/cometbft/libs/cli/flags"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/blockdb"
	"github.com/gobtechlab/notary/app/internal/forward"
	"github.com/gobtechlab/notary/app/internal/peerqueue"
	"github.com/gobtechlab/notary/app/internal/txsync"
	"github.com/gobtechlab/notary/app/upgrades"
)

// Node is a running notary node: CometBFT with the notary application
// in-process, and the services around it. It is the one place that builds
// CometBFT; everything else reaches it through Chain.
type Node struct {
	Config *Config
	App    *abci.Application
	Logger cmtlog.Logger

	comet    *node.Node
	chain    *cometChain
	services []Service
	stopOnce sync.Once
	stopErr  error
}

// Chain returns what the node's services see of CometBFT.
func (n *Node) Chain() Chain { return n.chain }

// Service is something a node runs beside CometBFT (the gRPC gateway).
type Service interface {
	Start() error
	Stop() error
}

// ServiceFactory builds a service for a node before it starts.
type ServiceFactory func(n *Node) (Service, error)

// NewNode builds a node from a loaded configuration, with the services the
// factories build (cmd/notaryd passes the gateway); Start runs it.
//
// What the node changes in CometBFT, and why, is in docs/DESIGN.md ("What
// we change in CometBFT"): a transaction the gateway accepts is forwarded
// to every peer (app/internal/forward), a referenced transaction a node
// lacks is fetched from its peers (app/internal/txsync), and the consensus
// and forward reactors receive each peer's messages from a queue of the
// peer's own (app/internal/peerqueue). The p2p channels are listed in
// app/internal/channels.
func NewNode(cfg *Config, logger cmtlog.Logger, services ...ServiceFactory) (*Node, error) {
	genDoc, err := cmttypes.GenesisDocFromFile(cfg.Comet.GenesisFile())
	if err != nil {
		if _, serr := os.Stat(cfg.Comet.GenesisFile()); errors.Is(serr, os.ErrNotExist) {
			return nil, fmt.Errorf("genesis: %s has none: a ministry's home made by 'notaryd init --ministry' gets it from 'notaryd genesis install'", cfg.Home)
		}
		return nil, fmt.Errorf("genesis: %w", err)
	}
	backend := dbm.BackendType(cfg.Comet.DBBackend)
	if backend == dbm.GoLevelDBBackend {
		migrated, err := blockdb.Migrate(cfg.Comet.DBDir())
		if err != nil {
			return nil, err
		}
		if migrated {
			logger.Info("block store converted to CometBFT's layout", "dir", cfg.Comet.DBDir())
		}
	}
	blocks := &blockStoreSource{backend: backend, dir: cfg.Comet.DBDir()}
	app, err := abci.NewApplication(abci.Options{
		Dir:                 filepath.Join(cfg.Comet.DBDir(), "app"),
		ChainID:             genDoc.ChainID,
		IAVLCacheSize:       cfg.App.State.IAVLCacheSize,
		TxCacheSize:         cfg.App.State.TxCacheSize,
		DigestFilterBytes:   digestFilterBytes(cfg.App.State.DigestFilterMB),
		UnnamedTxRetention:  unnamedTxRetention(cfg.App.State.TxStoreUnnamedRetention),
		LightRelayedChecks:  cfg.App.State.LightRelayedChecks,
		OptimisticExecution: cfg.App.State.OptimisticExecution,
		SnapshotInterval:    cfg.App.Snapshots.Interval,
		SnapshotKeepRecent:  cfg.App.Snapshots.KeepRecent,
		SnapshotChunkBytes:  cfg.App.Snapshots.ChunkBytes,
		RetainBlocks:        cfg.App.Retention.KeepBlocks,
		Blocks:              blocks,
		Upgrades:            upgrades.Handlers(),
		UpgradeNeeded:       stopForUpgrade(cfg.Comet.DBDir(), logger.With("module", "notary")),
		Logger:              logger.With("module", "notary"),
	})
	blocks.close()
	if err != nil {
		return nil, err
	}
	if _, err := dropUnexecutableBlock(backend, cfg.Comet.DBDir(), app, logger); err != nil {
		_ = app.Close()
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(cfg.Comet.NodeKeyFile())
	if err != nil {
		_ = app.Close()
		return nil, fmt.Errorf("node key: %w", err)
	}
	// With priv_validator_laddr set, CometBFT listens there for a remote
	// signer (tmkms, Horcrux, CometBFT's privval signer) and signs through
	// it: the consensus key is not on this host, and none is made here.
	var pv cmttypes.PrivValidator
	if addr := cfg.Comet.PrivValidatorListenAddr; addr != "" {
		logger.Info("waiting for the remote signer", "laddr", addr)
	} else {
		pv = privval.LoadOrGenFilePV(cfg.Comet.PrivValidatorKeyFile(), cfg.Comet.PrivValidatorStateFile())
	}
	sync := txsync.New(app, cfg.Comet.Mempool.MaxTxBytes, logger.With("module", "txsync"))
	var fwd *forward.Reactor
	reactors := func(cn *node.Node) {
		custom := map[string]p2p.Reactor{
			// CometBFT's own consensus reactor, fed from per-peer queues so
			// that a block's check or execution, holding the consensus lock,
			// does not stall a peer's other channels (txsync's answers).
			"CONSENSUS": consensusQueue{peerqueue.Wrap(cn.ConsensusReactor(), 0), cn.ConsensusReactor()},
			"TXSYNC":    sync,
		}
		if !cfg.Comet.Mempool.Broadcast {
			fwd = forward.New(cn.Mempool(), cfg.Comet.Mempool.MaxTxBytes, logger.With("module", "forward"))
			custom["FORWARD"] = peerqueue.Wrap(fwd, 0)
		}
		node.CustomReactors(custom)(cn)
	}
	comet, err := node.NewNode(cfg.Comet, pv, nodeKey,
		// One mutex per ABCI connection: the application is safe for
		// concurrent use, so queries and CheckTx need not wait for blocks.
		proxy.NewConnSyncLocalClientCreator(app),
		func() (*cmttypes.GenesisDoc, error) { return genDoc, nil },
		stopSafeDBProvider,
		metricsProvider(cfg, logger),
		logger, reactors)
	if err != nil {
		_ = app.Close()
		return nil, fmt.Errorf("cometbft: %w", err)
	}
	chain, err := newCometChain(comet, fwd, cfg.Comet.Moniker)
	if err != nil {
		_ = app.Close()
		return nil, err
	}
	n := &Node{Config: cfg, App: app, Logger: logger, comet: comet, chain: chain}
	app.SetFetcher(sync.Fetch)
	// Snapshots read the batch transactions blocks carry whole from
	// CometBFT's block store, which the node holds open from now on.
	app.SetBlockSource(&runningBlocks{comet.BlockStore()})
	newChainMetrics().watch(app, sync, genDoc)
	mp := comet.Mempool()
	app.SetCommitted(func(hashes [][32]byte) {
		for _, h := range hashes {
			_ = mp.RemoveTxByKey(cmttypes.TxKey(h)) // absent: another node's, or already gone
		}
	})
	for _, f := range services {
		s, err := f(n)
		if err != nil {
			_ = app.Close()
			return nil, err
		}
		if s != nil {
			n.services = append(n.services, s)
		}
	}
	return n, nil
}

// consensusQueue is CometBFT's consensus reactor fed from per-peer queues.
// Block sync hands over to consensus by calling SwitchToConsensus on the
// reactor registered as "CONSENSUS", so the wrapper passes it on.
type consensusQueue struct {
	*peerqueue.Reactor
	inner *cs.Reactor
}

// SwitchToConsensus is called by block sync once the node has caught up.
func (q consensusQueue) SwitchToConsensus(state sm.State, skipWAL bool) {
	q.inner.SwitchToConsensus(state, skipWAL)
}

// unnamedTxRetention maps app.toml's tx_store_unnamed_retention (0 keeps
// every transaction) to abci.Options.UnnamedTxRetention (where 0 means the
// default and a negative number keeps them).
func unnamedTxRetention(blocks int64) int64 {
	if blocks == 0 {
		return -1
	}
	return blocks
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
	if err := n.comet.Start(); err != nil {
		return fmt.Errorf("start cometbft: %w", err)
	}
	for _, s := range n.services {
		if err := s.Start(); err != nil {
			_ = n.Stop()
			return err
		}
	}
	return nil
}

// Stop stops the services, then CometBFT, then closes the application. A
// second call returns the first one's result.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() { n.stopErr = n.stop() })
	return n.stopErr
}

func (n *Node) stop() error {
	var errs []error
	for i := len(n.services) - 1; i >= 0; i-- {
		errs = append(errs, n.services[i].Stop())
	}
	if n.comet.IsRunning() {
		errs = append(errs, n.comet.Stop())
		n.comet.Wait()
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

// open opens the block store on first use.
func (b *blockStoreSource) open() error {
	if b.bs != nil {
		return nil
	}
	db, err := OpenBlockStore(b.backend, b.dir)
	if err != nil {
		return err
	}
	b.db, b.bs = db, store.NewBlockStore(db)
	return nil
}

func (b *blockStoreSource) BlockTime(height int64) (t time.Time, err error) {
	if err := b.open(); err != nil {
		return time.Time{}, err
	}
	defer guard("block store", &err)
	meta := b.bs.LoadBlockMeta(height)
	if meta == nil {
		return time.Time{}, fmt.Errorf("block %d is not in the block store", height)
	}
	return meta.Header.Time, nil
}

func (b *blockStoreSource) BlockTxs(height int64) ([][]byte, error) {
	if err := b.open(); err != nil {
		return nil, err
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

// runningBlocks reads committed blocks from the running node's block store.
type runningBlocks struct{ bs *store.BlockStore }

func (b *runningBlocks) BlockTime(height int64) (time.Time, error) {
	meta := b.bs.LoadBlockMeta(height)
	if meta == nil {
		return time.Time{}, fmt.Errorf("block %d is not in the block store", height)
	}
	return meta.Header.Time, nil
}

func (b *runningBlocks) BlockTxs(height int64) ([][]byte, error) {
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
		_ = b.db.Close()
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
	db, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	return &stopSafeDB{DB: db}, nil
}

// OpenBlockStore opens CometBFT's block store in dataDir, as a node and
// CometBFT's own tools do.
func OpenBlockStore(backend dbm.BackendType, dataDir string) (dbm.DB, error) {
	return dbm.NewDB("blockstore", backend, dataDir)
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
