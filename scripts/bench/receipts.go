package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// receiptVerifier fetches receipts of sampled digests from the gateways and
// verifies them offline against the trust bundle and the document, as a
// citizen's verifier does.
type receiptVerifier struct {
	trust   *notaryv1.TrustBundle
	clients []*agencyClient

	mu       sync.Mutex
	done     map[candidate]bool
	fetch    []time.Duration // all fetches
	liveLat  []time.Duration // fetches during the load
	verify   []time.Duration
	fetched  []fetchedReceipt // verified by finish, one at a time
	checked  int
	fetchErr int
	invalid  int
	firstErr string
}

func newReceiptVerifier(trustJSON []byte, clients []*agencyClient) (*receiptVerifier, error) {
	tb, err := verify.DecodeTrustBundle(trustJSON)
	if err != nil {
		return nil, fmt.Errorf("trust bundle: %w", err)
	}
	return &receiptVerifier{trust: tb, clients: clients, done: map[candidate]bool{}}, nil
}

// fetchedReceipt is a receipt fetched and not yet verified.
type fetchedReceipt struct {
	c    candidate
	file []byte
}

// claim marks c as taken; false if it was already.
func (rv *receiptVerifier) claim(c candidate) bool {
	c.at = time.Time{}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.done[c] {
		return false
	}
	rv.done[c] = true
	return true
}

// check fetches the receipt of c from a node other than the one its batch
// was submitted to, and keeps it for verifyAll.
func (rv *receiptVerifier) check(ctx context.Context, c candidate, live bool) {
	gw := rv.clients[(c.agency+1)%len(rv.clients)].gw
	d := digestOf(uint64(c.agency), c.doc)
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	t := time.Now()
	req := &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: d[:]}
	if rv.clients[c.agency].codes {
		// A coded document is found by its code key only.
		req = &notaryv1.GetReceiptRequest{CodeKey: benchCodeKey(d)}
	}
	resp, err := gw.GetReceipt(fctx, req)
	// The node asked may be a block or two behind the one that answered the
	// submission: NotFound is retried while it catches up, and the fetch
	// time counts from the first try.
	for tries := 0; status.Code(err) == codes.NotFound && tries < 20 && sleepCtx(fctx, 500*time.Millisecond); tries++ {
		resp, err = gw.GetReceipt(fctx, req)
	}
	fetch := time.Since(t)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		rv.mu.Lock()
		rv.fetchErr++
		if rv.firstErr == "" {
			rv.firstErr = fmt.Sprintf("GetReceipt %x (agency %d doc %d, height %d): %v", d[:8], c.agency, c.doc, c.height, err)
		}
		rv.mu.Unlock()
		return
	}
	file, err := verify.EncodeReceiptFile(resp.Receipt)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.checked++
	rv.fetch = append(rv.fetch, fetch)
	if live {
		rv.liveLat = append(rv.liveLat, fetch)
	}
	if err != nil {
		rv.invalid++
		if rv.firstErr == "" {
			rv.firstErr = fmt.Sprintf("receipt file %x: %v", d[:8], err)
		}
		return
	}
	rv.fetched = append(rv.fetched, fetchedReceipt{c: c, file: file})
}

// verifyAll verifies the fetched receipts offline with their documents (a
// coded one without), one at a time after every fetch, as a citizen's
// verifier does on their own machine: verifications beside the loaded nodes, or four at a time on two
// cores, would measure the machine's contention rather than the verifier.
func (rv *receiptVerifier) verifyAll() {
	for _, f := range rv.fetched {
		d := digestOf(uint64(f.c.agency), f.c.doc)
		t := time.Now()
		in := verify.Input{Receipt: f.file, Trust: rv.trust, Document: bytes.NewReader(docBytes(uint64(f.c.agency), f.c.doc))}
		if rv.clients[f.c.agency].codes {
			// The bench's code tags are not scrypt's (benchCodeKey): its
			// coded receipts are verified without their documents.
			in.Document = nil
		}
		res, err := verify.Verify(in)
		vt := time.Since(t)
		switch {
		case err != nil:
			rv.invalid++
			if rv.firstErr == "" {
				rv.firstErr = fmt.Sprintf("verify %x: %v", d[:8], err)
			}
		case res.Verdict != verify.Valid:
			rv.invalid++
			if rv.firstErr == "" {
				rv.firstErr = fmt.Sprintf("verify %x: %s: %s", d[:8], res.Verdict, res.Detail)
			}
		default:
			rv.verify = append(rv.verify, vt)
		}
	}
	rv.fetched = nil
}

// live checks up to perSec receipts a second, of digests committed a few
// seconds before (so that the next block, whose header signs them, exists),
// until ctx ends.
func (rv *receiptVerifier) live(ctx context.Context, st *loadStats, perSec int) {
	tick := time.NewTicker(time.Second / time.Duration(perSec))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c, ok := st.recent(3 * time.Second)
		if !ok || !rv.claim(c) {
			continue
		}
		rv.check(ctx, c, true)
	}
}

// finish checks sampled digests after the load until want have been checked
// in all, and summarises.
func (rv *receiptVerifier) finish(ctx context.Context, st *loadStats, want int) receiptResult {
	st.mu.Lock()
	cands := append([]candidate(nil), st.candidates...)
	st.mu.Unlock()
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	work := make(chan candidate)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				rv.check(ctx, c, false)
			}
		}()
	}
	t := time.Now()
	rv.mu.Lock()
	already := rv.checked + rv.fetchErr
	rv.mu.Unlock()
	logf("notary: fetching %d sampled receipts (%d fetched during the load)", max(want-already, 0), already)
	n := already
	for _, c := range cands {
		if n >= want || ctx.Err() != nil {
			break
		}
		if !rv.claim(c) {
			continue
		}
		work <- c
		n++
	}
	close(work)
	wg.Wait()
	rv.mu.Lock()
	defer rv.mu.Unlock()
	logf("notary: receipts fetched in %.1fs", time.Since(t).Seconds())
	t = time.Now()
	rv.verifyAll()
	logf("notary: %d receipts verified in %.1fs", len(rv.verify), time.Since(t).Seconds())
	return receiptResult{
		Candidates:  len(cands),
		Wanted:      want,
		Checked:     rv.checked,
		FetchErrors: rv.fetchErr,
		Invalid:     rv.invalid,
		FirstError:  rv.firstErr,
		FetchMs:     summarize(rv.fetch),
		LiveFetchMs: summarize(rv.liveLat),
		VerifyMs:    summarize(rv.verify),
	}
}
