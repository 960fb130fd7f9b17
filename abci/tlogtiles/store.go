package tlogtiles

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// File names in the store's directory.
const (
	treeFile   = "tree"
	stagedFile = "staged"
)

// maxEntry bounds one leaf: its length is 16 bits in an entry bundle.
const maxEntry = 1<<16 - 1

// Tree is what the tiles hold: Size leaves whose root is Root; Height is
// the block that appended the last of them.
type Tree struct {
	Height int64
	Size   uint64
	Root   tlog.Hash
}

// Block is the leaves a block appended to the log: the log grew from Start
// to Size leaves, and Root is its root at Size (as the state says).
type Block struct {
	Height int64
	Start  uint64
	Size   uint64
	Root   tlog.Hash
	Leaves [][]byte
}

func (b *Block) check() error {
	if b.Start+uint64(len(b.Leaves)) != b.Size || len(b.Leaves) == 0 {
		return fmt.Errorf("tlogtiles: block %d: %d leaves from %d do not make %d", b.Height, len(b.Leaves), b.Start, b.Size)
	}
	for i, l := range b.Leaves {
		if len(l) > maxEntry {
			return fmt.Errorf("tlogtiles: block %d: leaf %d of %d bytes", b.Height, i, len(l))
		}
	}
	return nil
}

// ErrNotFound is returned by Read for a tile the store does not have.
var ErrNotFound = errors.New("tile not found")

// Store is a log's tiles in a directory. It is safe for concurrent use:
// one tile writer (Integrate, Append, Reset) at a time, Stage beside it (it
// waits only for the journal's trim), any number of readers.
type Store struct {
	// OnTilesWritten, if set, is called when an integration has written
	// the tiles of the block at height, before it records the new tree
	// (the abci package's crash tests stop there).
	OnTilesWritten func(height int64)

	dir string

	wmu sync.Mutex // one tile writer
	// jmu guards the journal file and failed; taken after wmu.
	jmu     sync.Mutex
	journal *os.File // the staged blocks, open for appending (Stage)
	failed  error    // why the log stopped (ErrRootMismatch)
	mu      sync.RWMutex
	tree    Tree
}

// ErrRootMismatch is returned when tiles just written do not hash to the
// state's log root. It stops the log: Stage and Integrate return it from
// then on (see the package doc).
var ErrRootMismatch = errors.New("the tiles do not hash to the log's root")

// Err returns why the log stopped (wrapping ErrRootMismatch), or nil.
func (s *Store) Err() error {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	return s.failed
}

// emptyRoot is the root of the empty log: SHA-256 of nothing.
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// Open opens (or creates) the store in dir and checks that its tiles hash
// to the root its tree file records.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tile"), 0o700); err != nil {
		return nil, fmt.Errorf("tlogtiles: %w", err)
	}
	s := &Store{dir: dir, tree: Tree{Root: emptyRoot}}
	b, err := os.ReadFile(filepath.Join(dir, treeFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("tlogtiles: %w", err)
	}
	t, err := decodeTree(b)
	if err != nil {
		return nil, fmt.Errorf("tlogtiles: %s: %w", filepath.Join(dir, treeFile), err)
	}
	root, err := s.treeHash(t.Size, t.Size)
	if err != nil {
		return nil, fmt.Errorf("tlogtiles: %s: %w", dir, err)
	}
	if root != t.Root {
		return nil, fmt.Errorf("tlogtiles: %s: the tiles of %d leaves hash to %x, the tree file says %x", dir, t.Size, root[:], t.Root[:])
	}
	s.tree = t
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Tree returns what the tiles hold.
func (s *Store) Tree() Tree {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tree
}

// Read returns the bytes of tile t, if the store holds it and it is within
// the tree the store holds.
func (s *Store) Read(t Tile) ([]byte, error) {
	size := s.Tree().Size
	if t.Level != EntriesLevel {
		size >>= uint(TileHeight * t.Level)
	}
	if end := t.Index*TileWidth + uint64(t.Width); t.Index >= (1<<64-1)/TileWidth || end > size {
		return nil, fmt.Errorf("%w: %s is beyond the log's %d leaves", ErrNotFound, t.Path(), s.Tree().Size)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(t.Path())))
	if errors.Is(err, fs.ErrNotExist) && !t.Full() {
		// A partial file is removed once its full tile is written; after a
		// Reset the tree can end inside that full tile. A store that
		// appended many leaves at once (a restored snapshot) never wrote
		// the narrower partial files: a wider one holds the tile as its
		// prefix.
		b, err = os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(Tile{Level: t.Level, Index: t.Index, Width: TileWidth}.Path())))
		if errors.Is(err, fs.ErrNotExist) {
			b, err = s.readWiderPartial(t)
		}
		if err == nil {
			n, lerr := itemsLen(t.Level, b, t.Width)
			if lerr != nil {
				return nil, fmt.Errorf("tlogtiles: %s: %w", t.Path(), lerr)
			}
			b = b[:n:n]
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, t.Path())
	}
	return b, err
}

