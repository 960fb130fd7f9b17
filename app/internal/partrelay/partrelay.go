// Package partrelay wraps CometBFT's consensus reactor so that a node does
// not relay a part of a block proposal to a peer that is receiving it from
// somewhere else already.
//
// In CometBFT v0.38 a node sends each part of the proposal it holds to every
// peer that has not sent it that part or been sent it by this node, the
// moment it holds it. On a consortium whose validators are all connected to
// each other, every validator receives every part from the proposer and,
// again, from each other validator that got it first: on the 4-validator
// bench half of the parts a node received were duplicates, each one sealed,
// sent, read, opened and hashed (docs/performance.md, finding 28). CometBFT
// v1 answers with a HasProposalBlockPart message; this package does the same
// on its own channel and adds the wait that v0.38's immediate relaying needs:
//
//   - Every node tells its peers which parts of the proposal its consensus
//     state holds (a VoteSetBits message of type Proposal on PartChannel),
//     when that grows and every announceEvery; a peer marks them as had.
//   - A node that received a part of the proposal of a height and round
//     from a peer (it did not propose it) holds back relaying a part to a
//     peer for the hold after the first part it received, and while that
//     peer announced a new part within the last hold: the peer is
//     receiving the proposal from another node, most likely the proposer.
//
// It also hands each peer's consensus messages to CometBFT's reactor from
// a queue of the peer's own (inboxSize messages), in the order they
// arrived, instead of in the peer connection's receive routine. The
// reactor's handling of most messages waits for the consensus lock, which
// is held while a block is checked or executed; in the receive routine
// that wait stalled every other channel of the connection, so a node
// executing a block could not receive what the execution waited for (the
// bytes of a transaction the block names by reference, asked of the peers
// through app/internal/batchsync), nor forwarded transactions. A full
// queue waits, as the routine did.
//
// Once a peer stops receiving, parts flow to it as before, so a node
// reached through others (a validator behind sentries) still gets the whole
// proposal, a hold later per hop. A peer without the channel announces
// nothing and is held back only for the first hold. An announcement only
// concerns its sender: a peer that announces a part it lacks only keeps
// that part from being sent to itself.
package partrelay

import (
	"fmt"
	"sync"
	"time"

	cs "github.com/cometbft/cometbft/consensus"
	cstypes "github.com/cometbft/cometbft/consensus/types"
	"github.com/cometbft/cometbft/libs/bits"
	"github.com/cometbft/cometbft/p2p"
	cmtcons "github.com/cometbft/cometbft/proto/tendermint/consensus"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"
)

const (
	// PartChannel carries announcements of the proposal parts a node holds.
	PartChannel = byte(0x72)
	// DefaultHold is the default wait before relaying a part (app.toml
	// p2p.block_part_hold); 0 relays at once, as CometBFT does.
	DefaultHold = 200 * time.Millisecond

	// pollEvery is how often the consensus state's parts are read for an
	// announcement; announceEvery is how often an unchanged set is sent
	// again (an announcement that arrives before the proposal is lost).
	pollEvery     = 5 * time.Millisecond
	announceEvery = 100 * time.Millisecond
	// pause is how long a held send waits before the gossip routine picks
	// again.
	pause = 5 * time.Millisecond
	// keep is how many heights of relaying state are kept.
	keep = 3
	// inboxSize is how many of a peer's consensus messages wait for the
	// consensus reactor before the peer's connection waits.
	inboxSize = 1024
)

// Consensus gives the consensus state's round state (CometBFT's consensus
// state implements it).
type Consensus interface {
	GetRoundState() *cstypes.RoundState
}

type heightRound struct {
	height int64
	round  int32
}

type announced struct {
	hr    heightRound
	count int       // parts announced for hr
	grew  time.Time // when count last grew
}

