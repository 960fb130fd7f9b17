// Package blockdb stores CometBFT v0.38's block store for a node: two
// goleveldb databases, one for the keys of each height, kept in height
// order, and one for the rest.
//
// The block store keys a block by its height in decimal: "H:<height>",
// "P:<height>:<part>", "C:<height>", "SC:<height>", "EC:<height>", beside
// "BH:<hash>" and "blockStore" (its state). In byte order "P:100:0" falls
// between "P:10:0" and "P:11:0" and each kind has its own range, so every
// table goleveldb flushes spans nearly the whole key space, and compactions
// merge it with most of the next level: a node wrote each byte of block
// four to five times, in bursts of hundreds of megabytes on every node at
// once (docs/performance.md, finding 17).
//
// Here a key with a height is stored in the heights database under its
// height (8 bytes, big-endian), a kind byte and, for a part, the part
// number, so that each new block's keys come after all older ones: tables
// never overlap, and goleveldb moves them down the levels without rewriting
// them. The other keys, a few bytes per block, go to the second database. A
// goleveldb comparer cannot do this: goleveldb v1.0.1 compares table ranges
// bytewise in places (getOverlaps), whatever the comparer.
//
// The two databases are written one after the other, not atomically, as
// CometBFT allows ("we can't trust batches to be atomic"): a batch that only
// sets keys (SaveBlock) is written to the heights database first, so the
// state never names a block whose parts are missing; a batch that deletes
// (pruning, rollback) is written to the other database first, so the state
// moves before the data goes. What a crash between the two leaves behind is
// data the state does not name.
package blockdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// File names under the data directory: the other keys keep CometBFT's name.
const (
	OthersName  = "blockstore"
	HeightsName = "blockstore-heights"
)

// layoutKey, in the others database, marks a split block store.
var (
	layoutKey   = []byte("notary/blockstore-layout")
	layoutValue = []byte("split-v1")
	stateKey    = []byte("blockStore") // CometBFT's block store state
)

// Options are the goleveldb options of the heights database, whose tables
// are written once and moved down the levels. Memtables of 16 MB: with
// 64 MB, a node spent about 6 % of its CPU filling and zeroing fresh ones
// (goleveldb keeps one spare and drops it every 30 seconds, and a 64 MB one
// filled every 15), and the 60-second bench ran at 121,700 digests/s
// against 129,800. Digests do not compress, so snappy is off.
func Options() *opt.Options {
	return &opt.Options{
		WriteBuffer:            16 << 20,
		CompactionTableSize:    16 << 20,
		Compression:            opt.NoCompression,
		DisableSeeksCompaction: true,
	}
}

// LegacyOptions tune goleveldb for a block store in CometBFT's single
// database (before the split), which takes every block (megabytes of digests a second
// under load) and never deletes.
// Its keys mix kinds ("BH:<hash>", "C:<height>", "H:<height>",
// "P:<height>:<part>"), so every table flushed from memory spans nearly the
// whole key space, and goleveldb compacts level 0 into all of level 1 that
// the range covers: with a large level 1 each flush rewrote up to a gigabyte.
// Here level 1 is kept small (20 MB; each level ten times the one before)
// and tables and memtables large, so data moves down in large, mostly
// non-overlapping tables. A synthetic block-store load of 7 GB (64 kB parts,
// synced batches) wrote 11.1 times its data with the previous options
// (16 MB memtables and tables, 1.28 GB level 1), 3.8 times with these; the
// 10-minute bench, 533 and 390 bytes per digest per node (docs/performance.md,
// finding 15). Digests do not compress, so snappy is off.
func LegacyOptions() *opt.Options {
	return &opt.Options{
		WriteBuffer:            64 << 20,
		CompactionTableSize:    64 << 20,
		CompactionTotalSize:    2 << 20,
		CompactionL0Trigger:    4,
		WriteL0SlowdownTrigger: 24,
		WriteL0PauseTrigger:    36,
		Compression:            opt.NoCompression,
		DisableSeeksCompaction: true,
	}
}

