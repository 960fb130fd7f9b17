package logproof_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// chain is a log grown block by block into a real tile store, with the
// size and root after every block (the checkpoints a chain could sign).
type chain struct {
	store   *tlogtiles.Store
	leaves  [][]byte
	hashes  []tlog.Hash
	batches map[[2]int64]uint64 // (height, tx index) -> leaf index
	sizes   []tlog.Tree
}

func (c *chain) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = c.hashes[x]
	}
	return out, nil
}

// block appends a block of nBatch batches, with a revocation after every
// third one.
func (c *chain) block(t *testing.T, height int64, nBatch int) {
	t.Helper()
	b := tlogtiles.Block{Height: height, Start: uint64(len(c.leaves))}
	add := func(leaf []byte) {
		hs, err := tlog.StoredHashes(int64(len(c.leaves)), leaf, c)
		if err != nil {
			t.Fatal(err)
		}
		c.hashes = append(c.hashes, hs...)
		c.leaves = append(c.leaves, leaf)
		b.Leaves = append(b.Leaves, leaf)
	}
	for tx := 0; tx < nBatch; tx++ {
		rec, _ := proto.Marshal(&notaryv1.Batch{Height: height, TxIndex: uint32(tx), AgencyId: "registro", Root: make([]byte, 32), Count: 1})
		c.batches[[2]int64{height, int64(tx)}] = uint64(len(c.leaves))
		add(ledger.EncodeLogLeaf(ledger.LogLeafBatch, ledger.BatchKey(height, uint32(tx)), rec))
		if tx%3 == 2 {
			digest := make([]byte, 32)
			digest[0], digest[1] = byte(height), byte(tx)
			rev, _ := proto.Marshal(&notaryv1.Revocation{Digest: digest, BatchHeight: height - 1, Height: height, RevokedBy: "agency/registro"})
			add(ledger.EncodeLogLeaf(ledger.LogLeafRevocation, ledger.RevocationKey(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, digest), rev))
		}
	}
	b.Size = uint64(len(c.leaves))
	root, err := tlog.TreeHash(int64(b.Size), c)
	if err != nil {
		t.Fatal(err)
	}
	b.Root = root
	if err := c.store.Append(b); err != nil {
		t.Fatal(err)
	}
	c.sizes = append(c.sizes, tlog.Tree{N: int64(b.Size), Hash: root})
}

// newChain grows a log over blocks of 1 to 300 batches (blocks across
// entry bundles, bundles holding many blocks), with blocks without
// evidence between them.
func newChain(t *testing.T) *chain {
	t.Helper()
	s, err := tlogtiles.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c := &chain{store: s, batches: map[[2]int64]uint64{}}
	for i, n := range []int{1, 2, 5, 300, 1, 3, 40, 250, 7, 1, 1, 90} {
		c.block(t, int64(3+2*i), n)
	}
	return c
}

// tamperedTiles serves tiles whose entry bundles tamper changed.
type tamperedTiles struct {
	logproof.Tiles
	tamper func([]byte) []byte
}

func (t tamperedTiles) ReadTile(ctx context.Context, tile tlogtiles.Tile) ([]byte, error) {
	b, err := t.Tiles.ReadTile(ctx, tile)
	if err != nil || tile.Level != tlogtiles.EntriesLevel {
		return b, err
	}
	return t.tamper(append([]byte(nil), b...)), nil
}

