package receipttest

import (
	"crypto/ed25519"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The evidence log of a chain with Options.EvidenceLog.

// Notes are the checkpoint notes of the chain's state.
func (c *Chain) Notes() *checkpoint.Notes {
	return checkpoint.NewNotes(c.ChainID(), func() (checkpoint.State, error) { return c.App.StateAt(0) })
}

// LogSource is a builder's view of the chain's evidence log: its tile
// store and the checkpoint notes of its state (Builder.Log).
func (c *Chain) LogSource() *receipt.LogSource {
	tiles := c.App.LogTiles()
	return &receipt.LogSource{
		Tiles:       logproof.StoreTiles{Store: tiles},
		Size:        func() uint64 { return tiles.Tree().Size },
		Checkpoints: c.Notes(),
	}
}

// SignCheckpoint has the ministries' consensus keys sign the checkpoint of
// the log of size in a block, and writes the tiles.
func (c *Chain) SignCheckpoint(size uint64, ministries ...string) {
	c.t.Helper()
	view, err := c.App.StateAt(0)
	if err != nil {
		c.t.Fatal(err)
	}
	ck, err := ledger.LoadCheckpoint(view, size)
	if err != nil || ck == nil {
		c.t.Fatalf("no checkpoint of size %d: %v", size, err)
	}
	text := ledger.CheckpointText(ledger.CheckpointOrigin(c.ChainID()), ck.Size, ck.Root)
	var txs [][]byte
	for _, id := range ministries {
		k := Key("cons/" + id)
		txs = append(txs, identity.SignTx(c.ChainID(), k, &notaryv1.TxBody{Msg: &notaryv1.TxBody_CheckpointSignature{CheckpointSignature: &notaryv1.CheckpointSignature{
			Size: size, PubKey: k.Public().(ed25519.PublicKey), Signature: ed25519.Sign(k, text),
		}}}))
	}
	for i, r := range c.Block(txs...).TxResults {
		if r.Code != 0 {
			c.t.Fatalf("checkpoint signature %d: %s", i, r.Log)
		}
	}
	if err := c.App.FlushLog(); err != nil {
		c.t.Fatal(err)
	}
}

// LogTrustBundle is the genesis trust bundle carrying the latest valid
// checkpoint of the chain's log, with the genesis validators as its set:
// a bundle that accepts receipts v2 only.
func (c *Chain) LogTrustBundle() *notaryv1.TrustBundle {
	c.t.Helper()
	note, ok, err := c.Notes().Latest()
	if err != nil || !ok {
		c.t.Fatalf("no valid checkpoint: %v", err)
	}
	tb := c.TrustBundle()
	tb.LogCheckpoint = note
	for _, v := range tb.Validators {
		tb.LogValidators = append(tb.LogValidators, proto.CloneOf(v))
	}
	sort.Slice(tb.LogValidators, func(i, j int) bool { return tb.LogValidators[i].MinistryId < tb.LogValidators[j].MinistryId })
	return tb
}
