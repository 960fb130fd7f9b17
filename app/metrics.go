package app

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/txsync"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The chain's metrics, beside the gateway's (app/gateway) and the public
// endpoint's (app/public), on the endpoint CometBFT serves
// (instrumentation.prometheus_listen_addr). Counters start at zero when
// the process starts; Prometheus's rate() and increase() handle the reset.
// Like the gateway's they are process-wide: a process that runs several
// nodes (tests) adds their blocks together, and the gauges read the node
// started last.
//
// The counters are updated once per committed block, from the events of
// its transactions (abci.Application.SetBlockHook), and the gauges are
// read when Prometheus scrapes: nothing is added to the execution of a
// transaction or a digest.
type chainMetrics struct {
	digests     prometheus.Counter     // digests anchored by committed blocks
	batches     prometheus.Counter     // AnchorBatch transactions committed
	revocations prometheus.Counter     // digests revoked
	exchanges   *prometheus.CounterVec // exchanges recorded, by data category
	height      prometheus.Gauge       // the last committed height
	// Snapshots of the state for state sync, taken and restored.
	snapshotsTaken, snapshotsRestored prometheus.Counter
}

// metricsNode is the node whose state the gauges read.
type metricsNode struct {
	app  *abci.Application
	sync *txsync.Reactor
}

var (
	chainMetricsOnce sync.Once
	cm               *chainMetrics
	current          atomic.Pointer[metricsNode]
)

const namespace = "notary"

// Event types and attributes the ledger emits (ledger.Event) that the
// metrics count.
const (
	eventAnchor   = "notary.anchor"
	eventRevoke   = "notary.revoke"
	eventExchange = "notary.exchange"
	attrCount     = "count"
	attrCategory  = "category"
)

func newChainMetrics() *chainMetrics {
	chainMetricsOnce.Do(func() {
		counter := func(subsystem, name, help string) prometheus.Counter {
			return register(prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help})).(prometheus.Counter)
		}
		gaugeFunc := func(subsystem, name, help string, f func(n *metricsNode) float64) {
			register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help}, func() float64 {
				n := current.Load()
				if n == nil {
					return 0
				}
				return f(n)
			}))
		}
		counterFunc := func(subsystem, name, help string, f func(n *metricsNode) float64) {
			register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help}, func() float64 {
				n := current.Load()
				if n == nil {
					return 0
				}
				return f(n)
			}))
		}
		m := &chainMetrics{
			digests:     counter("chain", "digests_committed_total", "Digests anchored by the blocks this node committed."),
			batches:     counter("chain", "batches_committed_total", "AnchorBatch transactions committed (successful ones)."),
			revocations: counter("chain", "revocations_total", "Digests revoked by the blocks this node committed."),
			exchanges: register(prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: "chain", Name: "exchanges_recorded_total",
				Help: "Data exchanges recorded by the blocks this node committed, by data category (never by subject or agency).",
			}, []string{"category"})).(*prometheus.CounterVec),
			height: register(prometheus.NewGauge(prometheus.GaugeOpts{
				Namespace: namespace, Subsystem: "chain", Name: "last_block_height",
				Help: "Height of the last block this node committed.",
			})).(prometheus.Gauge),
			snapshotsTaken:    counter("statesync", "snapshots_taken_total", "State snapshots this node took for state sync."),
			snapshotsRestored: counter("statesync", "snapshots_restored_total", "State snapshots this node restored from its peers."),
		}
		gaugeFunc("chain", "last_block_age_seconds", "Seconds since the time (BFT time, from its header) of the last block this node committed. An idle chain makes no blocks: it grows while no transaction comes.", func(n *metricsNode) float64 {
			h, _, t := n.app.LastCommit()
			if h == 0 || t.IsZero() {
				return 0
			}
			return time.Since(t).Seconds()
		})
		gaugeFunc("chain", "earliest_state_height", "Earliest height whose state this node holds: 1 on an archive node; the snapshot it joined from, or the height its retention pruned to (retention.keep_blocks). v1 receipts of anchors below it are refused.", func(n *metricsNode) float64 {
			return float64(n.app.Earliest())
		})
		gaugeFunc("digest_index", "records", "Records of the digest index: anchored digests and verification code keys.", func(n *metricsNode) float64 {
			return float64(n.app.IndexStats().Records)
		})
		gaugeFunc("digest_index", "files", "Sorted runs of the digest index (files, and the latest blocks' runs not written yet); merges keep them few.", func(n *metricsNode) float64 {
			return float64(n.app.IndexStats().Files)
		})
		gaugeFunc("digest_index", "filter_fill_ratio", "Records of the digest index over the capacity of its in-memory filter (state.digest_filter_mb); above 1 lookups of new digests read the index's files more often. 0 without a filter.", func(n *metricsNode) float64 {
			st := n.app.IndexStats()
			if st.FilterCapacity == 0 {
				return 0
			}
			return float64(st.Records) / float64(st.FilterCapacity)
		})
		gaugeFunc("txstore", "bytes", "Bytes of the transaction store's segment files (the transactions blocks name by hash).", func(n *metricsNode) float64 {
			b, err := n.app.TxStoreBytes()
			if err != nil {
				return 0
			}
			return float64(b)
		})
		counterFunc("txstore", "dropped_total", "Transactions no block named that the transaction store dropped after state.tx_store_unnamed_retention blocks, since the node started.", func(n *metricsNode) float64 {
			return float64(n.app.TxStoreDropped())
		})
		counterFunc("txsync", "fetched_total", "Transactions named by reference that this node fetched from its peers.", func(n *metricsNode) float64 {
			fetched, _ := n.sync.Stats()
			return float64(fetched)
		})
		counterFunc("txsync", "fetch_failed_total", "Requests to peers for a transaction named by reference that got no answer within a minute, or whose answer could not be stored.", func(n *metricsNode) float64 {
			_, failed := n.sync.Stats()
			return float64(failed)
		})
		cm = m
	})
	return cm
}

