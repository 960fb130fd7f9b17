package abci

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/ledger"
)

// tileReader is a client's tlog.TileReader over a tile store: a partial
// tile that is gone is read from its full tile.
type tileReader struct{ s *tlogtiles.Store }

func (r tileReader) Height() int { return tlogtiles.TileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := r.s.Read(tlogtiles.Tile{Level: t.L, Index: uint64(t.N), Width: t.W})
		if errors.Is(err, tlogtiles.ErrNotFound) && t.W < tlogtiles.TileWidth {
			b, err = r.s.Read(tlogtiles.Tile{Level: t.L, Index: uint64(t.N), Width: tlogtiles.TileWidth})
			if err == nil {
				b = b[:t.W*tlogtiles.HashSize]
			}
		}
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// checkTiles checks that a's tiles hold the log of its latest state, that
// every leaf is the state record it names, and that inclusion proofs of
// every leaf and consistency proofs from earlier sizes, built from the
// tiles by tlog, verify against the state's root.
func checkTiles(t *testing.T, a *Application, sizes map[uint64][]byte) (revocations int) {
	t.Helper()
	if err := a.FlushLog(); err != nil {
		t.Fatal(err)
	}
	want, err := a.EvidenceLog(0)
	if err != nil {
		t.Fatal(err)
	}
	tiles := a.LogTiles()
	tree := tiles.Tree()
	if tree.Size != want.Size || !bytes.Equal(tree.Root[:], want.Root) {
		t.Fatalf("tiles: %d leaves, root %x; state: %d leaves, root %x", tree.Size, tree.Root[:], want.Size, want.Root)
	}
	view, err := a.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(want.Size)
	hr := tlog.TileHashReader(tlog.Tree{N: n, Hash: tree.Root}, tileReader{tiles})
	for idx := int64(0); idx*256 < n; idx++ {
		b, err := tiles.Read(tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: uint64(idx), Width: int(min(256, n-idx*256))})
		if err != nil {
			t.Fatal(err)
		}
		for i := idx * 256; len(b) > 0; i++ {
			l := int(binary.BigEndian.Uint16(b))
			leaf := b[2 : 2+l]
			b = b[2+l:]
			rec, err := ledger.DecodeLogLeaf(leaf)
			if err != nil {
				t.Fatalf("leaf %d: %v", i, err)
			}
			if rec.Kind == ledger.LogLeafRevocation {
				revocations++
			}
			if v, _ := view.Get(rec.Key); !bytes.Equal(v, rec.Value) {
				t.Fatalf("leaf %d is not the state's record at %q", i, rec.Key)
			}
			p, err := tlog.ProveRecord(n, i, hr)
			if err != nil {
				t.Fatalf("ProveRecord(%d, %d): %v", n, i, err)
			}
			if err := tlog.CheckRecord(p, n, tree.Root, i, tlog.RecordHash(leaf)); err != nil {
				t.Fatalf("CheckRecord(%d, %d): %v", n, i, err)
			}
		}
	}
	for old, root := range sizes {
		if old == 0 || int64(old) > n {
			continue
		}
		p, err := tlog.ProveTree(n, int64(old), hr)
		if err != nil {
			t.Fatalf("ProveTree(%d, %d): %v", n, old, err)
		}
		if err := tlog.CheckTree(p, n, tree.Root, int64(old), tlog.Hash(root)); err != nil {
			t.Fatalf("CheckTree(%d, %d): %v", n, old, err)
		}
	}
	return revocations
}

