package blockdb

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/syndtr/goleveldb/leveldb"
)

func TestHeightKey(t *testing.T) {
	// Keys with a height, in the order SaveBlock writes them (the block's
	// parts, then its meta, the previous block's commit and its own seen
	// commit): their heights-database keys must sort the same way bytewise.
	ordered := []string{
		"H:0", "P:1:0", "P:1:1", "P:1:2", "P:1:10", "H:1", "C:0", "SC:1", "EC:1",
		"P:9:0", "H:9", "C:8", "SC:9", "EC:9",
		"P:10:0", "P:10:9", "P:10:10", "H:10", "C:9", "SC:10",
		"H:99", "P:100:0", "P:100:4294967295", "H:100", "C:99", "H:999999999999999999", "C:999999999999999999",
	}
	var prev []byte
	for _, k := range ordered {
		hk, ok := HeightKey([]byte(k))
		if !ok {
			t.Fatalf("%q: no height key", k)
		}
		if prev != nil && bytes.Compare(prev, hk) >= 0 {
			t.Fatalf("%q: %x not after %x", k, hk, prev)
		}
		prev = hk
	}
	for _, k := range []string{
		"", "blockStore", "BH:00ff", "C:", "C:01", "H:-1", "H:+1", "H:1000000000000000000", "H:1:2",
		"H:1a", "P:1", "P:1:", "P:1:01", "P:1:2:3", "P:1:4294967296", "PP:1", "X:1", ":1", "ABC:1",
	} {
		if hk, ok := HeightKey([]byte(k)); ok {
			t.Errorf("%q: height key %x, want none", k, hk)
		}
	}
}

// TestHeightKeyDistinct: random block-store-like keys (a fixed seed) never
// share a heights-database key.
func TestHeightKeyDistinct(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	num := func() string {
		switch rng.Intn(6) {
		case 0:
			return "0" + fmt.Sprint(rng.Intn(100))
		case 1:
			return ""
		default:
			return fmt.Sprint(rng.Int63n(1 << uint(rng.Intn(62)+1)))
		}
	}
	seen := map[string]string{}
	for n := 0; n < 50000; n++ {
		var k string
		if rng.Intn(2) == 0 {
			k = fmt.Sprintf("P:%s:%s", num(), num())
		} else {
			k = []string{"H", "C", "SC", "EC", "P"}[rng.Intn(5)] + ":" + num()
		}
		hk, ok := HeightKey([]byte(k))
		if !ok {
			continue
		}
		if other, dup := seen[string(hk)]; dup && other != k {
			t.Fatalf("%q and %q share %x", k, other, hk)
		}
		seen[string(hk)] = k
	}
}

// saveBlocks saves blocks from+1..to, each of txs transactions of txBytes
// pseudo-random bytes, and returns the bytes of parts saved.
func saveBlocks(t testing.TB, bs *store.BlockStore, from, to int64, txs, txBytes int) int64 {
	var stored int64
	for h := from + 1; h <= to; h++ {
		list := make(cmttypes.Txs, txs)
		for i := range list {
			tx := make([]byte, txBytes)
			seed := sha256.Sum256([]byte(fmt.Sprint(h, i)))
			for j := 0; j < len(tx); j += 32 {
				seed = sha256.Sum256(seed[:])
				copy(tx[j:], seed[:])
			}
			list[i] = tx
		}
		last := &cmttypes.Commit{Height: h - 1}
		if h > 1 {
			last = commit(h-1, cmttypes.BlockID{Hash: bytes.Repeat([]byte{2}, 32), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: bytes.Repeat([]byte{3}, 32)}})
		}
		blk := cmttypes.MakeBlock(h, list, last, nil)
		blk.Time = time.Unix(h, 0)
		blk.ProposerAddress = bytes.Repeat([]byte{1}, 20)
		blk.ValidatorsHash = bytes.Repeat([]byte{4}, 32) // else the block has no hash
		ps, err := blk.MakePartSet(cmttypes.BlockPartSizeBytes)
		if err != nil {
			t.Fatal(err)
		}
		bs.SaveBlock(blk, ps, commit(h, cmttypes.BlockID{Hash: blk.Hash(), PartSetHeader: ps.Header()}))
		stored += int64(ps.ByteSize())
	}
	return stored
}

// commit is a commit of id at height with one absent signature: enough for
// the block store, which checks the form and not the votes.
func commit(height int64, id cmttypes.BlockID) *cmttypes.Commit {
	return &cmttypes.Commit{Height: height, BlockID: id, Signatures: []cmttypes.CommitSig{{BlockIDFlag: cmttypes.BlockIDFlagAbsent}}}
}

