package receipt

import (
	"fmt"
	"os"

	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/ledger"
)

// FromNode returns a builder over a node, for verifiers holding the trust
// bundle of the node's genesis.
func FromNode(n *app.Node) (*Builder, error) {
	src, err := NodeSource(n)
	if err != nil {
		return nil, err
	}
	gen, err := os.ReadFile(n.Config.Comet.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	tb, err := app.TrustBundleFromGenesis(gen)
	if err != nil {
		return nil, fmt.Errorf("receipt: trust bundle: %w", err)
	}
	return NewBuilder(src, tb), nil
}

// NodeSource reads a node's application, block store and state store.
func NodeSource(n *app.Node) (Source, error) {
	env, err := n.Comet.ConfigureRPC()
	if err != nil {
		return nil, fmt.Errorf("receipt: cometbft stores: %w", err)
	}
	return &nodeSource{app: n.App, blocks: n.Comet.BlockStore(), states: env.StateStore, chainID: n.Comet.GenesisDoc().ChainID}, nil
}

type nodeSource struct {
	app     *abci.Application
	blocks  *store.BlockStore
	states  sm.Store
	chainID string
}

// guard turns a panic of CometBFT's stores (which panic on a damaged
// database) into an error.
func guard(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %w (%v)", what, abci.ErrDamaged, r)
	}
}

func (s *nodeSource) ChainID() string { return s.chainID }

func (s *nodeSource) Height() int64 {
	h := s.blocks.Height()
	if committed, _, _ := s.app.LastCommit(); committed+1 < h {
		h = committed + 1
	}
	return h
}

func (s *nodeSource) StateAt(height int64) (*abci.StateView, error) { return s.app.StateAt(height) }

func (s *nodeSource) LookupDigest(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return s.app.LookupDigest(alg, digest)
}

func (s *nodeSource) BlockTxs(height int64) (txs [][]byte, err error) {
	defer guard("block store", &err)
	blk := s.blocks.LoadBlock(height)
	if blk == nil {
		return nil, fmt.Errorf("%w: block %d is not in the block store", ledger.ErrHeightUnavailable, height)
	}
	for _, tx := range blk.Txs {
		txs = append(txs, tx)
	}
	return s.app.ResolveTxs(txs)
}

func (s *nodeSource) Header(height int64) (h *cmttypes.Header, err error) {
	defer guard("block store", &err)
	meta := s.blocks.LoadBlockMeta(height)
	if meta == nil {
		return nil, fmt.Errorf("%w: block %d is not in the block store", ledger.ErrHeightUnavailable, height)
	}
	return &meta.Header, nil
}

func (s *nodeSource) Commit(height int64) (c *cmttypes.Commit, err error) {
	defer guard("block store", &err)
	if height < s.blocks.Height() {
		c = s.blocks.LoadBlockCommit(height)
	}
	if c == nil {
		c = s.blocks.LoadSeenCommit(height)
	}
	if c == nil {
		return nil, fmt.Errorf("%w: no commit for block %d", ledger.ErrHeightUnavailable, height)
	}
	return c, nil
}

func (s *nodeSource) Validators(height int64) (v *cmttypes.ValidatorSet, err error) {
	defer guard("state store", &err)
	v, err = s.states.LoadValidators(height)
	if err != nil {
		return nil, fmt.Errorf("%w: validators of height %d: %v", ledger.ErrHeightUnavailable, height, err)
	}
	return v, nil
}