// Reactor is CometBFT's consensus reactor with held relaying and part
// announcements.
type Reactor struct {
	*cs.Reactor
	cons Consensus
	hold time.Duration
	now  func() time.Time

	self []byte // this node's validator address

	started  sync.Once
	mu       sync.Mutex
	received map[heightRound]time.Time // first part received from a peer
	own      map[heightRound]bool      // proposals this node made
	peers    map[p2p.ID]announced
	inboxes  map[p2p.Peer]chan p2p.Envelope // each peer's consensus messages, in order
}

// New returns a reactor for the node whose validator address is self that
// holds relays for hold (0: never).
func New(self []byte, hold time.Duration) *Reactor {
	return &Reactor{self: self, hold: hold, now: time.Now, received: map[heightRound]time.Time{}, own: map[heightRound]bool{}, peers: map[p2p.ID]announced{}, inboxes: map[p2p.Peer]chan p2p.Envelope{}}
}

// Wrap gives the reactor the consensus reactor it wraps, before the switch
// has it.
func (r *Reactor) Wrap(inner *cs.Reactor) { r.Reactor = inner }

// Attach gives the reactor the consensus state it announces from, before
// the switch starts.
func (r *Reactor) Attach(cons Consensus) { r.cons = cons }

// GetChannels implements p2p.Reactor: the consensus channels and PartChannel.
func (r *Reactor) GetChannels() []*p2p.ChannelDescriptor {
	return append(r.Reactor.GetChannels(), &p2p.ChannelDescriptor{
		ID: PartChannel, Priority: 10, SendQueueCapacity: 16, RecvMessageCapacity: 1024, MessageType: &cmtcons.Message{},
	})
}

// AddPeer implements p2p.Reactor: the consensus reactor gossips to the peer
// through a Send that holds relays back.
func (r *Reactor) AddPeer(peer p2p.Peer) {
	// The wrapped reactor's Start is CometBFT's, which knows nothing of
	// the announcements: they start with the first peer and stop with it.
	r.started.Do(func() { go r.announce(r.Reactor.Quit()) })
	r.Reactor.AddPeer(&heldPeer{Peer: peer, r: r})
}

// RemovePeer implements p2p.Reactor.
func (r *Reactor) RemovePeer(peer p2p.Peer, reason interface{}) {
	r.mu.Lock()
	delete(r.peers, peer.ID())
	delete(r.inboxes, peer)
	r.mu.Unlock()
	r.Reactor.RemovePeer(peer, reason)
}

// Receive implements p2p.Reactor.
func (r *Reactor) Receive(e p2p.Envelope) {
	if e.ChannelID != PartChannel {
		if part, ok := e.Message.(*cmtcons.BlockPart); ok && e.ChannelID == cs.DataChannel {
			r.noteReceived(heightRound{part.Height, part.Round})
		}
		select {
		case r.inbox(e.Src) <- e:
		case <-e.Src.Quit():
		}
		return
	}
	msg, ok := e.Message.(*cmtcons.VoteSetBits)
	if !ok || msg.Type != cmtproto.ProposalType || msg.Height <= 0 || msg.Round < 0 {
		r.Switch.StopPeerForError(e.Src, errBadAnnouncement)
		return
	}
	var have bits.BitArray
	have.FromProto(&msg.Votes)
	if have.ValidateBasic() != nil || have.Size() > int(types.MaxBlockPartsCount) {
		r.Switch.StopPeerForError(e.Src, errBadAnnouncement)
		return
	}
	ps, ok := e.Src.Get(types.PeerStateKey).(*cs.PeerState)
	if !ok {
		return
	}
	count := 0
	for i := 0; i < have.Size(); i++ {
		if have.GetIndex(i) {
			ps.SetHasProposalBlockPart(msg.Height, msg.Round, i)
			count++
		}
	}
	hr := heightRound{msg.Height, msg.Round}
	r.mu.Lock()
	if a := r.peers[e.Src.ID()]; a.hr != hr || count > a.count {
		r.peers[e.Src.ID()] = announced{hr: hr, count: count, grew: r.now()}
	}
	r.mu.Unlock()
}

