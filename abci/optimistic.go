package abci

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// optimistic is a proposed block executed on the working tree ahead of
// FinalizeBlock (Options.OptimisticExecution). Its fields are written before
// done is closed.
type optimistic struct {
	height int64
	hash   []byte // the block's header hash
	time   time.Time
	txs    [][]byte    // references resolved
	refs   [][32]byte  // what the block's references name
	stop   atomic.Bool // set to end the execution early, between transactions
	done   chan struct{}
	res    *abcitypes.ResponseFinalizeBlock
	staged *stagedBlock
	err    error
}

// errExecutionStopped ends an optimistic execution whose block was not
// decided.
var errExecutionStopped = errors.New("abci: execution stopped: another block was decided")

// startOptimistic starts executing an accepted proposal
// (Options.OptimisticExecution), after discarding the execution of an
// earlier round's proposal. It does not start on the chain's first block,
// whose working tree also holds InitChain's unsaved writes, which a
// rollback would lose.
func (a *Application) startOptimistic(req *abcitypes.RequestProcessProposal, txs [][]byte) {
	if !a.opts.OptimisticExecution {
		return
	}
	a.abortOptimistic()
	if c := a.committed.Load(); c.height == 0 || req.Height != c.height+1 {
		return
	}
	o := &optimistic{height: req.Height, hash: req.Hash, time: req.Time, txs: txs, refs: refsOf(req.Txs), done: make(chan struct{})}
	a.oeMu.Lock()
	a.oe = o
	a.oeMu.Unlock()
	go func() {
		defer close(o.done)
		a.mu.Lock()
		defer a.mu.Unlock()
		o.res, o.staged, o.err = a.execute(o.height, o.time, o.txs, &o.stop)
	}()
}

// takeOptimistic returns the optimistic execution's result if it executed
// the decided block; otherwise it rolls the execution back. The header hash
// commits to the height, time and transactions; they are compared too, so
// that the result is never taken for other inputs, whatever the caller
// passes as the hash. txs are the block's, references resolved.
func (a *Application) takeOptimistic(req *abcitypes.RequestFinalizeBlock, txs [][]byte) (*abcitypes.ResponseFinalizeBlock, bool) {
	o := a.detachOptimistic()
	if o == nil {
		return nil, false
	}
	same := o.height == req.Height && bytes.Equal(o.hash, req.Hash) && o.time.Equal(req.Time) &&
		slices.EqualFunc(o.txs, txs, bytes.Equal)
	if !same {
		o.stop.Store(true)
	}
	<-o.done
	if same && o.err == nil {
		a.mu.Lock()
		a.staged = o.staged
		a.staged.refs = o.refs
		a.mu.Unlock()
		return o.res, true
	}
	a.rollbackOptimistic(o)
	return nil, false
}

// abortOptimistic waits for an optimistic execution and rolls it back.
func (a *Application) abortOptimistic() {
	if o := a.detachOptimistic(); o != nil {
		o.stop.Store(true)
		<-o.done
		a.rollbackOptimistic(o)
	}
}

// detachOptimistic returns the optimistic execution, if any, and forgets it.
func (a *Application) detachOptimistic() *optimistic {
	a.oeMu.Lock()
	defer a.oeMu.Unlock()
	o := a.oe
	a.oe = nil
	return o
}

// rollbackOptimistic discards what an optimistic execution wrote to the
// working tree. Digests it added to the digest filter stay there: the
// filter may hold digests that are not anchored (digestindex.ExecView).
func (a *Application) rollbackOptimistic(o *optimistic) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.staged != nil {
		// A finalized block holds the working tree: the execution was
		// refused before it wrote anything.
		return
	}
	a.tree.Rollback()
	a.log.Info("optimistic execution discarded", "height", o.height, "hash", fmt.Sprintf("%X", o.hash), "err", o.err)
}
