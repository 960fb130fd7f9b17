package public

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are process-wide: they are registered once on
// prometheus.DefaultRegisterer, which CometBFT's metrics endpoint serves. In
// production a process runs one node; tests that run several share them.
type metrics struct {
	requests      *prometheus.CounterVec   // by route and code
	latency       *prometheus.HistogramVec // by route
	rateEvictions prometheus.Counter       // addresses evicted from the rate table
}

var (
	metricsOnce sync.Once
	pm          *metrics
)

const namespace, subsystem = "notary", "public"

func publicMetrics() *metrics {
	metricsOnce.Do(func() {
		m := &metrics{
			requests: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "requests_total",
				Help: "HTTP requests to the public endpoint, by route (status, code, healthz, log, web, other) and status code.",
			}, []string{"route", "code"}),
			latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "request_duration_seconds",
				Help:    "Time to answer a request to the public endpoint, by route.",
				Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
			}, []string{"route"}),
			rateEvictions: prometheus.NewCounter(prometheus.CounterOpts{
				Namespace: namespace, Subsystem: subsystem, Name: "rate_table_evictions_total",
				Help: "Client addresses evicted from the public endpoint's rate table to make room for new ones.",
			}),
		}
		m.requests = register(m.requests).(*prometheus.CounterVec)
		m.latency = register(m.latency).(*prometheus.HistogramVec)
		m.rateEvictions = register(m.rateEvictions).(prometheus.Counter)
		pm = m
	})
	return pm
}

// register registers c on the default registerer, or returns the collector
// already registered under its name.
func register(c prometheus.Collector) prometheus.Collector {
	if err := prometheus.DefaultRegisterer.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector
		}
		return c
	}
	return c
}