// copyDir copies the files of src to a new dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEvidenceLogTiles runs blocks of anchorings, revocations and other
// transactions through a real application and checks after each that the
// tiles hold the state's log (proofs from them verify with tlog), across
// restarts; that an idle block changes neither the log nor the tiles; and
// that at start the application completes a staged block whose state was
// saved, rebuilds lost tiles from the block store, and goes back to the
// state's size when the tiles are ahead of it.
func TestEvidenceLogTiles(t *testing.T) {
	dir := t.TempDir()
	blocks := memBlocks{}
	opts := DefaultOptions(dir, testChain)
	opts.Blocks = blocks
	open := func() *Application {
		a, err := NewApplication(opts)
		if err != nil {
			t.Fatalf("NewApplication: %v", err)
		}
		return a
	}
	a := open()
	defer func() { _ = a.Close() }()
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	g := abcitest.New(31, testChain)
	g.MaxBatch = 3
	roots := map[uint64][]byte{}
	logDirPath := filepath.Join(dir, logDir)
	snap := filepath.Join(t.TempDir(), "snap")
	var snapSize uint64
	h := int64(0)
	run := func(n int) {
		h++
		var gtxs []abcitest.Tx
		var raws [][]byte
		for i := 0; i < n; i++ {
			tx := g.Next()
			gtxs, raws = append(gtxs, tx), append(raws, tx.Raw)
		}
		blocks[h] = raws
		fin := finalizeCommit(t, a, h, raws)
		for i, r := range fin.TxResults {
			g.Observe(gtxs[i], r.Code == 0)
		}
		l, err := a.EvidenceLog(0)
		if err != nil {
			t.Fatal(err)
		}
		roots[l.Size] = l.Root
	}
	for i := 0; i < 30; i++ {
		run(1 + i%9)
		if i == 12 {
			// The tiles of a state that the node will lose, copied once
			// the writer has written them (it writes after Commit).
			if err := a.FlushLog(); err != nil {
				t.Fatal(err)
			}
			copyDir(t, logDirPath, snap)
			snapSize = a.LogTiles().Tree().Size
		}
		if i%7 == 6 {
			_ = a.Close()
			a = open()
		}
		checkTiles(t, a, roots)
	}
	size := a.LogTiles().Tree().Size
	if revs := checkTiles(t, a, roots); size < 40 || size <= snapSize || revs == 0 {
		t.Fatalf("the workload made %d leaves, %d of them revocations", size, revs)
	}

	// An idle block: the state's log and the tiles stay as they were.
	if err := a.FlushLog(); err != nil {
		t.Fatal(err)
	}
	before := a.LogTiles().Tree()
	h++
	blocks[h] = nil
	finalizeCommit(t, a, h, nil)
	if err := a.FlushLog(); err != nil {
		t.Fatal(err)
	}
	if after := a.LogTiles().Tree(); after != before {
		t.Fatalf("an idle block changed the tiles: %+v, then %+v", before, after)
	}

	// A block whose state was saved but whose tiles were not written:
	// its staged leaves are integrated at start.
	_ = a.Close()
	pre := filepath.Join(t.TempDir(), "pre")
	copyDir(t, logDirPath, pre)
	a = open()
	run(6)
	if err := a.FlushLog(); err != nil {
		t.Fatal(err)
	}
	_, last := lastLeaves(t, a, before.Size)
	want, err := a.EvidenceLog(0)
	if err != nil {
		t.Fatal(err)
	}
	_ = a.Close()
	if err := os.RemoveAll(logDirPath); err != nil {
		t.Fatal(err)
	}
	copyDir(t, pre, logDirPath)
	st, err := tlogtiles.Open(logDirPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Stage(tlogtiles.Block{Height: h, Start: before.Size, Size: want.Size, Root: tlog.Hash(want.Root), Leaves: last}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	a = open()
	checkTiles(t, a, roots)

	// Tiles lost: rebuilt from the block store, from an old copy or from
	// nothing.
	for _, from := range []string{snap, ""} {
		_ = a.Close()
		if err := os.RemoveAll(logDirPath); err != nil {
			t.Fatal(err)
		}
		if from != "" {
			copyDir(t, from, logDirPath)
		}
		a = open()
		checkTiles(t, a, roots)
	}

	// Tiles ahead of the state (a state restored from a backup): they go
	// back to the state's size.
	_ = a.Close()
	backup := t.TempDir()
	copyDir(t, dir, backup)
	a = open()
	run(5)
	_ = a.Close()
	if err := os.RemoveAll(filepath.Join(backup, logDir)); err != nil {
		t.Fatal(err)
	}
	copyDir(t, logDirPath, filepath.Join(backup, logDir))
	bopts := DefaultOptions(backup, testChain)
	bopts.Blocks = blocks
	b, err := NewApplication(bopts)
	if err != nil {
		t.Fatal(err)
	}
	checkTiles(t, b, roots)
	if b.LogTiles().Tree().Size >= a.LogTiles().Tree().Size {
		t.Fatal("the backup's tiles did not go back")
	}
	_ = b.Close()
	a = open()
	checkTiles(t, a, roots)
}

// lastLeaves returns the leaves of a's log from index start on.
func lastLeaves(t *testing.T, a *Application, start uint64) (uint64, [][]byte) {
	t.Helper()
	tree := a.LogTiles().Tree()
	var out [][]byte
	for i := start; i < tree.Size; i++ {
		idx := i / 256
		b, err := a.LogTiles().Read(tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: idx, Width: int(min(256, tree.Size-idx*256))})
		if err != nil {
			t.Fatal(err)
		}
		for j := idx * 256; j < i; j++ {
			b = b[2+int(binary.BigEndian.Uint16(b)):]
		}
		out = append(out, b[2:2+int(binary.BigEndian.Uint16(b))])
	}
	return tree.Size, out
}
