// Package asynccheck gives CometBFT's mempool an in-process ABCI client that
// answers CheckTx asynchronously, in order, on its own goroutine.
//
// CometBFT v0.38's mempool reactor runs CheckTx for a transaction heard from
// a peer inside that peer's p2p receive routine, and the local client runs
// the application's CheckTx synchronously there: while a node checks a large
// transaction, that peer's votes and block parts wait behind it
// (docs/performance.md, "Mempool gossip"). With this client the receive
// routine only queues the request; a worker runs CheckTx and delivers the
// response through the same callbacks an out-of-process (socket) client
// uses, which the mempool supports. Flush waits until every queued request
// has been answered, so a block's Commit and the mempool's recheck see the
// same order of events as with the synchronous client.
package asynccheck

import (
	"context"
	"errors"
	"fmt"
	"sync"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtsync "github.com/cometbft/cometbft/libs/sync"
	"github.com/cometbft/cometbft/proxy"
)

// QueueLen bounds the CheckTx requests waiting for the worker; a caller
// beyond it waits for room.
const QueueLen = 4096

// NewClientCreator returns a creator of local clients, one mutex per
// connection (as proxy.NewConnSyncLocalClientCreator), whose CheckTxAsync is
// asynchronous.
func NewClientCreator(app abcitypes.Application) proxy.ClientCreator {
	return creator{app}
}

type creator struct{ app abcitypes.Application }

func (c creator) NewABCIClient() (abcicli.Client, error) {
	return newClient(abcicli.NewLocalClient(new(cmtsync.Mutex), c.app)), nil
}

// client is a local client whose CheckTxAsync queues the request.
type client struct {
	abcicli.Client

	queue chan *abcicli.ReqRes
	quit  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	cond    *sync.Cond
	pending int // queued or running requests
	resCb   abcicli.Callback
}

var errStopped = errors.New("abci client stopped")

func newClient(local abcicli.Client) *client {
	c := &client{Client: local, queue: make(chan *abcicli.ReqRes, QueueLen), quit: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.work()
	return c
}

// SetResponseCallback sets the callback every response is given to.
func (c *client) SetResponseCallback(cb abcicli.Callback) {
	c.mu.Lock()
	c.resCb = cb
	c.mu.Unlock()
	c.Client.SetResponseCallback(cb)
}

// CheckTxAsync queues the request and returns at once.
func (c *client) CheckTxAsync(_ context.Context, req *abcitypes.RequestCheckTx) (*abcicli.ReqRes, error) {
	rr := abcicli.NewReqRes(abcitypes.ToRequestCheckTx(req))
	select {
	case <-c.quit:
		return nil, errStopped
	default:
	}
	c.mu.Lock()
	c.pending++
	c.mu.Unlock()
	select {
	case c.queue <- rr:
		return rr, nil
	case <-c.quit:
		c.done()
		return nil, errStopped
	}
}

func (c *client) work() {
	for {
		select {
		case <-c.quit:
			return
		case rr := <-c.queue:
			select {
			case <-c.quit:
				// Stopped: requests still queued are not answered.
				c.done()
				return
			default:
			}
			c.answer(rr)
		}
	}
}

func (c *client) answer(rr *abcicli.ReqRes) {
	defer c.done()
	res, err := c.checkTx(rr.Request.GetCheckTx())
	if err != nil {
		// The application failed rather than refused the transaction: the
		// mempool must not accept it.
		res = &abcitypes.ResponseCheckTx{Code: 1, Log: "checktx: " + err.Error()}
	}
	resp := abcitypes.ToResponseCheckTx(res)
	rr.Response = resp
	rr.Done()
	c.mu.Lock()
	cb := c.resCb
	c.mu.Unlock()
	if cb != nil {
		cb(rr.Request, resp)
	}
	rr.InvokeCallback()
}

// checkTx runs the application's CheckTx; a panic there (a broken
// invariant) refuses the transaction instead of ending the node, as the p2p
// routine that used to run it would have done.
func (c *client) checkTx(req *abcitypes.RequestCheckTx) (res *abcitypes.ResponseCheckTx, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("panic in CheckTx: %v", r)
		}
	}()
	return c.Client.CheckTx(context.Background(), req)
}

func (c *client) done() {
	c.mu.Lock()
	c.pending--
	if c.pending == 0 {
		c.cond.Broadcast()
	}
	c.mu.Unlock()
}

// Flush waits until every queued CheckTx has been answered.
func (c *client) Flush(ctx context.Context) error {
	c.mu.Lock()
	for c.pending > 0 {
		select {
		case <-c.quit:
			c.mu.Unlock()
			return errStopped
		default:
		}
		c.cond.Wait()
	}
	c.mu.Unlock()
	return c.Client.Flush(ctx)
}

// Stop stops the worker; requests still queued are not answered.
func (c *client) Stop() error {
	c.once.Do(func() {
		close(c.quit)
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	return c.Client.Stop()
}
