package public_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// BenchmarkStatus measures, on a quiet real node (one validator, a block
// every 500 ms as a testnet's), the latency of one request at a time:
//
//   - live-status: GET /v1/status over HTTP (keep-alive), the public
//     endpoint's answer;
//   - receipt: the gateway's GetReceipt, status at the newest signed state;
//   - receipt-waiting: a receipt built as GetReceipt built every receipt
//     before its status stopped waiting: wait (polling every 20 ms) for the
//     block after the newest stored one, which signs the newest committed
//     state, then build the receipt with its status there.
//
// Each reports p50 and p99 in milliseconds.
func BenchmarkStatus(b *testing.B) {
	n := startNode(b, apptest.Options{TimeoutCommit: 500 * time.Millisecond})
	const docs = 256
	digests := make([][]byte, docs)
	for i := range digests {
		digests[i] = ledger.HashDocument(sha2, fmt.Appendf(nil, "documento %d", i))
	}
	h := n.anchor(b, digests...)
	n.WaitHeight(b, h+2)
	hc := &http.Client{Timeout: 10 * time.Second}
	gw := n.Client(b, "")
	ctx := context.Background()

	measure := func(b *testing.B, one func(i int) error) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if err := one(i); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(lat)
		pct := func(p float64) float64 {
			k := int(p*float64(len(lat))+0.999999) - 1
			return float64(lat[max(k, 0)]) / float64(time.Millisecond)
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("live-status", func(b *testing.B) {
		measure(b, func(i int) error {
			resp, err := hc.Get(n.statusURL(digests[i%docs]))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %s", resp.Status)
			}
			return nil
		})
	})
	b.Run("receipt", func(b *testing.B) {
		measure(b, func(i int) error {
			_, err := gw.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: digests[i%docs]})
			return err
		})
	})
	b.Run("receipt-waiting", func(b *testing.B) {
		rb, err := receipt.FromNode(n.Node.Node)
		if err != nil {
			b.Fatal(err)
		}
		src, err := receipt.NodeSource(n.Node.Node)
		if err != nil {
			b.Fatal(err)
		}
		measure(b, func(i int) error {
			next := src.Height() + 1
			for src.Height() < next {
				time.Sleep(20 * time.Millisecond)
			}
			_, err := rb.Receipt(ctx, sha2, digests[i%docs], 0)
			return err
		})
	})
}
