package public_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/ledger"
)

// httpTiles is a client's tlog.TileReader over a public endpoint: a
// partial tile that is gone is read from its full tile.
type httpTiles struct {
	t    *testing.T
	base string
}

func (r httpTiles) Height() int { return 8 }

func (r httpTiles) get(path string) (int, []byte) {
	resp, err := http.Get(r.base + "/log/" + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func tilePath(l int, n int64, w int) string {
	p := fmt.Sprintf("tile/%d/%s", l, tlogIndex(n))
	if l < 0 {
		p = "tile/entries/" + tlogIndex(n)
	}
	if w < 256 {
		p += fmt.Sprintf(".p/%d", w)
	}
	return p
}

// tlogIndex writes an index as C2SP tlog-tiles does (independently of
// abci/tlogtiles).
func tlogIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

func (r httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		code, b := r.get(tilePath(t.L, t.N, t.W))
		if code == http.StatusNotFound && t.W < 256 {
			code, b = r.get(tilePath(t.L, t.N, 256))
			if code == http.StatusOK {
				b = b[:t.W*32]
			}
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("tile %+v: HTTP %d", t, code)
		}
		out[i] = b
	}
	return out, nil
}

func (httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// TestLogTilesOverHTTP: a real application anchors and revokes over many
// blocks; a client that knows nothing but the node's public endpoint reads
// the log's size and root, and proves every leaf's inclusion and the
// consistency of earlier sizes with tlog's own functions, from the served
// tiles, against the roots the state holds; full tiles are cacheable for
// ever, bad paths are refused.
func TestLogTilesOverHTTP(t *testing.T) {
	ctx := context.Background()
	a, err := abci.NewApplication(abci.DefaultOptions(t.TempDir(), "log-http"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	gen, _ := protojson.Marshal(abcitest.Genesis())
	if _, err := a.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: "log-http", InitialHeight: 1, AppStateBytes: gen, Time: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatal(err)
	}
	g := abcitest.New(5, "log-http")
	g.Invalid, g.MaxBatch = 0, 2
	var heights []int64
	for h := int64(1); h <= 120; h++ {
		var gtxs []abcitest.Tx
		var raws [][]byte
		for i := 0; i < 6; i++ {
			tx := g.Next()
			gtxs, raws = append(gtxs, tx), append(raws, tx.Raw)
		}
		fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: raws, Height: h, Time: time.Unix(1_800_000_000+h, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		for i, r := range fin.TxResults {
			g.Observe(gtxs[i], r.Code == 0)
		}
		heights = append(heights, h)
	}
	if err := a.FlushLog(); err != nil {
		t.Fatal(err)
	}
	base := serve(t, app.PublicConfig{RatePerSecond: 1e6, Burst: 1e6}, nil, public.Options{Log: a.LogTiles()})
	r := httpTiles{t: t, base: base}

	code, body := r.get("tree")
	var lt public.LogTree
	if code != http.StatusOK || json.Unmarshal(body, &lt) != nil {
		t.Fatalf("/log/tree: %d %s", code, body)
	}
	state, err := a.EvidenceLog(0)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := base64.StdEncoding.DecodeString(lt.Root)
	if lt.Size != state.Size || !bytes.Equal(root, state.Root) || lt.Size <= 256 {
		t.Fatalf("/log/tree %+v; the state's log: %d leaves, root %x", lt, state.Size, state.Root)
	}
	n := int64(lt.Size)
	th := tlog.Hash(root)
	hr := tlog.TileHashReader(tlog.Tree{N: n, Hash: th}, r)
	revocations := 0
	for idx := int64(0); idx*256 < n; idx++ {
		code, b := r.get(tilePath(-1, idx, int(min(256, n-idx*256))))
		if code != http.StatusOK {
			t.Fatalf("entry bundle %d: HTTP %d", idx, code)
		}
		for i := idx * 256; len(b) > 0; i++ {
			l := int(binary.BigEndian.Uint16(b))
			leaf := b[2 : 2+l]
			b = b[2+l:]
			p, err := tlog.ProveRecord(n, i, hr)
			if err != nil {
				t.Fatalf("ProveRecord(%d, %d): %v", n, i, err)
			}
			if err := tlog.CheckRecord(p, n, th, i, tlog.RecordHash(leaf)); err != nil {
				t.Fatalf("CheckRecord(%d, %d): %v", n, i, err)
			}
			if rec, err := ledger.DecodeLogLeaf(leaf); err != nil {
				t.Fatalf("leaf %d: %v", i, err)
			} else if rec.Kind == ledger.LogLeafRevocation {
				revocations++
			}
		}
	}
	if revocations == 0 {
		t.Fatal("no revocation in the log")
	}
	// Every earlier height's log is consistent with the latest.
	for _, h := range heights {
		old, err := a.EvidenceLog(h)
		if err != nil {
			t.Fatal(err)
		}
		if old.Size == 0 {
			continue
		}
		p, err := tlog.ProveTree(n, int64(old.Size), hr)
		if err != nil {
			t.Fatalf("ProveTree(%d, %d): %v", n, old.Size, err)
		}
		if err := tlog.CheckTree(p, n, th, int64(old.Size), tlog.Hash(old.Root)); err != nil {
			t.Fatalf("height %d: CheckTree(%d, %d): %v", h, n, old.Size, err)
		}
	}

	// Headers and errors.
	for _, tc := range []struct {
		path  string
		code  int
		cache string
	}{
		{"/log/tile/0/000", http.StatusOK, "public, max-age=31536000, immutable"},
		{"/log/tile/entries/000", http.StatusOK, "public, max-age=31536000, immutable"},
		{"/log/" + tilePath(0, n/256, int(n%256)), http.StatusOK, "public, max-age=60"},
		// A partial of a full tile: the full tile's first hashes.
		{"/log/tile/0/000.p/5", http.StatusOK, "public, max-age=60"},
		{"/log/tile/0/x001/000", http.StatusNotFound, "no-store"},
		{"/log/tile/3/000", http.StatusNotFound, "no-store"},
		{"/log/tile/0/0", http.StatusBadRequest, "no-store"},
		{"/log/tile/0/000.p/256", http.StatusBadRequest, "no-store"},
		{"/log/tile/../../etc/passwd", http.StatusBadRequest, "no-store"},
		{"/log/checkpoint", http.StatusNotFound, "no-store"},
		{"/log/tree", http.StatusOK, "no-cache"},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Cache-Control"), tc.code, tc.cache)
		}
	}
	t.Logf("%d leaves (%d revocations) proven from the tiles served over HTTP; %d earlier sizes consistent", n, revocations, len(heights))
}
