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
}

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
				Help: "gRPC requests handled, by method and status code.",
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
		}
		m.requests = register(m.requests).(*prometheus.CounterVec)
		m.latency = register(m.latency).(*prometheus.HistogramVec)
		m.submissions = register(m.submissions).(*prometheus.CounterVec)
		m.commitLatency = register(m.commitLatency).(prometheus.Histogram)
		m.batchDigests = register(m.batchDigests).(prometheus.Histogram)
		m.inFlight = register(m.inFlight).(prometheus.Gauge)
		m.refused = register(m.refused).(*prometheus.CounterVec)
		m.checkTx = register(m.checkTx).(prometheus.Counter)
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
