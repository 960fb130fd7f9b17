package abci

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// TestOptimisticExecution runs the same rounds on an application that
// executes proposals ahead of FinalizeBlock and on one that does not: every
// FinalizeBlock response and every committed app hash must be the same,
// whether the decided block is the one executed ahead, another one, or one
// of several proposals of the height.
func TestOptimisticExecution(t *testing.T) {
	ctx := context.Background()
	oe := openAppOE(t, t.TempDir(), true)
	ref := openAppOE(t, t.TempDir(), false)
	defer func() { _ = oe.Close() }()
	defer func() { _ = ref.Close() }()
	for _, a := range []*Application{oe, ref} {
		initChain(t, a)
		block(t, a, 1)
	}
	seq := uint64(0)
	// Two conflicting proposals for each height: the same sequence with
	// different digests, so that a proposal executed and not rolled back
	// would make the other fail.
	proposals := func(h int64) (x, y []byte) {
		x = anchorTx(seq, digestsOf(fmt.Sprintf("x%d", h), 50))
		y = anchorTx(seq, digestsOf(fmt.Sprintf("y%d", h), 50))
		return x, y
	}
	hash := func(tag string, h int64) []byte { return []byte(fmt.Sprintf("%s-%d", tag, h)) }
	cases := []struct {
		name     string
		proposed []string // ProcessProposal calls, in order: "x" or "y"
		decided  string
	}{
		{"the proposal executed ahead is decided", []string{"x"}, "x"},
		{"another block is decided", []string{"x"}, "y"},
		{"a later round's proposal is decided", []string{"x", "y"}, "y"},
		{"an earlier round's proposal is decided", []string{"x", "y"}, "x"},
		{"no proposal was processed", nil, "x"},
		{"the same proposal processed twice", []string{"x", "x"}, "x"},
	}
	h := int64(2)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, y := proposals(h)
			txOf := map[string][]byte{"x": x, "y": y}
			tm := t0.Add(time.Duration(h) * time.Second)
			for _, p := range tc.proposed {
				res, err := oe.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{txOf[p]}, Height: h, Time: tm, Hash: hash(p, h)})
				if err != nil || res.Status != abcitypes.ResponseProcessProposal_ACCEPT {
					t.Fatalf("ProcessProposal: %v %v", res, err)
				}
			}
			req := &abcitypes.RequestFinalizeBlock{Txs: [][]byte{txOf[tc.decided]}, Height: h, Time: tm, Hash: hash(tc.decided, h)}
			got, err := oe.FinalizeBlock(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.FinalizeBlock(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.AppHash, want.AppHash) || got.TxResults[0].Code != 0 || want.TxResults[0].Code != 0 {
				t.Fatalf("app hash %X (code %d), without optimistic execution %X (code %d): %s",
					got.AppHash, got.TxResults[0].Code, want.AppHash, want.TxResults[0].Code, got.TxResults[0].Log)
			}
			for _, a := range []*Application{oe, ref} {
				if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
					t.Fatal(err)
				}
			}
			if hi, _ := oe.Info(ctx, &abcitypes.RequestInfo{}); !bytes.Equal(hi.LastBlockAppHash, want.AppHash) || hi.LastBlockHeight != h {
				t.Fatalf("committed %d %X, want %d %X", hi.LastBlockHeight, hi.LastBlockAppHash, h, want.AppHash)
			}
			// The digests of the proposal not decided are not anchored: a
			// later block anchors them.
			other := map[string]string{"x": "y", "y": "x"}[tc.decided]
			h++
			seq++
			later := anchorTx(seq, digestsOf(fmt.Sprintf("%s%d", other, h-1), 50))
			for _, a := range []*Application{oe, ref} {
				if fin := block(t, a, h, later); fin.TxResults[0].Code != 0 {
					t.Fatalf("the other proposal's digests at the next height: %s", fin.TxResults[0].Log)
				}
			}
			h++
			seq++
		})
	}
}

// TestOptimisticExecutionClose: closing the application while a proposal
// executes ahead waits for it and persists nothing of it; the reopened
// application is at the last commit and executes the block again.
func TestOptimisticExecutionClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openAppOE(t, dir, true)
	initChain(t, a)
	block(t, a, 1)
	fin1 := block(t, a, 2, anchorTx(0, digestsOf("close", 20)))
	tx := anchorTx(1, digestsOf("close-next", 20))
	if _, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{tx}, Height: 3, Time: t0.Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = openAppOE(t, dir, true)
	defer func() { _ = a.Close() }()
	info, _ := a.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 2 || !bytes.Equal(info.LastBlockAppHash, fin1.AppHash) {
		t.Fatalf("reopened at %d %X, want 2 %X", info.LastBlockHeight, info.LastBlockAppHash, fin1.AppHash)
	}
	if fin := block(t, a, 3, tx); fin.TxResults[0].Code != 0 {
		t.Fatalf("block 3 again: %s", fin.TxResults[0].Log)
	}
}

// TestOptimisticExecutionFirstBlock: the chain's first block is not executed
// ahead (the working tree holds InitChain's unsaved writes, which a rollback
// would lose), so a different first block decided still sees the genesis.
func TestOptimisticExecutionFirstBlock(t *testing.T) {
	ctx := context.Background()
	a := openAppOE(t, t.TempDir(), true)
	defer func() { _ = a.Close() }()
	initChain(t, a)
	tm := t0.Add(time.Second)
	if _, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{anchorTx(0, digestsOf("first-x", 3))}, Height: 1, Time: tm, Hash: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: [][]byte{anchorTx(0, digestsOf("first-y", 3))}, Height: 1, Time: tm, Hash: []byte("y")})
	if err != nil || fin.TxResults[0].Code != 0 {
		t.Fatalf("first block: %v %v", fin, err)
	}
}

func openAppOE(t testing.TB, dir string, on bool) *Application {
	t.Helper()
	o := DefaultOptions(dir, testChain)
	o.OptimisticExecution = on
	a, err := NewApplication(o)
	if err != nil {
		t.Fatalf("NewApplication: %v", err)
	}
	return a
}