// readWiderPartial reads the narrowest partial file of t's tile wider than
// t.
func (s *Store) readWiderPartial(t Tile) ([]byte, error) {
	dir := filepath.Join(s.dir, filepath.FromSlash(Tile{Level: t.Level, Index: t.Index, Width: TileWidth}.Path()+".p"))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	best := 0
	for _, e := range ents {
		if w, err := strconv.Atoi(e.Name()); err == nil && w > t.Width && w < TileWidth && (best == 0 || w < best) {
			best = w
		}
	}
	if best == 0 {
		return nil, fs.ErrNotExist
	}
	return os.ReadFile(filepath.Join(dir, strconv.Itoa(best)))
}

// The journal of staged blocks (the file "staged"): each record is a be32
// length and encodeBlock's bytes, which end with their SHA-256. A record
// that is cut short or does not check ends the journal: it was being
// appended when the node stopped, before the state that holds its block
// was saved.

// Stage appends a block's leaves to the journal and syncs it, before the
// state that holds them is saved: one sync, the store's only work on
// Commit's path.
func (s *Store) Stage(b Block) error {
	if err := b.check(); err != nil {
		return err
	}
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.failed != nil {
		return fmt.Errorf("tlogtiles: stage block %d: the log stopped: %w", b.Height, s.failed)
	}
	if s.journal == nil {
		p := filepath.Join(s.dir, stagedFile)
		_, statErr := os.Stat(p)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("tlogtiles: %w", err)
		}
		if errors.Is(statErr, fs.ErrNotExist) {
			if err := syncDir(s.dir); err != nil {
				_ = f.Close()
				return err
			}
		}
		s.journal = f
	}
	rec := encodeBlock(&b)
	buf := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(rec)), uint32(len(rec)))
	if _, err := s.journal.Write(append(buf, rec...)); err != nil {
		return fmt.Errorf("tlogtiles: stage block %d: %w", b.Height, err)
	}
	if err := s.journal.Sync(); err != nil {
		return fmt.Errorf("tlogtiles: stage block %d: %w", b.Height, err)
	}
	return nil
}

// Staged returns the blocks in the journal, in the order staged.
func (s *Store) Staged() ([]*Block, error) {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	blocks, _, err := s.readJournal()
	return blocks, err
}

// readJournal returns the blocks in the journal and its length (s.jmu
// held).
func (s *Store) readJournal() ([]*Block, int, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, stagedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("tlogtiles: %w", err)
	}
	return decodeJournal(b), len(b), nil
}

// decodeJournal decodes the records of a journal up to the first that is
// cut short or does not check.
func decodeJournal(b []byte) []*Block {
	var out []*Block
	for len(b) >= 4 {
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			break
		}
		blk, err := decodeBlock(b[4 : 4+n])
		if err != nil {
			break
		}
		out = append(out, blk)
		b = b[4+n:]
	}
	return out
}

// DropStaged empties the journal.
func (s *Store) DropStaged() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.jmu.Lock()
	defer s.jmu.Unlock()
	return s.rewriteJournal(nil, nil)
}

// rewriteJournal replaces the journal by the records of blocks, then tail
// (records as they are in the journal) (s.jmu held).
func (s *Store) rewriteJournal(blocks []*Block, tail []byte) error {
	if s.journal != nil {
		err := s.journal.Close()
		s.journal = nil
		if err != nil {
			return fmt.Errorf("tlogtiles: %w", err)
		}
	}
	if len(blocks) == 0 && len(tail) == 0 {
		// Not synced: records that come back after a crash are of blocks
		// the tree holds already, and are skipped.
		err := os.Truncate(filepath.Join(s.dir, stagedFile), 0)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tlogtiles: %w", err)
		}
		return nil
	}
	var buf []byte
	for _, b := range blocks {
		rec := encodeBlock(b)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(rec)))
		buf = append(buf, rec...)
	}
	return writeFileSync(s.dir, stagedFile, append(buf, tail...))
}

