package client

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// Pipeline tuning that Options do not expose.
const (
	// callTimeout bounds the unary calls the pipeline makes itself.
	callTimeout = 15 * time.Second
	// minBackoff and maxBackoff bound the wait after a transient failure.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// lookupWorkers is how many lookups of one batch run at once.
	lookupWorkers = 8
	// txOverhead is room left in max_tx_bytes for everything but the
	// digests of a batch (envelope, signature, agency id, label).
	txOverhead = 2048
	// heightMaxAge is how old the chain height an unordered transaction's
	// valid_until_height starts from may be before it is read again.
	heightMaxAge = time.Second
	// nonceBytes is the length of the nonces the client draws.
	nonceBytes = ledger.MinNonceBytes
)

// txResult is the answer to a job that is not an anchor batch.
type txResult struct {
	resp *notaryv1.SubmitResponse
	err  error
}

// job is one transaction to be: an anchor batch (entries) or a caller's
// body (Submit, Revoke).
type job struct {
	order uint64 // submission order, to keep requeued jobs in order

	// An anchor batch.
	entries []*entry
	dups    int // duplicates split out of it so far

	// A caller's transaction.
	body *notaryv1.TxBody
	ctx  context.Context
	done chan txResult // capacity 1
}

func (j *job) anchor() bool { return j.body == nil }

// sentTx is a signed transaction on the stream, waiting for its answer.
type sentTx struct {
	job     *job
	entries []*entry // the values of an anchor batch, in leaf order
	seq     uint64
	raw     []byte
	hash    [32]byte
	id      string // request id of its latest sending
	// unknown: it was once sent without an answer we could trust (a broken
	// stream, a transient refusal or a timeout); its sequence may have
	// been consumed by it.
	unknown bool
	resend  bool // to be sent again, identical bytes
}

// pipelineStats count what the pipeline did, for tests and diagnostics.
type pipelineStats struct {
	sent, resent, committed, refused, splits, lookups, resyncs, streams atomic.Int64
}

// streamMsg is what a stream's reader goroutine reports.
type streamMsg struct {
	gen  uint64
	resp *notaryv1.SubmitResponse
	err  error
}

// pipeline collects digests and transactions from many callers, signs them
// with consecutive sequences and keeps them in flight on one SubmitStream.
// Its state is owned by the run goroutine, except what mu guards.
type pipeline struct {
	c *Client

	mu       sync.Mutex
	pending  map[string]*entry // entries not yet resolved, by anchored value
	codes    map[string]*entry // the coded ones among them, by code key
	open     []*entry          // entries not yet in a transaction, oldest first
	openAt   []time.Time       // when each entry of open arrived
	calls    []*job            // callers' transactions not yet sent
	flush    bool              // send the open entries now
	closing  bool              // no new work; send everything now
	cut      int               // the batch size, once known
	orderSeq uint64

	wake    chan struct{}  // something changed under mu
	events  chan func()    // results of asynchronous work, run by run
	msgs    chan streamMsg // answers from the stream
	stopped chan struct{}  // closed when run returns
	abort   chan struct{}  // closed by close when its context ends
	once    sync.Once

	stats pipelineStats

	batchMu sync.Mutex
	batches map[[2]int64]*notaryv1.Batch // batch records read, by (height, tx index)

	// Owned by run.
	params      *notaryv1.Params
	unordered   bool      // sign with nonces, not sequences (Options.Ordered)
	height      int64     // the latest chain height known, for valid_until_height
	heightAt    time.Time // when height was read from the node
	maxBatch    int
	stream      gatewayv1.Gateway_SubmitStreamClient
	streamStop  context.CancelFunc
	gen         uint64
	seq         uint64
	seqKnown    bool
	resync      bool // stop sending new transactions until the ones in flight are answered, then read the sequence
	inflight    map[string]*sentTx
	retry       []*job // jobs to sign again, before anything new
	async       int    // asynchronous tasks that will post an event
	nextID      uint64
	pauseUntil  time.Time
	backoff     time.Duration
	lastErr     error
	progressAt  time.Time
	wasIdle     bool
	closeWaiter chan struct{} // closed by run when closing and idle
}

