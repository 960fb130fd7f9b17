package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// SubmitTimeout bounds one submission.
const SubmitTimeout = 15 * time.Second

// Submit signs body with the signer's next sequence (read from the node's
// committed state) and submits it through the node's CometBFT RPC, waiting
// for the commit. It returns the transaction's result and height only if the
// chain executed it successfully; any other outcome is an error (the
// transaction may or may not be committed later).
//
// It does not use broadcast_tx_commit: that waits for the event of a block
// transaction with the hash of the bytes sent, and a block names a
// transaction of abci.TxRefMinBytes or more by a reference, whose event
// has the reference's hash, so the wait would time out although the
// transaction is committed. Submit sends with broadcast_tx_sync and reads
// the blocks that follow for what a block carries for the transaction
// (abci.BlockTx).
func Submit(ctx context.Context, p *Proc, signer *identity.Identity, body *notaryv1.TxBody) (*notaryv1.TxResult, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, SubmitTimeout)
	defer cancel()
	c := p.RPC()
	q, err := c.ABCIQuery(ctx, abci.QueryStore, ledger.AccountKey(signer.Public()))
	if err != nil {
		return nil, 0, fmt.Errorf("account query: %w", err)
	}
	if q.Response.Code != 0 {
		return nil, 0, fmt.Errorf("account query: code %d: %s", q.Response.Code, q.Response.Log)
	}
	var acct notaryv1.Account
	if len(q.Response.Value) > 0 {
		if err := ledger.DecodeCanonical(q.Response.Value, &acct); err != nil {
			return nil, 0, fmt.Errorf("account: %w", err)
		}
	}
	body.Sequence = acct.NextSequence
	// No block stored before the broadcast can hold the transaction.
	st, err := c.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("status: %w", err)
	}
	raw := signer.SignTx(body)
	res, err := c.BroadcastTxSync(ctx, raw)
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast: %w", err)
	}
	if res.Code != 0 {
		return nil, 0, fmt.Errorf("check: code %d: %s", res.Code, res.Log)
	}
	h, i, result, err := awaitBlockTx(ctx, p, abci.BlockTx(raw), st.SyncInfo.LatestBlockHeight+1)
	if err != nil {
		return nil, 0, fmt.Errorf("accepted, not seen committed: %w", err)
	}
	if result.Code != 0 {
		return nil, 0, fmt.Errorf("finalize: code %d: %s (height %d, tx %d)", result.Code, result.Log, h, i)
	}
	var r notaryv1.TxResult
	if err := ledger.DecodeCanonical(result.Data, &r); err != nil {
		return nil, 0, fmt.Errorf("result: %w", err)
	}
	return &r, h, nil
}

// awaitBlockTx reads the node's blocks from height from until one carries
// tx, and returns its height, its index in the block and its result once
// the node's application has committed that height.
func awaitBlockTx(ctx context.Context, p *Proc, tx []byte, from int64) (int64, int, *abcitypes.ExecTxResult, error) {
	c := p.RPC()
	retry := func(err error) error {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
			return nil
		}
	}
	for h := from; ; {
		b, err := c.Block(ctx, &h)
		if err != nil {
			if err := retry(err); err != nil {
				return 0, 0, nil, err
			}
			continue
		}
		i := slices.IndexFunc(b.Block.Txs, func(x cmttypes.Tx) bool { return bytes.Equal(x, tx) })
		if i < 0 {
			h++
			continue
		}
		for {
			br, err := c.BlockResults(ctx, &h)
			if err == nil && len(br.TxsResults) != len(b.Block.Txs) {
				err = fmt.Errorf("height %d: %d results for %d transactions", h, len(br.TxsResults), len(b.Block.Txs))
			}
			if err == nil {
				// The results are stored before the application commits
				// the block; a caller reads the committed state next.
				var info *ctypes.ResultABCIInfo
				if info, err = c.ABCIInfo(ctx); err == nil && info.Response.LastBlockHeight >= h {
					return h, i, br.TxsResults[i], nil
				}
				if err == nil {
					err = fmt.Errorf("height %d not committed by the application (at %d)", h, info.Response.LastBlockHeight)
				}
			}
			if err := retry(err); err != nil {
				return 0, 0, nil, err
			}
		}
	}
}

// Ack is an anchoring that a node acknowledged as committed.
type Ack struct {
	Agency string
	Node   string
	// Docs are the documents; Digests their concatenated SHA2-256 digests,
	// in leaf order (the bare digests are anchored).
	Docs    [][]byte
	Digests []byte
	Loc     ledger.Locator
	Latency time.Duration
	// Recovered: the acknowledgement came as AlreadyExists for a retry of
	// a batch whose first submission was committed but not acknowledged.
	Recovered bool
}

// Digest returns leaf i of the batch.
func (a Ack) Digest(i int) []byte { return a.Digests[i*ledger.DigestSize : (i+1)*ledger.DigestSize] }

// Count is the number of digests in the batch.
func (a Ack) Count() int { return len(a.Digests) / ledger.DigestSize }

// maxAttempts bounds the submissions of one batch through the gateway.
const maxAttempts = 30

// Via says how the load submits: through the nodes' gRPC gateways with each
// agency's mTLS identity, or through CometBFT's RPC (broadcast_tx_commit).
type Via string

// Submission paths.
const (
	ViaGateway Via = "gateway"
	ViaRPC     Via = "rpc"
)

