package abci

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
)

// recorded is one block of a run: its transactions and what came out.
type recorded struct {
	txs   [][]byte
	hash  []byte
	codes []uint32
}

// runSeed drives a fresh application through blocks of seeded transactions,
// feeding outcomes back to the generator, and records every block.
func runSeed(t *testing.T, seed uint64, blocks int) []recorded {
	t.Helper()
	g := abcitest.New(seed, testChain)
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	var out []recorded
	for h := int64(1); h <= int64(blocks); h++ {
		n := int(seed+uint64(h)) % 12
		gtxs := make([]abcitest.Tx, n)
		raws := make([][]byte, n)
		for i := range gtxs {
			gtxs[i] = g.Next()
			raws[i] = gtxs[i].Raw
		}
		fin := finalizeCommit(t, a, h, raws)
		rec := recorded{txs: raws, hash: fin.AppHash}
		for i, r := range fin.TxResults {
			rec.codes = append(rec.codes, r.Code)
			g.Observe(gtxs[i], r.Code == 0)
		}
		out = append(out, rec)
	}
	return out
}

// finalizeCommit executes and commits a block without proposal checks (a
// decided block may carry anything).
func finalizeCommit(t testing.TB, a *Application, h int64, txs [][]byte) *abcitypes.ResponseFinalizeBlock {
	t.Helper()
	fin, err := a.FinalizeBlock(context.Background(), &abcitypes.RequestFinalizeBlock{Txs: txs, Height: h, Time: blockTimeAt(h)})
	if err != nil {
		t.Fatalf("FinalizeBlock %d: %v", h, err)
	}
	if _, err := a.Commit(context.Background(), &abcitypes.RequestCommit{}); err != nil {
		t.Fatalf("Commit %d: %v", h, err)
	}
	return fin
}

// finalizeCommitOK is finalizeCommit of a block whose transactions must
// all succeed.
func finalizeCommitOK(t testing.TB, a *Application, h int64, txs [][]byte) {
	t.Helper()
	for _, r := range finalizeCommit(t, a, h, txs).TxResults {
		if r.Code != 0 {
			t.Fatalf("height %d: tx failed: %s", h, r.Log)
		}
	}
}

// blockTimeAt is the time finalizeCommit gives height h.
func blockTimeAt(h int64) time.Time { return t0.Add(time.Duration(h) * time.Second) }

// replay runs recorded blocks through a fresh application (restarting it
// at restartAt if > 0) and checks hashes and result codes at every height.
func replay(t *testing.T, blocks []recorded, restartAt int64) {
	t.Helper()
	dir := t.TempDir()
	a := openApp(t, dir)
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	for i, b := range blocks {
		h := int64(i + 1)
		if h == restartAt {
			_ = a.Close()
			a = openApp(t, dir)
		}
		fin := finalizeCommit(t, a, h, b.txs)
		if !bytes.Equal(fin.AppHash, b.hash) {
			t.Fatalf("height %d: app hash %X, first run %X", h, fin.AppHash, b.hash)
		}
		for j, r := range fin.TxResults {
			if r.Code != b.codes[j] {
				t.Fatalf("height %d tx %d: code %d, first run %d", h, j, r.Code, b.codes[j])
			}
		}
	}
	_ = a.Close()
}

// TestDeterminism: the same seeded transaction sequence through fresh
// applications gives identical app hashes and results at every height, with
// GOMAXPROCS=1 as with the default, and across a restart.
func TestDeterminism(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 42, 2026} {
		first := runSeed(t, seed, 25)
		ok, failed := 0, 0
		for _, b := range first {
			for _, c := range b.codes {
				if c == 0 {
					ok++
				} else {
					failed++
				}
			}
		}
		if ok < 20 || failed < 10 {
			t.Fatalf("seed %d: %d successes and %d failures: the mix is not exercising both", seed, ok, failed)
		}
		replay(t, first, 0)
		prev := runtime.GOMAXPROCS(1)
		replay(t, first, 13)
		runtime.GOMAXPROCS(prev)
	}
}
