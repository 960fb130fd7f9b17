package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	mempl "github.com/cometbft/cometbft/mempool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// maxRequestIDBytes bounds SubmitRequest.request_id.
const maxRequestIDBytes = 64

// outcome is the answer to one submitted transaction.
type outcome struct {
	resp  *notaryv1.SubmitResponse // always set
	st    *status.Status           // its status; OK on success
	batch *notaryv1.Batch          // the original batch of a duplicate, if known
}

// err is the status error of a unary Submit: nil on success, else the status
// with the response (and the original batch of a duplicate) in its details.
func (o *outcome) err() error {
	if o.st.Code() == codes.OK {
		return nil
	}
	return withDetails(o.st, o.resp, o.batch).Err()
}

func refusedOutcome(resp *notaryv1.SubmitResponse, err error) *outcome {
	st, _ := status.FromError(clipStatus(err))
	resp.GrpcCode = uint32(st.Code())
	resp.Log = st.Message()
	return &outcome{resp: resp, st: st}
}

// Submit implements notary.v1.Gateway.
func (s *Server) Submit(ctx context.Context, req *notaryv1.SubmitRequest) (*notaryv1.SubmitResponse, error) {
	c := callerFrom(ctx)
	ch := make(chan *outcome, 1)
	if o := s.submit(ctx, req, c, func(o *outcome) { ch <- o }); o != nil {
		return s.finish(o)
	}
	select {
	case o := <-ch:
		return s.finish(o)
	case <-ctx.Done():
		// The waiter is cancelled by submit's timer or fires into ch,
		// which nobody reads: both are harmless.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

func (s *Server) finish(o *outcome) (*notaryv1.SubmitResponse, error) {
	if err := o.err(); err != nil {
		return nil, err
	}
	return o.resp, nil
}

// SubmitStream implements notary.v1.Gateway: the transactions of one stream
// are checked in the order received and answered in commit order, with up to
// max_in_flight of them waiting for commit at once.
func (s *Server) SubmitStream(stream grpc.BidiStreamingServer[notaryv1.SubmitRequest, notaryv1.SubmitResponse]) error {
	ctx := stream.Context()
	c := callerFrom(ctx)
	slots := make(chan struct{}, s.cfg.MaxInFlight)
	out := make(chan *notaryv1.SubmitResponse, s.cfg.MaxInFlight)
	var (
		sendErr error
		open    atomic.Int64 // requests received and not yet answered
	)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for resp := range out {
			if sendErr == nil {
				sendErr = stream.Send(resp)
			}
			open.Add(-1)
			<-slots
		}
	}()
	var pending sync.WaitGroup
	finish := func(recvErr error) error {
		pending.Wait()
		close(out)
		<-sent
		if recvErr != nil {
			return recvErr
		}
		return sendErr
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return finish(nil)
		}
		if err != nil {
			if status.Code(err) == codes.Canceled && open.Load() == 0 {
				// The client went away once every request it sent
				// was answered: it closed the stream, without
				// half-closing it first.
				return finish(nil)
			}
			return finish(err)
		}
		open.Add(1)
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			open.Add(-1)
			return finish(status.FromContextError(ctx.Err()).Err())
		case <-s.stopping.Done():
			open.Add(-1)
			return finish(status.Error(codes.Unavailable, "the node is stopping"))
		}
		if err := s.allowRate(ctx); err != nil {
			resp := &notaryv1.SubmitResponse{RequestId: truncateID(req.RequestId)}
			out <- refusedOutcome(resp, err).resp
			continue
		}
		pending.Add(1)
		if o := s.submit(ctx, req, c, func(o *outcome) { out <- o.resp; pending.Done() }); o != nil {
			out <- o.resp
			pending.Done()
		}
	}
}

// SubmitBatch implements notary.v1.Gateway: the transactions are checked in
// the order given, like those of a stream, and answered together once each
// is committed or refused, in request order. Each after the first takes a
// token of the caller's rate limit, as on a stream.
func (s *Server) SubmitBatch(ctx context.Context, req *notaryv1.SubmitBatchRequest) (*notaryv1.SubmitBatchResponse, error) {
	n := len(req.Requests)
	switch {
	case n == 0:
		return nil, invalidArg("requests is empty: send at least one signed transaction")
	case n > s.cfg.MaxInFlight:
		return nil, s.refuse("max_in_flight", invalidArg(
			"the batch carries %d transactions; gateway limit max_in_flight is %d: split it", n, s.cfg.MaxInFlight))
	}
	c := callerFrom(ctx)
	out := make([]*notaryv1.SubmitResponse, n)
	var pending sync.WaitGroup
	for i, r := range req.Requests {
		if i > 0 {
			if err := s.allowRate(ctx); err != nil {
				out[i] = refusedOutcome(&notaryv1.SubmitResponse{RequestId: truncateID(r.RequestId)}, err).resp
				continue
			}
		}
		pending.Add(1)
		if o := s.submit(ctx, r, c, func(o *outcome) { out[i] = o.resp; pending.Done() }); o != nil {
			out[i] = o.resp
			pending.Done()
		}
	}
	pending.Wait()
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	return &notaryv1.SubmitBatchResponse{Responses: out}, nil
}

