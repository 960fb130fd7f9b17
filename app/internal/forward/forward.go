// Package forward is a CometBFT p2p reactor that sends a transaction this
// node received from its sender to the validators that will propose the
// next blocks, for a node that does not gossip its mempool
// (mempool.broadcast = false).
//
// With gossip, every node receives every transaction from each of its peers
// that has it (duplicates included) and then again inside the block: on the
// 4-validator bench most of a node's network work. Without it, a transaction
// waits in its node's mempool until that node proposes, one block in N.
// Forwarding sends it once to the proposers of the next two heights not yet
// proposed (the one in progress and the one after it, or, once this node
// has the proposal of the height in progress, the two after it), the only
// nodes that need it early: one of them proposes it, and the origin still
// holds it if none does.
//
// When blocks name large transactions by reference (abci.EncodeTxRef),
// every validator needs each transaction's bytes to execute the block, so
// a transaction is sent once to every connected node instead (New's all).
//
// Peers learn each other's validator address with a hello on their own
// channel when they connect. A wrong hello only misroutes transactions
// (their origin proposes them on its turn); what a forwarded transaction is
// worth is decided by the receiver's CheckTx and by the block.
package forward

import (
	"sync"
	"sync/atomic"
	"time"

	cmtcrypto "github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/libs/log"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"
	sm "github.com/cometbft/cometbft/state"
)

const (
	// TxChannel carries forwarded transactions (a mempool Txs message).
	TxChannel = byte(0x70)
	// HelloChannel carries a peer's validator address, once.
	HelloChannel = byte(0x71)
	// Ahead is how many upcoming proposers a transaction is sent to. Three
	// cost a node 6 % more CPU per digest (each receiver checks and holds
	// the copy) for no lower latency (docs/performance.md, finding 26).
	Ahead = 2
)

// Consensus gives the latest consensus state (CometBFT's consensus state
// implements it).
type Consensus interface {
	GetState() sm.State
}

// Reactor forwards transactions to upcoming proposers and hands forwarded
// ones to the mempool.
type Reactor struct {
	p2p.BaseReactor

	self       cmtcrypto.Address
	maxTxBytes int
	all        bool // send to every connected node, not only the next proposers

	mu      sync.RWMutex
	mempool mempl.Mempool
	cons    Consensus
	byVal   map[string]p2p.ID // validator address -> peer
	byPeer  map[p2p.ID]string // peer -> validator address (one each)

	// proposers are the addresses of the proposers of the height in
	// progress and the Ahead+1 after it, refreshed from the consensus state
	// by a goroutine: Forward never waits for the consensus lock, which is
	// held while a block executes.
	proposers atomic.Pointer[upcoming]
	// proposed gives the greatest height this node has seen a proposal of
	// (nil: unknown).
	proposed func() int64
	quit     chan struct{}
}

// upcoming is the proposers of heights base, base+1, ...
type upcoming struct {
	base  int64
	addrs []string
}

// targets are the proposers of the first Ahead heights after the height of
// the last proposal seen, proposed (0: none), and not before base.
func (u *upcoming) targets(proposed int64) []string {
	start := 0
	if proposed >= u.base {
		start = int(min(proposed-u.base+1, int64(len(u.addrs))))
	}
	return u.addrs[start:min(start+Ahead, len(u.addrs))]
}

// refreshEvery is how often the upcoming proposers are recomputed; a block
// takes longer.
const refreshEvery = 50 * time.Millisecond

// New returns a reactor for a node whose validator address is self (any
// address for a node that does not validate). With all, a transaction goes
// to every node this node is connected to.
func New(self cmtcrypto.Address, maxTxBytes int, all bool, logger log.Logger) *Reactor {
	r := &Reactor{self: self, maxTxBytes: maxTxBytes, all: all, byVal: map[string]p2p.ID{}, byPeer: map[p2p.ID]string{}, quit: make(chan struct{})}
	r.BaseReactor = *p2p.NewBaseReactor("Forward", r)
	r.SetLogger(logger)
	return r
}

// Attach gives the reactor the node's mempool and consensus state; until
// then it forwards nothing and drops what it receives. proposed, if not
// nil, gives the greatest height whose proposal this node has seen (its
// application's PrepareProposal or ProcessProposal): from then on that
// height's proposer is skipped. The consensus state alone says only which
// height is in progress, and is not read while a block executes; without
// it, a transaction that arrived after the proposal went to that proposer,
// which no longer needed it, and to one other, and waited for the origin's
// turn when that one had proposed before it arrived (docs/performance.md,
// finding 31).
func (r *Reactor) Attach(mp mempl.Mempool, cons Consensus, proposed func() int64) {
	r.mu.Lock()
	r.mempool, r.cons, r.proposed = mp, cons, proposed
	r.mu.Unlock()
}

// OnStart implements service.Service: it starts following the proposers.
func (r *Reactor) OnStart() error {
	go r.follow()
	return nil
}

// OnStop implements service.Service.
func (r *Reactor) OnStop() { close(r.quit) }

func (r *Reactor) follow() {
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		r.refresh()
		select {
		case <-r.quit:
			return
		case <-t.C:
		}
	}
}