// ErrGap is returned by Integrate when a staged block up to its size does
// not continue the tiles.
var ErrGap = errors.New("staged blocks do not continue the tiles")

// Integrate appends to the tiles the staged blocks that end at or below
// upTo leaves (the log of the state saved last), in order, and keeps in the
// journal only the blocks beyond it. It returns how many it appended.
//
// The journal is read, then the tiles written without its lock: a Stage
// meanwhile waits only for the journal's trim, which keeps what it
// appended. A root mismatch stops the log (ErrRootMismatch).
func (s *Store) Integrate(upTo uint64) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.jmu.Lock()
	blocks, read, err := s.readJournal()
	failed := s.failed
	s.jmu.Unlock()
	if failed != nil {
		return 0, fmt.Errorf("tlogtiles: the log stopped: %w", failed)
	}
	if err != nil || len(blocks) == 0 {
		return 0, err
	}
	n, rest, err := s.integrate(blocks, upTo)
	if errors.Is(err, ErrRootMismatch) {
		s.jmu.Lock()
		s.failed = err
		s.jmu.Unlock()
	}
	if err != nil || len(rest) == len(blocks) {
		return n, err
	}
	s.jmu.Lock()
	defer s.jmu.Unlock()
	b, err := os.ReadFile(filepath.Join(s.dir, stagedFile))
	if err != nil {
		return n, fmt.Errorf("tlogtiles: %w", err)
	}
	if len(b) < read {
		return n, fmt.Errorf("tlogtiles: the journal shrank from %d to %d bytes during an integration", read, len(b))
	}
	return n, s.rewriteJournal(rest, b[read:])
}

// integrate appends the blocks that end at or below upTo and returns how
// many, and the blocks beyond upTo (s.wmu held).
func (s *Store) integrate(blocks []*Block, upTo uint64) (int, []*Block, error) {
	n := 0
	var rest []*Block
	for _, b := range blocks {
		size := s.Tree().Size
		switch {
		case b.Size <= size:
			continue
		case b.Size > upTo:
			rest = append(rest, b)
			continue
		case b.Start != size:
			return n, nil, fmt.Errorf("tlogtiles: %w: block %d starts at leaf %d, the tiles hold %d", ErrGap, b.Height, b.Start, size)
		}
		if err := s.append(b); err != nil {
			return n, nil, err
		}
		n++
	}
	return n, rest, nil
}

// Close closes the journal.
func (s *Store) Close() error {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.journal == nil {
		return nil
	}
	err := s.journal.Close()
	s.journal = nil
	return err
}

// Append appends a block's leaves to the tiles (without staging them).
func (s *Store) Append(b Block) error {
	if err := b.check(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if b.Start != s.Tree().Size {
		return fmt.Errorf("tlogtiles: block %d starts at leaf %d, the tiles hold %d", b.Height, b.Start, s.Tree().Size)
	}
	return s.append(&b)
}

// Reset makes the store hold the first size leaves of its tiles, whose root
// must be root, at height: the state was rolled back below the tiles. The
// files past size stay; an integration rewrites them with the same bytes.
func (s *Store) Reset(height int64, size uint64, root tlog.Hash) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	cur := s.Tree()
	if size > cur.Size {
		return fmt.Errorf("tlogtiles: reset to %d leaves, the tiles hold %d", size, cur.Size)
	}
	got, err := s.treeHash(size, cur.Size)
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("tlogtiles: the first %d leaves of the tiles hash to %x, want %x", size, got[:], root[:])
	}
	return s.saveTree(Tree{Height: height, Size: size, Root: root})
}