func newPipeline(c *Client) *pipeline {
	p := &pipeline{
		c:           c,
		pending:     map[string]*entry{},
		codes:       map[string]*entry{},
		wake:        make(chan struct{}, 1),
		events:      make(chan func(), 64),
		msgs:        make(chan streamMsg, 64),
		stopped:     make(chan struct{}),
		abort:       make(chan struct{}),
		batches:     map[[2]int64]*notaryv1.Batch{},
		inflight:    map[string]*sentTx{},
		wasIdle:     true,
		closeWaiter: make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *pipeline) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// enqueue adds a document to the open batch, or joins the entry of the same
// anchored value (and code key) if one is pending. A verification code
// pending for another document is refused at once: the chain would refuse
// it.
func (p *pipeline) enqueue(ctx context.Context, doc Document) (*entry, error) {
	if p.c.id.Role != identity.RoleAgency {
		return nil, fmt.Errorf("client: anchor: identity %q is a %s; only an agency anchors", p.c.id.ID, p.c.id.Role)
	}
	key := string(doc.Anchored)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return nil, ErrClosed
	}
	if e := p.pending[key]; e != nil {
		if string(e.doc.CodeKey) != string(doc.CodeKey) {
			return nil, fmt.Errorf("client: anchor: %x is being anchored under another verification code, or without one", doc.Anchored)
		}
		e.ctxs = append(e.ctxs, ctx)
		return e, nil
	}
	if doc.Coded() && p.codes[string(doc.CodeKey)] != nil {
		return nil, fmt.Errorf("client: anchor: verification code key %x is being anchored for another document: %w", doc.CodeKey, ErrCodeUsed)
	}
	e := &entry{doc: doc, key: key, ch: make(chan struct{}), ctxs: []context.Context{ctx}, sent: map[[32]byte]bool{}}
	p.pending[key] = e
	if doc.Coded() {
		p.codes[string(doc.CodeKey)] = e
	}
	p.open = append(p.open, e)
	p.openAt = append(p.openAt, time.Now())
	if len(p.open) == 1 || len(p.open) == p.cut {
		p.poke()
	}
	return e, nil
}

// submit queues a caller's transaction and waits for its answer.
func (p *pipeline) submit(ctx context.Context, body *notaryv1.TxBody) (*notaryv1.SubmitResponse, error) {
	j := &job{body: body, ctx: ctx, done: make(chan txResult, 1)}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.orderSeq++
	j.order = p.orderSeq
	p.calls = append(p.calls, j)
	p.mu.Unlock()
	p.poke()
	select {
	case r := <-j.done:
		return r.resp, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// requestFlush makes the open entries go out now.
func (p *pipeline) requestFlush() {
	p.mu.Lock()
	if len(p.open) > 0 {
		p.flush = true
	}
	p.mu.Unlock()
	p.poke()
}

// close sends everything still open and waits until all pending work is
// answered, or ctx ends: then what is left fails with ErrClosed.
func (p *pipeline) close(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.poke()
	select {
	case <-p.closeWaiter:
		<-p.stopped
		return nil
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		p.once.Do(func() { close(p.abort) })
		// A call the run loop is making ends now, not at its own timeout.
		p.c.cancel()
		<-p.stopped
		return fmt.Errorf("client: close: pending work abandoned: %w", ctx.Err())
	}
}

// resolve gives an entry its result (once).
func (p *pipeline) resolve(e *entry, a *Anchored, err error) {
	if !e.done.CompareAndSwap(false, true) {
		return
	}
	e.res, e.err = a, err
	p.mu.Lock()
	p.forget(e)
	p.mu.Unlock()
	close(e.ch)
}

// forget removes a pending entry (p.mu held): nobody may join it now.
func (p *pipeline) forget(e *entry) {
	if p.pending[e.key] == e {
		delete(p.pending, e.key)
	}
	if e.doc.Coded() && p.codes[string(e.doc.CodeKey)] == e {
		delete(p.codes, string(e.doc.CodeKey))
	}
}

// ---- the run loop ----

func (p *pipeline) run() {
	defer close(p.stopped)
	defer p.shutdown()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if p.c.ctx.Err() != nil {
			return
		}
		now := time.Now()
		if p.idle() {
			p.wasIdle = true
			p.mu.Lock()
			closing := p.closing
			p.mu.Unlock()
			if closing {
				close(p.closeWaiter)
				return
			}
		} else if p.wasIdle {
			p.wasIdle = false
			p.progressAt = now
			p.backoff = 0
		}
		p.checkTimeout(now)
		if !now.Before(p.pauseUntil) {
			p.step()
		}
		wait := p.nextWake(time.Now())
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case m := <-p.msgs:
			p.onMsg(m)
		case f := <-p.events:
			p.async--
			f()
		case <-p.wake:
		case <-timer.C:
		case <-p.c.ctx.Done():
			return
		case <-p.abort:
			return
		}
	}
}

// idle reports whether nothing is pending.
func (p *pipeline) idle() bool {
	if len(p.inflight) > 0 || len(p.retry) > 0 || p.async > 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) == 0 && len(p.calls) == 0 && len(p.open) == 0
}