// Load keeps a steady anchoring load on a network: one worker per agency,
// each submitting a batch, waiting for its commit, and going on with the
// next, through the running nodes in turn (a node that fails is skipped for
// the next attempt). Through the gateway, a batch that was not acknowledged
// is submitted again, identical, until it is: a first submission that was
// committed after all comes back as AlreadyExists naming the record, and
// counts as acknowledged then (as the agency client library does).
type Load struct {
	net   *Net
	batch int
	via   Via
	stop  chan struct{}
	wg    sync.WaitGroup

	mu     sync.Mutex
	acks   []Ack
	tries  int
	errors map[string]int
}

// StartLoad starts one worker per agency of the net, anchoring batches of
// batch digests through via.
func StartLoad(n *Net, batch int, via Via) *Load {
	l := &Load{net: n, batch: batch, via: via, stop: make(chan struct{}), errors: map[string]int{}}
	for i, a := range n.Agencies {
		l.wg.Add(1)
		go l.worker(i, a)
	}
	n.t.Cleanup(l.Stop)
	return l
}

// Via returns the submission path of the load.
func (l *Load) Via() Via { return l.via }

func (l *Load) worker(idx int, agency *identity.Identity) {
	defer l.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-l.stop
		cancel()
	}()
	var seq uint64
	turn := idx
	var docs [][]byte
	var ds []byte
	attempts := 0
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		up := l.net.Up()
		if len(up) == 0 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		node := up[turn%len(up)]
		turn++
		if docs == nil {
			ds = make([]byte, 0, l.batch*ledger.DigestSize)
			for i := 0; i < l.batch; i++ {
				seq++
				doc := binary.BigEndian.AppendUint64([]byte("e2e document of "+agency.ID+" #"), seq)
				d := sha256.Sum256(doc)
				docs = append(docs, doc)
				ds = append(ds, d[:]...)
			}
		}
		body := &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds, Label: "e2e load"}}}
		start := time.Now()
		var loc ledger.Locator
		recovered := false
		var err error
		switch l.via {
		case ViaRPC:
			var r *notaryv1.TxResult
			if r, _, err = Submit(ctx, node.Proc, agency, body); err == nil {
				if b := r.GetBatch(); b != nil {
					loc = ledger.Locator{Height: b.Height, TxIndex: b.TxIndex}
				} else {
					err = errors.New("the result names no batch")
				}
			}
		default:
			var gw gatewayv1.GatewayClient
			var resp *notaryv1.SubmitResponse
			if gw, err = l.net.Gateway(node, agency); err == nil {
				resp, err = SubmitGateway(ctx, gw, agency, body)
			}
			if err == nil {
				if ex, dup := Existing(resp); dup {
					// Only the whole batch committed earlier can be a duplicate
					// of its first digest at leaf 0.
					if ex.Leaf != 0 || !bytes.Equal(resp.GetResult().GetExisting().GetDigest(), ds[:ledger.DigestSize]) {
						err = fmt.Errorf("duplicate of another anchoring: %x at %v", resp.GetResult().GetExisting().GetDigest(), ex)
					}
					loc, recovered = ledger.Locator{Height: ex.Height, TxIndex: ex.TxIndex}, true
				} else if b := resp.GetResult().GetBatch(); b != nil {
					loc = ledger.Locator{Height: b.Height, TxIndex: b.TxIndex}
				} else {
					err = errors.New("the result names no batch")
				}
			}
		}
		l.mu.Lock()
		l.tries++
		if err != nil {
			l.errors[errorKind(err)]++
		} else {
			l.acks = append(l.acks, Ack{Agency: agency.ID, Node: node.ID, Docs: docs, Digests: ds, Loc: loc,
				Latency: time.Since(start), Recovered: recovered})
		}
		l.mu.Unlock()
		attempts++
		if err != nil && attempts >= maxAttempts {
			l.mu.Lock()
			l.errors[fmt.Sprintf("gave up a batch after %d attempts", maxAttempts)]++
			l.mu.Unlock()
		}
		if err == nil || l.via == ViaRPC || attempts >= maxAttempts {
			docs, ds, attempts = nil, nil, 0 // the next batch is new
		}
		if err != nil {
			select {
			case <-l.stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
}

// errorKind shortens an error for the tally of failed submissions: numbers
// (ports, sequences) become N so that errors of one kind count together.
func errorKind(err error) string {
	s := digitRuns.ReplaceAllString(err.Error(), "N")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

var digitRuns = regexp.MustCompile(`[0-9]+`)

// Stop stops the workers and waits for their last submissions.
func (l *Load) Stop() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// Acks returns the acknowledged anchorings so far.
func (l *Load) Acks() []Ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Ack(nil), l.acks...)
}

// AckCount is the number of acknowledged anchorings so far.
func (l *Load) AckCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acks)
}

// Tries is the number of submissions made, acknowledged or not.
func (l *Load) Tries() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tries
}

// Errors summarises the failed submissions by kind, most frequent first.
func (l *Load) Errors() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type kc struct {
		k string
		c int
	}
	var ks []kc
	for k, c := range l.errors {
		ks = append(ks, kc{k, c})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].c > ks[j].c || ks[i].c == ks[j].c && ks[i].k < ks[j].k })
	s := ""
	for i, x := range ks {
		if i == 5 {
			s += "; ..."
			break
		}
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d× %s", x.c, x.k)
	}
	return s
}
