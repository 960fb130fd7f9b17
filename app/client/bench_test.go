package client_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
)

// BenchmarkAnchorGateway measures anchoring through the client library and
// a real gateway over loopback gRPC with mutual TLS, on a node with the dev
// chain's block interval (300 ms) and the client's default batching
// (window 200 ms, up to 16 transactions in flight).
//
// callers=N: N goroutines each anchor one digest at a time (Anchor, which
// waits until it is committed); bulk: the same with AnchorAll of 1,000
// digests per call. An op is one round: every caller makes one call.
// Metrics: digests/s, and p50/p99 latency in ms from the call to the
// committed result (per call).
//
//	go test -run '^$' -bench BenchmarkAnchorGateway -benchtime 2s ./app/client
func BenchmarkAnchorGateway(b *testing.B) {
	n := startNode(b, apptest.Options{TimeoutCommit: 300 * time.Millisecond})
	c := dial(b, n, n.Agency)
	ctx := ctxT(b, 30*time.Minute)
	var seq atomic.Int64 // distinct digests across runs
	run := func(b *testing.B, callers, perCall int) {
		calls := b.N * callers
		var next atomic.Int64
		var mu sync.Mutex
		lat := make([]time.Duration, 0, calls)
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for next.Add(1) <= int64(calls) {
					ds := make([][]byte, perCall)
					for i := range ds {
						ds[i] = digest("bench", int(seq.Add(1)))
					}
					t0 := time.Now()
					var err error
					if perCall == 1 {
						_, err = c.Anchor(ctx, ds[0])
					} else {
						_, err = c.AnchorAll(ctx, ds)
					}
					d := time.Since(t0)
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		el := time.Since(start)
		b.StopTimer()
		slices.Sort(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
		}
		b.ReportMetric(float64(calls*perCall)/el.Seconds(), "digests/s")
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	}
	for _, callers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) { run(b, callers, 1) })
	}
	b.Run("callers=8/bulk=1000", func(b *testing.B) { run(b, 8, 1000) })
	b.Logf("pipeline %v", client.Stats(c))
}
