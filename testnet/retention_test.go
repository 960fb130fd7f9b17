package testnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// TestRetention: four validators, one of which keeps only the last ten
// heights (retention.keep_blocks) and a snapshot every twenty, anchor
// large batches (named by hash) and small ones (carried whole in their
// blocks) at many heights. Once the pruning validator's block store
// starts after the last anchor, and its v1 receipts of those anchors are
// refused (FAILED_PRECONDITION), its v2 receipts of 1,000 random old
// digests verify offline under the trust bundle and equal an archive
// validator's byte for byte, and its lookups equal the archive's; after a
// restart, a sample again.
func TestRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four node processes for about a minute")
	}
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, Agencies: 2, BlockInterval: 300 * time.Millisecond})
	archive, pruned := net.Nodes[0], net.Nodes[3]
	// The comparison asks both gateways for thousands of receipts: no rate
	// limit.
	for _, n := range []*harness.Node{archive, pruned} {
		cfg, err := app.LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.App.Gateway.RatePerSecond = 0
		if n == pruned {
			cfg.App.Retention = app.RetentionConfig{KeepBlocks: app.MinRetentionBlocks}
			cfg.App.Snapshots = app.SnapshotsConfig{Interval: 20, KeepRecent: 1}
		}
		if err := app.SaveConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	net.StartValidators(ctx)

	// Large batches through the gateways, then small ones, one a block,
	// through the RPC of each node in turn.
	const batch, largeDigests = 100, 1200
	load := harness.StartLoad(net, batch, harness.ViaGateway)
	for deadline := time.Now().Add(2 * time.Minute); load.AckCount()*batch < largeDigests; {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches of %d acknowledged in two minutes: %s", load.AckCount(), batch, load.Errors())
		}
		time.Sleep(500 * time.Millisecond)
	}
	load.Stop()
	var digests [][]byte
	var last int64
	for _, a := range load.Acks() {
		for i := range a.Count() {
			digests = append(digests, a.Digest(i))
		}
		last = max(last, a.Loc.Height)
	}
	large := len(digests)
	// anchorSmall anchors a batch of 4 new digests through node's RPC and
	// returns them and its height; a sequence the load's last batches
	// still hold in the mempools is read again after a block.
	anchorSmall := func(i int, node *harness.Node) ([]byte, int64) {
		t.Helper()
		var ds []byte
		for j := range 4 {
			d := sha256.Sum256(fmt.Appendf(nil, "retention %d %d", i, j))
			ds = append(ds, d[:]...)
		}
		return ds, submitBatchRPC(ctx, t, node, net.Agencies[i%len(net.Agencies)], ds)
	}
	for i := range 12 {
		ds, h := anchorSmall(i, net.Nodes[i%4])
		last = max(last, h)
		for j := range 4 {
			digests = append(digests, ds[j*32:(j+1)*32])
		}
	}
	t.Logf("%d digests anchored in large batches and %d in small ones, up to height %d", large, len(digests)-large, last)

	// The pruning validator deletes the blocks of every anchor.
	earliest := waitPruned(t, pruned, last+1, 90*time.Second)
	t.Logf("%s pruned its block store below height %d", pruned.ID, earliest)
	// A batch anchored now makes the log's next checkpoint, which covers
	// the old ones.
	anchorSmall(12, archive)

	rng := rand.New(rand.NewPCG(uint64(last), uint64(len(digests))))
	sample := make([][]byte, 0, 1000)
	// Every small batch's first digest, then random ones.
	for i := large; i < len(digests); i += 4 {
		sample = append(sample, digests[i])
	}
	for _, i := range rng.Perm(len(digests)) {
		if len(sample) == cap(sample) {
			break
		}
		if i < large || (i-large)%4 != 0 {
			sample = append(sample, digests[i])
		}
	}
	start := time.Now()
	compareLookups(t, archive, pruned, sample)
	compareReceipts(t, net, archive, pruned, earliest, sample)
	t.Logf("%d lookups and receipts compared in %s", len(sample), time.Since(start).Round(time.Millisecond))

	// A restart of the pruned node: it keeps answering.
	pruned.Stop()
	pruned.Start()
	tip, err := archive.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := pruned.WaitHeight(ctx, tip, time.Minute); err != nil {
		t.Fatal(err)
	}
	compareLookups(t, archive, pruned, sample[:50])
	compareReceipts(t, net, archive, pruned, earliest, sample[:50])
}

// waitPruned waits until node's block store starts at height from or
// above (CometBFT's /status earliest_block_height), and returns it.
func waitPruned(t *testing.T, node *harness.Node, from int64, timeout time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := node.RPC().Status(context.Background())
		if err == nil && st.SyncInfo.EarliestBlockHeight >= from {
			return st.SyncInfo.EarliestBlockHeight
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: block store not pruned to height %d: %+v %v", node.ID, from, st, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// compareLookups checks that got answers the same lookups as want.
func compareLookups(t *testing.T, want, got *harness.Node, digests [][]byte) {
	t.Helper()
	ctx := context.Background()
	for _, d := range digests {
		wl, wok, werr := harness.Lookup(ctx, want.Proc, d)
		gl, gok, gerr := harness.Lookup(ctx, got.Proc, d)
		if werr != nil || gerr != nil || !wok || gok != wok || gl != wl {
			t.Fatalf("lookup %x: %s %v %v %v, %s %v %v %v", d, got.ID, gl, gok, gerr, want.ID, wl, wok, werr)
		}
	}
}
