package testnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// genesisValidators are the validators of a node's genesis: the ministries
// with power, as a relying party's validator set.
func genesisValidators(t *testing.T, home string) []verify.LogValidator {
	t.Helper()
	doc, err := cmttypes.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g notaryv1.GenesisState
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(doc.AppState, &g); err != nil {
		t.Fatal(err)
	}
	var out []verify.LogValidator
	for _, m := range g.Ministries {
		if m.Power > 0 {
			out = append(out, verify.LogValidator{MinistryID: m.Id, PubKey: m.ConsensusPubKey, Power: m.Power})
		}
	}
	return out
}

// waitCommitted waits until a node answers queries of its latest state:
// its CometBFT may report height 1 before the state of that height is
// committed, and a query (an account's, before a submission) meanwhile
// fails with "height not available". It returns the chain's params.
func waitCommitted(t *testing.T, ctx context.Context, n *harness.Node, timeout time.Duration) *notaryv1.Params {
	t.Helper()
	params := &notaryv1.Params{}
	for deadline := time.Now().Add(timeout); ; {
		found, err := queryStore(ctx, n, ledger.ParamsKey(), 0, params)
		if err == nil && found {
			return params
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no committed state within %v: found %v, %v", n.ID, timeout, found, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// publicURL is the base URL of a node's public endpoint.
func publicURL(n *harness.Node) string {
	if strings.Contains(n.Public, "://") {
		return n.Public
	}
	return "http://" + n.Public
}

// httpGet returns the status and body of GET url.
func httpGet(ctx context.Context, url string) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header, err
}

// waitCheckpoint polls a node's /log/checkpoint until it serves a
// checkpoint of at least minSize that verifies against vals.
func waitCheckpoint(t *testing.T, ctx context.Context, n *harness.Node, chainID string, vals []verify.LogValidator, minSize uint64, timeout time.Duration) ([]byte, *verify.LogCheckpoint) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		code, b, h, err := httpGet(ctx, publicURL(n)+"/log/checkpoint")
		switch {
		case err != nil:
			last = err.Error()
		case code != http.StatusOK:
			last = fmt.Sprintf("%d %s", code, b)
		default:
			if ct := h.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			c, err := verify.VerifyLogCheckpoint(chainID, b, vals)
			if err != nil {
				t.Fatalf("the served checkpoint does not verify: %v\n%s", err, b)
			}
			if c.Size >= minSize {
				return b, c
			}
			last = fmt.Sprintf("size %d", c.Size)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s: no checkpoint of size %d or more within %s: %s", n.ID, minSize, timeout, last)
	return nil, nil
}

// httpTiles reads a node's hash tiles over HTTP for tlog (C2SP paths:
// tlog's without the tile height).
type httpTiles struct {
	ctx  context.Context
	base string
}

func (r httpTiles) Height() int { return 8 }

func (r httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		p := strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		code, b, _, err := httpGet(r.ctx, r.base+"/log/"+p)
		if err == nil && code == http.StatusNotFound && tile.W < 256 && tile.L >= 0 {
			// A partial tile is removed once its tile is full.
			full := tile
			full.W = 256
			code, b, _, err = httpGet(r.ctx, r.base+"/log/"+strings.Replace(full.Path(), "tile/8/", "tile/", 1))
			if err == nil && code == http.StatusOK {
				b = b[:tile.W*32]
			}
		}
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", p, code, b)
		}
		out[i] = b
	}
	return out, nil
}

func (r httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// TestCheckpoints: four validators anchor batches; each node signs the
// checkpoint points with its consensus key and sends the signatures
// through its mempool; every node serves at /log/checkpoint a checkpoint
// whose signatures carry more than 2/3 of the power, which verifies with
// verify.VerifyLogCheckpoint and note.Open, and whose root is the root of
// the tiles every node serves (golang.org/x/mod/sumdb/tlog). Later
// batches make a later checkpoint.
func TestCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes")
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
		waitCommitted(t, ctx, n, 30*time.Second)
	}
	vals := genesisValidators(t, net.Nodes[0].Home)
	if len(vals) != 4 {
		t.Fatalf("%d validators in the genesis", len(vals))
	}
	agency := net.Agencies[0]
	anchor := func(tag string, n int) {
		var ds []byte
		for i := range n {
			d := sha256.Sum256([]byte(fmt.Sprint(tag, i)))
			ds = append(ds, d[:]...)
		}
		if _, _, err := harness.Submit(ctx, net.Nodes[0].Proc, agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{
			AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		anchor(fmt.Sprint("ckpt-a", i), 4)
	}
	b, c := waitCheckpoint(t, ctx, net.Nodes[1], net.ChainID, vals, 1, 60*time.Second)
	t.Logf("checkpoint of size %d, signed by %v (%d of %d)\n%s", c.Size, c.Signers, c.SignedPower, c.TotalPower, b)

	// note.Open with the validators' keys.
	var vs []note.Verifier
	for _, v := range vals {
		nv, err := checkpoint.Verifier(verify.LogKeyName(net.ChainID, v.MinistryID), v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, nv)
	}
	n, err := note.Open(b, note.VerifierList(vs...))
	if err != nil || 3*len(n.Sigs) <= 2*len(vals) {
		t.Fatalf("note.Open: %d signatures, %v", len(n.Sigs), err)
	}

	// The root is the tiles' root, on every node.
	for _, node := range net.Nodes {
		r := httpTiles{ctx: ctx, base: publicURL(node)}
		var root tlog.Hash
		copy(root[:], c.Root)
		hr := tlog.TileHashReader(tlog.Tree{N: int64(c.Size), Hash: root}, r)
		th, err := tlog.TreeHash(int64(c.Size), hr)
		if err != nil {
			t.Fatalf("%s: tiles: %v", node.ID, err)
		}
		if th != root {
			t.Fatalf("%s: tiles' root %x, checkpoint's %x", node.ID, th[:], c.Root)
		}
	}

	// /log/checkpoint/<size> serves that checkpoint with the signatures
	// gathered so far; an unknown size is 404.
	code, one, _, err := httpGet(ctx, fmt.Sprintf("%s/log/checkpoint/%d", publicURL(net.Nodes[2]), c.Size))
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /log/checkpoint/%d: %d %v", c.Size, code, err)
	}
	if _, err := verify.VerifyLogCheckpoint(net.ChainID, one, vals); err != nil {
		t.Fatalf("/log/checkpoint/%d: %v", c.Size, err)
	}
	if code, _, _, _ := httpGet(ctx, fmt.Sprintf("%s/log/checkpoint/%d", publicURL(net.Nodes[2]), c.Size+1000)); code != http.StatusNotFound {
		t.Fatalf("an unknown size: %d", code)
	}

	// Later batches, past the checkpoint interval, make a later
	// checkpoint, served once signed.
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; ; i++ {
		anchor(fmt.Sprint("ckpt-b", i), 2)
		code, b, _, err := httpGet(ctx, publicURL(net.Nodes[3])+"/log/checkpoint")
		if err == nil && code == http.StatusOK {
			c2, err := verify.VerifyLogCheckpoint(net.ChainID, b, vals)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if c2.Size > c.Size {
				t.Logf("later checkpoint of size %d signed by %v", c2.Size, c2.Signers)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after size %d within 90s", c.Size)
		}
	}
}
