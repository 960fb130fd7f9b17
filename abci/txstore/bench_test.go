package txstore

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

// BenchmarkStore: one block's work on the store, as the application does
// it (Put of the block's transactions, Sync, Named, Get of earlier named
// ones from disk), with segments of 16 MB. Without retention; with a
// retention of 8 blocks and a quarter of the transactions never named;
// and with three quarters never named, so that the collector compacts a
// segment every few blocks while the blocks go on. max-block-ms is the
// slowest block, max-put-ms and max-get-ms the slowest Put and Get.
func BenchmarkStore(b *testing.B) {
	cases := []struct {
		name      string
		retention int64
		unnamed   int // of every 4 transactions
	}{
		{"retention off", 0, 1},
		{"retention 8", 8, 1},
		{"compaction running", 8, 3},
	}
	const perBlock, txBytes = 64, 32 << 10
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			defer func(n int64) { maxSegmentBytes = n }(maxSegmentBytes)
			maxSegmentBytes = 16 << 20
			s, err := Open(b.TempDir(), Options{Retention: tc.retention})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			raw := make([]byte, txBytes)
			var named [][32]byte
			var times []time.Duration
			var maxPut, maxGet time.Duration
			b.SetBytes(perBlock * txBytes)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				var hs [][32]byte
				for j := range perBlock {
					binary.BigEndian.PutUint64(raw, uint64(i*perBlock+j))
					h := sha256.Sum256(raw)
					t := time.Now()
					if _, err := s.Put(h, raw); err != nil {
						b.Fatal(err)
					}
					maxPut = max(maxPut, time.Since(t))
					if j%4 >= tc.unnamed {
						hs = append(hs, h)
					}
				}
				if err := s.Sync(); err != nil {
					b.Fatal(err)
				}
				if err := s.Named(int64(i+1), hs); err != nil {
					b.Fatal(err)
				}
				s.Forget(hs)
				named = append(named, hs...)
				for j := range 8 {
					h := named[(i*31+j*7919)%len(named)]
					t := time.Now()
					if _, ok, err := s.Get(h); err != nil || !ok {
						b.Fatalf("Get: %v %v", ok, err)
					}
					maxGet = max(maxGet, time.Since(t))
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-block-ms")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-block-ms")
			b.ReportMetric(float64(maxPut.Microseconds())/1000, "max-put-ms")
			b.ReportMetric(float64(maxGet.Microseconds())/1000, "max-get-ms")
			b.ReportMetric(float64(s.Dropped())/float64(b.N), "dropped/block")
		})
	}
}
