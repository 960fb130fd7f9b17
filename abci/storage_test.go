package abci

import (
	"bytes"
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	ics23 "github.com/cosmos/ics23/go"
	"github.com/syndtr/goleveldb/leveldb/util"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
)

// chainBlocks returns n blocks of anchoring transactions (perBatch digests
// each) from a fixed generator, all valid.
func chainBlocks(n, perBatch int) [][][]byte {
	g := abcitest.New(5, testChain)
	var blocks [][][]byte
	for h := 0; h < n; h++ {
		var txs [][]byte
		for i := 0; i < 3; i++ {
			tx := g.Anchor(abcitest.Agencies[i], perBatch)
			g.Observe(tx, true)
			txs = append(txs, tx.Raw)
		}
		blocks = append(blocks, txs)
	}
	return blocks
}

func newChain(t *testing.T, dir string) *Application {
	t.Helper()
	a := openApp(t, dir)
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	return a
}

// TestPartialVersionRolledBack forces a state version written only in part
// (its root missing, as after a crash between IAVL's batches): the
// application detects it at start, rolls it back, and the replayed block
// converges to the same app hash.
func TestPartialVersionRolledBack(t *testing.T) {
	dir := t.TempDir()
	blocks := chainBlocks(4, 50)
	a := newChain(t, dir)
	var hashes [][]byte
	for i, txs := range blocks {
		hashes = append(hashes, finalizeCommit(t, a, int64(i+1), txs).AppHash)
	}
	// Delete the root node of the last version: the tail of its write.
	root, err := rootNodeKey(a, int64(len(blocks)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.Delete(root); err != nil {
		t.Fatal(err)
	}
	_ = a.Close()

	a = openApp(t, dir)
	defer func() { _ = a.Close() }()
	info, _ := a.Info(context.Background(), &abcitypes.RequestInfo{})
	if info.LastBlockHeight != int64(len(blocks)-1) || !bytes.Equal(info.LastBlockAppHash, hashes[len(blocks)-2]) {
		t.Fatalf("after rollback: height %d hash %X, want %d %X", info.LastBlockHeight, info.LastBlockAppHash, len(blocks)-1, hashes[len(blocks)-2])
	}
	// CometBFT's handshake replays the last block: it converges.
	fin := finalizeCommit(t, a, int64(len(blocks)), blocks[len(blocks)-1])
	if !bytes.Equal(fin.AppHash, hashes[len(blocks)-1]) {
		t.Fatalf("replayed block: %X, want %X", fin.AppHash, hashes[len(blocks)-1])
	}
}

// rootNodeKey returns the database key of a version's root node (IAVL v1
// node keys: 's' || be64 version || be32 nonce, the root having nonce 1).
func rootNodeKey(a *Application, version int64) ([]byte, error) {
	k := []byte{'s', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	for i := 0; i < 8; i++ {
		k[1+i] = byte(version >> (8 * (7 - i)))
	}
	v, err := a.db.Get(k)
	if err != nil || v == nil {
		return nil, os.ErrNotExist
	}
	return k, nil
}

// TestCorruptedDatabase flips bytes in the state database's table files: the
// node either refuses to open with a clear error, or every proof it serves
// verifies; a corrupted read is an error, never a proof that fails.
func TestCorruptedDatabase(t *testing.T) {
	base := t.TempDir()
	blocks := chainBlocks(6, 20)
	a := newChain(t, base)
	for i, txs := range blocks {
		finalizeCommit(t, a, int64(i+1), txs)
	}
	var keys [][]byte
	view, _ := a.StateAt(0)
	_ = view.Iterate(nil, nil, func(k, _ []byte) bool { keys = append(keys, append([]byte(nil), k...)); return true })
	goodHash := view.Hash()
	if err := a.db.RawDB().CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	_ = a.Close()

	r := rand.New(rand.NewPCG(17, 71))
	refused, served := 0, 0
	for trial := 0; trial < 12; trial++ {
		dir := filepath.Join(t.TempDir(), "copy")
		if out, err := exec.Command("cp", "-a", base, dir).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		tables := tableFiles(t, filepath.Join(dir, "application.db"))
		if len(tables) == 0 {
			t.Fatal("no table files to corrupt")
		}
		f := tables[r.IntN(len(tables))]
		b, _ := os.ReadFile(f)
		pos := r.IntN(len(b))
		b[pos] ^= byte(1 + r.IntN(255))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := NewApplication(DefaultOptions(dir, testChain))
		if err != nil {
			if !strings.Contains(err.Error(), "damaged") && !strings.Contains(err.Error(), "corrupt") {
				t.Fatalf("trial %d: refused with an unclear error: %v", trial, err)
			}
			refused++
			continue
		}
		info, _ := c.Info(context.Background(), &abcitypes.RequestInfo{})
		if !bytes.Equal(info.LastBlockAppHash, goodHash) {
			t.Fatalf("trial %d: opened with app hash %X, want %X", trial, info.LastBlockAppHash, goodHash)
		}
		v, err := c.StateAt(0)
		if err != nil {
			refused++
			_ = c.Close()
			continue
		}
		for _, k := range keys {
			value, proof, err := v.Prove(k)
			if err != nil {
				refused++
				continue
			}
			if !ics23.VerifyMembership(ics23.IavlSpec, goodHash, proof, k, value) {
				t.Fatalf("trial %d: served a proof of %q that does not verify", trial, k)
			}
			served++
		}
		_ = c.Close()
	}
	t.Logf("corrupted reads refused: %d, proofs served and verified: %d", refused, served)
}

func tableFiles(t *testing.T, dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".ldb") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestDiskFull fills a small tmpfs: Commit fails with a clear error (its
// own, or the digest index's write of the block before) and leaves no
// half-written version; once space is back, the
// application reopens at the last complete height and the block replays to
// the same app hash as a run that never ran out of space. Needs root (mount).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	blocks := chainBlocks(8, 2000)

	// Reference run with space.
	ref := newChain(t, t.TempDir())
	var want [][]byte
	for i, txs := range blocks {
		want = append(want, finalizeCommit(t, ref, int64(i+1), txs).AppHash)
	}
	_ = ref.Close()

	dir := filepath.Join(mnt, "app")
	a := newChain(t, dir)
	for i := 0; i < 3; i++ {
		finalizeCommit(t, a, int64(i+1), blocks[i])
	}
	// Leave almost no space.
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	ctx := context.Background()
	var failedAt int64
	for i := 3; i < len(blocks); i++ {
		h := int64(i + 1)
		if _, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: blocks[i], Height: h, Time: t0.Add(time.Duration(h) * time.Second)}); err != nil {
			t.Fatalf("FinalizeBlock %d: %v", h, err)
		}
		if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("Commit %d failed without saying why: %v", h, err)
			}
			failedAt = h
			break
		}
		// The block's index run is written in the background; write it
		// now, so that the next Commit reports the disk's refusal.
		_ = a.index.Sync()
	}
	if failedAt == 0 {
		t.Fatal("the disk never filled")
	}
	_ = a.Close()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The index's runs not written are indexed again from the block store.
	opts := DefaultOptions(dir, testChain)
	opts.Blocks = memBlocks{}
	for i, txs := range blocks {
		opts.Blocks.(memBlocks)[int64(i+1)] = txs
	}
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	info, _ := a.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != failedAt-1 || !bytes.Equal(info.LastBlockAppHash, want[failedAt-2]) {
		t.Fatalf("after disk full at %d: height %d hash %X, want %d %X", failedAt, info.LastBlockHeight, info.LastBlockAppHash, failedAt-1, want[failedAt-2])
	}
	for h := failedAt; h <= int64(len(blocks)); h++ {
		if got := finalizeCommit(t, a, h, blocks[h-1]).AppHash; !bytes.Equal(got, want[h-1]) {
			t.Fatalf("height %d after space came back: %X, want %X", h, got, want[h-1])
		}
	}
	t.Logf("disk full at Commit %d; reopened at %d and caught up to %d", failedAt, failedAt-1, len(blocks))
}

// fill writes a file until the filesystem is full, then frees a little so
// that the next block's Commit, not the test, hits the limit.
func fill(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	_ = f.Close()
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-256<<10); err != nil {
		t.Fatal(err)
	}
}