// inbox returns the queue of a peer's consensus messages, and starts the
// goroutine that hands them to the consensus reactor until the peer stops.
func (r *Reactor) inbox(peer p2p.Peer) chan<- p2p.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.inboxes[peer]
	if !ok {
		ch = make(chan p2p.Envelope, inboxSize)
		r.inboxes[peer] = ch
		go func() {
			for {
				select {
				case e := <-ch:
					if !r.deliver(e) {
						return
					}
				case <-peer.Quit():
					return
				}
			}
		}()
	}
	return ch
}

// deliver hands a message to the consensus reactor. A panic there, which
// the connection's receive routine would have recovered from by dropping
// the peer, drops the peer here too; deliver then reports false.
func (r *Reactor) deliver(e p2p.Envelope) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			r.Switch.StopPeerForError(e.Src, fmt.Errorf("consensus reactor: %v", v))
		}
	}()
	r.Reactor.Receive(e)
	return true
}

func (r *Reactor) noteReceived(hr heightRound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.received[hr]; ok {
		return
	}
	r.received[hr] = r.now()
	for k := range r.received {
		if k.height+keep <= hr.height {
			delete(r.received, k)
		}
	}
	for k := range r.own {
		if k.height+keep <= hr.height {
			delete(r.own, k)
		}
	}
}

// held says whether a part of the proposal of hr is kept from peer id for
// now.
func (r *Reactor) held(id p2p.ID, hr heightRound) bool {
	if r.hold <= 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	first, relaying := r.received[hr]
	if !relaying || r.own[hr] {
		return false // this node proposed it, or holds it from an earlier round
	}
	now := r.now()
	if now.Sub(first) < r.hold {
		return true
	}
	a := r.peers[id]
	return a.hr == hr && now.Sub(a.grew) < r.hold
}

// announce sends the parts of the proposal the consensus state holds to all
// peers when they grow, and again every announceEvery, until quit closes.
func (r *Reactor) announce(quit <-chan struct{}) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var (
		last     heightRound
		lastN    uint32
		lastSent time.Time
	)
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		rs := r.cons.GetRoundState()
		if rs.ProposalBlockParts == nil || r.Switch == nil {
			continue
		}
		hr := heightRound{rs.Height, rs.Round}
		have := rs.ProposalBlockParts.BitArray()
		n := rs.ProposalBlockParts.Count()
		now := time.Now()
		if hr == last && n == lastN && now.Sub(lastSent) < announceEvery {
			continue
		}
		if hr != last && rs.Validators != nil {
			if p := rs.Validators.GetProposer(); p != nil && string(p.Address) == string(r.self) {
				r.mu.Lock()
				r.own[hr] = true
				r.mu.Unlock()
			}
		}
		last, lastN, lastSent = hr, n, now
		header := rs.ProposalBlockParts.Header()
		msg := &cmtcons.VoteSetBits{
			Height: hr.height, Round: hr.round, Type: cmtproto.ProposalType,
			BlockID: cmtproto.BlockID{PartSetHeader: header.ToProto()},
			Votes:   *have.ToProto(),
		}
		for _, p := range r.Switch.Peers().List() {
			p.TrySend(p2p.Envelope{ChannelID: PartChannel, Message: msg})
		}
	}
}

// heldPeer is the peer the consensus reactor gossips to.
type heldPeer struct {
	p2p.Peer
	r *Reactor
}

// Send implements p2p.Peer: a held part is not sent (false, after a pause:
// the gossip routine picks again at once).
func (p *heldPeer) Send(e p2p.Envelope) bool {
	if part, ok := e.Message.(*cmtcons.BlockPart); ok && e.ChannelID == cs.DataChannel &&
		p.r.held(p.ID(), heightRound{part.Height, part.Round}) {
		time.Sleep(pause)
		return false
	}
	return p.Peer.Send(e)
}

type reactorError string

func (e reactorError) Error() string { return string(e) }

const errBadAnnouncement = reactorError("partrelay: bad part announcement")