// nextWake is how long run may sleep without missing a batch window, the
// end of a pause or the retry timeout.
func (p *pipeline) nextWake(now time.Time) time.Duration {
	wait := time.Hour
	if now.Before(p.pauseUntil) {
		wait = p.pauseUntil.Sub(now)
	}
	p.mu.Lock()
	if len(p.openAt) > 0 {
		// A window already past was handled by the last step; if that
		// could not send (transactions in flight, a pause), an answer or
		// the pause's end wakes run.
		if d := p.openAt[0].Add(p.c.opts.BatchWindow).Sub(now); d > 0 && d < wait {
			wait = d
		}
	}
	p.mu.Unlock()
	if p.lastErr != nil && !p.wasIdle {
		if d := p.progressAt.Add(p.c.opts.RetryTimeout).Sub(now); d < wait {
			wait = d
		}
	}
	return max(wait, time.Millisecond)
}

// fault records a transient failure and pauses sending for a backoff.
func (p *pipeline) fault(err error) {
	p.lastErr = err
	if p.backoff == 0 {
		p.backoff = minBackoff
	} else {
		p.backoff = min(2*p.backoff, maxBackoff)
	}
	p.pauseUntil = time.Now().Add(p.backoff)
}

// callFailed handles a failed call the pipeline makes before it sends
// (params, status, account): a gateway that refuses the caller
// (PermissionDenied, Unauthenticated: a member removed, a certificate not
// registered) fails all pending work at once, with its message; any other
// error is retried.
func (p *pipeline) callFailed(err error) {
	switch status.Code(err) {
	case codes.PermissionDenied, codes.Unauthenticated:
		p.failAll(err)
		p.progress()
		return
	}
	p.fault(err)
}

// progress records that the chain answered something for good.
func (p *pipeline) progress() {
	p.progressAt = time.Now()
	p.backoff = 0
	p.lastErr = nil
}

// checkTimeout fails all pending work when nothing has progressed for the
// retry timeout.
func (p *pipeline) checkTimeout(now time.Time) {
	if p.lastErr == nil || p.wasIdle || now.Sub(p.progressAt) < p.c.opts.RetryTimeout {
		return
	}
	err := fmt.Errorf("client: no progress for %s: %w", p.c.opts.RetryTimeout, p.lastErr)
	p.failAll(err)
	p.progress()
}

// failAll fails everything pending with err; transactions in flight fail
// with ErrUnknownOutcome as well, since they may still be committed.
func (p *pipeline) failAll(err error) {
	unknown := fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	for id, s := range p.inflight {
		p.failJob(s.job, unknown)
		delete(p.inflight, id)
	}
	for _, j := range p.retry {
		p.failJob(j, err)
	}
	p.retry = nil
	p.mu.Lock()
	open, calls := p.open, p.calls
	p.open, p.openAt, p.calls, p.flush = nil, nil, nil, false
	p.mu.Unlock()
	for _, e := range open {
		p.resolve(e, nil, err)
	}
	for _, j := range calls {
		p.failJob(j, err)
	}
	// The sequence is unknown now.
	p.seqKnown, p.resync = false, false
	p.dropStream()
}

func (p *pipeline) failJob(j *job, err error) {
	if j.anchor() {
		for _, e := range j.entries {
			p.resolve(e, nil, err)
		}
		return
	}
	select {
	case j.done <- txResult{err: err}:
	default:
	}
}

// shutdown fails what is left when run returns.
func (p *pipeline) shutdown() {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.failAll(ErrClosed)
	p.mu.Lock()
	left := make([]*entry, 0, len(p.pending))
	for _, e := range p.pending {
		left = append(left, e)
	}
	p.mu.Unlock()
	for _, e := range left {
		p.resolve(e, nil, ErrClosed)
	}
}

