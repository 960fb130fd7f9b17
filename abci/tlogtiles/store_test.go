package tlogtiles_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/gobtechlab/notary/abci/tlogtiles"
)

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		tile tlogtiles.Tile
		path string
	}{
		{tlogtiles.Tile{Level: 0, Index: 0, Width: 256}, "tile/0/000"},
		{tlogtiles.Tile{Level: 0, Index: 1234067, Width: 256}, "tile/0/x001/x234/067"},
		{tlogtiles.Tile{Level: 1, Index: 1000, Width: 7}, "tile/1/x001/000.p/7"},
		{tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: 5, Width: 255}, "tile/entries/005.p/255"},
		{tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: 1<<64/256 - 1, Width: 256}, "tile/entries/x072/x057/x594/x037/x927/935"},
	} {
		if got := tc.tile.Path(); got != tc.path {
			t.Errorf("%+v: path %q, want %q", tc.tile, got, tc.path)
		}
		got, err := tlogtiles.ParsePath(tc.path)
		if err != nil || got != tc.tile {
			t.Errorf("ParsePath(%q) = %+v, %v", tc.path, got, err)
		}
	}
	for _, p := range []string{
		"", "tile", "tile/0", "tiles/0/000", "tile/8/000", "tile/00/000", "tile/-1/000", "tile/data/000",
		"tile/0/00", "tile/0/0000", "tile/0/x000/001", "tile/0/001/002", "tile/0/x01/002", "tile/0/000.p",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/x", "tile/0/000/", "tile/0//000",
		"tile/0/x999/x999/x999/x999/x999/x999/999", "tile/0/abc", "tile/entries/000.p/1/2",
	} {
		if _, err := tlogtiles.ParsePath(p); !errors.Is(err, tlogtiles.ErrBadPath) {
			t.Errorf("ParsePath(%q): %v, want ErrBadPath", p, err)
		}
	}
}

// model computes the log independently: every stored hash in memory.
type model struct {
	leaves [][]byte
	hashes []tlog.Hash
}

func (m *model) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m.hashes[x]
	}
	return out, nil
}

// block appends n leaves to the model and returns them as a Block.
func (m *model) block(t testing.TB, height int64, n int) tlogtiles.Block {
	t.Helper()
	b := tlogtiles.Block{Height: height, Start: uint64(len(m.leaves))}
	for i := 0; i < n; i++ {
		leaf := []byte(strings.Repeat(fmt.Sprintf("leaf %d;", len(m.leaves)), 1+len(m.leaves)%5))
		hs, err := tlog.StoredHashes(int64(len(m.leaves)), leaf, m)
		if err != nil {
			t.Fatal(err)
		}
		m.hashes = append(m.hashes, hs...)
		m.leaves = append(m.leaves, leaf)
		b.Leaves = append(b.Leaves, leaf)
	}
	b.Size = uint64(len(m.leaves))
	root, err := tlog.TreeHash(int64(b.Size), m)
	if err != nil {
		t.Fatal(err)
	}
	b.Root = root
	return b
}

// reader is a client's tlog.TileReader over a store's files: a partial
// tile that is gone is read from its full tile.
type reader struct{ s *tlogtiles.Store }

func (r reader) Height() int { return tlogtiles.TileHeight }

func (r reader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
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

func (reader) SaveTiles([]tlog.Tile, [][]byte) {}

// checkProofs proves leaves and older trees from the store's tiles with
// tlog's functions and checks them against the model.
func checkProofs(t *testing.T, s *tlogtiles.Store, m *model) {
	t.Helper()
	tr := s.Tree()
	n := int64(tr.Size)
	tree := tlog.Tree{N: n, Hash: tr.Root}
	hr := tlog.TileHashReader(tree, reader{s})
	for _, i := range []int64{0, n / 3, n / 2, n - 1} {
		p, err := tlog.ProveRecord(n, i, hr)
		if err != nil {
			t.Fatalf("ProveRecord(%d, %d): %v", n, i, err)
		}
		if err := tlog.CheckRecord(p, n, tr.Root, i, tlog.RecordHash(m.leaves[i])); err != nil {
			t.Fatalf("CheckRecord(%d, %d): %v", n, i, err)
		}
		old := i + 1
		oldRoot, _ := tlog.TreeHash(old, m)
		tp, err := tlog.ProveTree(n, old, hr)
		if err != nil {
			t.Fatalf("ProveTree(%d, %d): %v", n, old, err)
		}
		if err := tlog.CheckTree(tp, n, tr.Root, old, oldRoot); err != nil {
			t.Fatalf("CheckTree(%d, %d): %v", n, old, err)
		}
	}
	// Every leaf is in its entry bundle.
	for idx := uint64(0); idx*256 < tr.Size; idx++ {
		w := int(min(256, tr.Size-idx*256))
		b, err := s.Read(tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: idx, Width: w})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < w; j++ {
			l := int(b[0])<<8 | int(b[1])
			if !bytes.Equal(b[2:2+l], m.leaves[int(idx)*256+j]) {
				t.Fatalf("bundle %d entry %d differs", idx, j)
			}
			b = b[2+l:]
		}
		if len(b) != 0 {
			t.Fatalf("bundle %d: %d trailing bytes", idx, len(b))
		}
	}
}

