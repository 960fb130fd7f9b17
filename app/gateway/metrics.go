package gateway

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are process-wide: they are registered once on
// prometheus.DefaultRegisterer, which CometBFT's metrics endpoint serves. In
// production a process runs one node; tests that run several share them.
type metrics struct {
	requests      *prometheus.CounterVec   // by method and code
	latency       *prometheus.HistogramVec // by method
	submissions   *prometheus.CounterVec   // transaction outcomes by code
	commitLatency prometheus.Histogram     // submit to committed
	batchDigests  prometheus.Histogram     // digests per AnchorBatch submitted
	inFlight      prometheus.Gauge         // submissions waiting for commit
	refused       *prometheus.CounterVec   // refusals before CheckTx, by reason
	checkTx       prometheus.Counter       // transactions handed to CheckTx
	conns         *prometheus.GaugeVec     // open connections by pool
	connsClosed   *prometheus.CounterVec   // connections closed by a limit, by reason
	rateEvictions prometheus.Counter       // addresses evicted from the rate table
	agencyDigests *prometheus.CounterVec   // digests of AnchorBatch answers, by agency and outcome
}

// Labels of notary_gateway_agency_digests_total.
const (
	digestsAnchored = "anchored"
	digestsRefused  = "refused"
	// noAgency labels the digests of a request without an agency's client
	// certificate.
	noAgency = "none"
)

// Connection pools (the label of notary_gateway_connections).
const (
	poolAuth   = "authenticated"
	poolUnauth = "unauthenticated"
)

var (
	metricsOnce sync.Once
	gm          *metrics
)

const namespace, subsystem = "notary", "gateway"

func gatewayMetrics() *metrics {
	metricsOnce.Do(func() {
		m := &metrics{
			requests: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "requests_total",
				Help: "Requests handled (gRPC and HTTP/JSON), by method and status code; a stream its client closes once every request is answered counts as OK.",
			}, []string{"method", "code"}),
			latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "request_duration_seconds",
				Help:    "Time to handle a gRPC request (a stream: its whole life), by method.",
				Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
			}, []string{"method"}),
			submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "submissions_total",
				Help: "Submitted transactions by outcome (gRPC status code).",
			}, []string{"code"}),
			commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "submit_commit_seconds",
				Help:    "Time from a submission's CheckTx to its commit.",
				Buckets: prometheus.ExponentialBuckets(0.01, 1.6, 16),
			}),
			batchDigests: prometheus.NewHistogram(prometheus.HistogramOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "batch_digests",
				Help:    "Digests per AnchorBatch submitted.",
				Buckets: prometheus.ExponentialBuckets(1, 4, 9),
			}),
			inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "inflight_submissions",
				Help: "Submitted transactions accepted by CheckTx and waiting to be committed.",
			}),
			refused: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "refused_total",
				Help: "Requests refused by the gateway's own checks (limits, authorisation), by reason.",
			}, []string{"reason"}),
			checkTx: prometheus.NewCounter(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "checktx_total",
				Help: "Transactions the gateway handed to the mempool (CheckTx).",
			}),
			conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "connections",
				Help: "Open connections by pool: authenticated (members the chain lists, promoted citizens) and unauthenticated.",
			}, []string{"pool"}),
			connsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "connections_closed_total",
				Help: "Connections the gateway closed to enforce a limit, by reason: unauthenticated_pool_full (the oldest unauthenticated connection, evicted for a new one), per_address_limit, unauthenticated_idle, tls_handshake_timeout.",
			}, []string{"reason"}),
			rateEvictions: prometheus.NewCounter(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "rate_table_evictions_total",
				Help: "Addresses evicted from the rate limiter's table (rate_table_size) to make room for new ones.",
			}),
			agencyDigests: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "agency_digests_total",
				Help: "Digests of the AnchorBatch transactions this gateway answered, by agency (the id its client certificate names; none without one) and outcome: anchored (committed) or refused (by the gateway, the mempool or the block, a duplicate included).",
			}, []string{"agency", "outcome"}),
		}
		m.requests = register(m.requests).(*prometheus.CounterVec)
		m.latency = register(m.latency).(*prometheus.HistogramVec)
		m.submissions = register(m.submissions).(*prometheus.CounterVec)
		m.commitLatency = register(m.commitLatency).(prometheus.Histogram)
		m.batchDigests = register(m.batchDigests).(prometheus.Histogram)
		m.inFlight = register(m.inFlight).(prometheus.Gauge)
		m.refused = register(m.refused).(*prometheus.CounterVec)
		m.checkTx = register(m.checkTx).(prometheus.Counter)
		m.conns = register(m.conns).(*prometheus.GaugeVec)
		m.connsClosed = register(m.connsClosed).(*prometheus.CounterVec)
		m.rateEvictions = register(m.rateEvictions).(prometheus.Counter)
		m.agencyDigests = register(m.agencyDigests).(*prometheus.CounterVec)
		gm = m
	})
	return gm
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