// refresh computes the proposers of the height in progress (the state's
// Validators) and of the next ones (its NextValidators, advanced), at
// round 0.
func (r *Reactor) refresh() {
	r.mu.RLock()
	cons := r.cons
	r.mu.RUnlock()
	if cons == nil {
		return
	}
	st := cons.GetState()
	if st.Validators == nil || st.Validators.Size() == 0 || st.NextValidators == nil || st.NextValidators.Size() == 0 {
		return
	}
	out := make([]string, 0, Ahead+2)
	for k := 0; k < Ahead+2; k++ {
		v := st.Validators
		switch {
		case k == 1:
			v = st.NextValidators
		case k > 1:
			v = st.NextValidators.CopyIncrementProposerPriority(int32(k - 1))
		}
		if p := v.GetProposer(); p != nil {
			out = append(out, string(p.Address))
		}
	}
	r.proposers.Store(&upcoming{base: st.LastBlockHeight + 1, addrs: out})
}

// GetChannels implements p2p.Reactor.
func (r *Reactor) GetChannels() []*p2p.ChannelDescriptor {
	largest := protomem.Message{Sum: &protomem.Message_Txs{Txs: &protomem.Txs{Txs: [][]byte{make([]byte, r.maxTxBytes)}}}}
	return []*p2p.ChannelDescriptor{
		{ID: TxChannel, Priority: 5, SendQueueCapacity: 64, RecvMessageCapacity: largest.Size(), MessageType: &protomem.Message{}},
		{ID: HelloChannel, Priority: 1, SendQueueCapacity: 2, RecvMessageCapacity: 256, MessageType: &protomem.Message{}},
	}
}

// AddPeer implements p2p.Reactor: it tells the peer our validator address.
func (r *Reactor) AddPeer(peer p2p.Peer) {
	peer.Send(p2p.Envelope{ChannelID: HelloChannel, Message: &protomem.Txs{Txs: [][]byte{r.self}}})
}

// RemovePeer implements p2p.Reactor.
func (r *Reactor) RemovePeer(peer p2p.Peer, _ interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.byPeer[peer.ID()]; ok && r.byVal[v] == peer.ID() {
		delete(r.byVal, v)
	}
	delete(r.byPeer, peer.ID())
}

// Receive implements p2p.Reactor.
func (r *Reactor) Receive(e p2p.Envelope) {
	msg, ok := e.Message.(*protomem.Txs)
	if !ok {
		r.Switch.StopPeerForError(e.Src, errUnexpected)
		return
	}
	switch e.ChannelID {
	case HelloChannel:
		if len(msg.Txs) != 1 || len(msg.Txs[0]) != cmtcrypto.AddressSize {
			r.Switch.StopPeerForError(e.Src, errBadHello)
			return
		}
		// One address per peer: a repeated hello replaces the peer's
		// previous one.
		r.mu.Lock()
		if old, ok := r.byPeer[e.Src.ID()]; ok && r.byVal[old] == e.Src.ID() {
			delete(r.byVal, old)
		}
		r.byPeer[e.Src.ID()] = string(msg.Txs[0])
		r.byVal[string(msg.Txs[0])] = e.Src.ID()
		r.mu.Unlock()
	case TxChannel:
		r.mu.RLock()
		mp := r.mempool
		r.mu.RUnlock()
		if mp == nil {
			return
		}
		for _, tx := range msg.Txs {
			// The mempool answers asynchronously (app/internal/asynccheck);
			// a refusal or a duplicate is the sender's loss only.
			if err := mp.CheckTx(tx, nil, mempl.TxInfo{SenderP2PID: e.Src.ID()}); err != nil {
				r.Logger.Debug("forwarded transaction not taken", "peer", e.Src.ID(), "err", err)
			}
		}
	}
}

// Forward sends tx to the upcoming proposers other than this node (every
// connected node, with New's all), if they are connected; it never blocks (a
// full send queue drops it: the transaction is in this node's mempool
// anyway, and a validator that lacks it when a block names it asks for it,
// app/internal/batchsync).
func (r *Reactor) Forward(tx []byte) {
	if r.all {
		r.forwardAll(tx)
		return
	}
	ps := r.proposers.Load()
	if ps == nil || r.Switch == nil {
		return
	}
	r.mu.RLock()
	proposed := r.proposed
	r.mu.RUnlock()
	p := int64(0)
	if proposed != nil {
		p = proposed()
	}
	sent := map[p2p.ID]bool{}
	for _, addr := range ps.targets(p) {
		if addr == string(r.self) {
			continue
		}
		r.mu.RLock()
		id, ok := r.byVal[addr]
		r.mu.RUnlock()
		if !ok || sent[id] {
			continue
		}
		if peer := r.Switch.Peers().Get(id); peer != nil {
			sent[id] = peer.TrySend(p2p.Envelope{ChannelID: TxChannel, Message: &protomem.Txs{Txs: [][]byte{tx}}})
		}
	}
}

func (r *Reactor) forwardAll(tx []byte) {
	if r.Switch == nil {
		return
	}
	r.mu.RLock()
	ids := make([]p2p.ID, 0, len(r.byVal))
	for addr, id := range r.byVal {
		if addr != string(r.self) {
			ids = append(ids, id)
		}
	}
	r.mu.RUnlock()
	msg := &protomem.Txs{Txs: [][]byte{tx}}
	for _, id := range ids {
		if peer := r.Switch.Peers().Get(id); peer != nil {
			peer.TrySend(p2p.Envelope{ChannelID: TxChannel, Message: msg})
		}
	}
}

type reactorError string

func (e reactorError) Error() string { return string(e) }

const (
	errUnexpected = reactorError("forward: unexpected message")
	errBadHello   = reactorError("forward: hello must carry one validator address")
)