// watch makes the gauges read app and sync, and counts app's committed
// blocks. The exchanges counter is exported at zero for each data category
// of the chain's params (the genesis's before the first block), so that
// dashboards and alerts find it before the first exchange.
func (m *chainMetrics) watch(app *abci.Application, sync *txsync.Reactor, genesis *cmttypes.GenesisDoc) {
	current.Store(&metricsNode{app: app, sync: sync})
	for _, c := range dataCategories(app, genesis) {
		m.exchanges.WithLabelValues(c)
	}
	if h, _, _ := app.LastCommit(); h > 0 {
		m.height.Set(float64(h))
	}
	app.SetBlockHook(m.block)
	app.SetSnapshotHook(func(_ int64, restored bool) {
		if restored {
			m.snapshotsRestored.Inc()
		} else {
			m.snapshotsTaken.Inc()
		}
	})
}

// block counts the work of a committed block: a pass over its
// transactions' events, each counter added to once.
func (m *chainMetrics) block(b abci.CommittedBlock) {
	m.height.Set(float64(b.Height))
	if b.Result == nil {
		return
	}
	var digests, batches, revocations int
	var exchanges map[string]int
	for _, r := range b.Result.TxResults {
		if r == nil || r.Code != abcitypes.CodeTypeOK {
			continue
		}
		for _, ev := range r.Events {
			switch ev.Type {
			case eventAnchor:
				batches++
				if n, err := strconv.Atoi(attribute(ev, attrCount)); err == nil {
					digests += n
				}
			case eventRevoke:
				revocations++
			case eventExchange:
				if exchanges == nil {
					exchanges = map[string]int{}
				}
				exchanges[attribute(ev, attrCategory)]++
			}
		}
	}
	if batches > 0 {
		m.batches.Add(float64(batches))
		m.digests.Add(float64(digests))
	}
	if revocations > 0 {
		m.revocations.Add(float64(revocations))
	}
	for c, n := range exchanges {
		m.exchanges.WithLabelValues(c).Add(float64(n))
	}
}

// dataCategories returns the data categories of the params in force, or of
// the genesis's before the first commit.
func dataCategories(app *abci.Application, genesis *cmttypes.GenesisDoc) []string {
	p := &notaryv1.Params{}
	if view, err := app.StateAt(0); err == nil {
		raw, err := view.Get(ledger.ParamsKey())
		if err == nil && proto.Unmarshal(raw, p) == nil {
			return p.DataCategories
		}
	}
	var g notaryv1.GenesisState
	if genesis != nil && protojson.Unmarshal(genesis.AppState, &g) == nil {
		return g.GetParams().GetDataCategories()
	}
	return nil
}

func attribute(ev abcitypes.Event, key string) string {
	for _, a := range ev.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// register registers c on the default registerer, or returns the collector
// already registered under its name.
func register(c prometheus.Collector) prometheus.Collector {
	if err := prometheus.DefaultRegisterer.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector
		}
		// A conflicting registration of our names by another component: keep
		// the metric working unregistered rather than fail the node.
		return c
	}
	return c
}