func truncateID(id string) string {
	if len(id) > maxRequestIDBytes {
		return id[:maxRequestIDBytes]
	}
	return id
}

// submit checks, authorises and hands one transaction to the mempool. It
// returns the outcome at once if the transaction is refused (or was committed
// already); otherwise it returns nil and calls done exactly once, later, with
// the committed outcome, or with DeadlineExceeded after submit_timeout, or
// Unavailable if the node stops.
func (s *Server) submit(ctx context.Context, req *notaryv1.SubmitRequest, c caller, done func(*outcome)) (answer *outcome) {
	resp := &notaryv1.SubmitResponse{RequestId: truncateID(req.RequestId)}
	if len(req.RequestId) > maxRequestIDBytes {
		return refusedOutcome(resp, invalidArg("request_id is %d bytes, the limit is %d", len(req.RequestId), maxRequestIDBytes))
	}
	if len(req.Tx) == 0 {
		return refusedOutcome(resp, invalidArg("tx is empty: send the canonical bytes of a signed notary.v1.Tx"))
	}
	h := ledger.TxHash(req.Tx)
	resp.TxHash = h[:]
	tx, err := s.precheck(req.Tx, c)
	if count := s.digestCounter(c, tx); count != nil {
		inner := done
		done = func(o *outcome) { count(o); inner(o) }
		defer func() {
			if answer != nil {
				count(answer)
			}
		}()
	}
	if err != nil {
		return refusedOutcome(resp, err)
	}
	switch tx.Body.Msg.(type) {
	case *notaryv1.TxBody_GrantConsent, *notaryv1.TxBody_WithdrawConsent:
		s.citizenAuthenticated(ctx, tx.Signer)
	}
	if ab := tx.Body.GetAnchorBatch(); ab != nil {
		s.m.batchDigests.Observe(float64(len(ab.Digests) / ledger.DigestSize))
	}

	start := time.Now()
	w := &waiter{}
	w.done = func(r committedTx, err error) {
		s.m.inFlight.Dec()
		var o *outcome
		if err != nil {
			o = refusedOutcome(resp, err)
		} else {
			s.m.commitLatency.Observe(time.Since(start).Seconds())
			o = s.committedOutcome(resp, r)
		}
		s.m.submissions.WithLabelValues(o.st.Code().String()).Inc()
		done(o)
	}
	if r, ok, err := s.tracker.register(h, w); err != nil {
		return refusedOutcome(resp, err)
	} else if ok {
		// Identical bytes were committed recently: their result.
		return s.committedOutcome(resp, r)
	}
	s.m.inFlight.Inc()
	timeout := s.cfg.SubmitTimeout.Duration
	timer := time.AfterFunc(timeout, func() {
		s.tracker.cancel(h, w)
		w.fire(committedTx{}, status.Errorf(codes.DeadlineExceeded,
			"transaction %X not committed within gateway submit_timeout (%s); it may still be committed: look it up or resubmit the same bytes",
			h[:], timeout))
	})
	w.onAnswer(timer.Stop)
	// A caller that goes away stops waiting.
	w.onAnswer(context.AfterFunc(ctx, func() {
		s.tracker.cancel(h, w)
		w.fire(committedTx{}, status.FromContextError(ctx.Err()).Err())
	}))
	// abandon ends a waiter whose transaction will not be committed; it
	// reports false if the waiter was answered meanwhile.
	abandon := func() bool {
		s.tracker.cancel(h, w)
		if !w.claim() {
			return false
		}
		s.m.inFlight.Dec()
		return true
	}

	s.app.MarkLocal(h)
	res, err := s.checkTx(ctx, req.Tx)
	switch {
	case errors.Is(err, mempl.ErrTxInCache):
		// The same bytes are in the mempool (then the waiter gets their
		// result) or were committed (then the tracker or the state
		// knows it).
		r, ok := s.tracker.recentResult(h)
		if !ok {
			r, ok = s.committedResult(tx)
		}
		if ok && abandon() {
			return s.committedOutcome(resp, r)
		}
		return nil
	case err != nil:
		if abandon() {
			o := refusedOutcome(resp, err)
			s.m.submissions.WithLabelValues(o.st.Code().String()).Inc()
			return o
		}
		return nil
	case res.Code != abcitypes.CodeTypeOK:
		if res.Codespace == ledger.Codespace && replayCode(res.Code) {
			// Committed identical bytes may have used this sequence or
			// spent this nonce (an unordered transaction's nonce is
			// forgotten once it has expired): their result, as the
			// tracker gives it while it remembers them (the node may
			// have restarted since, or forgotten).
			if r, ok := s.committedResult(tx); ok && abandon() {
				return s.committedOutcome(resp, r)
			}
		}
		if abandon() {
			o := s.resultOutcome(resp, res.Code, res.Codespace, res.Log, res.Data)
			s.m.submissions.WithLabelValues(o.st.Code().String()).Inc()
			return o
		}
		return nil
	}
	return nil
}