// TestBlockStore runs CometBFT's block store over the split databases: save,
// load by height and by hash, reopen, prune.
func TestBlockStore(t *testing.T) {
	dir := t.TempDir()
	open := func() (dbm.DB, *store.BlockStore) {
		db, split, err := Open(dir)
		if err != nil || !split {
			t.Fatalf("Open: split %v, %v", split, err)
		}
		return db, store.NewBlockStore(db)
	}
	db, bs := open()
	saveBlocks(t, bs, 0, 12, 3, 100_000) // 300 kB blocks: several parts each
	check := func(from, to int64) {
		t.Helper()
		if bs.Base() != from || bs.Height() != to {
			t.Fatalf("base %d height %d, want %d %d", bs.Base(), bs.Height(), from, to)
		}
		for h := from; h <= to; h++ {
			blk := bs.LoadBlock(h)
			if blk == nil || blk.Height != h || len(blk.Txs) != 3 {
				t.Fatalf("block %d: %v", h, blk)
			}
			if byHash := bs.LoadBlockByHash(blk.Hash()); byHash == nil || byHash.Height != h {
				t.Fatalf("block %d by hash: %v", h, byHash)
			}
			if c := bs.LoadSeenCommit(h); c == nil || c.Height != h {
				t.Fatalf("seen commit %d: %v", h, c)
			}
		}
	}
	check(1, 12)
	db.Close()
	db, bs = open()
	check(1, 12)
	state := sm.State{LastBlockHeight: 12, LastBlockTime: time.Unix(1000, 0), ConsensusParams: *cmttypes.DefaultConsensusParams()}
	state.ConsensusParams.Evidence.MaxAgeNumBlocks, state.ConsensusParams.Evidence.MaxAgeDuration = 1, time.Second
	if _, _, err := bs.PruneBlocks(6, state); err != nil {
		t.Fatal(err)
	}
	check(6, 12)
	if bs.LoadBlock(5) != nil {
		t.Fatal("block 5 not pruned")
	}
	saveBlocks(t, bs, 12, 14, 3, 100_000)
	check(6, 14)
	if _, err := db.Iterator(nil, nil); err == nil {
		t.Fatal("Iterator: no error")
	}
	db.Close()
}

// TestOpenLegacy: a block store written before the split (CometBFT's single
// database) is opened as it is; an unknown layout is refused.
func TestOpenLegacy(t *testing.T) {
	dir := t.TempDir()
	old, err := dbm.NewGoLevelDB(OthersName, dir)
	if err != nil {
		t.Fatal(err)
	}
	saveBlocks(t, store.NewBlockStore(old), 0, 3, 1, 1000)
	old.Close()
	db, split, err := Open(dir)
	if err != nil || split {
		t.Fatalf("legacy: split %v, %v", split, err)
	}
	if bs := store.NewBlockStore(db); bs.Height() != 3 || bs.LoadBlock(2) == nil {
		t.Fatalf("legacy: height %d", bs.Height())
	}
	if _, err := os.Stat(filepath.Join(dir, HeightsName+".db")); err == nil {
		t.Fatal("legacy: heights database created")
	}
	db.Close()

	other := t.TempDir()
	o, err := dbm.NewGoLevelDB(OthersName, other)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SetSync(layoutKey, []byte("split-v9")); err != nil {
		t.Fatal(err)
	}
	o.Close()
	if _, _, err := Open(other); err == nil {
		t.Fatal("unknown layout: no error")
	}
}

// TestBatchOrder: a batch that only sets is written to the heights database
// first, one that deletes to the other first (the package comment).
func TestBatchOrder(t *testing.T) {
	db, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.(*Split)
	b := s.NewBatch().(*batch)
	b.Set([]byte("P:1:0"), []byte("p"))
	b.Set([]byte("blockStore"), []byte("s"))
	if o := b.order(); o[0] != b.heights {
		t.Fatal("sets: others first")
	}
	b.Delete([]byte("H:1"))
	if o := b.order(); o[0] != b.others {
		t.Fatal("deletes: heights first")
	}
	b.Close()
}

// BenchmarkSaveBlock saves b.N blocks of 150,000 digests (15 transactions
// of 321 kB, about 5 MB, as in the bench's blocks) into a CometBFT block
// store, split and as one database with the options nodes used before, and
// reports the bytes goleveldb wrote per byte of block. -benchtime 300x
// writes 1.5 GB.
func BenchmarkSaveBlock(b *testing.B) {
	for _, split := range []bool{false, true} {
		b.Run(fmt.Sprintf("split=%v", split), func(b *testing.B) {
			dir := b.TempDir()
			var (
				db  dbm.DB
				err error
			)
			if split {
				db, _, err = Open(dir)
			} else {
				db, err = dbm.NewGoLevelDBWithOpts(OthersName, dir, LegacyOptions())
			}
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			stored := saveBlocks(b, store.NewBlockStore(db), 0, int64(b.N), 15, 321_000)
			b.StopTimer()
			var written uint64
			dbs := []*dbm.GoLevelDB{}
			if s, ok := db.(*Split); ok {
				dbs = append(dbs, s.heights, s.others)
			} else {
				dbs = append(dbs, db.(*dbm.GoLevelDB))
			}
			for _, d := range dbs {
				var st leveldb.DBStats
				if err := d.DB().Stats(&st); err != nil {
					b.Fatal(err)
				}
				written += st.IOWrite
			}
			b.ReportMetric(float64(written)/float64(stored), "written/stored")
			db.Close()
		})
	}
}
