package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io/fs"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// dataBytes is the size of the files under a node's data directory.
func dataBytes(t *testing.T, home string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(home, "data"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// idleWindow is how long TestIdleChain watches an idle network, and
// idleBytesBound what a node's data directory may grow in that time: a
// generous bound (a few KB a minute is the goal), far below what a block
// per interval would write.
const (
	idleWindow     = 30 * time.Second
	idleBytesBound = 64 << 10
)

// TestIdleChain: four validators configured as `notaryd testnet` makes
// them (no empty blocks). After an anchoring, the chain makes the block
// that carries it, the blocks that carry the validators' signatures of the
// checkpoint it made, and the one that signs their app hash, then no more: while
// it is idle the height and the app hash stay the same and the nodes'
// data directories barely grow. The anchored batch's record, read at the
// latest height, verifies against the app hash of the latest header: the
// status "as of now" of an idle chain.
func TestIdleChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes for about a minute")
	}
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, Agencies: 1, BlockInterval: 200 * time.Millisecond, NoEmptyBlocks: true})
	for _, n := range net.Nodes {
		n.Start()
	}
	ctx := context.Background()
	for _, n := range net.Nodes {
		if err := n.WaitHeight(ctx, 1, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var ds []byte
	for i := range 4 {
		d := sha256.Sum256([]byte{'i', 'd', 'l', 'e', byte(i)})
		ds = append(ds, d[:]...)
	}
	agency := net.Agencies[0]
	_, h, err := harness.Submit(ctx, net.Nodes[0].Proc, agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{
		AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("anchored at height %d", h)
	for _, n := range net.Nodes {
		if err := n.WaitHeight(ctx, h+1, 30*time.Second); err != nil {
			t.Fatalf("the block that signs height %d's app hash: %v", h, err)
		}
	}
	// The anchoring made a checkpoint point: the validators' signatures
	// of it make a block or two more (and the block that signs its app
	// hash), then nothing.
	vals := genesisValidators(t, net.Nodes[0].Home)
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b, _, err := httpGet(ctx, publicURL(net.Nodes[0])+"/log/checkpoint/1")
		if err == nil && code == http.StatusOK && bytes.Count(b, []byte("\n\u2014 ")) == len(vals) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint of the anchoring was not signed by every validator: %d %s %v", code, b, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Let the nodes make the block that signs the last signatures' app
	// hash and finish writing what the last blocks left behind.
	time.Sleep(5 * time.Second)

	type snap struct {
		height  int64
		appHash []byte
		bytes   int64
	}
	read := func() []snap {
		var out []snap
		for _, n := range net.Nodes {
			height, err := n.Height(ctx)
			if err != nil {
				t.Fatal(err)
			}
			hdr, err := harness.Header(ctx, n.Proc, height)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, snap{height, hdr.AppHash, dataBytes(t, n.Home)})
		}
		return out
	}
	before := read()
	time.Sleep(idleWindow)
	after := read()
	for i, n := range net.Nodes {
		b, a := before[i], after[i]
		if a.height != b.height || !bytes.Equal(a.appHash, b.appHash) {
			t.Errorf("%s: height %d app hash %X became %d %X while idle", n.ID, b.height, b.appHash, a.height, a.appHash)
		}
		grown := a.bytes - b.bytes
		t.Logf("%s: height %d, data/ grew %d bytes in %s", n.ID, a.height, grown, idleWindow)
		if grown > idleBytesBound {
			t.Errorf("%s: data/ grew %d bytes in %s while idle, bound %d", n.ID, grown, idleWindow, idleBytesBound)
		}
	}
	if after[0].height > h+5 {
		t.Errorf("height %d after an anchoring at %d: want the block that signs its app hash and those of the checkpoint's signatures", after[0].height, h)
	}

	// The latest header's app hash is the latest state's: a record read
	// at the latest height verifies against it.
	p := net.Nodes[1].Proc
	latest := after[1].height
	key := ledger.BatchKey(h, 0)
	pr, err := harness.Prove(ctx, p, key, latest)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Value) == 0 {
		t.Fatalf("batch %d/0 not in the state at height %d", h, latest)
	}
	if err := pr.Verify(key, after[1].appHash); err != nil {
		t.Fatal(err)
	}
}