// digestCounter returns what counts the digests of an AnchorBatch, once
// answered, as anchored or refused for the agency of the caller's
// certificate; nil for other transactions.
func (s *Server) digestCounter(c caller, tx *ledger.Tx) func(*outcome) {
	if tx == nil {
		return nil
	}
	ab := tx.Body.GetAnchorBatch()
	if ab == nil {
		return nil
	}
	n := float64(len(ab.Digests) / ledger.DigestSize)
	agency := c.id
	if c.role != "agency" {
		agency = noAgency
	}
	return func(o *outcome) {
		outcome := digestsRefused
		if o.st.Code() == codes.OK {
			outcome = digestsAnchored
		}
		s.m.agencyDigests.WithLabelValues(agency, outcome).Add(n)
	}
}

// replayCode reports whether a CheckTx code may mean that the transaction
// itself was committed: a used sequence, a spent nonce, or an expired
// unordered transaction.
func replayCode(code uint32) bool {
	switch code {
	case ledger.ErrSequenceReplayed.Code(), ledger.ErrNonceUsed.Code(), ledger.ErrTxExpired.Code():
		return true
	}
	return false
}

// precheck decodes the transaction and applies the gateway's own checks
// before anything reaches the mempool: canonical form, signature and chain
// (as CheckTx would), max_digests_per_request, the node being in sync, and
// the caller's authorisation.
func (s *Server) precheck(raw []byte, c caller) (*ledger.Tx, error) {
	tx, err := s.app.DecodeTx(raw)
	if err != nil {
		return nil, toStatus(s.log, "Submit", err)
	}
	var n int
	switch m := tx.Body.Msg.(type) {
	case *notaryv1.TxBody_AnchorBatch:
		n = (len(m.AnchorBatch.Digests) + ledger.DigestSize - 1) / ledger.DigestSize
	case *notaryv1.TxBody_Revoke:
		// Digests, or the code keys of coded documents: one document each.
		n = (len(m.Revoke.Digests)+ledger.DigestSize-1)/ledger.DigestSize + (len(m.Revoke.CodeKeys)+ledger.CodeKeySize-1)/ledger.CodeKeySize
	}
	if n > s.cfg.MaxDigestsPerRequest {
		return tx, s.refuse("max_digests_per_request", invalidArg(
			"the transaction carries %d digests; gateway limit max_digests_per_request is %d", n, s.cfg.MaxDigestsPerRequest))
	}
	if err := s.ready(); err != nil {
		return tx, err
	}
	if c.role != "" {
		// Each message of a stream is checked again: a removal or a key
		// change committed since the stream opened applies to it.
		m, err := s.member(c.role, c.id)
		if err != nil {
			return tx, toStatus(s.log, "Submit", err)
		}
		if err := m.accepts(c); err != nil {
			return tx, s.refuse("membership", err)
		}
	}
	view, err := s.app.StateAt(0)
	if err != nil {
		return tx, toStatus(s.log, "Submit", err)
	}
	if err := authorize(view, tx, c); err != nil {
		if status.Code(err) == codes.PermissionDenied {
			return tx, s.refuse("permission", err)
		}
		return tx, toStatus(s.log, "Submit", err)
	}
	if citizenSigned(tx) {
		if err := s.citizen.admit(); err != nil {
			return tx, s.refuse("citizen_tx_rate", err)
		}
	}
	if m := tx.Body.GetRecordExchange(); m != nil && ledger.ValidConsentID(m.GetConsentId()) {
		if err := requesterConsent(view, m); err != nil {
			if status.Code(err) == codes.NotFound {
				return tx, s.refuse("permission", err)
			}
			return tx, toStatus(s.log, "Submit", err)
		}
	}
	return tx, nil
}