// Open opens the block store in dir, creating a split one if there is none.
// A block store created before this package (CometBFT's single database,
// with its state and no layout mark) is opened as it is, a single goleveldb
// database with LegacyOptions, and split is false.
func Open(dir string) (db dbm.DB, split bool, err error) {
	others, err := dbm.NewGoLevelDB(OthersName, dir)
	if err != nil {
		return nil, false, err
	}
	mark, err := others.Get(layoutKey)
	if err != nil {
		others.Close()
		return nil, false, err
	}
	if mark == nil {
		state, err := others.Has(stateKey)
		if err != nil {
			others.Close()
			return nil, false, err
		}
		if state {
			if _, err := os.Stat(filepath.Join(dir, HeightsName+".db")); err == nil {
				others.Close()
				return nil, false, fmt.Errorf("blockdb: %s has a block store state but no layout mark, and %s.db exists", OthersName, HeightsName)
			}
			others.Close()
			legacy, err := dbm.NewGoLevelDBWithOpts(OthersName, dir, LegacyOptions())
			if err != nil {
				return nil, false, err
			}
			return legacy, false, nil
		}
	} else if !bytes.Equal(mark, layoutValue) {
		others.Close()
		return nil, false, fmt.Errorf("blockdb: unknown block store layout %q", mark)
	}
	heights, err := dbm.NewGoLevelDBWithOpts(HeightsName, dir, Options())
	if err != nil {
		others.Close()
		return nil, false, err
	}
	if mark == nil {
		if err := others.SetSync(layoutKey, layoutValue); err != nil {
			heights.Close()
			others.Close()
			return nil, false, err
		}
	}
	return &Split{heights: heights, others: others}, true, nil
}

// Split is a block store over two databases (the package comment).
type Split struct {
	heights, others *dbm.GoLevelDB
}

var _ dbm.DB = (*Split)(nil)

// route returns the database of key and the key to use there.
func (s *Split) route(key []byte) (*dbm.GoLevelDB, []byte) {
	if k, ok := HeightKey(key); ok {
		return s.heights, k
	}
	return s.others, key
}

// Get implements dbm.DB.
func (s *Split) Get(key []byte) ([]byte, error) {
	db, k := s.route(key)
	return db.Get(k)
}

// Has implements dbm.DB.
func (s *Split) Has(key []byte) (bool, error) {
	db, k := s.route(key)
	return db.Has(k)
}

// Set implements dbm.DB.
func (s *Split) Set(key, value []byte) error {
	db, k := s.route(key)
	return db.Set(k, value)
}

// SetSync implements dbm.DB.
func (s *Split) SetSync(key, value []byte) error {
	db, k := s.route(key)
	return db.SetSync(k, value)
}

// Delete implements dbm.DB.
func (s *Split) Delete(key []byte) error {
	db, k := s.route(key)
	return db.Delete(k)
}

// DeleteSync implements dbm.DB.
func (s *Split) DeleteSync(key []byte) error {
	db, k := s.route(key)
	return db.DeleteSync(k)
}

var errNoIteration = errors.New("blockdb: the split block store is not iterated (CometBFT's block store reads keys)")

// Iterator implements dbm.DB; the block store never iterates.
func (s *Split) Iterator(start, end []byte) (dbm.Iterator, error) { return nil, errNoIteration }

// ReverseIterator implements dbm.DB; the block store never iterates.
func (s *Split) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	return nil, errNoIteration
}

// Close implements dbm.DB.
func (s *Split) Close() error {
	return errors.Join(s.heights.Close(), s.others.Close())
}

// NewBatch implements dbm.DB.
func (s *Split) NewBatch() dbm.Batch {
	return &batch{s: s, heights: s.heights.NewBatch(), others: s.others.NewBatch()}
}

