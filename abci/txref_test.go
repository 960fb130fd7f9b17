package abci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/gobtechlab/notary/abci/txstore"
	"github.com/gobtechlab/notary/ledger"
)

// storedTx is the bytes of transaction i, which the store does not decode.
func storedTx(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, 700+i) }

// TestTxRefEncoding: a reference is recognised only in its one form,
// and is never a transaction.
func TestTxRefEncoding(t *testing.T) {
	h := sha256.Sum256([]byte("tx"))
	ref := EncodeTxRef(h)
	if got, ok := DecodeTxRef(ref); !ok || got != h || len(ref) != TxRefSize {
		t.Fatalf("DecodeTxRef(EncodeTxRef) = %X %v", got, ok)
	}
	if BlockTxHash(ref) != h {
		t.Fatal("BlockTxHash of a reference is not the referenced hash")
	}
	for name, tx := range map[string][]byte{
		"short":        ref[:len(ref)-1],
		"long":         append(append([]byte{}, ref...), 0),
		"other prefix": append([]byte("\x00NBS"), h[:]...),
		"empty":        nil,
	} {
		if _, ok := DecodeTxRef(tx); ok {
			t.Errorf("%s: taken for a reference", name)
		}
	}
	if _, err := ledger.New(testChain).DecodeTx(ref); err == nil {
		t.Fatal("a reference decodes as a transaction")
	}
}

// TestBlockTx: a block carries a transaction below TxRefMinBytes as it
// is and a larger one as the reference to its hash.
func TestBlockTx(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		ref  bool
	}{
		{"small", 200, false},
		{"just below", TxRefMinBytes - 1, false},
		{"at the threshold", TxRefMinBytes, true},
		{"large", 64 << 10, true},
	} {
		raw := bytes.Repeat([]byte{0x0a}, tc.size)
		got := BlockTx(raw)
		h, isRef := DecodeTxRef(got)
		switch {
		case isRef != tc.ref:
			t.Errorf("%s: reference %v, want %v", tc.name, isRef, tc.ref)
		case tc.ref && h != ledger.TxHash(raw):
			t.Errorf("%s: reference to %X, want %X", tc.name, h, ledger.TxHash(raw))
		case !tc.ref && !bytes.Equal(got, raw):
			t.Errorf("%s: bytes changed", tc.name)
		}
		if BlockTxHash(got) != ledger.TxHash(raw) {
			t.Errorf("%s: BlockTxHash is not the transaction's hash", tc.name)
		}
	}
}