// step prepares what sending needs and sends what it can.
func (p *pipeline) step() {
	if p.resync && len(p.inflight) == 0 {
		p.resync, p.seqKnown = false, false
		p.stats.resyncs.Add(1)
	}
	if !p.hasWork() {
		return
	}
	if p.params == nil {
		ctx, cancel := context.WithTimeout(p.c.ctx, callTimeout)
		params, err := p.c.Params(ctx)
		cancel()
		if err != nil {
			p.callFailed(err)
			return
		}
		p.params = params
		p.unordered = !p.c.opts.Ordered && params.GetMaxUnorderedWindow() > 0 && p.c.id.Role != identity.RoleCitizen
		p.maxBatch = p.c.opts.MaxBatch
		if n := int(params.GetMaxDigestsPerBatch()); n > 0 && n < p.maxBatch {
			p.maxBatch = n
		}
		if n := (int(params.GetMaxTxBytes()) - txOverhead) / ledger.DigestSize; params.GetMaxTxBytes() > 0 && n > 0 && n < p.maxBatch {
			p.maxBatch = n
		}
		p.mu.Lock()
		p.cut = p.maxBatch
		p.mu.Unlock()
	}
	if p.stream == nil {
		if err := p.openStream(); err != nil {
			p.fault(err)
			return
		}
		for _, s := range p.inflight {
			s.resend = true
		}
	}
	// Transactions whose fate is unknown go again first, identical.
	var again []*sentTx
	for _, s := range p.inflight {
		if s.resend {
			again = append(again, s)
		}
	}
	slices.SortFunc(again, func(a, b *sentTx) int { return cmp.Compare(a.seq, b.seq) })
	for _, s := range again {
		s.resend = false
		if !p.send(s) {
			return
		}
	}
	if p.resync {
		return
	}
	for len(p.inflight) < p.c.opts.MaxInFlight {
		if p.unordered && time.Since(p.heightAt) > heightMaxAge {
			ctx, cancel := context.WithTimeout(p.c.ctx, callTimeout)
			st, err := p.c.Status(ctx)
			cancel()
			if err != nil {
				p.callFailed(err)
				return
			}
			p.height, p.heightAt = max(p.height, st.LatestHeight), time.Now()
		}
		j := p.nextJob()
		if j == nil {
			return
		}
		if p.unordered {
			if !p.send(p.sign(j)) {
				return
			}
			continue
		}
		if !p.seqKnown {
			ctx, cancel := context.WithTimeout(p.c.ctx, callTimeout)
			acct, err := p.c.Account(ctx)
			cancel()
			if err != nil {
				p.retry = append([]*job{j}, p.retry...)
				p.callFailed(err)
				return
			}
			p.seq, p.seqKnown = acct.NextSequence, true
		}
		s := p.sign(j)
		p.seq++
		if !p.send(s) {
			return
		}
	}
}

// hasWork reports whether anything waits to be sent or answered.
func (p *pipeline) hasWork() bool {
	if len(p.inflight) > 0 || len(p.retry) > 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls) > 0 || len(p.open) > 0
}

// nextJob returns the next transaction to sign: a requeued one, a caller's,
// or an anchor batch that is full, past its window or flushed.
func (p *pipeline) nextJob() *job {
	for len(p.retry) > 0 {
		j := p.retry[0]
		p.retry = p.retry[1:]
		if !j.anchor() && j.ctx.Err() != nil {
			// Refused before; its caller is gone: drop it.
			j.done <- txResult{err: j.ctx.Err()}
			continue
		}
		return j
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.calls) > 0 {
		j := p.calls[0]
		p.calls = p.calls[1:]
		if err := j.ctx.Err(); err != nil {
			j.done <- txResult{err: err}
			continue
		}
		return j
	}
	for len(p.open) > 0 {
		ready := p.flush || p.closing || len(p.open) >= p.maxBatch ||
			!time.Now().Before(p.openAt[0].Add(p.c.opts.BatchWindow))
		if !ready {
			return nil
		}
		cut := p.cutOpen()
		var es []*entry
		var gone []*entry
		for _, e := range cut {
			if e.wanted() {
				es = append(es, e)
			} else {
				p.forget(e)
				gone = append(gone, e)
			}
		}
		if len(p.open) == 0 {
			p.flush = false
		}
		if len(gone) > 0 {
			p.mu.Unlock()
			for _, e := range gone {
				p.resolve(e, nil, context.Canceled)
			}
			p.mu.Lock()
		}
		if len(es) == 0 {
			continue
		}
		p.orderSeq++
		return &job{order: p.orderSeq, entries: es}
	}
	return nil
}

// cutOpen takes the values of the next batch out of the open ones (p.mu
// held): a batch is plain or coded (all its values under verification
// codes), so it takes, in order, the first values of the kind of the oldest
// one, up to the batch size; the others stay open, in order.
func (p *pipeline) cutOpen() []*entry {
	coded := p.open[0].doc.Coded()
	limit := p.maxBatch
	var cut, keep []*entry
	var keepAt []time.Time
	i := 0
	for ; i < len(p.open) && len(cut) < limit; i++ {
		if e := p.open[i]; e.doc.Coded() == coded {
			cut = append(cut, e)
		} else {
			keep = append(keep, e)
			keepAt = append(keepAt, p.openAt[i])
		}
	}
	if len(keep) == 0 {
		p.open = slices.Delete(p.open, 0, i)
		p.openAt = slices.Delete(p.openAt, 0, i)
		return cut
	}
	p.open = append(keep, p.open[i:]...)
	p.openAt = append(keepAt, p.openAt[i:]...)
	return cut
}

