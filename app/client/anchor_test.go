package client_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestAnchor5k is the acceptance test at 5,000 digests, in the
// default suite.
// Receipts, the slowest part, are fetched for one digest in 20 there.
func TestAnchor5k(t *testing.T) { anchorAcceptance(t, 5_000, 16, 20) }

// TestAnchor100k is the acceptance test: 100,000 digests anchored
// through the client library from 16 concurrent callers; every one is found
// by lookup; every receipt part is retrievable; anchoring the same file
// again returns AlreadyExists with the original height and time unchanged.
// It runs only with NOTARY_LONG=1 (several minutes on a small machine):
//
//	NOTARY_LONG=1 go test -count=1 -timeout 30m -run TestAnchor100k ./app/client
func TestAnchor100k(t *testing.T) {
	if os.Getenv("NOTARY_LONG") != "1" {
		t.Skip("set NOTARY_LONG=1 to anchor 100,000 digests")
	}
	anchorAcceptance(t, 100_000, 16, 1)
}

// anchorAcceptance anchors total digests from callers goroutines, looks
// every one up, and fetches the receipt of one digest in receiptEvery and
// of the first digest of every batch.
func anchorAcceptance(t *testing.T, total, callers, receiptEvery int) {
	n := startNode(t, apptest.Options{TimeoutCommit: 100 * time.Millisecond})
	c := dial(t, n, n.Agency, client.WithLabel("acceptance"))
	ctx := ctxT(t, 25*time.Minute)

	// The file of the last step is one of the documents.
	path := filepath.Join(t.TempDir(), "certificado.pdf")
	if err := os.WriteFile(path, []byte("certificado de la prueba de aceptación"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileDigest, err := client.HashFile(client.SHA256, path)
	if err != nil {
		t.Fatal(err)
	}

	// 16 callers, each anchoring its share in chunks, as an agency's
	// workers would.
	start := time.Now()
	results := make([]*client.Anchored, total)
	per := (total + callers - 1) / callers
	const chunk = 500
	var wg sync.WaitGroup
	for g := range callers {
		lo, hi := g*per, min((g+1)*per, total)
		wg.Go(func() {
			for i := lo; i < hi; i += chunk {
				j := min(i+chunk, hi)
				ds := make([][]byte, 0, j-i)
				for k := i; k < j; k++ {
					if k == 0 {
						ds = append(ds, fileDigest)
					} else {
						ds = append(ds, digest("acceptance", k))
					}
				}
				got, err := c.AnchorAll(ctx, ds)
				if err != nil {
					t.Errorf("caller %d: %v", g, err)
					return
				}
				copy(results[i:j], got)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	took := time.Since(start)
	t.Logf("anchored %d digests from %d callers in %s (%.0f digests/s); pipeline %v",
		total, callers, took.Round(time.Millisecond), float64(total)/took.Seconds(), client.Stats(c))

	// Every one is found by lookup, where its caller was told.
	pub := n.Client(t, "")
	type batchKey struct {
		h  int64
		ix uint32
	}
	var bmu sync.Mutex
	batches := map[batchKey]int{}
	parallel(t, total, 16, func(i int) error {
		a := results[i]
		if a == nil || a.Existing {
			return fmt.Errorf("digest %d: result %+v", i, a)
		}
		r, err := pub.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: a.Algorithm, Digest: a.Anchored})
		if err != nil {
			return fmt.Errorf("lookup %d: %w", i, err)
		}
		if r.Batch.Height != a.Height || r.Batch.TxIndex != a.TxIndex || r.LeafIndex != a.Leaf ||
			!r.Batch.Time.AsTime().Equal(a.Time) || len(r.BatchProof) == 0 || len(r.IssuerProof) == 0 || len(r.StatusProof) == 0 {
			return fmt.Errorf("lookup %d: chain says %d-%d/%d, client said %s/%d", i, r.Batch.Height, r.Batch.TxIndex, r.LeafIndex, a.BatchID(), a.Leaf)
		}
		bmu.Lock()
		batches[batchKey{a.Height, a.TxIndex}]++
		bmu.Unlock()
		return nil
	})
	var sum int
	for _, k := range batches {
		sum += k
	}
	if sum != total {
		t.Fatalf("batches hold %d digests, want %d", sum, total)
	}
	t.Logf("%d batches, %.0f digests per batch on average", len(batches), float64(total)/float64(len(batches)))

	// Every receipt part is retrievable: the full receipt of the digests
	// (their binding completed by the client).
	var sample []int
	for i, a := range results {
		if i%receiptEvery == 0 || a.Leaf == 0 {
			sample = append(sample, i)
		}
	}
	var receipts atomic.Int64
	rstart := time.Now()
	parallel(t, len(sample), 16, func(k int) error {
		i := sample[k]
		a := results[i]
		rc, err := c.Receipt(ctx, a.Document)
		if err != nil {
			return fmt.Errorf("receipt %d: %w", i, err)
		}
		if rc.Document.DocumentDigest != hex.EncodeToString(a.Digest) || rc.Document.Salt != hex.EncodeToString(a.Salt) ||
			rc.Inclusion == nil || len(rc.Inclusion.Batch) == 0 || rc.Issuer == nil || rc.Anchor == nil ||
			rc.Anchor.GetHeight() < a.Height || rc.Status == nil {
			return fmt.Errorf("receipt %d incomplete", i)
		}
		receipts.Add(1)
		return nil
	})
	t.Logf("%d receipts in %s", receipts.Load(), time.Since(rstart).Round(time.Millisecond))

	// Anchoring the same file again: the original record, unchanged.
	orig := results[0]
	n.WaitHeight(t, n.Height()+2)
	again, err := c.AnchorFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing {
		t.Fatal("re-anchoring the file is not reported as existing")
	}
	sameRecord(t, orig, again)
	// On the wire, the chain answers AlreadyExists with the original batch
	// record in the details.
	id := n.Identity(t, n.Agency)
	acct, err := c.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := id.SignTx(&notaryv1.TxBody{Sequence: acct.NextSequence, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: id.ID, HashAlgorithm: orig.Algorithm, Digests: orig.Anchored}}})
	_, err = n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: raw})
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("raw re-anchoring: %v", err)
	}
	var found bool
	for _, d := range status.Convert(err).Details() {
		if b, ok := d.(*notaryv1.Batch); ok {
			found = true
			if b.Height != orig.Height || b.TxIndex != orig.TxIndex || !b.Time.AsTime().Equal(orig.Time) {
				t.Fatalf("AlreadyExists names batch %d-%d at %v, want %s at %v", b.Height, b.TxIndex, b.Time.AsTime(), orig.BatchID(), orig.Time)
			}
		}
	}
	if !found {
		t.Fatalf("AlreadyExists without the original batch: %v", status.Convert(err).Details())
	}
	r, err := c.Lookup(ctx, orig.Algorithm, orig.Anchored, 0)
	if err != nil || r.Batch.Height != orig.Height || !r.Batch.Time.AsTime().Equal(orig.Time) {
		t.Fatalf("after re-anchoring: %+v %v", r.GetBatch(), err)
	}
}

// parallel runs f(0..n-1) on workers goroutines and fails t with the first
// error.
func parallel(t *testing.T, n, workers int, f func(i int) error) {
	t.Helper()
	var next atomic.Int64
	var once sync.Once
	var first error
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err; failed.Store(true) })
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}
