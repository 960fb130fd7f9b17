package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// stateSyncPlan sizes a state sync run (runStateSync): the short test
// and the long acceptance run (statesync_long_test.go) differ only in it.
type stateSyncPlan struct {
	// interval is the validators' snapshot interval while they anchor;
	// chunkBytes the snapshots' chunk size.
	interval   int64
	chunkBytes int
	// batch is the load's batch size (digests); the load runs for at
	// least loadFor and until at least digests digests are acknowledged.
	batch   int
	loadFor time.Duration
	digests int
	// snapshotWait bounds the wait for the snapshot past the batches;
	// joinWait the joining node's wait for the tip.
	snapshotWait time.Duration
	joinWait     time.Duration
	// lookups and receipts are how many random anchored digests are
	// compared (lookups: 0 compares every one); the small batches' digests
	// are always among the receipts'.
	lookups  int
	receipts int
}

// TestStateSyncJoin: four validators that take a snapshot every ten
// heights anchor batches (large ones, named by hash, and a small one); once
// they hold a snapshot past the batches, they restart taking no more, two
// of them with every chunk of it corrupted on disk. A full node made to
// join by state sync (`notaryd statesync`, trusting the latest header of a
// validator) restores that snapshot, refusing the corrupted chunks and
// fetching them from the other validators, reaches the tip, follows the
// chain, answers every lookup as a validator does, and serves v2 receipts
// of digests anchored before the snapshot identical to a validator's
// (while refusing v1 receipts of them, FAILED_PRECONDITION naming v2).
func TestStateSyncJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five node processes for about a minute")
	}
	runStateSync(t, stateSyncPlan{
		interval: 10, chunkBytes: 2048,
		batch: 100, loadFor: 4 * time.Second,
		snapshotWait: 30 * time.Second, joinWait: 3 * time.Minute,
		receipts: 40,
	})
}

