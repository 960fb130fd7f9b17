package abci

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// BenchmarkFinalizeCommit measures FinalizeBlock + Commit of blocks carrying
// 1, 10 and 100 batches of 10,000 digests, on real IAVL and goleveldb in a
// temp dir. It reports digests/s and the state's bytes on disk per digest
// (application.db plus digests.db, after the run).
func BenchmarkFinalizeCommit(b *testing.B) {
	for _, batches := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batches=%d", batches), func(b *testing.B) {
			const perBatch = 10_000
			dir := b.TempDir()
			a := openApp(b, dir)
			defer a.Close()
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
				fin := finalizeCommit(b, a, height, txs)
				for _, r := range fin.TxResults {
					if r.Code != 0 {
						b.Fatalf("tx failed: %s", r.Log)
					}
				}
			}
			b.StopTimer()
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