// TestAppend: blocks of every shape (one leaf, tile boundaries, a block
// over two levels of tiles) keep the tiles equal to the log, across
// reopenings; proofs built from them verify.
func TestAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 66,000 leaves")
	}
	dir := t.TempDir()
	s, err := tlogtiles.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m model
	height := int64(0)
	for _, n := range []int{1, 1, 253, 1, 300, 256, 65536 - 812 + 3, 1, 600} {
		height++
		b := m.block(t, height, n)
		if err := s.Append(b); err != nil {
			t.Fatalf("block %d: %v", height, err)
		}
		if got := s.Tree(); got.Size != b.Size || got.Root != b.Root || got.Height != height {
			t.Fatalf("block %d: tree %+v", height, got)
		}
		checkProofs(t, s, &m)
		if height%3 == 0 {
			if s, err = tlogtiles.Open(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Partial tiles of full tiles are gone: read from the full tile.
	if _, err := os.Stat(filepath.Join(dir, "tile", "0", "000.p")); !os.IsNotExist(err) {
		t.Fatalf("partial files of a full tile: %v", err)
	}
	if b, err := s.Read(tlogtiles.Tile{Level: 0, Index: 0, Width: 1}); err != nil || len(b) != tlogtiles.HashSize {
		t.Fatalf("partial of a full tile: %d bytes, %v", len(b), err)
	}
	if _, err := s.Read(tlogtiles.Tile{Level: 2, Index: 0, Width: 1}); err != nil {
		t.Fatalf("level 2: %v", err)
	}
	// Nothing beyond the log.
	if _, err := s.Read(tlogtiles.Tile{Level: 0, Index: 9999, Width: 256}); !errors.Is(err, tlogtiles.ErrNotFound) {
		t.Fatalf("beyond the log: %v", err)
	}
}

// TestStageIntegrate: staged blocks survive a reopening and are
// integrated once, only up to the size given, in order; one that does not
// continue the tiles is refused; a cut journal record is ignored; a damaged
// tree file or tile is found at Open; Reset goes back to a prefix.
func TestStageIntegrate(t *testing.T) {
	dir := t.TempDir()
	s, err := tlogtiles.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m model
	b1, b2, b3 := m.block(t, 1, 300), m.block(t, 2, 5), m.block(t, 3, 7)
	for _, b := range []tlogtiles.Block{b1, b2, b3} {
		if err := s.Stage(b); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	// A record cut short by a crash.
	f, err := os.OpenFile(filepath.Join(dir, "staged"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{0, 0, 1, 0, 9, 9})
	_ = f.Close()
	if s, err = tlogtiles.Open(dir); err != nil {
		t.Fatal(err)
	}
	if staged, err := s.Staged(); err != nil || len(staged) != 3 || s.Tree().Size != 0 {
		t.Fatalf("staged %d blocks (%v), tree %+v", len(staged), err, s.Tree())
	}
	if n, err := s.Integrate(b2.Size); n != 2 || err != nil {
		t.Fatalf("Integrate: %d %v", n, err)
	}
	if n, err := s.Integrate(b2.Size); n != 0 || err != nil {
		t.Fatalf("second Integrate: %d %v", n, err)
	}
	if staged, _ := s.Staged(); len(staged) != 1 || staged[0].Height != 3 {
		t.Fatalf("the journal keeps %d blocks, want block 3", len(staged))
	}
	if n, err := s.Integrate(b3.Size); n != 1 || err != nil {
		t.Fatalf("Integrate block 3: %d %v", n, err)
	}
	checkProofs(t, s, &m)
	b4 := m.block(t, 4, 5)
	bad := b4
	bad.Start, bad.Size = b4.Start+1, b4.Size+1
	if err := s.Stage(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Integrate(1000); !errors.Is(err, tlogtiles.ErrGap) {
		t.Fatalf("a staged block that does not continue the tiles: %v", err)
	}
	if err := s.DropStaged(); err != nil {
		t.Fatal(err)
	}
	wrong := b4
	wrong.Root = tlog.Hash(sha256.Sum256([]byte("x")))
	if err := s.Append(wrong); err == nil {
		t.Fatal("a block whose root is not the tiles' was appended")
	}
	// Going back: the files of the wrong block stay, the tree does not.
	if err := s.Reset(3, b3.Size, b3.Root); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(b4); err != nil {
		t.Fatal(err)
	}
	checkProofs(t, s, &m)
	if err := s.Reset(1, b1.Size, b2.Root); err == nil {
		t.Fatal("Reset accepted a wrong root")
	}
	// Damage.
	p := filepath.Join(dir, "tile", "0", "001.p", "61")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[0] ^= 1
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tlogtiles.Open(dir); err == nil {
		t.Fatal("a damaged tile was not found")
	}
	if err := os.WriteFile(filepath.Join(dir, "tree"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tlogtiles.Open(dir); err == nil {
		t.Fatal("a damaged tree file was not found")
	}
}

// TestReadAfterReset: after a Reset into a tile that became full (its
// partial files removed), the right-edge partial tiles are served from the
// first items of the full tiles, and equal what they held.
func TestReadAfterReset(t *testing.T) {
	dir := t.TempDir()
	s, err := tlogtiles.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m model
	b1 := m.block(t, 1, 200)
	if err := s.Append(b1); err != nil {
		t.Fatal(err)
	}
	tiles := []tlogtiles.Tile{
		{Level: tlogtiles.EntriesLevel, Index: 0, Width: 200},
		{Level: 0, Index: 0, Width: 200},
	}
	want := map[tlogtiles.Tile][]byte{}
	for _, tl := range tiles {
		if want[tl], err = s.Read(tl); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(m.block(t, 2, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(1, b1.Size, b1.Root); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tile tlogtiles.Tile
		err  error
	}{
		{tiles[0], nil},
		{tiles[1], nil},
		{tlogtiles.Tile{Level: 0, Index: 0, Width: 199}, nil},
		{tlogtiles.Tile{Level: 0, Index: 0, Width: 201}, tlogtiles.ErrNotFound},
		{tlogtiles.Tile{Level: 0, Index: 0, Width: 256}, tlogtiles.ErrNotFound},
	} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(tc.tile.Path()))); tc.err == nil && !os.IsNotExist(err) {
			t.Fatalf("%s: the partial file is still there (%v)", tc.tile.Path(), err)
		}
		got, err := s.Read(tc.tile)
		if !errors.Is(err, tc.err) {
			t.Fatalf("Read(%s): %v, want %v", tc.tile.Path(), err, tc.err)
		}
		if w, ok := want[tc.tile]; ok && !bytes.Equal(got, w) {
			t.Fatalf("Read(%s) differs from the tile before the Reset", tc.tile.Path())
		}
	}
	checkProofs(t, s, &m)
}

// TestStageDuringIntegrate: Stage does not wait for an integration that
// writes tiles, and what it stages meanwhile stays in the journal.
func TestStageDuringIntegrate(t *testing.T) {
	s, err := tlogtiles.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var m model
	b1, b2, b3 := m.block(t, 1, 10), m.block(t, 2, 10), m.block(t, 3, 10)
	if err := s.Stage(b1); err != nil {
		t.Fatal(err)
	}
	writing, release := make(chan struct{}), make(chan struct{})
	s.OnTilesWritten = func(int64) {
		close(writing)
		<-release
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Integrate(b1.Size)
		done <- err
	}()
	<-writing
	staged := make(chan error, 1)
	go func() {
		err := s.Stage(b2)
		if err == nil {
			err = s.Stage(b3)
		}
		staged <- err
	}()
	select {
	case err := <-staged:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Stage waited for the integration")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.OnTilesWritten = nil
	blocks, err := s.Staged()
	if err != nil || len(blocks) != 2 || blocks[0].Height != 2 || blocks[1].Height != 3 {
		t.Fatalf("the journal holds %d blocks (%v), want blocks 2 and 3", len(blocks), err)
	}
	if n, err := s.Integrate(b3.Size); n != 2 || err != nil {
		t.Fatalf("Integrate: %d, %v", n, err)
	}
	checkProofs(t, s, &m)
}

// TestRootMismatchStops: a staged block whose root the tiles do not give
// stops the log: Integrate and Stage return ErrRootMismatch, the journal
// does not grow, and a reopened store's integration fails the same way.
func TestRootMismatchStops(t *testing.T) {
	dir := t.TempDir()
	s, err := tlogtiles.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m model
	b1 := m.block(t, 1, 10)
	b1.Root = tlog.Hash(sha256.Sum256([]byte("x")))
	b2 := m.block(t, 2, 10)
	if err := s.Stage(b1); err != nil {
		t.Fatal(err)
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Integrate", func() error { _, err := s.Integrate(b1.Size); return err }},
		{"Integrate again", func() error { _, err := s.Integrate(b2.Size); return err }},
		{"Stage", func() error { return s.Stage(b2) }},
		{"Err", s.Err},
	} {
		if err := tc.call(); !errors.Is(err, tlogtiles.ErrRootMismatch) {
			t.Fatalf("%s: %v, want ErrRootMismatch", tc.name, err)
		}
	}
	if blocks, _ := s.Staged(); len(blocks) != 1 || s.Tree().Size != 0 {
		t.Fatalf("the journal holds %d blocks, the tree %d leaves", len(blocks), s.Tree().Size)
	}
	_ = s.Close()
	if s, err = tlogtiles.Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Integrate(b1.Size); !errors.Is(err, tlogtiles.ErrRootMismatch) {
		t.Fatalf("Integrate after reopening: %v", err)
	}
}

// BenchmarkStageDuringIntegrate measures Stage while another goroutine
// integrates blocks of 256 leaves without pause.
func BenchmarkStageDuringIntegrate(b *testing.B) {
	s, err := tlogtiles.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var m model
	blocks := make([]tlogtiles.Block, b.N)
	for i := range blocks {
		blocks[i] = m.block(b, int64(i+1), 256)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Integrate(1 << 62); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	b.ResetTimer()
	for i := range blocks {
		if err := s.Stage(blocks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
}

// TestReadNarrowerPartial: a store that appended many leaves at once (a
// restored snapshot's) wrote no partial file of a narrower width; it reads
// that tile from the wider one, as a store that appended the leaves
// little by little reads its own file.
func TestReadNarrowerPartial(t *testing.T) {
	var m model
	b1, b2 := m.block(t, 1, 2), m.block(t, 2, 198)
	whole, err := tlogtiles.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	all := tlogtiles.Block{Height: 2, Start: 0, Size: b2.Size, Root: b2.Root, Leaves: append(append([][]byte{}, b1.Leaves...), b2.Leaves...)}
	if err := whole.Append(all); err != nil {
		t.Fatal(err)
	}
	steps, err := tlogtiles.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []tlogtiles.Block{b1, b2} {
		if err := steps.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, tile := range []tlogtiles.Tile{
		{Level: tlogtiles.EntriesLevel, Index: 0, Width: 2},
		{Level: tlogtiles.EntriesLevel, Index: 0, Width: 199},
		{Level: 0, Index: 0, Width: 2},
		{Level: 0, Index: 0, Width: 200},
	} {
		want, err := steps.Read(tile)
		if err != nil {
			t.Fatal(err)
		}
		got, err := whole.Read(tile)
		if err != nil {
			t.Fatalf("Read(%s): %v", tile.Path(), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Read(%s) differs from the store that appended the leaves in two blocks", tile.Path())
		}
	}
	if _, err := whole.Read(tlogtiles.Tile{Level: 0, Index: 0, Width: 201}); !errors.Is(err, tlogtiles.ErrNotFound) {
		t.Fatalf("beyond the log: %v", err)
	}
}
