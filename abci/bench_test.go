package abci

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// BenchmarkFinalizeCommit measures FinalizeBlock + Commit of blocks carrying
// 1, 10 and 100 batches of 10,000 digests, on real IAVL and goleveldb in a
// temp dir. It reports digests/s and the state's bytes on disk per digest
// (application.db, digests/ and log/, after the run).
func BenchmarkFinalizeCommit(b *testing.B) {
	for _, batches := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batches=%d", batches), func(b *testing.B) {
			const perBatch = 10_000
			dir := b.TempDir()
			a := openApp(b, dir)
			defer func() { _ = a.Close() }()
			g := abcitest.Genesis()
			p := g.Params
			p.MaxDigestsPerBatch = perBatch
			gen, _ := protojson.Marshal(g)
			initChainWith(b, a, gen)
			ag := abcitest.New(1, testChain)
			height := int64(0)
			var seq uint64
			// Blocks are built outside the timer: signing is the client's work.
			build := func() [][]byte {
				txs := make([][]byte, batches)
				for i := range txs {
					ds := make([]byte, 0, perBatch*ledger.DigestSize)
					for j := 0; j < perBatch; j++ {
						ds = append(ds, ag.Digest()...)
					}
					txs[i] = identity.SignTx(testChain, abcitest.Key("agency/aeat"), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{
						AnchorBatch: &notaryv1.AnchorBatch{AgencyId: "aeat", HashAlgorithm: 1, Digests: ds}}})
					seq++
				}
				return txs
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				txs := build()
				height++
				b.StartTimer()
				finalizeCommitOK(b, a, height, txs)
			}
			b.StopTimer()
			if err := a.FlushLog(); err != nil {
				b.Fatal(err)
			}
			digests := float64(b.N * batches * perBatch)
			b.ReportMetric(digests/b.Elapsed().Seconds(), "digests/s")
			b.ReportMetric(float64(dirSize(b, dir))/digests, "state-bytes/digest")
		})
	}
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkCheckTx measures the mempool's check of one AnchorBatch of 10,000
// digests (decoding, signature, and a digest-index lookup per digest), new
// and as a recheck after a block, against a state already holding 200,000
// anchored digests. It reports digests/s.
func BenchmarkCheckTx(b *testing.B) {
	const perBatch, prior = 10_000, 20
	a, ag, seq := benchChain(b, perBatch, prior)
	defer func() { _ = a.Close() }()
	for _, typ := range []abcitypes.CheckTxType{abcitypes.CheckTxType_New, abcitypes.CheckTxType_Recheck} {
		b.Run(typ.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// A fresh mempool view each time, so that the sequence and
				// the digests are new to it.
				if err := a.resetCheck(); err != nil {
					b.Fatal(err)
				}
				tx := benchAnchor(ag, seq, perBatch)
				if typ == abcitypes.CheckTxType_Recheck {
					if _, err := a.decode(tx); err != nil { // decoded when first checked
						b.Fatal(err)
					}
				}
				b.StartTimer()
				res, err := a.CheckTx(context.Background(), &abcitypes.RequestCheckTx{Tx: tx, Type: typ})
				if err != nil || res.Code != 0 {
					b.Fatalf("CheckTx: %v %v", res, err)
				}
			}
			b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "digests/s")
		})
	}
}

// BenchmarkProveBatch measures the ICS23 existence proof of a batch record
// (what LookupDigest and every receipt carry) at the last height.
func BenchmarkProveBatch(b *testing.B) {
	a, _, _ := benchChain(b, 1_000, 100)
	defer func() { _ = a.Close() }()
	h, _, _ := a.LastCommit()
	view, err := a.StateAt(h)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, p, err := view.Prove(ledger.BatchKey(int64(2+i%int(h-1)), 0))
		if err != nil || v == nil || p == nil {
			b.Fatalf("Prove: %v", err)
		}
	}
}

// benchChain commits blocks batches of perBatch digests, one per block, and
// returns the application, the agency and its next sequence.
func benchChain(b *testing.B, perBatch, blocks int) (*Application, *abcitest.Gen, uint64) {
	b.Helper()
	a := openApp(b, b.TempDir())
	g := abcitest.Genesis()
	g.Params.MaxDigestsPerBatch = uint32(perBatch)
	gen, _ := protojson.Marshal(g)
	initChainWith(b, a, gen)
	ag := abcitest.New(1, testChain)
	var seq uint64
	for h := int64(1); h <= int64(blocks); h++ {
		fin := finalizeCommit(b, a, h, [][]byte{benchAnchor(ag, seq, perBatch)})
		if fin.TxResults[0].Code != 0 {
			b.Fatalf("block %d: %s", h, fin.TxResults[0].Log)
		}
		seq++
	}
	return a, ag, seq
}