// requesterConsent refuses an exchange resting on a consent that the
// exchange's subject did not give to its requesting agency, or that does
// not exist, with one answer for both: the ledger's refusals would say to
// which agency and in what state another agency's consent is, and whether
// a consent id exists, which GetConsent tells only the consent's subject and
// agency.
func requesterConsent(view *abci.StateView, m *notaryv1.RecordExchange) error {
	c := &notaryv1.Consent{}
	ok, err := loadRecord(view, ledger.ConsentKey(m.GetConsentId()), c)
	if err != nil {
		return err
	}
	if ok && c.AgencyId == m.RequesterAgencyId && bytes.Equal(c.Subject, m.Subject) {
		return nil
	}
	return status.Errorf(codes.NotFound, "RecordExchange: the exchange's subject gave agency %q no consent %s (an exchange rests on a consent of its subject to the requesting agency, or on a mandate)",
		m.RequesterAgencyId, m.GetConsentId())
}

// ready reports Unavailable while the node cannot take transactions.
func (s *Server) ready() error {
	if h, _, _ := s.app.LastCommit(); h == 0 {
		return status.Error(codes.Unavailable, "the chain has no committed block yet; retry shortly")
	}
	if s.chain.CatchingUp() {
		return status.Error(codes.Unavailable, "the node is catching up with the chain; retry later or use another node")
	}
	return nil
}

// checkTx hands raw to the mempool and waits for the application's
// CheckTx; the chain forwards an accepted transaction to the node's peers.
func (s *Server) checkTx(ctx context.Context, raw []byte) (*abcitypes.ResponseCheckTx, error) {
	s.checkTxCalls.Add(1)
	s.m.checkTx.Inc()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	r, err := s.chain.CheckTx(ctx, raw)
	switch {
	case err == nil:
		return r, nil
	case ctx.Err() != nil:
		if s.stopping.Err() != nil {
			return nil, status.Error(codes.Unavailable, "the node is stopping")
		}
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return nil, mempoolError(err)
}

// mempoolError maps the mempool's refusals.
func mempoolError(err error) error {
	var full mempl.ErrMempoolIsFull
	var large mempl.ErrTxTooLarge
	var pre mempl.ErrPreCheck
	switch {
	case errors.Is(err, mempl.ErrTxInCache):
		return err
	case errors.As(err, &full):
		return status.Errorf(codes.ResourceExhausted, "the node's mempool is full (%d transactions, %d bytes); retry later", full.NumTxs, full.TxsBytes)
	case errors.Is(err, mempl.ErrRecheckFull):
		return status.Error(codes.ResourceExhausted, "the node's mempool is rechecking after a block and counts as full; retry shortly")
	case errors.As(err, &large):
		return status.Errorf(codes.InvalidArgument, "the transaction is %d bytes; the mempool limit (mempool.max_tx_bytes) is %d", large.Actual, large.Max)
	case errors.As(err, &pre):
		return status.Errorf(codes.InvalidArgument, "the mempool refuses the transaction: %v", pre.Err)
	}
	return status.Errorf(codes.Unavailable, "the mempool cannot take the transaction now: %v", err)
}

// committedOutcome is the outcome of a committed transaction.
func (s *Server) committedOutcome(resp *notaryv1.SubmitResponse, r committedTx) *outcome {
	resp.Height = r.height
	return s.resultOutcome(resp, r.code, r.codespace, r.log, r.data)
}

// resultOutcome fills the response from an ABCI result (CheckTx or
// FinalizeBlock) and maps its code.
func (s *Server) resultOutcome(resp *notaryv1.SubmitResponse, code uint32, codespace, log string, data []byte) *outcome {
	resp.Code, resp.Codespace = code, codespace
	st := resultStatus(code, codespace, log)
	resp.Log = st.Message()
	resp.GrpcCode = uint32(st.Code())
	if len(data) > 0 {
		var r notaryv1.TxResult
		if err := proto.Unmarshal(data, &r); err == nil {
			resp.Result = &r
		}
	}
	o := &outcome{resp: resp, st: st}
	if st.Code() == codes.AlreadyExists {
		o.batch = s.originalBatch(resp)
		if o.batch == nil && resp.Result.GetExisting().GetLocator() != nil {
			// The ledger found the digest in a transaction that is not
			// committed yet: its position is not final.
			resp.Result.Existing.Locator = nil
			resp.Log += " (in a transaction not yet committed)"
			o.st = status.New(codes.AlreadyExists, resp.Log)
		}
	}
	return o
}

// originalBatch returns the committed batch record a duplicate's locator
// names, or nil.
func (s *Server) originalBatch(resp *notaryv1.SubmitResponse) *notaryv1.Batch {
	loc := resp.GetResult().GetExisting().GetLocator()
	if loc == nil {
		return nil
	}
	view, err := s.app.StateAt(0)
	if err != nil || loc.Height > view.Height() {
		return nil
	}
	b := &notaryv1.Batch{}
	ok, err := loadRecord(view, ledger.BatchKey(loc.Height, loc.TxIndex), b)
	if err != nil {
		s.log.Error("gateway: read the original batch of a duplicate", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return b
}
