package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// syncInterval is the snapshot interval of TestStateSyncJoin's validators.
const syncInterval = 10

// TestStateSyncJoin: four validators that take a snapshot every ten
// heights anchor batches (large ones, named by hash, and a small one); once
// they hold a snapshot past the batches, they restart taking no more, two
// of them with every chunk of it corrupted on disk. A full node made to
// join by state sync (`notaryd statesync`, trusting the latest header of a
// validator) restores that snapshot, refusing the corrupted chunks and
// fetching them from the other validators, reaches the tip, follows the
// chain, and answers every lookup as a validator does.
func TestStateSyncJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five node processes for about a minute")
	}
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, FullNodes: 1, Agencies: 2, BlockInterval: 300 * time.Millisecond})
	vals, full := net.Nodes[:4], net.Nodes[4]
	setInterval := func(n *harness.Node, interval int64) {
		t.Helper()
		cfg, err := app.LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.App.Snapshots = app.SnapshotsConfig{Interval: interval, KeepRecent: 2, ChunkBytes: 2048}
		if err := app.SaveConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range vals {
		setInterval(n, syncInterval)
		n.Start()
	}
	ctx := context.Background()
	for _, n := range vals {
		if err := n.WaitHeight(ctx, 1, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var anchored [][]byte
	var last int64
	// anchor runs an anchoring load of batches of n digests (100: large
	// ones, which blocks name by hash) through the gateways for a while.
	anchor := func(n int, d time.Duration) {
		t.Helper()
		load := harness.StartLoad(net, n, harness.ViaGateway)
		time.Sleep(d)
		load.Stop()
		if load.AckCount() == 0 {
			t.Fatalf("no batch of %d acknowledged: %s", n, load.Errors())
		}
		for _, ack := range load.Acks() {
			for i := range ack.Count() {
				anchored = append(anchored, ack.Digest(i))
			}
			last = max(last, ack.Loc.Height)
		}
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
			for i := range n {
				anchored = append(anchored, ds[i*32:(i+1)*32])
			}
			return h
		}
	}
	anchor(100, 4*time.Second)
	last = max(last, submit(vals[0], net.Agencies[0], "before", 4))
	snap := (last/syncInterval + 1) * syncInterval
	var chunks int
	for _, n := range vals {
		chunks = waitSnapshot(t, n.Home, snap)
	}
	// The validators take no more snapshots (the joining node takes the
	// most recent one), and two of them serve that one corrupted.
	for _, n := range vals {
		n.Stop()
		setInterval(n, 0)
	}
	for _, n := range vals[:2] {
		for i := range chunks {
			corruptChunk(t, n.Home, snap, i)
		}
	}
	t.Logf("%d digests anchored up to height %d; snapshot %d: %d chunks, corrupted on %s and %s",
		len(anchored), last, snap, chunks, vals[0].ID, vals[1].ID)
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
	if err := full.WaitHeight(ctx, tip, 3*time.Minute); err != nil {
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
	for _, d := range anchored {
		wl, wok, werr := harness.Lookup(ctx, vals[3].Proc, d)
		gl, gok, gerr := harness.Lookup(ctx, full.Proc, d)
		if werr != nil || gerr != nil || !wok || gok != wok || gl != wl {
			t.Fatalf("lookup %x: full node %v %v %v, validator %v %v %v", d, gl, gok, gerr, wl, wok, werr)
		}
	}
}

func rpcURL(n *harness.Node) string { return "http://127.0.0.1:" + strconv.Itoa(n.RPCPort) }

func snapshotDir(home string, height int64) string {
	return filepath.Join(home, "data", "app", "snapshots", strconv.FormatInt(height, 10))
}

// waitSnapshot waits for the snapshot of height in home and returns its
// number of chunks.
func waitSnapshot(t *testing.T, home string, height int64) int {
	t.Helper()
	dir := snapshotDir(home, height)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "metadata")); err == nil {
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			return len(ents) - 1
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot %d in %s", height, home)
		}
		time.Sleep(200 * time.Millisecond)
	}
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
