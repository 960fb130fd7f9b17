// Package blockdb converts a node's block store from the split layout of
// earlier releases to CometBFT's own, which every release since keeps, so
// that CometBFT's tools (cometbft inspect, rollback) read a node's home.
//
// Earlier releases kept the block store in two goleveldb databases under
// the data directory: blockstore.db, CometBFT's own name, with the keys
// without a height ("BH:<hash>", "blockStore") and a layout mark, and
// blockstore-heights.db with the keys of each height ("H:", "P:", "C:",
// "SC:", "EC:") under the height in 8 bytes big-endian, a kind byte and,
// for a part, its number in 4 bytes (a block's commit "C:<h>" under h+1).
// Blocks carried their transactions' bytes then; blocks now name large
// transactions by hash and are a few hundred bytes, and docs/adr/ records
// why the split went.
//
// Migrate copies every key of the heights database into blockstore.db
// under CometBFT's key, syncs, removes the layout mark, then removes the
// heights database. A crash at any point leaves a store Migrate finishes
// on the next start: copying again writes the same keys, and a heights
// database without the mark is one whose keys were all copied.
//
// Tests: TestMigrate (a split store of several heights becomes exactly the
// store CometBFT's own keys describe; a second run does nothing),
// TestMigrateResumes (each crash point), TestDecodeKey (every kind, and
// malformed keys refused).
package blockdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Names under the data directory.
const (
	storeName   = "blockstore.db"
	heightsName = "blockstore-heights.db"
)

var layoutKey = []byte("notary/blockstore-layout")

// kinds are the kind bytes of the split layout.
var kinds = map[byte]string{1: "P", 2: "H", 3: "C", 4: "SC", 5: "EC"}

// copyBatch is how many keys one write of the copy holds.
const copyBatch = 256

// Migrate converts the block store in dataDir to CometBFT's layout if it is
// split, and reports whether it did.
func Migrate(dataDir string) (bool, error) {
	heightsDir := filepath.Join(dataDir, heightsName)
	if _, err := os.Stat(heightsDir); os.IsNotExist(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("blockdb: %w", err)
	}
	store, err := leveldb.OpenFile(filepath.Join(dataDir, storeName), nil)
	if err != nil {
		return false, fmt.Errorf("blockdb: open %s: %w", storeName, err)
	}
	defer func() { _ = store.Close() }()
	mark, err := store.Get(layoutKey, nil)
	switch {
	case err == leveldb.ErrNotFound:
		// Copied and unmarked before a crash: only the removal is left.
		return true, removeHeights(heightsDir)
	case err != nil:
		return false, fmt.Errorf("blockdb: read the layout mark: %w", err)
	case string(mark) != "split-v1":
		return false, fmt.Errorf("blockdb: unknown block store layout %q", mark)
	}
	heights, err := leveldb.OpenFile(heightsDir, &opt.Options{ErrorIfMissing: true})
	if err != nil {
		return false, fmt.Errorf("blockdb: open %s: %w", heightsName, err)
	}
	err = copyKeys(heights, store)
	if cerr := heights.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if err := store.Delete(layoutKey, &opt.WriteOptions{Sync: true}); err != nil {
		return false, fmt.Errorf("blockdb: remove the layout mark: %w", err)
	}
	return true, removeHeights(heightsDir)
}

// copyKeys writes every key of the heights database into store under
// CometBFT's key, and syncs.
func copyKeys(heights, store *leveldb.DB) error {
	it := heights.NewIterator(nil, nil)
	defer it.Release()
	b := new(leveldb.Batch)
	for it.Next() {
		k, err := decodeKey(it.Key())
		if err != nil {
			return err
		}
		b.Put(k, bytes.Clone(it.Value()))
		if b.Len() >= copyBatch {
			if err := store.Write(b, nil); err != nil {
				return fmt.Errorf("blockdb: copy: %w", err)
			}
			b.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("blockdb: read %s: %w", heightsName, err)
	}
	if err := store.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("blockdb: copy: %w", err)
	}
	return nil
}

func removeHeights(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("blockdb: remove %s: %w", dir, err)
	}
	return nil
}

// decodeKey returns CometBFT's key for a key of the heights database.
func decodeKey(k []byte) ([]byte, error) {
	if len(k) != 9 && len(k) != 13 {
		return nil, fmt.Errorf("blockdb: %s: key %x is not a height key", heightsName, k)
	}
	h := binary.BigEndian.Uint64(k)
	kind, ok := kinds[k[8]]
	if !ok || (kind == "P") != (len(k) == 13) || h > 1e18 || (kind == "C" && h == 0) {
		return nil, fmt.Errorf("blockdb: %s: key %x is not a height key", heightsName, k)
	}
	if kind == "C" {
		h-- // a block's commit is saved with the next block
	}
	out := []byte(kind + ":" + strconv.FormatUint(h, 10))
	if kind == "P" {
		out = append(out, ':')
		out = strconv.AppendUint(out, uint64(binary.BigEndian.Uint32(k[9:])), 10)
	}
	return out, nil
}
