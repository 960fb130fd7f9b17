package app

import (
	"context"
	"fmt"
	"sync/atomic"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/node"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/forward"
	"github.com/gobtechlab/notary/ledger"
)

// Chain is what the rest of the code sees of CometBFT: committed blocks,
// headers, commits and validator sets by height, the results of a block's
// transactions, the mempool's check, committed blocks as they come, and
// whether the node is catching up. The node (node.go) is the one place that
// builds CometBFT; the gateway and the receipt builder use only this.
//
// Reads of a height the node does not hold fail with an error wrapping
// ledger.ErrHeightUnavailable; a damaged store (CometBFT's stores panic on
// one) fails with an error wrapping abci.ErrDamaged.
type Chain interface {
	// ChainID is the genesis document's chain id.
	ChainID() string
	// NodeID is the node's p2p id; Moniker its configured name.
	NodeID() string
	Moniker() string
	// Height is the height of the last block in the block store (saved
	// before the application commits it).
	Height() int64
	// BlockTxs returns a block's transactions as the block carries them:
	// references not resolved (abci.Application.ResolveTxs resolves them).
	BlockTxs(height int64) ([][]byte, error)
	// Header returns a block's header.
	Header(height int64) (*cmttypes.Header, error)
	// Commit returns the commit that signs a block: the next block's last
	// commit, or the commit the node saw for its latest block.
	Commit(height int64) (*cmttypes.Commit, error)
	// Validators returns the validator set that signs a height.
	Validators(height int64) (*cmttypes.ValidatorSet, error)
	// TxResults returns the results of a block's transactions.
	TxResults(height int64) ([]*abcitypes.ExecTxResult, error)
	// CheckTx hands a transaction to the mempool, waits for the
	// application's answer and, when it is accepted, forwards it to the
	// node's peers. The mempool's own refusals (full, in its cache, too
	// large) are CometBFT's mempool errors.
	CheckTx(ctx context.Context, tx []byte) (*abcitypes.ResponseCheckTx, error)
	// Subscribe returns the blocks committed from now on, in order. The
	// channel is closed when ctx ends or when the subscription is dropped
	// (a reader that fell behind); the caller then reads what it missed by
	// height and subscribes again.
	Subscribe(ctx context.Context) (<-chan NewBlock, error)
	// CatchingUp reports whether the node is still syncing blocks.
	CatchingUp() bool
}

// NewBlock is a committed block's transactions (as the block carries them)
// and their results.
type NewBlock struct {
	Height  int64
	Txs     [][]byte
	Results []*abcitypes.ExecTxResult
}

// cometChain is the Chain of a node running CometBFT in-process.
type cometChain struct {
	comet   *node.Node
	blocks  *store.BlockStore
	states  sm.Store
	forward *forward.Reactor // nil while the mempool gossips
	moniker string
	subs    atomic.Int64 // subscriptions made, for unique subscriber names
}

var _ Chain = (*cometChain)(nil)

func newCometChain(comet *node.Node, fwd *forward.Reactor, moniker string) (*cometChain, error) {
	// ConfigureRPC only builds the RPC environment (the state store among
	// it); nothing listens until the node starts its RPC server.
	env, err := comet.ConfigureRPC()
	if err != nil {
		return nil, fmt.Errorf("cometbft: %w", err)
	}
	return &cometChain{comet: comet, blocks: comet.BlockStore(), states: env.StateStore, forward: fwd, moniker: moniker}, nil
}

// guard turns a panic of CometBFT's stores (which panic on a damaged
// database) into an error.
func guard(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %w (%v)", what, abci.ErrDamaged, r)
	}
}

func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ledger.ErrHeightUnavailable, fmt.Sprintf(format, args...))
}

func (c *cometChain) ChainID() string        { return c.comet.GenesisDoc().ChainID }
func (c *cometChain) NodeID() string         { return string(c.comet.NodeInfo().ID()) }
func (c *cometChain) Moniker() string        { return c.moniker }
func (c *cometChain) Height() int64          { return c.blocks.Height() }
func (c *cometChain) CatchingUp() bool       { return c.comet.ConsensusReactor().WaitSync() }
func (c *cometChain) mempool() mempl.Mempool { return c.comet.Mempool() }

func (c *cometChain) BlockTxs(height int64) (txs [][]byte, err error) {
	defer guard("block store", &err)
	blk := c.blocks.LoadBlock(height)
	if blk == nil {
		return nil, unavailable("block %d is not in the block store", height)
	}
	txs = make([][]byte, len(blk.Txs))
	for i, tx := range blk.Txs {
		txs[i] = tx
	}
	return txs, nil
}

func (c *cometChain) Header(height int64) (h *cmttypes.Header, err error) {
	defer guard("block store", &err)
	meta := c.blocks.LoadBlockMeta(height)
	if meta == nil {
		return nil, unavailable("block %d is not in the block store", height)
	}
	return &meta.Header, nil
}

func (c *cometChain) Commit(height int64) (cm *cmttypes.Commit, err error) {
	defer guard("block store", &err)
	if height < c.blocks.Height() {
		cm = c.blocks.LoadBlockCommit(height)
	}
	if cm == nil {
		cm = c.blocks.LoadSeenCommit(height)
	}
	if cm == nil {
		return nil, unavailable("no commit for block %d", height)
	}
	return cm, nil
}

func (c *cometChain) Validators(height int64) (v *cmttypes.ValidatorSet, err error) {
	defer guard("state store", &err)
	v, err = c.states.LoadValidators(height)
	if err != nil {
		return nil, unavailable("validators of height %d: %v", height, err)
	}
	return v, nil
}

func (c *cometChain) TxResults(height int64) (res []*abcitypes.ExecTxResult, err error) {
	defer guard("state store", &err)
	r, err := c.states.LoadFinalizeBlockResponse(height)
	if err != nil {
		return nil, unavailable("results of block %d: %v", height, err)
	}
	return r.TxResults, nil
}

func (c *cometChain) CheckTx(ctx context.Context, tx []byte) (*abcitypes.ResponseCheckTx, error) {
	ch := make(chan *abcitypes.ResponseCheckTx, 1)
	if err := c.mempool().CheckTx(tx, func(r *abcitypes.ResponseCheckTx) { ch <- r }, mempl.TxInfo{}); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Code == abcitypes.CodeTypeOK && c.forward != nil {
			c.forward.Forward(tx)
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

const subscriptionCap = 256

func (c *cometChain) Subscribe(ctx context.Context) (<-chan NewBlock, error) {
	bus := c.comet.EventBus()
	name := fmt.Sprintf("notary-%d", c.subs.Add(1))
	sub, err := bus.Subscribe(ctx, name, cmttypes.EventQueryNewBlock, subscriptionCap)
	if err != nil {
		return nil, err
	}
	out := make(chan NewBlock, subscriptionCap)
	go func() {
		defer close(out)
		defer func() { _ = bus.Unsubscribe(context.Background(), name, cmttypes.EventQueryNewBlock) }()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.Canceled():
				return
			case msg := <-sub.Out():
				ev, ok := msg.Data().(cmttypes.EventDataNewBlock)
				if !ok || ev.Block == nil {
					continue
				}
				b := NewBlock{Height: ev.Block.Height, Txs: make([][]byte, len(ev.Block.Txs)), Results: ev.ResultFinalizeBlock.TxResults}
				for i, tx := range ev.Block.Txs {
					b.Txs[i] = tx
				}
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
