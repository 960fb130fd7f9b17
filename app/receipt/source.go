package receipt

import (
	"fmt"
	"os"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// FromNode returns a builder over a node, for verifiers holding the trust
// bundle of the node's genesis; its v2 receipts carry the checkpoints of
// the node's state, without witnesses' cosignatures (set Log.Checkpoints
// to the node's checkpoint.Witnesses for those).
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
	b := NewBuilder(src, tb)
	if n.App.LogTiles() != nil {
		tiles := n.App.LiveLogTiles()
		b.Log = &LogSource{
			Tiles:       logproof.StoreTiles{Store: tiles},
			Size:        func() uint64 { return tiles.Tree().Size },
			Checkpoints: checkpoint.NewNotes(n.Chain().ChainID(), func() (checkpoint.State, error) { return n.App.StateAt(0) }),
		}
	}
	return b, nil
}

// NodeSource reads a node's application and its chain.
func NodeSource(n *app.Node) (Source, error) {
	return &nodeSource{app: n.App, chain: n.Chain()}, nil
}

type nodeSource struct {
	app   *abci.Application
	chain app.Chain
}

func (s *nodeSource) ChainID() string { return s.chain.ChainID() }

func (s *nodeSource) Height() int64 {
	h := s.chain.Height()
	if committed, _, _ := s.app.LastCommit(); committed+1 < h {
		h = committed + 1
	}
	return h
}

func (s *nodeSource) StateAt(height int64) (*abci.StateView, error) { return s.app.StateAt(height) }

func (s *nodeSource) LookupDigest(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return s.app.LookupDigest(alg, digest)
}

func (s *nodeSource) BatchTx(batch *notaryv1.Batch) ([]byte, error) { return s.app.BatchTx(batch) }

func (s *nodeSource) Header(height int64) (*cmttypes.Header, error) { return s.chain.Header(height) }

func (s *nodeSource) Commit(height int64) (*cmttypes.Commit, error) { return s.chain.Commit(height) }

func (s *nodeSource) Validators(height int64) (*cmttypes.ValidatorSet, error) {
	return s.chain.Validators(height)
}
