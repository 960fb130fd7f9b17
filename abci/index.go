package abci

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/gobtechlab/notary/ledger"
)

// digestIndex maps every anchored digest to its batch and leaf (a
// ledger.Locator). It lives outside the IAVL tree, in its own goleveldb, so
// that a batch of N digests costs N small index writes instead of N tree
// leaves (docs/DESIGN.md, "Digest index"). It is never what a proof rests on,
// and it is rebuilt from the block store when it falls behind the state.
//
// Crash consistency: Commit writes a block's entries (and the indexed height)
// before the state version is saved. An entry whose height is not below the
// height being executed is ignored, so entries left by a block whose Commit
// did not finish are invisible, and the replayed block writes them again.
type digestIndex struct {
	db     *leveldb.DB
	filter *digestFilter // nil: every lookup goes to db
}

var (
	indexEntryPrefix = []byte{'d'}
	indexHeightKey   = []byte{'h'}
)

// openDigestIndex opens the index in dir, with a digest filter of about
// filterBytes (none if filterBytes < 64), built from every entry.
func openDigestIndex(dir string, filterBytes int) (*digestIndex, error) {
	db, err := leveldb.OpenFile(filepath.Join(dir, "digests.db"), &opt.Options{
		Filter:             filter.NewBloomFilter(10),
		BlockCacheCapacity: 32 << 20,
		WriteBuffer:        32 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("open digest index: %w", err)
	}
	x := &digestIndex{db: db, filter: newDigestFilter(filterBytes)}
	if x.filter != nil {
		it := db.NewIterator(util.BytesPrefix(indexEntryPrefix), nil)
		for it.Next() {
			if k := it.Key(); len(k) > 2 {
				x.filter.add(ledger.HashAlgorithm(k[1]), k[2:])
			}
		}
		it.Release()
		if err := it.Error(); err != nil {
			db.Close()
			return nil, fmt.Errorf("digest index: build the filter: %w", err)
		}
	}
	return x, nil
}

// indexRecordBytes bounds the bytes of one entry in a goleveldb batch: a
// type byte, two length varints, the key and the encoded locator.
const indexRecordBytes = 1 + 2 + 2 + ledger.DigestSize + 2 + 20

func indexKey(alg ledger.HashAlgorithm, digest []byte) []byte {
	k := make([]byte, 0, 2+len(digest))
	k = append(k, indexEntryPrefix...)
	k = append(k, byte(alg))
	return append(k, digest...)
}

// lookup returns the locator of a digest anchored below height before.
func (x *digestIndex) lookup(alg ledger.HashAlgorithm, digest []byte, before int64) (ledger.Locator, bool, error) {
	if x.filter != nil && !x.filter.mayContain(alg, digest) {
		return ledger.Locator{}, false, nil
	}
	v, err := x.db.Get(indexKey(alg, digest), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return ledger.Locator{}, false, nil
	}
	if err != nil {
		return ledger.Locator{}, false, fmt.Errorf("digest index: %w", err)
	}
	loc, err := ledger.DecodeLocator(v)
	if err != nil {
		return ledger.Locator{}, false, fmt.Errorf("digest index: %w", err)
	}
	if loc.Height >= before {
		return ledger.Locator{}, false, nil
	}
	return loc, true, nil
}

// save writes a block's entries and marks height as indexed, durably. The
// filter learns the entries first, so that it never lacks one the index has.
func (x *digestIndex) save(entries []ledger.IndexEntry, height int64) error {
	// Sized up front: goleveldb grows a batch of more than 3,000 records by
	// a fixed number of records at a time, which copies a block's batch of
	// hundreds of thousands of entries quadratically.
	b := leveldb.MakeBatch(len(entries)*indexRecordBytes + 64)
	// In key order: consecutive inserts into goleveldb's memtable (a
	// skiplist) then walk nearly the same path, which stays in the CPU's
	// cache; in random order each insert misses the cache at every level.
	type rec struct {
		key []byte
		i   int
	}
	recs := make([]rec, len(entries))
	for i, e := range entries {
		if x.filter != nil {
			x.filter.add(e.Algorithm, e.Digest)
		}
		recs[i] = rec{indexKey(e.Algorithm, e.Digest), i}
	}
	slices.SortStableFunc(recs, func(a, b rec) int { return bytes.Compare(a.key, b.key) })
	for _, r := range recs {
		b.Put(r.key, entries[r.i].Locator.Encode())
	}
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], uint64(height))
	b.Put(indexHeightKey, h[:])
	if err := x.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("digest index: save height %d: %w", height, err)
	}
	return nil
}

// indexedHeight is the last height whose entries were saved (0 if none).
func (x *digestIndex) indexedHeight() (int64, error) {
	v, err := x.db.Get(indexHeightKey, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("digest index: bad indexed height (%v)", err)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func (x *digestIndex) close() error { return x.db.Close() }

// indexView answers ledger.DigestIndex for the execution of one height.
type indexView struct {
	x      *digestIndex
	height int64
}

func (v indexView) Lookup(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return v.x.lookup(alg, digest, v.height)
}
