package logproof

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	flog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Errors of Log's methods.
var (
	// ErrLeafNotFound: the log of the checkpoint's size has no such leaf.
	ErrLeafNotFound = errors.New("logproof: no such leaf in the log")
	// ErrInconsistent: the log, its tiles checked against the checkpoint's
	// root, does not prove what it must (a leaf that is not at its index,
	// an older checkpoint the newer one does not extend, a leaf that does
	// not decode).
	ErrInconsistent = errors.New("logproof: the log does not prove it")
	// ErrBadTiles: the tiles read do not match the checkpoint (a hash tile
	// that does not hash to its root, an entry bundle whose leaves are not
	// the leaves the hash tiles commit to, a malformed tile). It is the
	// tiles' server that fails, not the log.
	ErrBadTiles = errors.New("logproof: the tiles do not match the checkpoint")
)

// Checkpoint is the body of a checkpoint note: the log of Origin had Size
// leaves whose RFC 6962 root is Root.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   tlog.Hash
}

// ParseCheckpoint reads the body of a checkpoint note (C2SP
// tlog-checkpoint), without checking its signatures.
func ParseCheckpoint(note []byte) (Checkpoint, error) {
	body, _, ok := bytes.Cut(note, []byte("\n\n"))
	if !ok {
		return Checkpoint{}, fmt.Errorf("logproof: checkpoint: not a signed note")
	}
	var c flog.Checkpoint
	if _, err := c.Unmarshal(append(body, '\n')); err != nil {
		return Checkpoint{}, fmt.Errorf("logproof: checkpoint: %w", err)
	}
	if len(c.Hash) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("logproof: checkpoint: root of %d bytes", len(c.Hash))
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: tlog.Hash(c.Hash)}, nil
}

// Log is the evidence log of a checkpoint's size and root, read from
// tiles. Every leaf a Log returns was checked against the root. A Log
// keeps the last entry bundle it read; it is not safe for concurrent use.
type Log struct {
	tiles Tiles
	size  uint64
	root  tlog.Hash

	last  [][]byte // the leaves of entry bundle lastN, checked; nil if none
	lastN uint64
}

// NewLog returns the log of size leaves and root read from tiles.
func NewLog(tiles Tiles, size uint64, root tlog.Hash) *Log {
	return &Log{tiles: tiles, size: size, root: root}
}

// Size returns the log's size.
func (l *Log) Size() uint64 { return l.size }

// hashes returns a reader of the log's stored hashes that checks every
// tile it reads against the root.
func (l *Log) hashes(ctx context.Context) tlog.HashReader {
	return tlog.TileHashReader(tlog.Tree{N: int64(l.size), Hash: l.root}, tileReader{ctx: ctx, tiles: l.tiles})
}

type tileReader struct {
	ctx   context.Context
	tiles Tiles
}

func (tileReader) Height() int { return tlogtiles.TileHeight }

func (r tileReader) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		b, err := readTile(r.ctx, r.tiles, tlogtiles.Tile{Level: t.L, Index: uint64(t.N), Width: t.W})
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// bundle returns the leaves of entry bundle n of the log, each checked
// against its level-0 hash read through the hash tiles checked against
// the root.
func (l *Log) bundle(ctx context.Context, n uint64) ([][]byte, error) {
	if l.last != nil && l.lastN == n {
		return l.last, nil
	}
	w := l.size - n*tlogtiles.TileWidth
	if w > tlogtiles.TileWidth {
		w = tlogtiles.TileWidth
	}
	t := tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: n, Width: int(w)}
	data, err := readTile(ctx, l.tiles, t)
	if err != nil {
		return nil, err
	}
	leaves := make([][]byte, 0, w)
	for rest := data; len(rest) > 0; {
		if len(rest) < 2 || len(rest) < 2+int(binary.BigEndian.Uint16(rest)) {
			return nil, fmt.Errorf("%w: entry bundle %s is cut short", ErrBadTiles, t.Path())
		}
		if len(leaves) == int(w) {
			return nil, fmt.Errorf("%w: entry bundle %s holds more than %d leaves", ErrBadTiles, t.Path(), w)
		}
		m := 2 + int(binary.BigEndian.Uint16(rest))
		leaves = append(leaves, rest[2:m:m])
		rest = rest[m:]
	}
	if len(leaves) != int(w) {
		return nil, fmt.Errorf("%w: entry bundle %s holds %d leaves", ErrBadTiles, t.Path(), len(leaves))
	}
	idx := make([]int64, len(leaves))
	for k := range leaves {
		idx[k] = tlog.StoredHashIndex(0, int64(n*tlogtiles.TileWidth)+int64(k))
	}
	hs, err := l.hashes(ctx).ReadHashes(idx)
	if err != nil {
		return nil, fmt.Errorf("%w: the hashes of entry bundle %s: %w", ErrBadTiles, t.Path(), err)
	}
	for k, leaf := range leaves {
		if tlog.RecordHash(leaf) != hs[k] {
			return nil, fmt.Errorf("%w: leaf %d of entry bundle %s is not the log's", ErrBadTiles, k, t.Path())
		}
	}
	l.last, l.lastN = leaves, n
	return leaves, nil
}

// Leaf returns the bytes of leaf i, checked against the root.
func (l *Log) Leaf(ctx context.Context, i uint64) ([]byte, error) {
	if i >= l.size {
		return nil, fmt.Errorf("%w: leaf %d of a log of %d", ErrLeafNotFound, i, l.size)
	}
	b, err := l.bundle(ctx, i/tlogtiles.TileWidth)
	if err != nil {
		return nil, err
	}
	return b[i%tlogtiles.TileWidth], nil
}

