package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// metricValue sums the samples of a metric whose labels include labels.
func metricValue(t *testing.T, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	found := false
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.Metric {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue metric
				}
			}
			found = true
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum, found
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.Label {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// TestChainMetrics: the chain's metrics count the digests, batches and
// revocations of committed blocks, and the gauges read the node's digest
// index, transaction store and last block; the counters of exchanges
// (one per data category), of fetches from peers and of snapshots are
// exported before anything happens.
func TestChainMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := apptest.Start(t, apptest.Options{NoEmptyBlocks: true})
	value := func(name string) float64 {
		v, ok := metricValue(t, name, nil)
		if !ok {
			t.Fatalf("%s is not exported", name)
		}
		return v
	}
	before := map[string]float64{}
	counters := []string{"notary_chain_digests_committed_total", "notary_chain_batches_committed_total", "notary_chain_revocations_total"}
	for _, name := range counters {
		before[name] = value(name)
	}
	for _, name := range []string{"notary_txsync_fetched_total", "notary_txsync_fetch_failed_total", "notary_txstore_dropped_total",
		"notary_statesync_snapshots_taken_total", "notary_statesync_snapshots_restored_total", "notary_digest_index_files"} {
		value(name)
	}
	if _, ok := metricValue(t, "notary_chain_exchanges_recorded_total", map[string]string{"category": "tax"}); !ok {
		t.Fatal("notary_chain_exchanges_recorded_total{category=\"tax\"} is not exported")
	}

	c, err := client.Dial(n.Addr, n.Identity(t, n.Agency), client.WithBareDigests())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	digests := make([][]byte, 40) // over 1 kB: the block names it by hash
	for i := range digests {
		d := make([]byte, 32)
		d[0], d[1] = byte(i), 0x5a
		digests[i] = d
	}
	res, err := c.AnchorAll(ctx, digests)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(ctx, digests[:3], notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, "metrics"); err != nil {
		t.Fatal(err)
	}
	batches := map[int64]bool{}
	for _, r := range res {
		batches[r.Height<<32|int64(r.TxIndex)] = true
	}
	want := map[string]float64{
		"notary_chain_digests_committed_total": float64(len(digests)),
		"notary_chain_batches_committed_total": float64(len(batches)),
		"notary_chain_revocations_total":       3,
	}
	for _, name := range counters {
		if got := value(name) - before[name]; got != want[name] {
			t.Errorf("%s grew by %v, want %v", name, got, want[name])
		}
	}
	if got := value("notary_digest_index_records"); got < float64(len(digests)) {
		t.Errorf("notary_digest_index_records %v, want at least %d", got, len(digests))
	}
	if got := value("notary_digest_index_filter_fill_ratio"); got <= 0 || got >= 1 {
		t.Errorf("notary_digest_index_filter_fill_ratio %v, want in (0, 1)", got)
	}
	if got := value("notary_txstore_bytes"); got < 40*32 {
		t.Errorf("notary_txstore_bytes %v, want at least the referenced batch", got)
	}
	if got := value("notary_chain_last_block_height"); got < float64(n.Height()) {
		t.Errorf("notary_chain_last_block_height %v, the node is at %d", got, n.Height())
	}
	if got := value("notary_chain_last_block_age_seconds"); got <= 0 || got > 600 {
		t.Errorf("notary_chain_last_block_age_seconds %v", got)
	}
	if got := value("notary_chain_earliest_state_height"); got != 1 {
		t.Errorf("notary_chain_earliest_state_height %v on an archive node, want 1", got)
	}
}