// append writes b's entry bundles and hash tiles, checks the root, then
// records the new tree and removes the partial files of the tiles that
// became full.
func (s *Store) append(b *Block) error {
	old := s.Tree().Size
	var full []Tile
	w := &syncer{}
	// Entry bundles.
	err := s.extend(EntriesLevel, old, len(b.Leaves), func(i int, buf []byte) []byte {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(b.Leaves[i])))
		return append(buf, b.Leaves[i]...)
	}, w, &full, nil)
	if err != nil {
		return err
	}
	// Hash tiles, level by level: a full tile's root is the next level's
	// new hash.
	hashes := make([]tlog.Hash, len(b.Leaves))
	for i, l := range b.Leaves {
		hashes[i] = tlog.RecordHash(l)
	}
	for level, count := 0, old; len(hashes) > 0; level, count = level+1, count>>TileHeight {
		var next []tlog.Hash
		hs := hashes
		err := s.extend(level, count, len(hs), func(i int, buf []byte) []byte {
			return append(buf, hs[i][:]...)
		}, w, &full, &next)
		if err != nil {
			return err
		}
		hashes = next
	}
	if err := w.sync(); err != nil {
		return err
	}
	if s.OnTilesWritten != nil {
		s.OnTilesWritten(b.Height)
	}
	root, err := s.treeHash(b.Size, b.Size)
	if err != nil {
		return err
	}
	if root != b.Root {
		return fmt.Errorf("tlogtiles: %w: block %d: the tiles of %d leaves hash to %x, the state's log root is %x", ErrRootMismatch, b.Height, b.Size, root[:], b.Root[:])
	}
	if err := s.saveTree(Tree{Height: b.Height, Size: b.Size, Root: b.Root}); err != nil {
		return err
	}
	for _, t := range full {
		// C2SP clients fall back to the full tile.
		_ = os.RemoveAll(filepath.Join(s.dir, filepath.FromSlash(t.Path()+".p")))
	}
	return nil
}

// extend appends n items to level (EntriesLevel: entry bundles), which
// holds count items: each tile from the one holding item count to the one
// holding item count+n-1 is rewritten with what it had and its new items
// (enc appends item i). The tiles that become full are added to full and,
// for a hash level, their roots to roots.
func (s *Store) extend(level int, count uint64, n int, enc func(i int, buf []byte) []byte, w *syncer, full *[]Tile, roots *[]tlog.Hash) error {
	end := count + uint64(n)
	for idx := count / TileWidth; idx*TileWidth < end; idx++ {
		lo, hi := max(count, idx*TileWidth), min(end, (idx+1)*TileWidth)
		k := int(lo - idx*TileWidth)
		buf, err := s.prefix(level, idx, k, k)
		if err != nil {
			return err
		}
		for i := lo; i < hi; i++ {
			buf = enc(int(i-count), buf)
		}
		t := Tile{Level: level, Index: idx, Width: int(hi - idx*TileWidth)}
		if err := w.write(s.dir, t, buf); err != nil {
			return err
		}
		if t.Full() {
			*full = append(*full, t)
			if roots != nil {
				*roots = append(*roots, tileRoot(buf))
			}
		}
	}
	return nil
}

// prefix returns the first k items of tile (level, idx), which holds have
// items: from the full tile if there is one, else from the partial tile of
// width have.
func (s *Store) prefix(level int, idx uint64, have, k int) ([]byte, error) {
	if k == 0 {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(Tile{Level: level, Index: idx, Width: TileWidth}.Path())))
	if errors.Is(err, fs.ErrNotExist) && have < TileWidth {
		b, err = os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(Tile{Level: level, Index: idx, Width: have}.Path())))
	}
	if err != nil {
		return nil, fmt.Errorf("tlogtiles: tile %d/%d: %w", level, idx, err)
	}
	n, err := itemsLen(level, b, k)
	if err != nil {
		return nil, fmt.Errorf("tlogtiles: tile %d/%d: %w", level, idx, err)
	}
	return b[:n:n], nil
}

// itemsLen returns the length of the first k items of a tile's bytes.
func itemsLen(level int, b []byte, k int) (int, error) {
	if level != EntriesLevel {
		if len(b) < k*HashSize {
			return 0, fmt.Errorf("%d bytes, want at least %d hashes", len(b), k)
		}
		return k * HashSize, nil
	}
	off := 0
	for i := 0; i < k; i++ {
		if off+2 > len(b) {
			return 0, fmt.Errorf("entry %d overruns the bundle", i)
		}
		off += 2 + int(binary.BigEndian.Uint16(b[off:]))
		if off > len(b) {
			return 0, fmt.Errorf("entry %d overruns the bundle", i)
		}
	}
	return off, nil
}

// tileRoot is the root of a full tile: the hash of its 256 subtrees.
func tileRoot(data []byte) tlog.Hash {
	hs := make([]tlog.Hash, TileWidth)
	for i := range hs {
		copy(hs[i][:], data[i*HashSize:])
	}
	for n := TileWidth; n > 1; n /= 2 {
		for i := 0; i < n/2; i++ {
			hs[i] = tlog.NodeHash(hs[2*i], hs[2*i+1])
		}
	}
	return hs[0]
}