func benchAnchor(ag *abcitest.Gen, seq uint64, n int) []byte {
	ds := make([]byte, 0, n*ledger.DigestSize)
	for j := 0; j < n; j++ {
		ds = append(ds, ag.Digest()...)
	}
	return identity.SignTx(testChain, abcitest.Key("agency/aeat"), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{
		AnchorBatch: &notaryv1.AnchorBatch{AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
}

// BenchmarkReplayProtection compares ordered and unordered transactions
// where their replay protection weighs most: blocks of 1,000 one-digest
// AnchorBatch transactions of one agency, in FinalizeBlock + Commit and in
// CheckTx. An unordered one is valid for two heights, so that the blocks
// also forget the nonces of earlier ones. It reports transactions/s.
func BenchmarkReplayProtection(b *testing.B) {
	const perBlock = 1000
	for _, unordered := range []bool{false, true} {
		mode := "ordered"
		if unordered {
			mode = "unordered"
		}
		var seq uint64
		var nonce uint64
		sign := func(ag *abcitest.Gen, height int64) []byte {
			body := &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{
				AnchorBatch: &notaryv1.AnchorBatch{AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ag.Digest()}}}
			if unordered {
				nonce++
				body.Nonce = fmt.Appendf(nil, "%016d", nonce)
				body.ValidUntilHeight = height + 2
			} else {
				body.Sequence = seq
				seq++
			}
			return identity.SignTx(testChain, abcitest.Key("agency/aeat"), body)
		}
		b.Run("FinalizeCommit/"+mode, func(b *testing.B) {
			seq, nonce = 0, 0
			a := openApp(b, b.TempDir())
			defer func() { _ = a.Close() }()
			gen, _ := protojson.Marshal(abcitest.Genesis())
			initChainWith(b, a, gen)
			ag := abcitest.New(1, testChain)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h := int64(i + 1)
				txs := make([][]byte, perBlock)
				for j := range txs {
					txs[j] = sign(ag, h)
				}
				b.StartTimer()
				for j, r := range finalizeCommit(b, a, h, txs).TxResults {
					if r.Code != 0 {
						b.Fatalf("block %d tx %d: %s", h, j, r.Log)
					}
				}
			}
			b.ReportMetric(float64(b.N*perBlock)/b.Elapsed().Seconds(), "txs/s")
		})
		b.Run("CheckTx/"+mode, func(b *testing.B) {
			seq, nonce = 0, 0
			a, ag, _ := benchChain(b, 1, 0)
			defer func() { _ = a.Close() }()
			finalizeCommit(b, a, 1, nil)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if err := a.resetCheck(); err != nil {
					b.Fatal(err)
				}
				seq = 0
				txs := make([][]byte, perBlock)
				for j := range txs {
					txs[j] = sign(ag, 2)
				}
				b.StartTimer()
				for _, tx := range txs {
					res, err := a.CheckTx(context.Background(), &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_New})
					if err != nil || res.Code != 0 {
						b.Fatalf("CheckTx: %v %v", res, err)
					}
				}
			}
			b.ReportMetric(float64(b.N*perBlock)/b.Elapsed().Seconds(), "txs/s")
		})
	}
}