// sign signs a job with the next sequence, or as an unordered transaction:
// a fresh random nonce, valid until half the chain's window after the
// latest height known.
func (p *pipeline) sign(j *job) *sentTx {
	body := j.body
	if j.anchor() {
		ds := make([]byte, 0, len(j.entries)*ledger.DigestSize)
		for _, e := range j.entries {
			ds = append(ds, e.doc.Anchored...)
		}
		// A coded document's value is its coded entry: a batch of them is
		// coded.
		body = &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: p.c.id.ID, HashAlgorithm: p.c.opts.Algorithm, Digests: ds, Label: p.c.opts.Label, Coded: j.entries[0].doc.Coded()}}}
	}
	body.Sequence, body.Nonce, body.ValidUntilHeight = p.seq, nil, 0
	if p.unordered {
		body.Sequence = 0
		body.Nonce = make([]byte, nonceBytes)
		if _, err := rand.Read(body.Nonce); err != nil {
			// crypto/rand does not fail on supported platforms.
			panic(fmt.Sprintf("client: random nonce: %v", err))
		}
		body.ValidUntilHeight = p.height + max(1, int64(p.params.GetMaxUnorderedWindow()/2))
	}
	raw := p.c.id.SignTx(body)
	s := &sentTx{job: j, entries: j.entries, seq: p.seq, raw: raw, hash: ledger.TxHash(raw)}
	if j.anchor() {
		p.mu.Lock()
		for _, e := range j.entries {
			e.sent[s.hash] = true
		}
		p.mu.Unlock()
	}
	return s
}

// send puts s on the stream under a fresh request id; false if the stream
// broke.
func (p *pipeline) send(s *sentTx) bool {
	if s.id != "" {
		delete(p.inflight, s.id)
	}
	p.nextID++
	s.id = strconv.FormatUint(p.nextID, 10)
	p.inflight[s.id] = s
	if s.unknown {
		p.stats.resent.Add(1)
	} else {
		p.stats.sent.Add(1)
	}
	if err := p.stream.Send(&notaryv1.SubmitRequest{Tx: s.raw, RequestId: s.id}); err != nil {
		p.broken(err)
		return false
	}
	return true
}