// TestTxRefsLifecycle: a proposal names its large transaction by
// reference; a validator that does not hold the bytes refuses it unless a
// peer sends them, and then computes the same state; the bytes survive a
// restart and resolve for receipts.
func TestTxRefsLifecycle(t *testing.T) {
	ctx := context.Background()
	proposer := openApp(t, t.TempDir())
	defer func() { _ = proposer.Close() }()
	dir := t.TempDir()
	other := openApp(t, dir)
	for _, a := range []*Application{proposer, other} {
		initChain(t, a)
		block(t, a, 1)
	}
	big := anchorTx(0, digestsOf("refs", 100))
	small := anchorTx(1, digestsOf("inline", 1))
	if len(small) >= TxRefMinBytes || len(big) < TxRefMinBytes {
		t.Fatalf("sizes %d and %d do not straddle %d", len(small), len(big), TxRefMinBytes)
	}
	for _, tx := range [][]byte{big, small} {
		if res, err := proposer.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx}); err != nil || res.Code != 0 {
			t.Fatalf("CheckTx: %v %v", res, err)
		}
	}
	prep, err := proposer.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: [][]byte{big, small}, MaxTxBytes: 1 << 20, Height: 2})
	if err != nil {
		t.Fatal(err)
	}
	bigHash := ledger.TxHash(big)
	if len(prep.Txs) != 2 || !bytes.Equal(prep.Txs[0], EncodeTxRef(bigHash)) || !bytes.Equal(prep.Txs[1], small) {
		t.Fatalf("proposal %q: want the large transaction by reference and the small one inline", prep.Txs)
	}
	tm := t0.Add(2 * time.Second)
	proc := func(a *Application) abcitypes.ResponseProcessProposal_ProposalStatus {
		t.Helper()
		res, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: prep.Txs, Height: 2, Time: tm, Hash: []byte("h2")})
		if err != nil {
			t.Fatal(err)
		}
		return res.Status
	}
	if st := proc(other); st != abcitypes.ResponseProcessProposal_REJECT {
		t.Fatalf("a proposal whose transaction is not held, without a way to fetch it: %v, want REJECT", st)
	}
	// A peer that does not answer: refused after the wait.
	other.SetFetcher(func([32]byte) {})
	start := time.Now()
	if st := proc(other); st != abcitypes.ResponseProcessProposal_REJECT {
		t.Fatalf("a proposal whose transaction is not held and not sent: %v, want REJECT", st)
	}
	if d := time.Since(start); d < proposalTxWait {
		t.Fatalf("refused after %v, before the %v wait", d, proposalTxWait)
	}
	if _, err := other.ResolveTxs(prep.Txs); !errors.Is(err, ErrTxUnavailable) {
		t.Fatalf("ResolveTxs of a transaction not held: %v", err)
	}
	// A peer answers the request (app/internal/txsync does this).
	asked := 0
	other.SetFetcher(func(h [32]byte) {
		asked++
		raw, ok, err := proposer.StoredTx(h)
		if err != nil || !ok {
			t.Errorf("the proposer does not hold %X: %v", h, err)
			return
		}
		go func() { _, _ = other.StoreTx(raw) }()
	})
	if st := proc(other); st != abcitypes.ResponseProcessProposal_ACCEPT || asked == 0 {
		t.Fatalf("with a peer sending the transaction: %v after %d requests, want ACCEPT", st, asked)
	}
	if st := proc(proposer); st != abcitypes.ResponseProcessProposal_ACCEPT {
		t.Fatalf("the proposer's own proposal: %v", st)
	}
	var hashes [][]byte
	for _, a := range []*Application{proposer, other} {
		fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: prep.Txs, Height: 2, Time: tm, Hash: []byte("h2")})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range fin.TxResults {
			if r.Code != 0 {
				t.Fatalf("tx %d: code %d %s", i, r.Code, r.Log)
			}
		}
		if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, fin.AppHash)
	}
	if !bytes.Equal(hashes[0], hashes[1]) {
		t.Fatalf("app hashes differ: %X and %X", hashes[0], hashes[1])
	}
	// The same block with the transaction inline computes the same state.
	inline := openApp(t, t.TempDir())
	defer func() { _ = inline.Close() }()
	initChain(t, inline)
	block(t, inline, 1)
	fin, err := inline.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: [][]byte{big, small}, Height: 2, Time: tm, Hash: []byte("h2")})
	if err != nil || !bytes.Equal(fin.AppHash, hashes[0]) {
		t.Fatalf("inline block: app hash %X (%v), by reference %X", fin.AppHash, err, hashes[0])
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	other = openApp(t, dir)
	defer func() { _ = other.Close() }()
	got, err := other.ResolveTxs(prep.Txs)
	if err != nil || !bytes.Equal(got[0], big) || !bytes.Equal(got[1], small) {
		t.Fatalf("after a restart, ResolveTxs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "txs", "index")); err != nil {
		t.Fatal(err)
	}
}

// TestQueryTx: abci_query /tx, and /batch (its first name), answer a held
// transaction's bytes, and refuse a hash not held or of the wrong length
// with a code.
func TestQueryTx(t *testing.T) {
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	raw := storedTx(3)
	if _, err := a.StoreTx(raw); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(raw)
	absent := sha256.Sum256([]byte("absent"))
	cases := []struct {
		name     string
		data     []byte
		wantCode bool // a non-zero code
	}{
		{"held", h[:], false},
		{"not held", absent[:], true},
		{"short hash", h[:31], true},
		{"empty", nil, true},
	}
	for _, path := range []string{QueryTx, QueryBatch} {
		for _, tc := range cases {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				res, err := a.Query(context.Background(), &abcitypes.RequestQuery{Path: path, Data: tc.data})
				if err != nil {
					t.Fatal(err)
				}
				if (res.Code != 0) != tc.wantCode {
					t.Fatalf("code %d (%s)", res.Code, res.Log)
				}
				if !tc.wantCode && !bytes.Equal(res.Value, raw) {
					t.Fatal("the answer is not the transaction's bytes")
				}
			})
		}
	}
}

// TestTxStoreDirRenamed: a transaction store in the directory's former
// name, batches/, is renamed txs/ at open and its transactions are held; if
// txs/ exists already, neither directory is touched.
func TestTxStoreDirRenamed(t *testing.T) {
	put := func(t *testing.T, dir string, raws ...[]byte) {
		t.Helper()
		s, err := txstore.Open(dir, txstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			if _, err := s.Put(sha256.Sum256(raw), raw); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	held := func(t *testing.T, a *Application, raw []byte) bool {
		t.Helper()
		got, ok, err := a.StoredTx(sha256.Sum256(raw))
		if err != nil || (ok && !bytes.Equal(got, raw)) {
			t.Fatalf("stored transaction: %v %v", ok, err)
		}
		return ok
	}
	exists := func(path string) bool { _, err := os.Stat(path); return err == nil }
	t.Run("only batches", func(t *testing.T) {
		dir := t.TempDir()
		put(t, filepath.Join(dir, oldTxsDir), storedTx(1))
		a := openApp(t, dir)
		defer func() { _ = a.Close() }()
		if !held(t, a, storedTx(1)) {
			t.Fatal("the transaction of batches/ is not held")
		}
		if exists(filepath.Join(dir, oldTxsDir)) || !exists(filepath.Join(dir, txsDir, "index")) {
			t.Fatal("batches/ was not renamed txs/")
		}
	})
	t.Run("both", func(t *testing.T) {
		dir := t.TempDir()
		put(t, filepath.Join(dir, oldTxsDir), storedTx(1))
		put(t, filepath.Join(dir, txsDir), storedTx(2))
		a := openApp(t, dir)
		defer func() { _ = a.Close() }()
		if held(t, a, storedTx(1)) || !held(t, a, storedTx(2)) {
			t.Fatal("txs/ is not the store opened")
		}
		if !exists(filepath.Join(dir, oldTxsDir)) {
			t.Fatal("batches/ was removed although txs/ existed")
		}
	})
}