// BenchmarkAnchorPath measures what a node does for the documents of
// AnchorBatch transactions, plain and coded (a code key per document), on
// the path they take through a node: CheckTx of the transaction bytes
// (decoding, signature, checks; in full as the node that received them
// from their sender, or light as a node they were relayed to),
// PrepareProposal (the transactions named by reference, kept in the
// transaction store), ProcessProposal with the optimistic execution,
// FinalizeBlock and Commit with the digest index, on real IAVL. Each block
// carries 4 batches of 10,000 new documents. It reports documents/s,
// ns/doc and the process's CPU time per document (cpu-ns/doc, all its
// goroutines: steadier than the elapsed time on a shared machine), also
// split into the checks and the block; the plain and coded sub-benchmarks
// pair up by role.
func BenchmarkAnchorPath(b *testing.B) {
	const batches, perBatch = 4, 10_000
	for _, role := range []string{"local", "relayed"} {
		for _, coded := range []bool{false, true} {
			kind := "plain"
			if coded {
				kind = "coded"
			}
			b.Run(role+"/"+kind, func(b *testing.B) {
				ctx := context.Background()
				opts := DefaultOptions(b.TempDir(), testChain)
				opts.LightRelayedChecks = true
				opts.DigestFilterBytes = 16 << 20
				a, err := NewApplication(opts)
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = a.Close() }()
				gen, _ := protojson.Marshal(abcitest.Genesis())
				initChainWith(b, a, gen)
				finalizeCommit(b, a, 1, nil)
				ag := abcitest.New(1, testChain)
				var seq uint64
				build := func() [][]byte {
					txs := make([][]byte, batches)
					for i := range txs {
						// A coded batch's entries: a key (the digest's first
						// bytes, complemented) and the digest's last bytes as
						// the tag; the node never computes a tag.
						ds := make([]byte, 0, perBatch*ledger.DigestSize)
						for j := 0; j < perBatch; j++ {
							d := ag.Digest()
							if coded {
								for _, c := range d[:ledger.CodeKeySize] {
									ds = append(ds, ^c)
								}
								ds = append(ds, d[ledger.CodeKeySize:]...)
							} else {
								ds = append(ds, d...)
							}
						}
						txs[i] = identity.SignTx(testChain, abcitest.Key("agency/aeat"), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{
							AnchorBatch: &notaryv1.AnchorBatch{AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds, Coded: coded}}})
						seq++
					}
					return txs
				}
				// Built before the timer: signing is the client's work, and
				// its garbage is not collected in the timed parts.
				blocks := make([][][]byte, b.N)
				for i := range blocks {
					blocks[i] = build()
				}
				var wire int
				for _, raw := range blocks[0] {
					wire += len(raw)
				}
				// The process's CPU time in the timed parts: the checks, and
				// the block (proposal, execution, commit).
				var checkCPU, blockCPU time.Duration
				b.ResetTimer()
				for i, txs := range blocks {
					h := int64(i + 2)
					if role == "local" {
						b.StopTimer()
						for _, raw := range txs {
							a.MarkLocal(ledger.TxHash(raw))
						}
						b.StartTimer()
					}
					cpu0 := processCPU(b)
					for _, raw := range txs {
						res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: raw, Type: abcitypes.CheckTxType_New})
						if err != nil || res.Code != 0 {
							b.Fatalf("CheckTx: %v %v", res, err)
						}
					}
					cpu1 := processCPU(b)
					checkCPU += cpu1 - cpu0
					prep, err := a.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: txs, MaxTxBytes: 64 << 20, Height: h})
					if err != nil || len(prep.Txs) != batches {
						b.Fatalf("PrepareProposal: %d txs, %v", len(prep.GetTxs()), err)
					}
					tm, hash := blockTimeAt(h), []byte(fmt.Sprintf("block %d", h))
					proc, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: prep.Txs, Height: h, Time: tm, Hash: hash})
					if err != nil || proc.Status != abcitypes.ResponseProcessProposal_ACCEPT {
						b.Fatalf("ProcessProposal: %v %v", proc, err)
					}
					fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: prep.Txs, Height: h, Time: tm, Hash: hash})
					if err != nil {
						b.Fatalf("FinalizeBlock: %v", err)
					}
					for _, r := range fin.TxResults {
						if r.Code != 0 {
							b.Fatalf("tx failed: %s", r.Log)
						}
					}
					if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
						b.Fatal(err)
					}
					blockCPU += processCPU(b) - cpu1
					blocks[i] = nil
				}
				b.StopTimer()
				docs := float64(b.N * batches * perBatch)
				b.ReportMetric(docs/b.Elapsed().Seconds(), "docs/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/docs, "ns/doc")
				b.ReportMetric(float64((checkCPU+blockCPU).Nanoseconds())/docs, "cpu-ns/doc")
				b.ReportMetric(float64(checkCPU.Nanoseconds())/docs, "check-cpu-ns/doc")
				b.ReportMetric(float64(blockCPU.Nanoseconds())/docs, "block-cpu-ns/doc")
				b.ReportMetric(float64(wire)/(batches*perBatch), "tx-bytes/doc")
			})
		}
	}
}

// BenchmarkCommitRetention measures FinalizeBlock + Commit of blocks of
// one large batch (1,000 digests, named by hash) and four small ones (8
// digests each, carried whole), with retention off and keeping 10
// heights: on, Commit also puts the small batches in the transaction
// store, records the earliest height, and IAVL's pruning goroutine deletes
// the old versions, its deletes written with later versions. It reports
// the size of the state database (application.db) per block after the run.
func BenchmarkCommitRetention(b *testing.B) {
	for _, keep := range []int64{0, 10} {
		b.Run(fmt.Sprintf("keep=%d", keep), func(b *testing.B) {
			dir := b.TempDir()
			opts := DefaultOptions(dir, testChain)
			opts.RetainBlocks = keep
			a, err := NewApplication(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = a.Close() }()
			initChain(b, a)
			ag := abcitest.New(1, testChain)
			digests := func(n int) []byte {
				ds := make([]byte, 0, n*ledger.DigestSize)
				for range n {
					ds = append(ds, ag.Digest()...)
				}
				return ds
			}
			var seq uint64
			b.ResetTimer()
			for h := int64(1); h <= int64(b.N); h++ {
				b.StopTimer()
				txs := [][]byte{anchorTx(seq, digests(1000))}
				for i := range 4 {
					txs = append(txs, anchorTx(seq+1+uint64(i), digests(8)))
				}
				seq += 5
				if _, err := a.StoreTx(txs[0]); err != nil {
					b.Fatal(err)
				}
				block := [][]byte{BlockTx(txs[0])}
				block = append(block, txs[1:]...)
				b.StartTimer()
				finalizeCommitOK(b, a, h, block)
			}
			b.StopTimer()
			b.ReportMetric(float64(dirSize(b, filepath.Join(dir, "application.db")))/float64(b.N), "state-bytes/block")
		})
	}
}
