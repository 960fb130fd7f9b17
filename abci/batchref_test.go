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

	"github.com/gobtechlab/notary/ledger"
)

func batchOf(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, 700+i) }

// TestBatchStoreRecover: what a store holds after it is reopened, after a
// clean close, a crash before Sync, a record cut by the crash, and a
// record damaged on disk.
func TestBatchStoreRecover(t *testing.T) {
	cases := []struct {
		name  string
		crash func(t *testing.T, s *batchStore, dir string) // ends the first life
		want  []int                                         // batches held after reopening
		bad   []int                                         // batches whose Get fails
	}{
		{"clean close", func(t *testing.T, s *batchStore, _ string) {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, []int{0, 1, 2, 3}, nil},
		{"crash after Sync of two, the rest written", func(t *testing.T, s *batchStore, _ string) {
			crash(s)
		}, []int{0, 1, 2, 3}, nil},
		{"crash cut the last record", func(t *testing.T, s *batchStore, dir string) {
			crash(s)
			seg := segmentName(dir, 0)
			st, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(seg, st.Size()-10); err != nil {
				t.Fatal(err)
			}
		}, []int{0, 1, 2}, nil},
		{"a byte of an unsynced record damaged", func(t *testing.T, s *batchStore, dir string) {
			loc := s.pend[sha256.Sum256(batchOf(2))]
			crash(s)
			flipByte(t, segmentName(dir, 0), loc.off+5)
		}, []int{0, 1}, nil},
		{"a byte of an indexed record damaged", func(t *testing.T, s *batchStore, dir string) {
			loc, _, _ := s.locate(sha256.Sum256(batchOf(0)))
			crash(s)
			flipByte(t, segmentName(dir, 0), loc.off+5)
		}, []int{1, 2, 3}, []int{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := openBatchStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				if added, err := s.Put(sha256.Sum256(batchOf(i)), batchOf(i)); err != nil || !added {
					t.Fatalf("Put %d: %v %v", i, added, err)
				}
				if i == 1 {
					if err := s.Sync(); err != nil {
						t.Fatal(err)
					}
				}
			}
			tc.crash(t, s, dir)
			s, err = openBatchStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := range 4 {
				h := sha256.Sum256(batchOf(i))
				raw, ok, err := s.Get(h)
				switch {
				case contains(tc.bad, i):
					if err == nil {
						t.Errorf("batch %d: damaged on disk, but Get gave %v", i, ok)
					}
				case contains(tc.want, i):
					if err != nil || !ok || !bytes.Equal(raw, batchOf(i)) {
						t.Errorf("batch %d: Get = %v %v, want its bytes", i, ok, err)
					}
				default:
					if ok || err != nil {
						t.Errorf("batch %d: Get = %v %v, want not held", i, ok, err)
					}
				}
			}
			// The store goes on: a batch lost in the crash is stored again
			// after the records that survived, and survives a reopen.
			for i := range 5 {
				if _, err := s.Put(sha256.Sum256(batchOf(i)), batchOf(i)); err != nil && !contains(tc.bad, i) {
					t.Fatalf("Put %d after reopen: %v", i, err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = openBatchStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if contains(tc.bad, i) {
					continue
				}
				if raw, ok, err := s.Get(sha256.Sum256(batchOf(i))); err != nil || !ok || !bytes.Equal(raw, batchOf(i)) {
					t.Errorf("batch %d after the second reopen: %v %v", i, ok, err)
				}
			}
		})
	}
}

// crash ends a store's life without its final Sync: what was written is in
// the files, the index holds what the last Sync wrote.
func crash(s *batchStore) {
	s.closeSegments()
	s.index.Close()
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestBatchStoreSegments: a store that fills a segment goes on in the next.
func TestBatchStoreSegments(t *testing.T) {
	defer func(n int64) { maxSegmentBytes = n }(maxSegmentBytes)
	maxSegmentBytes = 3 << 20
	dir := t.TempDir()
	s, err := openBatchStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{7}, int(maxSegmentBytes/3))
	var hs [][32]byte
	for i := range 4 {
		b := append([]byte{byte(i)}, big...)
		h := sha256.Sum256(b)
		hs = append(hs, h)
		if _, err := s.Put(h, b); err != nil {
			t.Fatal(err)
		}
	}
	s.Forget(hs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(segmentName(dir, 1)); err != nil {
		t.Fatalf("second segment: %v", err)
	}
	s, err = openBatchStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, h := range hs {
		if raw, ok, err := s.Get(h); err != nil || !ok || raw[0] != byte(i) || len(raw) != len(big)+1 {
			t.Errorf("batch %d: %v %v", i, ok, err)
		}
	}
}

// TestBatchRefEncoding: a reference is recognised only in its one form,
// and is never a transaction.
func TestBatchRefEncoding(t *testing.T) {
	h := sha256.Sum256([]byte("tx"))
	ref := EncodeBatchRef(h)
	if got, ok := DecodeBatchRef(ref); !ok || got != h || len(ref) != BatchRefSize {
		t.Fatalf("DecodeBatchRef(EncodeBatchRef) = %X %v", got, ok)
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
		if _, ok := DecodeBatchRef(tx); ok {
			t.Errorf("%s: taken for a reference", name)
		}
	}
	if _, err := ledger.New(testChain).DecodeTx(ref); err == nil {
		t.Fatal("a reference decodes as a transaction")
	}
}

// TestBatchRefsLifecycle: a proposal names its large transaction by
// reference; a validator that does not hold the bytes refuses it unless a
// peer sends them, and then computes the same state; the bytes survive a
// restart and resolve for receipts.
func TestBatchRefsLifecycle(t *testing.T) {
	ctx := context.Background()
	proposer := openApp(t, t.TempDir())
	defer proposer.Close()
	dir := t.TempDir()
	other := openApp(t, dir)
	for _, a := range []*Application{proposer, other} {
		initChain(t, a)
		block(t, a, 1)
	}
	big := anchorTx(0, digestsOf("refs", 100))
	small := anchorTx(1, digestsOf("inline", 1))
	if len(small) >= BatchRefMinBytes || len(big) < BatchRefMinBytes {
		t.Fatalf("sizes %d and %d do not straddle %d", len(small), len(big), BatchRefMinBytes)
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
	if len(prep.Txs) != 2 || !bytes.Equal(prep.Txs[0], EncodeBatchRef(bigHash)) || !bytes.Equal(prep.Txs[1], small) {
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
		t.Fatalf("a proposal whose batch is not held, without a way to fetch it: %v, want REJECT", st)
	}
	// A peer that does not answer: refused after the wait.
	other.SetFetcher(func([32]byte) {})
	start := time.Now()
	if st := proc(other); st != abcitypes.ResponseProcessProposal_REJECT {
		t.Fatalf("a proposal whose batch is not held and not sent: %v, want REJECT", st)
	}
	if d := time.Since(start); d < proposalBatchWait {
		t.Fatalf("refused after %v, before the %v wait", d, proposalBatchWait)
	}
	if _, err := other.ResolveTxs(prep.Txs); !errors.Is(err, ErrBatchUnavailable) {
		t.Fatalf("ResolveTxs of a batch not held: %v", err)
	}
	// A peer answers the request (app/internal/batchsync does this).
	asked := 0
	other.SetFetcher(func(h [32]byte) {
		asked++
		raw, ok, err := proposer.Batch(h)
		if err != nil || !ok {
			t.Errorf("the proposer does not hold %X: %v", h, err)
			return
		}
		go other.PutBatch(raw)
	})
	if st := proc(other); st != abcitypes.ResponseProcessProposal_ACCEPT || asked == 0 {
		t.Fatalf("with a peer sending the batch: %v after %d requests, want ACCEPT", st, asked)
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
	defer inline.Close()
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
	defer other.Close()
	got, err := other.ResolveTxs(prep.Txs)
	if err != nil || !bytes.Equal(got[0], big) || !bytes.Equal(got[1], small) {
		t.Fatalf("after a restart, ResolveTxs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "batches", "index")); err != nil {
		t.Fatal(err)
	}
}

// TestQueryBatch: abci_query /batch answers a held transaction's bytes,
// and refuses a hash not held or of the wrong length with a code.
func TestQueryBatch(t *testing.T) {
	a := openApp(t, t.TempDir())
	defer a.Close()
	raw := batchOf(3)
	if _, err := a.PutBatch(raw); err != nil {
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
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := a.Query(context.Background(), &abcitypes.RequestQuery{Path: QueryBatch, Data: tc.data})
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
