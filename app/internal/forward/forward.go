// Package forward is a CometBFT p2p reactor that sends each transaction
// this node's gateway accepted to every node it is connected to, once, for
// a node that does not gossip its mempool (mempool.broadcast = false), and
// hands the transactions it receives that way to the node's mempool.
//
// Blocks name each large transaction by its hash (abci.EncodeTxRef), so
// every validator needs the bytes of every transaction before it can check
// or execute a block that names it. CometBFT's gossip delivers them, but a
// node then receives each transaction from each of its peers that has it
// (duplicates included); forwarding delivers each once, from the node that
// accepted it. What a forwarded transaction is worth is decided by the
// receiver's CheckTx and by the block; a node that lacks one a block names
// asks its peers for it (app/internal/txsync). docs/adr/ records the
// decision and its measurement.
//
// The mempool's CheckTx runs in Receive; the node registers this reactor
// wrapped in a per-peer queue (app/internal/peerqueue), so that a peer's
// other channels do not wait for the check.
package forward

import (
	"fmt"

	"github.com/cometbft/cometbft/libs/log"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"
	"github.com/cosmos/gogoproto/proto"

	"github.com/gobtechlab/notary/app/internal/channels"
)

// Reactor forwards transactions to every peer and hands forwarded ones to
// the mempool.
type Reactor struct {
	p2p.BaseReactor

	maxTxBytes int
	mempool    mempl.Mempool
}

// New returns a reactor that hands what it receives to mp; transactions
// are at most maxTxBytes.
func New(mp mempl.Mempool, maxTxBytes int, logger log.Logger) *Reactor {
	r := &Reactor{maxTxBytes: maxTxBytes, mempool: mp}
	r.BaseReactor = *p2p.NewBaseReactor("Forward", r)
	r.SetLogger(logger)
	return r
}

// GetChannels implements p2p.Reactor.
func (r *Reactor) GetChannels() []*p2p.ChannelDescriptor {
	largest := protomem.Message{Sum: &protomem.Message_Txs{Txs: &protomem.Txs{Txs: [][]byte{make([]byte, r.maxTxBytes)}}}}
	return []*p2p.ChannelDescriptor{
		{ID: channels.Forward, Priority: 5, SendQueueCapacity: 64, RecvMessageCapacity: largest.Size(), MessageType: &protomem.Message{}},
	}
}

// Receive implements p2p.Reactor: each transaction goes to the mempool,
// marked as coming from the peer. A peer that sends anything but one
// transaction is disconnected.
func (r *Reactor) Receive(e p2p.Envelope) {
	msg, ok := e.Message.(*protomem.Txs)
	if !ok || len(msg.Txs) != 1 {
		r.Switch.StopPeerForError(e.Src, errUnexpected)
		return
	}
	// A refusal or a duplicate is the sender's loss only.
	if err := r.mempool.CheckTx(msg.Txs[0], nil, mempl.TxInfo{SenderP2PID: e.Src.ID()}); err != nil {
		r.Logger.Debug("forwarded transaction not taken", "peer", e.Src.ID(), "err", err)
	}
}

// Forward sends tx to every connected node; it never blocks (a full send
// queue drops it for that peer: the transaction is in this node's mempool,
// and a node that lacks it when a block names it asks for it).
func (r *Reactor) Forward(tx []byte) {
	if r.Switch == nil {
		return
	}
	peers := r.Switch.Peers().List()
	if len(peers) == 0 {
		return
	}
	msg, err := encode(tx)
	if err != nil {
		r.Logger.Error("encoding a transaction to forward", "err", err)
		return
	}
	for _, peer := range peers {
		peer.TrySend(p2p.Envelope{ChannelID: channels.Forward, Message: msg})
	}
}

// encoded is a message in its wire encoding. A peer encodes the message
// it is given for itself (a copy of the transaction per peer); the same
// encoded bytes are sent to every peer instead. Nothing writes to them
// once encoded.
type encoded []byte

// encode returns the wire encoding of the channel's message carrying tx.
func encode(tx []byte) (encoded, error) {
	b, err := proto.Marshal((&protomem.Txs{Txs: [][]byte{tx}}).Wrap())
	if err != nil {
		return nil, fmt.Errorf("forward: encode: %w", err)
	}
	return b, nil
}

// Reset, String and ProtoMessage make encoded a proto.Message; Marshal is
// what the peer calls to encode it.
func (encoded) Reset()                     {}
func (encoded) String() string             { return "forward.encoded" }
func (encoded) ProtoMessage()              {}
func (e encoded) Marshal() ([]byte, error) { return e, nil }

type reactorError string

func (e reactorError) Error() string { return string(e) }

const errUnexpected = reactorError("forward: a message must carry one transaction")