// Print implements dbm.DB.
func (s *Split) Print() error {
	return errors.Join(s.heights.Print(), s.others.Print())
}

// Stats implements dbm.DB: each database's, prefixed with its name.
func (s *Split) Stats() map[string]string {
	out := map[string]string{}
	for name, db := range map[string]*dbm.GoLevelDB{HeightsName: s.heights, OthersName: s.others} {
		for k, v := range db.Stats() {
			out[name+"."+k] = v
		}
	}
	return out
}

// Compact implements dbm.DB: both databases, whole (the range is in the
// block store's keys, which the heights database does not use).
func (s *Split) Compact(start, end []byte) error {
	return errors.Join(s.heights.Compact(nil, nil), s.others.Compact(start, end))
}

type batch struct {
	s               *Split
	heights, others dbm.Batch
	deletes         bool
}

func (b *batch) Set(key, value []byte) error {
	if db, k := b.s.route(key); db == b.s.heights {
		return b.heights.Set(k, value)
	}
	return b.others.Set(key, value)
}

func (b *batch) Delete(key []byte) error {
	b.deletes = true
	if db, k := b.s.route(key); db == b.s.heights {
		return b.heights.Delete(k)
	}
	return b.others.Delete(key)
}

// order is the order in which the two batches are written (the package
// comment).
func (b *batch) order() [2]dbm.Batch {
	if b.deletes {
		return [2]dbm.Batch{b.others, b.heights}
	}
	return [2]dbm.Batch{b.heights, b.others}
}

func (b *batch) Write() error {
	for _, x := range b.order() {
		if err := x.Write(); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) WriteSync() error {
	for _, x := range b.order() {
		if err := x.WriteSync(); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) Close() error {
	return errors.Join(b.heights.Close(), b.others.Close())
}

// Kinds of height keys, in the byte after the height, in the order SaveBlock
// writes them: a block's parts one by one, then one batch of the rest.
// goleveldb puts a batch into one memtable, so a flushed table ends with a
// whole block or within its parts, and the next one starts after it.
var kinds = map[string]byte{"P": 1, "H": 2, "C": 3, "SC": 4, "EC": 5}

// HeightKey returns the heights database's key for a block store key with a
// height ("P:<height>:<part>" and the like): the height of the block whose
// save writes it, big-endian, the kind, and for a part its number. The
// block's commit "C:<h>" is saved with block h+1, so it is stored at h+1.
// It reports false for other keys, including any whose numbers are not
// spelled canonically (no sign, no leading zero), so that two keys never
// share one.
func HeightKey(key []byte) ([]byte, bool) {
	colon := bytes.IndexByte(key, ':')
	if colon < 1 || colon > 2 {
		return nil, false
	}
	kind, ok := kinds[string(key[:colon])]
	if !ok {
		return nil, false
	}
	h, rest, ok := number(key[colon+1:])
	if !ok {
		return nil, false
	}
	if key[0] == 'C' {
		h++ // at most 18 digits: no overflow
	}
	out := make([]byte, 8, 13)
	binary.BigEndian.PutUint64(out, h)
	out = append(out, kind)
	if key[0] != 'P' {
		return out, len(rest) == 0
	}
	if len(rest) < 2 || rest[0] != ':' {
		return nil, false
	}
	p, rest, ok := number(rest[1:])
	if !ok || len(rest) != 0 || p > 1<<32-1 {
		return nil, false
	}
	return binary.BigEndian.AppendUint32(out, uint32(p)), true
}

// number reads a canonical decimal (no leading zero unless it is "0") of at
// most 18 digits from the start of b.
func number(b []byte) (uint64, []byte, bool) {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n == 0 || n > 18 || (n > 1 && b[0] == '0') {
		return 0, b, false
	}
	var v uint64
	for _, c := range b[:n] {
		v = v*10 + uint64(c-'0')
	}
	return v, b[n:], true
}