func runStateSync(t *testing.T, p stateSyncPlan) {
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, FullNodes: 1, Agencies: 2, BlockInterval: 300 * time.Millisecond})
	vals, full := net.Nodes[:4], net.Nodes[4]
	setInterval := func(n *harness.Node, interval int64) {
		t.Helper()
		cfg, err := app.LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.App.Snapshots = app.SnapshotsConfig{Interval: interval, KeepRecent: 2, ChunkBytes: p.chunkBytes}
		if err := app.SaveConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range vals {
		setInterval(n, p.interval)
		n.Start()
	}
	ctx := context.Background()
	for _, n := range vals {
		if err := n.WaitHeight(ctx, 1, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// The load's acknowledged batches, and the small batches' digests.
	var acks []harness.Ack
	var small [][]byte
	total := 0
	var last int64
	// anchor runs an anchoring load of batches of p.batch digests (large
	// ones, which blocks name by hash) through the gateways.
	anchor := func() {
		t.Helper()
		load := harness.StartLoad(net, p.batch, harness.ViaGateway)
		start := time.Now()
		for time.Since(start) < p.loadFor || load.AckCount()*p.batch < p.digests {
			time.Sleep(time.Second)
		}
		load.Stop()
		if load.AckCount() == 0 {
			t.Fatalf("no batch of %d acknowledged: %s", p.batch, load.Errors())
		}
		for _, ack := range load.Acks() {
			ack.Docs = nil
			acks = append(acks, ack)
			total += ack.Count()
			last = max(last, ack.Loc.Height)
		}
		t.Logf("%d digests anchored in %d batches in %s", total, len(acks), time.Since(start).Round(time.Second))
	}
	// submit anchors one small batch of n new digests (carried whole in its
	// block) through node's RPC; a sequence the load's last batch still
	// holds in the mempools is read again after a block.
	submit := func(node *harness.Node, agency *identity.Identity, tag string, n int) int64 {
		t.Helper()
		var ds []byte
		for i := range n {
			d := sha256.Sum256(fmt.Appendf(nil, "statesync %s %d", tag, i))
			ds = append(ds, d[:]...)
		}
		h := submitBatchRPC(ctx, t, node, agency, ds)
		for i := range n {
			small = append(small, ds[i*32:(i+1)*32])
		}
		return h
	}
	anchor()
	last = max(last, submit(vals[0], net.Agencies[0], "before", 4))
	var homes []string
	for _, n := range vals {
		homes = append(homes, n.Home)
	}
	snap, chunks := waitSnapshot(t, homes, (last/p.interval+1)*p.interval, p.snapshotWait)
	// The validators take no more snapshots and keep only that one (the
	// joining node takes the most recent one), and two of them serve it
	// corrupted.
	for _, n := range vals {
		n.Stop()
		setInterval(n, 0)
		keepSnapshot(t, n.Home, snap)
	}
	for _, n := range vals[:2] {
		for i := range chunks {
			corruptChunk(t, n.Home, snap, i)
		}
	}
	t.Logf("%d digests anchored up to height %d; snapshot %d: %d bytes in %d chunks, corrupted on %s and %s",
		total+len(small), last, snap, snapshotBytes(t, vals[3].Home, snap), chunks, vals[0].ID, vals[1].ID)
	for _, n := range vals {
		n.Start()
	}
	if err := vals[3].WaitHeight(ctx, snap+3, time.Minute); err != nil {
		t.Fatal(err)
	}

	rpcs := []string{rpcURL(vals[2]), rpcURL(vals[3])}
	out, err := exec.Command(harness.Binary(t), "statesync", "--home", full.Home, "--rpc-servers", strings.Join(rpcs, ","),
		"--trust-period", "24h").CombinedOutput()
	if err != nil {
		t.Fatalf("notaryd statesync: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	start := time.Now()
	full.Start()
	tip, err := vals[3].Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := full.WaitHeight(ctx, tip, p.joinWait); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s joined at height %d in %s", full.ID, tip, time.Since(start).Round(time.Millisecond))
	log, err := os.ReadFile(full.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "snapshot restored") {
		t.Fatal("the full node did not restore a snapshot")
	}
	refused := strings.Count(string(log), "snapshot chunk refused")
	t.Logf("%d corrupted chunks refused", refused)
	if refused == 0 {
		t.Error("no corrupted chunk was refused: the corrupted validators served none")
	}
	// It follows the chain from there: a batch anchored after it joined,
	// the app hash that signs it.
	after := submit(vals[3], net.Agencies[1], "after", 5) + 1
	if err := full.WaitHeight(ctx, after, time.Minute); err != nil {
		t.Fatal(err)
	}
	want, err := harness.Header(ctx, vals[3].Proc, after)
	if err != nil {
		t.Fatal(err)
	}
	got, err := harness.Header(ctx, full.Proc, after)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.AppHash, want.AppHash) {
		t.Fatalf("height %d: the full node's app hash %X, a validator's %X", after, got.AppHash, want.AppHash)
	}

	rng := rand.New(rand.NewPCG(uint64(snap), uint64(total)))
	pick := func(n int) [][]byte {
		var ds [][]byte
		for range n {
			a := acks[rng.IntN(len(acks))]
			ds = append(ds, a.Digest(rng.IntN(a.Count())))
		}
		return ds
	}
	var lookups [][]byte
	if p.lookups == 0 {
		for _, a := range acks {
			for i := range a.Count() {
				lookups = append(lookups, a.Digest(i))
			}
		}
		lookups = append(lookups, small...)
	} else {
		lookups = pick(p.lookups)
	}
	for _, d := range lookups {
		wl, wok, werr := harness.Lookup(ctx, vals[3].Proc, d)
		gl, gok, gerr := harness.Lookup(ctx, full.Proc, d)
		if werr != nil || gerr != nil || !wok || gok != wok || gl != wl {
			t.Fatalf("lookup %x: full node %v %v %v, validator %v %v %v", d, gl, gok, gerr, wl, wok, werr)
		}
	}
	t.Logf("%d lookups equal", len(lookups))
	compareReceipts(t, net, vals[3], full, snap, append(small[:4:4], pick(p.receipts)...))
}

// compareReceipts checks that full (a node that joined by state sync, or
// one that prunes) and old (an archive node) answer identical v2 receipts
// of digests anchored below the earliest state full holds, snap (the
// snapshot's height, or the height it pruned to), once both serve the same
// checkpoint, that they verify under the network's trust bundle, and that
// full refuses v1 receipts of them (FAILED_PRECONDITION, naming v2).
func compareReceipts(t *testing.T, net *harness.Net, old, full *harness.Node, snap int64, digests [][]byte) {
	t.Helper()
	ctx := context.Background()
	tb, err := os.ReadFile(net.TrustBundle)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	gwOld, err := net.Gateway(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	gwFull, err := net.Gateway(full, nil)
	if err != nil {
		t.Fatal(err)
	}
	// receipt answers the canonical bytes of a v2 receipt of digest,
	// retried while no valid checkpoint covers it yet.
	receipt := func(gw gatewayv1.GatewayClient, digest []byte) (*notaryv1.Receipt, []byte) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			res, err := gw.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: digest, Version: 2})
			if err == nil {
				b, err := verify.EncodeReceipt(res.Receipt)
				if err != nil {
					t.Fatal(err)
				}
				return res.Receipt, b
			}
			if status.Code(err) != codes.FailedPrecondition || time.Now().After(deadline) {
				t.Fatalf("GetReceipt v2 of %x: %v", digest, err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	for _, d := range digests {
		// Both answer from their latest valid checkpoint: one that gained
		// a signature or a checkpoint that one node committed before the
		// other makes the pair differ in it only, and it is asked again.
		for attempt := 0; ; attempt++ {
			ro, bo := receipt(gwOld, d)
			rf, bf := receipt(gwFull, d)
			if bytes.Equal(bo, bf) {
				if res, err := verify.VerifyReceipt(rf, trust, nil); err != nil || res.Verdict == verify.NotValid {
					t.Fatalf("verify the joined node's v2 receipt of %x: %v %+v", d, err, res)
				}
				break
			}
			if string(ro.Log.Checkpoint) == string(rf.Log.Checkpoint) || attempt == 20 {
				t.Fatalf("v2 receipts of %x differ:\n%s\n%s", d, protojson.Format(ro), protojson.Format(rf))
			}
			time.Sleep(500 * time.Millisecond)
		}
		_, err := gwFull.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: d})
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "v2") {
			t.Fatalf("v1 receipt of %x anchored below the earliest state %d of %s: %v", d, snap, full.ID, err)
		}
	}
	t.Logf("%d v2 receipts equal byte for byte and verified; v1 refused on %s", len(digests), full.ID)
}

func rpcURL(n *harness.Node) string { return "http://127.0.0.1:" + strconv.Itoa(n.RPCPort) }

func snapshotDir(home string, height int64) string {
	return filepath.Join(home, "data", "app", "snapshots", strconv.FormatInt(height, 10))
}

// waitSnapshot waits for a snapshot of height from or above that every
// home holds (a node skips a snapshot due while it still writes the
// previous one) and returns its height and number of chunks.
func waitSnapshot(t *testing.T, homes []string, from int64, timeout time.Duration) (int64, int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		count := map[int64]int{}
		chunks := map[int64]int{}
		for _, home := range homes {
			ents, _ := os.ReadDir(filepath.Join(home, "data", "app", "snapshots"))
			for _, e := range ents {
				h, err := strconv.ParseInt(e.Name(), 10, 64)
				if err != nil || h < from {
					continue
				}
				if _, err := os.Stat(filepath.Join(snapshotDir(home, h), "metadata")); err != nil {
					continue
				}
				files, err := os.ReadDir(snapshotDir(home, h))
				if err != nil {
					t.Fatal(err)
				}
				count[h]++
				chunks[h] = len(files) - 1
			}
		}
		best := int64(-1)
		for h, c := range count {
			if c == len(homes) && (best < 0 || h < best) {
				best = h
			}
		}
		if best >= 0 {
			return best, chunks[best]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot of height %d or above in every home of %v", from, homes)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// keepSnapshot removes every snapshot in home but the one of height.
func keepSnapshot(t *testing.T, home string, height int64) {
	t.Helper()
	dir := filepath.Join(home, "data", "app", "snapshots")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != strconv.FormatInt(height, 10) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// snapshotBytes is the size of the snapshot of height in home: its chunks
// and metadata.
func snapshotBytes(t *testing.T, home string, height int64) int64 {
	t.Helper()
	ents, err := os.ReadDir(snapshotDir(home, height))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

func corruptChunk(t *testing.T, home string, height int64, i int) {
	t.Helper()
	name := filepath.Join(snapshotDir(home, height), strconv.Itoa(i))
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// submitBatchRPC anchors the digests ds in one batch of agency through
// node's CometBFT RPC and returns its height; a sequence that a batch still
// in the mempools holds is read again after a block, up to ten times.
func submitBatchRPC(ctx context.Context, t *testing.T, node *harness.Node, agency *identity.Identity, ds []byte) int64 {
	t.Helper()
	for attempt := 0; ; attempt++ {
		_, h, err := harness.Submit(ctx, node.Proc, agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{
			AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
		if err != nil && strings.Contains(err.Error(), "sequence") && attempt < 10 {
			time.Sleep(time.Second)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}