// LeafHeight returns the height of the block that appended a leaf: the
// height in a batch record's key, or a revocation record's height.
func LeafHeight(leaf []byte) (int64, error) {
	d, err := ledger.DecodeLogLeaf(leaf)
	if err != nil {
		return 0, err
	}
	if d.Kind == ledger.LogLeafBatch {
		h, _, err := ParseBatchKey(d.Key)
		return h, err
	}
	r := &notaryv1.Revocation{}
	if err := proto.Unmarshal(d.Value, r); err != nil {
		return 0, fmt.Errorf("log leaf: revocation: %w", err)
	}
	return r.Height, nil
}

// ParseBatchKey returns the height and transaction index of a batch
// record's key (ledger.BatchKey).
func ParseBatchKey(key []byte) (int64, uint32, error) {
	want := ledger.BatchKey(0, 0)
	if len(key) != len(want) || !bytes.HasPrefix(key, want[:len(want)-12]) {
		return 0, 0, fmt.Errorf("log leaf: batch key %q", key)
	}
	rest := key[len(want)-12:]
	return int64(binary.BigEndian.Uint64(rest)), binary.BigEndian.Uint32(rest[8:]), nil
}

// FindBatch returns the index and bytes of the leaf of the batch anchored
// by transaction txIndex of height: a binary search over the entry bundles
// for the first whose last leaf is of that height or later, then a scan of
// that height's leaves. Every leaf read is checked against the root. A log
// without it is ErrLeafNotFound.
func (l *Log) FindBatch(ctx context.Context, height int64, txIndex uint32) (uint64, []byte, error) {
	key := ledger.BatchKey(height, txIndex)
	n := (l.size + tlogtiles.TileWidth - 1) / tlogtiles.TileWidth
	lo, hi := uint64(0), n // the first bundle whose last leaf's height >= height is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		b, err := l.bundle(ctx, mid)
		if err != nil {
			return 0, nil, err
		}
		h, err := LeafHeight(b[len(b)-1])
		if err != nil {
			return 0, nil, fmt.Errorf("%w: leaf %d: %w", ErrInconsistent, mid*tlogtiles.TileWidth+uint64(len(b))-1, err)
		}
		if h >= height {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	for i := lo * tlogtiles.TileWidth; i < l.size; i++ {
		leaf, err := l.Leaf(ctx, i)
		if err != nil {
			return 0, nil, err
		}
		d, err := ledger.DecodeLogLeaf(leaf)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: leaf %d: %w", ErrInconsistent, i, err)
		}
		h, err := LeafHeight(leaf)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: leaf %d: %w", ErrInconsistent, i, err)
		}
		if h > height {
			break
		}
		if d.Kind == ledger.LogLeafBatch && bytes.Equal(d.Key, key) {
			return i, leaf, nil
		}
	}
	return 0, nil, fmt.Errorf("%w: batch %d/%d is not among the log's %d leaves", ErrLeafNotFound, height, txIndex, l.size)
}

// Prove returns the RFC 6962 inclusion proof of leaf i (bytes leaf) in the
// log, its hashes in tlog's order (tlog.ProveRecord), after checking it
// with tlog.CheckRecord against the root. Tiles that do not match the
// root are ErrBadTiles; a leaf that is not leaf i is ErrInconsistent.
func (l *Log) Prove(ctx context.Context, i uint64, leaf []byte) ([][]byte, error) {
	if i >= l.size {
		return nil, fmt.Errorf("%w: leaf %d of a log of %d", ErrLeafNotFound, i, l.size)
	}
	p, err := tlog.ProveRecord(int64(l.size), int64(i), l.hashes(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: inclusion of leaf %d in %d: %w", ErrBadTiles, i, l.size, err)
	}
	if err := tlog.CheckRecord(p, int64(l.size), l.root, int64(i), tlog.RecordHash(leaf)); err != nil {
		return nil, fmt.Errorf("%w: leaf %d: %w", ErrInconsistent, i, err)
	}
	out := make([][]byte, len(p))
	for k, h := range p {
		out[k] = append([]byte(nil), h[:]...)
	}
	return out, nil
}

// Extends checks that the log extends the log of oldSize leaves whose root
// is oldRoot: a consistency proof from the tiles (tlog.ProveTree) checked
// with tlog.CheckTree. Tiles that do not match the root are ErrBadTiles; a
// log that does not extend the old one is ErrInconsistent.
func (l *Log) Extends(ctx context.Context, oldSize uint64, oldRoot tlog.Hash) error {
	switch {
	case oldSize > l.size:
		return fmt.Errorf("%w: a log of %d leaves cannot extend one of %d", ErrInconsistent, l.size, oldSize)
	case oldSize == 0:
		return nil
	}
	p, err := tlog.ProveTree(int64(l.size), int64(oldSize), l.hashes(ctx))
	if err != nil {
		return fmt.Errorf("%w: consistency of %d with %d: %w", ErrBadTiles, l.size, oldSize, err)
	}
	if err := tlog.CheckTree(p, int64(l.size), l.root, int64(oldSize), oldRoot); err != nil {
		return fmt.Errorf("%w: the log of %d does not extend the log of %d: %w", ErrInconsistent, l.size, oldSize, err)
	}
	return nil
}
