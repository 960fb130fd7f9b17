package gateway

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
)

// committedTx is the result of a committed transaction.
type committedTx struct {
	height    int64
	index     uint32
	code      uint32
	codespace string
	log       string
	data      []byte
}

// waiter waits for one transaction. It is answered exactly once: fire runs
// done with the committed result or with the error of a timeout or a
// shutdown, unless claim took it first (the submitter answering itself).
// Cleanups (its timer, its context hook) run when it is answered.
type waiter struct {
	fired atomic.Bool
	done  func(committedTx, error)

	mu       sync.Mutex
	cleanups []func() bool
}

// onAnswer registers a cleanup; if the waiter was answered already, it runs
// at once.
func (w *waiter) onAnswer(f func() bool) {
	w.mu.Lock()
	if w.fired.Load() {
		w.mu.Unlock()
		f()
		return
	}
	w.cleanups = append(w.cleanups, f)
	w.mu.Unlock()
}

// claim marks the waiter answered and runs its cleanups; it reports false if
// it was answered already.
func (w *waiter) claim() bool {
	if !w.fired.CompareAndSwap(false, true) {
		return false
	}
	w.mu.Lock()
	cs := w.cleanups
	w.cleanups = nil
	w.mu.Unlock()
	for _, f := range cs {
		f()
	}
	return true
}

func (w *waiter) fire(r committedTx, err error) {
	if w.claim() {
		w.done(r, err)
	}
}

// commitTracker dispatches committed transactions to their waiters by hash,
// and remembers recently committed ones so that a waiter registered just
// after its transaction was committed (or for identical bytes resubmitted)
// gets the result at once.
type commitTracker struct {
	mu      sync.Mutex
	waiting map[[32]byte][]*waiter
	recent  *simplelru.LRU[[32]byte, committedTx]
	closed  error
}

func newCommitTracker(remember int) *commitTracker {
	recent, err := simplelru.NewLRU[[32]byte, committedTx](remember, nil)
	if err != nil {
		panic(fmt.Sprintf("gateway: commit tracker size %d: %v", remember, err))
	}
	return &commitTracker{waiting: map[[32]byte][]*waiter{}, recent: recent}
}

// register adds w as a waiter of hash h. If the transaction was committed
// recently and succeeded, it returns its result and true instead (w is not
// added). A transaction that failed in its block changed nothing, not even
// its sequence: identical bytes are judged again, as they are by a node that
// never saw them. After close, it returns the closing error.
func (t *commitTracker) register(h [32]byte, w *waiter) (committedTx, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed != nil {
		return committedTx{}, false, t.closed
	}
	if r, ok := t.recent.Get(h); ok && r.code == 0 {
		return r, true, nil
	}
	t.waiting[h] = append(t.waiting[h], w)
	return committedTx{}, false, nil
}

// recentResult returns the result of a recently committed transaction that
// succeeded.
func (t *commitTracker) recentResult(h [32]byte) (committedTx, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.recent.Get(h)
	return r, ok && r.code == 0
}

// cancel removes w from the waiters of h.
func (t *commitTracker) cancel(h [32]byte, w *waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ws := t.waiting[h]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(t.waiting, h)
	} else {
		t.waiting[h] = ws
	}
}

// deliver records the transactions of a committed block and fires their
// waiters, in block order.
func (t *commitTracker) deliver(height int64, txs [][]byte, results []*abcitypes.ExecTxResult) {
	type hit struct {
		ws []*waiter
		r  committedTx
	}
	var hits []hit
	t.mu.Lock()
	for i, tx := range txs {
		h := abci.BlockTxHash(tx)
		r := committedTx{height: height, index: uint32(i)}
		if i < len(results) && results[i] != nil {
			res := results[i]
			r.code, r.codespace, r.log, r.data = res.Code, res.Codespace, res.Log, res.Data
		}
		t.recent.Add(h, r)
		if ws, ok := t.waiting[h]; ok {
			delete(t.waiting, h)
			hits = append(hits, hit{ws, r})
		}
	}
	t.mu.Unlock()
	for _, x := range hits {
		for _, w := range x.ws {
			w.fire(x.r, nil)
		}
	}
}

// close fires every waiter with err and refuses new ones.
func (t *commitTracker) close(err error) {
	t.mu.Lock()
	t.closed = err
	all := t.waiting
	t.waiting = map[[32]byte][]*waiter{}
	t.mu.Unlock()
	for _, ws := range all {
		for _, w := range ws {
			w.fire(committedTx{}, err)
		}
	}
}

// dispatcher follows committed blocks through the chain's subscription and
// hands each block's results to the tracker. Blocks it did not receive (a
// dropped subscription) are read back by height.
type dispatcher struct {
	chain   app.Chain
	tracker *commitTracker
	log     cmtlog.Logger
	// committed returns the application's last committed height.
	committed func() int64

	last int64 // last height delivered; only the run goroutine touches it
}

// run follows blocks until ctx ends.
func (d *dispatcher) run(ctx context.Context) {
	d.last = d.committed()
	for ctx.Err() == nil {
		blocks, err := d.chain.Subscribe(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Error("gateway: cannot subscribe to new blocks; retrying", "err", err)
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		// Blocks committed while there was no subscription.
		d.catchUp(d.committed())
		d.follow(blocks)
		if ctx.Err() == nil {
			d.log.Info("gateway: block subscription was dropped; subscribing again")
		}
	}
}

// follow delivers blocks until the subscription ends.
func (d *dispatcher) follow(blocks <-chan app.NewBlock) {
	for b := range blocks {
		if b.Height <= d.last {
			continue
		}
		d.catchUp(b.Height - 1)
		d.tracker.deliver(b.Height, b.Txs, b.Results)
		d.last = b.Height
	}
}

// catchUp delivers the blocks after the last one delivered up to height to,
// read by height.
func (d *dispatcher) catchUp(to int64) {
	for h := d.last + 1; h <= to; h++ {
		txs, err := d.chain.BlockTxs(h)
		var results []*abcitypes.ExecTxResult
		if err == nil {
			results, err = d.chain.TxResults(h)
		}
		if err != nil {
			// Its waiters time out; they can look their transaction up.
			d.log.Error("gateway: cannot read the results of a missed block", "height", h, "err", err)
		} else {
			d.tracker.deliver(h, txs, results)
		}
		d.last = h
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