// TestLog: over a real tile store and over a public endpoint serving it,
// at the size of every block, every batch is found at its index, its
// inclusion proof checks with tlog.CheckRecord, and every earlier size is
// proven consistent; batches beyond the size, wrong leaves and wrong old
// roots are refused; entry bundles that are not the log's are the tiles'
// failure.
func TestLog(t *testing.T) {
	ctx := context.Background()
	c := newChain(t)
	srv, err := public.NewServer(app.PublicConfig{Listen: "127.0.0.1:0", RatePerSecond: 1e6, Burst: 1e6}, nil, cmtlog.NewNopLogger(), public.Options{Log: c.store})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })

	for _, tc := range []struct {
		name  string
		tiles logproof.Tiles
	}{
		{"store", logproof.StoreTiles{Store: c.store}},
		{"http", logproof.HTTPTiles{URL: "http://" + srv.Addr()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, tree := range c.sizes {
				size := uint64(tree.N)
				l := logproof.NewLog(tc.tiles, size, tree.Hash)
				for key, want := range c.batches {
					i, leaf, err := l.FindBatch(ctx, key[0], uint32(key[1]))
					if want >= size {
						if !errors.Is(err, logproof.ErrLeafNotFound) {
							t.Fatalf("size %d: batch %v at %d: %d, %v; want ErrLeafNotFound", size, key, want, i, err)
						}
						continue
					}
					if err != nil || i != want || string(leaf) != string(c.leaves[want]) {
						t.Fatalf("size %d: batch %v: %d, %v; want %d", size, key, i, err, want)
					}
					if tc.name == "http" && (want%7 != 0) {
						continue // proofs over HTTP for a sample
					}
					p, err := l.Prove(ctx, i, leaf)
					if err != nil {
						t.Fatalf("size %d: prove %d: %v", size, i, err)
					}
					var rp tlog.RecordProof
					for _, h := range p {
						rp = append(rp, tlog.Hash(h))
					}
					if err := tlog.CheckRecord(rp, tree.N, tree.Hash, int64(i), tlog.RecordHash(leaf)); err != nil {
						t.Fatalf("size %d: leaf %d: %v", size, i, err)
					}
				}
				for _, old := range c.sizes[:k+1] {
					if err := l.Extends(ctx, uint64(old.N), old.Hash); err != nil {
						t.Fatalf("%d extends %d: %v", size, old.N, err)
					}
				}
				if k > 0 {
					old := c.sizes[k-1]
					if err := l.Extends(ctx, uint64(old.N), tlog.Hash{1}); !errors.Is(err, logproof.ErrInconsistent) {
						t.Fatalf("%d extends %d with a wrong root: %v", size, old.N, err)
					}
				}
				if _, err := l.Prove(ctx, 0, []byte("not the leaf")); !errors.Is(err, logproof.ErrInconsistent) {
					t.Fatalf("size %d: a wrong leaf: %v", size, err)
				}
				if _, _, err := l.FindBatch(ctx, 4, 0); !errors.Is(err, logproof.ErrLeafNotFound) {
					t.Fatalf("size %d: a height without evidence: %v", size, err)
				}
			}
			wrong := logproof.NewLog(tc.tiles, uint64(c.sizes[3].N), tlog.Hash{1})
			if _, err := wrong.Prove(ctx, 0, c.leaves[0]); !errors.Is(err, logproof.ErrBadTiles) {
				t.Fatalf("a log of a wrong root: %v", err)
			}
			if _, _, err := wrong.FindBatch(ctx, 9, 0); !errors.Is(err, logproof.ErrBadTiles) {
				t.Fatalf("a search in a log of a wrong root: %v", err)
			}
			last := c.sizes[len(c.sizes)-1]
			for _, bad := range []struct {
				name   string
				tamper func([]byte) []byte
			}{
				{"a leaf changed", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
				{"cut short", func(b []byte) []byte { return b[:len(b)-1] }},
				{"a leaf added", func(b []byte) []byte { return append(b, 0, 1, 7) }},
			} {
				l := logproof.NewLog(tamperedTiles{tc.tiles, bad.tamper}, uint64(last.N), last.Hash)
				if _, _, err := l.FindBatch(ctx, 9, 150); !errors.Is(err, logproof.ErrBadTiles) {
					t.Fatalf("entry bundles with %s: %v", bad.name, err)
				}
			}
		})
	}
}

// TestParseCheckpoint reads a checkpoint note's body.
func TestParseCheckpoint(t *testing.T) {
	root := tlog.Hash{7}
	body := fmt.Sprintf("notary.gobtechlab/x\n12\n%s\n", root.String())
	for _, tc := range []struct {
		note string
		ok   bool
	}{
		{body + "\n— notary.gobtechlab/x/a AAAA\n", true},
		{body, false},
		{"notary.gobtechlab/x\n12\nAAAA\n\n— k AAAA\n", false},
		{"notary.gobtechlab/x\nten\n" + root.String() + "\n\n— k AAAA\n", false},
	} {
		c, err := logproof.ParseCheckpoint([]byte(tc.note))
		if (err == nil) != tc.ok {
			t.Fatalf("%q: %v", tc.note, err)
		}
		if tc.ok && (c.Size != 12 || c.Root != root || c.Origin != "notary.gobtechlab/x") {
			t.Fatalf("%q: %+v", tc.note, c)
		}
	}
}