// treeHash computes the root of the first n leaves from the tiles of a log
// of size leaves.
func (s *Store) treeHash(n, size uint64) (tlog.Hash, error) {
	if n == 0 {
		return emptyRoot, nil
	}
	return tlog.TreeHash(int64(n), s.hashReader(size))
}

// hashReader reads stored hashes (tlog's numbering) from the tiles of a
// log of size leaves.
func (s *Store) hashReader(size uint64) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		cache := map[tlog.Tile][]byte{}
		for i, x := range indexes {
			t := tlog.TileForIndex(TileHeight, x)
			data, ok := cache[t]
			if !ok {
				stored := Tile{Level: t.L, Index: uint64(t.N), Width: TileWidth}
				if w := (size >> uint(TileHeight*t.L)) - uint64(t.N)*TileWidth; w < TileWidth {
					stored.Width = int(w)
				}
				if stored.Width < t.W {
					return nil, fmt.Errorf("tlogtiles: hash %d is beyond %d leaves", x, size)
				}
				b, err := s.prefix(t.L, uint64(t.N), stored.Width, t.W)
				if err != nil {
					return nil, err
				}
				data = b
				cache[t] = b
			}
			h, err := tlog.HashFromTile(t, data, x)
			if err != nil {
				return nil, fmt.Errorf("tlogtiles: %w", err)
			}
			out[i] = h
		}
		return out, nil
	})
}

// HashReader returns a tlog.HashReader over the tiles of the tree the store
// holds, for proofs (tlog.ProveRecord, tlog.ProveTree).
func (s *Store) HashReader() tlog.HashReader { return s.hashReader(s.Tree().Size) }

func (s *Store) saveTree(t Tree) error {
	if err := writeFileSync(s.dir, treeFile, encodeTree(t)); err != nil {
		return err
	}
	s.mu.Lock()
	s.tree = t
	s.mu.Unlock()
	return nil
}

// The tree file: be64 height || be64 size || root (32) || SHA-256 of them.
func encodeTree(t Tree) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(t.Height))
	b = binary.BigEndian.AppendUint64(b, t.Size)
	b = append(b, t.Root[:]...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func decodeTree(b []byte) (Tree, error) {
	if len(b) != 8+8+HashSize+sha256.Size {
		return Tree{}, fmt.Errorf("%d bytes", len(b))
	}
	if sum := sha256.Sum256(b[:48]); !bytes.Equal(sum[:], b[48:]) {
		return Tree{}, errors.New("checksum mismatch")
	}
	t := Tree{Height: int64(binary.BigEndian.Uint64(b)), Size: binary.BigEndian.Uint64(b[8:])}
	copy(t.Root[:], b[16:48])
	return t, nil
}

// The staged file: be64 height || be64 start || be64 size || root (32) ||
// be32 count || each leaf as be32 length and bytes || SHA-256 of the rest.
func encodeBlock(b *Block) []byte {
	out := binary.BigEndian.AppendUint64(nil, uint64(b.Height))
	out = binary.BigEndian.AppendUint64(out, b.Start)
	out = binary.BigEndian.AppendUint64(out, b.Size)
	out = append(out, b.Root[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(b.Leaves)))
	for _, l := range b.Leaves {
		out = binary.BigEndian.AppendUint32(out, uint32(len(l)))
		out = append(out, l...)
	}
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

func decodeBlock(b []byte) (*Block, error) {
	if len(b) < 60+sha256.Size {
		return nil, fmt.Errorf("%d bytes", len(b))
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, errors.New("checksum mismatch")
	}
	blk := &Block{
		Height: int64(binary.BigEndian.Uint64(body)),
		Start:  binary.BigEndian.Uint64(body[8:]),
		Size:   binary.BigEndian.Uint64(body[16:]),
	}
	copy(blk.Root[:], body[24:56])
	n := binary.BigEndian.Uint32(body[56:])
	rest := body[60:]
	for i := uint32(0); i < n; i++ {
		if len(rest) < 4 || uint64(len(rest)-4) < uint64(binary.BigEndian.Uint32(rest)) {
			return nil, fmt.Errorf("leaf %d overruns", i)
		}
		l := binary.BigEndian.Uint32(rest)
		blk.Leaves = append(blk.Leaves, rest[4:4+l])
		rest = rest[4+l:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(rest))
	}
	return blk, blk.check()
}
