package main

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// singleResult is the latency of one document at a time: one document a
// second from one agency, after the load, on an otherwise idle chain.
type singleResult struct {
	Seconds   float64 `json:"seconds"`
	Documents int     `json:"documents"`
	// CommitMs is from the submission to the gateway's answer that the
	// document's transaction is committed.
	CommitMs latency `json:"submit_to_commit_ms"`
	// ReceiptMs is from the submission to the first GetReceipt of the
	// document that the same gateway answers (polled every 10 ms once the
	// transaction is committed).
	ReceiptMs latency `json:"submit_to_receipt_ms"`
	// NodeCoresBusy is the CPU the notary nodes used over the window, in
	// cores: at one document a second, what the chain costs when idle
	// (timers, consensus gossip, empty heights); ClientCoresBusy is the
	// bench's own (with --net, the link proxies).
	NodeCoresBusy   float64        `json:"node_cpu_cores_busy"`
	ClientCoresBusy float64        `json:"client_cpu_cores_busy"`
	ReceiptErrors   int            `json:"receipt_errors,omitempty"`
	FirstError      string         `json:"first_error,omitempty"`
	Errors          map[string]int `json:"errors,omitempty"`
}

// measureSingle submits one document a second for o.single through the
// gateway of c, whose load has stopped: the documents continue c's, signed
// with its agency's key and its next sequences.
func measureSingle(ctx context.Context, o options, c *agencyClient, nodes []*proc) *singleResult {
	logf("notary: one document a second for %s", o.single)
	st := newLoadStats(o.sample)
	done := make(chan committedBatch, 1024)
	st.notify = done
	sc := &agencyClient{idx: c.idx, codes: c.codes, id: c.id, node: c.node, gw: c.gw, conn: c.conn, batch: 1, inFlight: 4, nextDoc: c.nextDoc}
	sc.rate.Store(1)
	res := &singleResult{}
	var mu sync.Mutex
	var receipts []time.Duration
	var pollers sync.WaitGroup
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for b := range done {
			pollers.Add(1)
			go func() {
				defer pollers.Done()
				d, err := pollReceipt(ctx, sc, b)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					res.ReceiptErrors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
					return
				}
				receipts = append(receipts, d)
			}()
		}
	}()
	cpu0, cerr := sumCPU(nodes)
	self0 := selfCPU()
	t0 := time.Now()
	lctx, cancel := context.WithTimeout(ctx, o.single)
	sc.run(lctx, st)
	cancel()
	res.Seconds = time.Since(t0).Seconds()
	// A node that cannot be read at either end (it exited) leaves it 0,
	// not a difference with a missing term.
	if cpu1, err := sumCPU(nodes); cerr == nil && err == nil {
		res.NodeCoresBusy = (cpu1 - cpu0) / res.Seconds
	}
	res.ClientCoresBusy = (selfCPU() - self0) / res.Seconds
	close(done)
	<-collected
	pollers.Wait()
	c.nextDoc = sc.nextDoc
	_, txs, lat := st.window(t0, time.Now())
	res.Documents = txs
	res.CommitMs = summarize(lat)
	res.ReceiptMs = summarize(receipts)
	if len(st.errors) > 0 {
		res.Errors = st.errors
	}
	return res
}

// pollReceipt fetches the receipt of the document of b from c's gateway
// until it has one, and returns the time from the submission.
func pollReceipt(ctx context.Context, c *agencyClient, b committedBatch) (time.Duration, error) {
	submitted := b.at.Add(-b.latency)
	d := digestOf(uint64(b.agency), b.first)
	req := &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: d[:]}
	if c.codes {
		req = &notaryv1.GetReceiptRequest{CodeKey: benchCodeKey(d)}
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for {
		_, err := c.gw.GetReceipt(pctx, req)
		if err == nil {
			return time.Since(submitted), nil
		}
		if status.Code(err) != codes.NotFound || !sleepCtx(pctx, 10*time.Millisecond) {
			return 0, err
		}
	}
}