// openStream opens a SubmitStream and its reader.
func (p *pipeline) openStream() error {
	ctx, cancel := context.WithCancel(p.c.ctx)
	st, err := p.c.gw.SubmitStream(ctx)
	if err != nil {
		cancel()
		return rpcError("submit stream", err)
	}
	p.gen++
	gen := p.gen
	p.stats.streams.Add(1)
	p.stream, p.streamStop = st, cancel
	go func() {
		for {
			resp, err := st.Recv()
			select {
			case p.msgs <- streamMsg{gen: gen, resp: resp, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return nil
}

func (p *pipeline) dropStream() {
	if p.stream != nil {
		p.streamStop()
		p.stream, p.streamStop = nil, nil
	}
}

// broken handles a failed stream: every transaction in flight has an
// unknown fate and is sent again, identical, on the next stream.
func (p *pipeline) broken(err error) {
	p.dropStream()
	for _, s := range p.inflight {
		s.unknown, s.resend = true, true
	}
	p.fault(rpcError("submit stream", err))
}

// onMsg handles one answer from the stream.
func (p *pipeline) onMsg(m streamMsg) {
	if m.gen != p.gen || p.stream == nil {
		return // from a stream given up
	}
	if m.err != nil {
		p.broken(m.err)
		return
	}
	s := p.inflight[m.resp.RequestId]
	if s == nil {
		return // of a transaction failed meanwhile
	}
	p.answer(s, m.resp)
}

// Ledger codes the pipeline acts on.
var (
	codeReplayed = ledger.ErrSequenceReplayed.Code()
	codeSkipped  = ledger.ErrSequenceSkipped.Code()
)

// answer handles the answer to a transaction in flight.
func (p *pipeline) answer(s *sentTx, r *notaryv1.SubmitResponse) {
	code := codes.Code(r.GrpcCode)
	if code != codes.OK && r.Code == 0 && transient(code) {
		// Refused or timed out before the chain answered: the same bytes
		// go again after a pause (the node recognises them if they were
		// committed or are in its mempool).
		s.unknown, s.resend = true, true
		p.fault(txError(r))
		return
	}
	delete(p.inflight, s.id)
	j := s.job
	if code == codes.OK && r.Code == 0 {
		p.stats.committed.Add(1)
		p.height = max(p.height, r.Height)
		p.progress()
		if j.anchor() {
			p.committed(s, r)
		} else {
			j.done <- txResult{resp: r}
		}
		return
	}
	p.stats.refused.Add(1)
	if p.unordered {
		if p.unorderedRefusal(s, r) {
			return
		}
	} else {
		// Refused: the transaction changed nothing, not even its
		// sequence, so the ones sent after it fail too. Send nothing new
		// until they are answered, then read the account's sequence
		// again.
		p.resync = true
	}
	switch {
	case r.Code == codeReplayed || r.Code == codeSkipped:
		if s.unknown && r.Code == codeReplayed {
			// Its sequence was used: by this very transaction, or by
			// another one.
			if j.anchor() {
				p.lookupFirst(s)
			} else {
				p.progress()
				j.done <- txResult{err: fmt.Errorf("%w: %w", ErrUnknownOutcome, txError(r))}
			}
			return
		}
		p.lastErr = txError(r)
		p.requeue(j)
	case j.anchor() && r.Code == 0 && code == codes.InvalidArgument && len(s.entries) > 1 &&
		strings.Contains(r.Log, "max_digests_per_request"):
		// The gateway takes fewer digests per transaction than the chain
		// does: smaller batches from now on.
		p.progress()
		p.shrink(j, len(s.entries)/2)
	case j.anchor() && code == codes.AlreadyExists && r.Result.GetExisting() != nil:
		p.progress()
		p.split(j, r.Result.Existing, txError(r))
	default:
		p.progress()
		p.failJob(j, txError(r))
	}
}

// Ledger codes of unordered transactions the pipeline acts on.
var (
	codeNonceUsed = ledger.ErrNonceUsed.Code()
	codeExpired   = ledger.ErrTxExpired.Code()
	codeWindow    = ledger.ErrUnorderedWindow.Code()
)

// unorderedRefusal handles the refusals that concern an unordered
// transaction's replay fields; it reports false for the others. A refusal
// does not concern the transactions sent after it.
func (p *pipeline) unorderedRefusal(s *sentTx, r *notaryv1.SubmitResponse) bool {
	j := s.job
	switch r.Code {
	case codeNonceUsed, codeExpired:
		if s.unknown {
			// Sent before without an answer: this very transaction may
			// have spent its nonce (the gateway gives the committed
			// result of identical bytes when it finds them).
			if j.anchor() {
				p.lookupFirst(s)
			} else {
				p.progress()
				j.done <- txResult{err: fmt.Errorf("%w: %w", ErrUnknownOutcome, txError(r))}
			}
			return true
		}
		// Expired before any block took it (or, for a nonce, drawn
		// twice): signed again, with a new nonce and a fresh height.
	case codeWindow:
		// The window changed: read the params and the height again.
		p.params = nil
	default:
		return false
	}
	p.heightAt = time.Time{}
	p.lastErr = txError(r)
	p.requeue(j)
	return true
}

// shrink lowers the batch size to n and puts the job's values back at the
// head of the open batch, ready to go.
func (p *pipeline) shrink(j *job, n int) {
	p.maxBatch = max(1, min(p.maxBatch, n))
	var keep []*entry
	for _, e := range j.entries {
		if !e.done.Load() {
			keep = append(keep, e)
		}
	}
	at := make([]time.Time, len(keep)) // zero times: past their window
	p.mu.Lock()
	p.cut = p.maxBatch
	p.open = append(keep, p.open...)
	p.openAt = append(at, p.openAt...)
	p.mu.Unlock()
}

// requeue puts a job back to be signed again with a new sequence, keeping
// the order of submission.
func (p *pipeline) requeue(j *job) {
	if j.anchor() {
		var keep []*entry
		p.mu.Lock()
		for _, e := range j.entries {
			if e.done.Load() {
				continue
			}
			keep = append(keep, e)
		}
		p.mu.Unlock()
		if len(keep) == 0 {
			return
		}
		j.entries = keep
	}
	i, _ := slices.BinarySearchFunc(p.retry, j.order, func(a *job, o uint64) int { return cmp.Compare(a.order, o) })
	p.retry = slices.Insert(p.retry, i, j)
}

// later runs f in a goroutine that posts its continuation to run.
func (p *pipeline) later(f func() func()) {
	p.async++
	go func() {
		next := f()
		select {
		case p.events <- next:
		case <-p.stopped:
		}
	}()
}

// committed resolves the entries of a committed batch, after checking that
// the batch record at the position the chain reported is this very
// transaction's.
func (p *pipeline) committed(s *sentTx, r *notaryv1.SubmitResponse) {
	loc := r.Result.GetBatch()
	p.later(func() func() {
		height, idx := loc.GetHeight(), loc.GetTxIndex()
		var b *notaryv1.Batch
		var err error
		if loc == nil {
			// No position in the answer: find it by the first value.
			var a *Anchored
			if a, err = p.find(s.entries[0]); err == nil && a == nil {
				err = errors.New("its first value is not found")
			}
			if err == nil {
				height, idx = a.Height, a.TxIndex
			}
		}
		if err == nil {
			b, err = p.record(height, idx)
		}
		if err == nil && (string(b.TxHash) != string(s.hash[:]) || int(b.Count) != len(s.entries)) {
			err = fmt.Errorf("batch %s is transaction %X of %d values, not this one", ledger.FormatBatchID(height, idx), b.TxHash, b.Count)
		}
		for i, e := range s.entries {
			if err != nil {
				p.resolve(e, nil, fmt.Errorf("client: transaction %X was committed, but its batch record could not be read: %w", s.hash[:], err))
				continue
			}
			p.resolve(e, anchoredFrom(e.doc, b, uint32(i), false), nil)
		}
		return func() {}
	})
}

// record reads a batch record, retrying failures (the batch is committed:
// only reading it may fail, or the node may not serve its height yet) until
// the retry timeout.
func (p *pipeline) record(height int64, idx uint32) (*notaryv1.Batch, error) {
	k := [2]int64{height, int64(idx)}
	p.batchMu.Lock()
	b := p.batches[k]
	p.batchMu.Unlock()
	if b != nil {
		return b, nil
	}
	deadline := time.Now().Add(p.c.opts.RetryTimeout)
	wait := minBackoff
	for {
		ctx, cancel := context.WithTimeout(p.c.ctx, callTimeout)
		b, err := p.c.batchRecord(ctx, height, idx)
		cancel()
		if err == nil {
			p.batchMu.Lock()
			if len(p.batches) > 4096 {
				clear(p.batches)
			}
			p.batches[k] = b
			p.batchMu.Unlock()
			return b, nil
		}
		if p.c.ctx.Err() != nil {
			return nil, ErrClosed
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		select {
		case <-time.After(wait):
		case <-p.c.ctx.Done():
			return nil, ErrClosed
		}
		wait = min(2*wait, maxBackoff)
	}
}

// existing resolves e as already anchored at loc.
func (p *pipeline) existing(e *entry, loc *notaryv1.DigestLocator) {
	b, err := p.record(loc.Height, loc.TxIndex)
	if err != nil {
		p.resolve(e, nil, fmt.Errorf("client: already anchored in batch %s, but its record could not be read: %w", ledger.FormatBatchID(loc.Height, loc.TxIndex), err))
		return
	}
	p.resolve(e, anchoredFrom(e.doc, b, loc.LeafIndex, !p.ownTx(e, b.TxHash)), nil)
}

// ownTx reports whether e was sent in the transaction of hash h.
func (p *pipeline) ownTx(e *entry, h []byte) bool {
	if len(h) != 32 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.sent[[32]byte(h)]
}

// find looks an entry's value up: its record if anchored, nil if not. A
// coded entry is looked up by its code key (the chain indexes a coded
// document by key only); a key registered for another document is an
// error wrapping ErrCodeUsed.
func (p *pipeline) find(e *entry) (*Anchored, error) {
	p.stats.lookups.Add(1)
	ctx, cancel := context.WithTimeout(p.c.ctx, callTimeout)
	defer cancel()
	var r *notaryv1.LookupDigestResponse
	var err error
	if e.doc.Coded() {
		r, err = p.c.LookupCode(ctx, e.doc.CodeKey, 0)
	} else {
		r, err = p.c.Lookup(ctx, e.doc.Algorithm, e.doc.Anchored, 0)
	}
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.Batch == nil {
		return nil, fmt.Errorf("client: lookup of %x: no batch record", e.doc.Anchored)
	}
	if e.doc.Coded() && (string(r.Digest) != string(e.doc.anchoredIn(r.Batch.Coded)) || r.Batch.HashAlgorithm != e.doc.Algorithm) {
		return nil, fmt.Errorf("client: verification code key %x is registered for another document (batch %s, leaf %d): %w",
			e.doc.CodeKey, ledger.FormatBatchID(r.Batch.Height, r.Batch.TxIndex), r.LeafIndex, ErrCodeUsed)
	}
	doc := e.doc
	if doc.Coded() {
		// A code anchored in the earlier form holds the salted commitment.
		doc.Anchored = doc.anchoredIn(r.Batch.Coded)
	}
	return anchoredFrom(doc, r.Batch, r.LeafIndex, !p.ownTx(e, r.Batch.TxHash)), nil
}

// split handles a batch refused for one duplicate: that value is resolved
// with its original record, and the others go again. From the second
// duplicate of the same batch on, the others are looked up first. A
// verification code key anchored before (for another document: the same
// document would have been a duplicate value) fails its value with the
// chain's refusal, refused.
func (p *pipeline) split(j *job, ex *notaryv1.ExistingDigest, refused *TxError) {
	var dup *entry
	rest := make([]*entry, 0, len(j.entries))
	for _, e := range j.entries {
		if dup == nil && (len(ex.CodeKey) == 0 && string(ex.Digest) == e.key || len(ex.CodeKey) > 0 && string(ex.CodeKey) == string(e.doc.CodeKey)) {
			dup = e
			continue
		}
		rest = append(rest, e)
	}
	if dup == nil {
		// The chain named a value this batch does not carry.
		p.failJob(j, fmt.Errorf("client: the chain reported duplicate %x%x, which the batch does not carry", ex.Digest, ex.CodeKey))
		return
	}
	j.dups++
	j.entries = rest
	p.stats.splits.Add(1)
	loc := ex.Locator
	switch {
	case len(ex.CodeKey) > 0:
		// The chain checks a coded document's key, not its digest: the key
		// may hold this very document (anchored before) or another one.
		p.later(func() func() { p.awaitCoded(dup, refused); return func() {} })
	case loc != nil:
		p.later(func() func() { p.existing(dup, loc); return func() {} })
	default:
		// Anchored by a transaction not yet committed: wait for it.
		p.later(func() func() {
			p.awaitAnchored(dup)
			return func() {}
		})
	}
	if len(rest) == 0 {
		return
	}
	if j.dups < 2 {
		p.requeue(j)
		return
	}
	p.later(func() func() {
		p.lookupAll(rest)
		return func() { p.requeue(j) }
	})
}

// awaitCoded resolves a coded entry whose key the chain reported as
// registered (refused): with the record if the key holds this document,
// else with ErrCodeUsed. A key in a transaction not yet committed is
// polled for as awaitAnchored does.
func (p *pipeline) awaitCoded(e *entry, refused *TxError) {
	deadline := time.Now().Add(p.c.opts.RetryTimeout)
	wait := minBackoff
	for {
		a, err := p.find(e)
		switch {
		case err == nil && a != nil:
			p.resolve(e, a, nil)
			return
		case errors.Is(err, ErrCodeUsed):
			p.resolve(e, nil, fmt.Errorf("%w: %w", err, refused))
			return
		case !time.Now().Before(deadline):
			if err == nil {
				err = errors.New("it is in a transaction that was not committed")
			}
			p.resolve(e, nil, fmt.Errorf("client: verification code key %x is registered, but its document was not found within %s: %w: %w", e.doc.CodeKey, p.c.opts.RetryTimeout, err, refused))
			return
		}
		select {
		case <-time.After(wait):
		case <-p.c.ctx.Done():
			p.resolve(e, nil, ErrClosed)
			return
		}
		wait = min(2*wait, maxBackoff)
	}
}

// awaitAnchored polls for a value another transaction is anchoring, until
// it is committed or the retry timeout ends.
func (p *pipeline) awaitAnchored(e *entry) {
	deadline := time.Now().Add(p.c.opts.RetryTimeout)
	wait := minBackoff
	var last error
	for time.Now().Before(deadline) {
		a, err := p.find(e)
		if err == nil && a != nil {
			p.resolve(e, a, nil)
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-time.After(wait):
		case <-p.c.ctx.Done():
			p.resolve(e, nil, ErrClosed)
			return
		}
		wait = min(2*wait, maxBackoff)
	}
	if last == nil {
		last = errors.New("it is in a transaction that was not committed")
	}
	p.resolve(e, nil, fmt.Errorf("client: the chain reported the value as being anchored by another transaction, but it was not found within %s: %w", p.c.opts.RetryTimeout, last))
}

// lookupAll resolves the entries that are anchored already; the others stay
// pending.
func (p *pipeline) lookupAll(es []*entry) {
	work := make(chan *entry)
	var wg sync.WaitGroup
	for range min(lookupWorkers, len(es)) {
		wg.Go(func() {
			for e := range work {
				if a, err := p.find(e); err == nil && a != nil {
					p.resolve(e, a, nil)
				}
			}
		})
	}
	for _, e := range es {
		work <- e
	}
	close(work)
	wg.Wait()
}

// lookupFirst learns whether a batch whose fate was unknown was committed:
// its first value is found in that very transaction, or the batch goes
// again.
func (p *pipeline) lookupFirst(s *sentTx) {
	j := s.job
	first := s.entries[0]
	p.later(func() func() {
		var a *Anchored
		var err error
		for range 3 {
			if a, err = p.find(first); err == nil {
				break
			}
			time.Sleep(minBackoff)
		}
		switch {
		case err != nil:
			e := fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
			return func() { p.progress(); p.failJob(j, e) }
		case a != nil && string(a.TxHash) == string(s.hash[:]):
			// Committed: the batch record is the same for all its values.
			return func() {
				p.progress()
				p.committed(s, &notaryv1.SubmitResponse{Height: a.Height, Result: &notaryv1.TxResult{
					Created: &notaryv1.TxResult_Batch{Batch: &notaryv1.DigestLocator{Height: a.Height, TxIndex: a.TxIndex}}}})
			}
		default:
			return func() { p.requeue(j) }
		}
	})
}
