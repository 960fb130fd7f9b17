package partrelay

import (
	"testing"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	cs "github.com/cometbft/cometbft/consensus"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/libs/bits"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/p2p/conn"
	"github.com/cometbft/cometbft/p2p/mock"
	cmtcons "github.com/cometbft/cometbft/proto/tendermint/consensus"
	cmtbits "github.com/cometbft/cometbft/proto/tendermint/libs/bits"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestHeld(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	hr := heightRound{10, 0}
	const peer = p2p.ID("aa")
	cases := []struct {
		name     string
		hold     time.Duration
		received bool          // a part of hr came from a peer at t0
		own      bool          // this node proposed hr
		ann      *announced    // the peer's last announcement
		after    time.Duration // now - t0
		want     bool
	}{
		{name: "hold off", hold: 0, received: true, after: 10 * time.Millisecond},
		{name: "own proposal, nothing received", hold: time.Second, after: 10 * time.Millisecond},
		{name: "own proposal, a part relayed back", hold: time.Second, received: true, own: true, after: 10 * time.Millisecond},
		{name: "relaying, within hold of the first part", hold: time.Second, received: true, after: 999 * time.Millisecond, want: true},
		{name: "relaying, peer silent after hold", hold: time.Second, received: true, after: time.Second},
		{name: "relaying, peer still receiving", hold: time.Second, received: true, after: 3 * time.Second,
			ann: &announced{hr: hr, count: 7, grew: t0.Add(2500 * time.Millisecond)}, want: true},
		{name: "relaying, peer stopped receiving", hold: time.Second, received: true, after: 3 * time.Second,
			ann: &announced{hr: hr, count: 7, grew: t0.Add(1500 * time.Millisecond)}},
		{name: "relaying, peer receiving another round", hold: time.Second, received: true, after: 3 * time.Second,
			ann: &announced{hr: heightRound{10, 1}, count: 7, grew: t0.Add(2900 * time.Millisecond)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t0}
			r := New([]byte("self"), tc.hold)
			r.now = c.now
			if tc.received {
				r.noteReceived(hr)
			}
			r.own[hr] = tc.own
			if tc.ann != nil {
				r.peers[peer] = *tc.ann
			}
			c.t = t0.Add(tc.after)
			if got := r.held(peer, hr); got != tc.want {
				t.Fatalf("held = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNoteReceivedKeepsRecentHeights(t *testing.T) {
	r := New(nil, time.Second)
	for h := int64(1); h <= 100; h++ {
		r.noteReceived(heightRound{h, 0})
		r.own[heightRound{h, 1}] = true
	}
	if len(r.received) != keep || len(r.own) > keep+1 {
		t.Fatalf("kept %d received and %d own heights, want %d", len(r.received), len(r.own), keep)
	}
}

// newTestReactor returns a reactor wrapping a consensus reactor, on a switch
// (which it needs to stop a peer), and a started peer with a consensus peer
// state at height 5, round 0, whose proposal has 8 parts.
func newTestReactor(t *testing.T) (*Reactor, *mock.Peer, *cs.PeerState) {
	t.Helper()
	r := New([]byte("self"), time.Second)
	r.Wrap(&cs.Reactor{}) // no consensus state: Receive on PartChannel does not reach it
	tr := p2p.NewMultiplexTransport(p2p.DefaultNodeInfo{}, p2p.NodeKey{PrivKey: ed25519.GenPrivKey()}, conn.DefaultMConnConfig())
	sw := p2p.NewSwitch(cfg.DefaultP2PConfig(), tr)
	sw.AddReactor("CONSENSUS", r)
	peer := mock.NewPeer(nil) // started
	t.Cleanup(func() { _ = peer.Stop() })
	ps := cs.NewPeerState(peer)
	peer.Set(types.PeerStateKey, ps)
	ps.ApplyNewRoundStepMessage(&cs.NewRoundStepMessage{Height: 5, Round: 0, Step: 3})
	ps.SetHasProposal(&types.Proposal{Height: 5, Round: 0, POLRound: -1,
		BlockID: types.BlockID{PartSetHeader: types.PartSetHeader{Total: 8, Hash: make([]byte, 32)}}})
	return r, peer, ps
}

func announcement(h int64, r int32, typ cmtproto.SignedMsgType, parts []int, size int) *cmtcons.VoteSetBits {
	ba := bits.NewBitArray(size)
	for _, i := range parts {
		ba.SetIndex(i, true)
	}
	return &cmtcons.VoteSetBits{Height: h, Round: r, Type: typ, Votes: *ba.ToProto()}
}

func TestReceiveAnnouncement(t *testing.T) {
	r, peer, ps := newTestReactor(t)
	c := &clock{time.Unix(1_700_000_000, 0)}
	r.now = c.now
	r.Receive(p2p.Envelope{Src: peer, ChannelID: PartChannel, Message: announcement(5, 0, cmtproto.ProposalType, []int{0, 3, 7}, 8)})
	if !peer.IsRunning() {
		t.Fatal("a good announcement stopped the peer")
	}
	got := ps.GetRoundState().ProposalBlockParts
	for i := 0; i < 8; i++ {
		if want := i == 0 || i == 3 || i == 7; got.GetIndex(i) != want {
			t.Fatalf("part %d had = %v, want %v", i, got.GetIndex(i), want)
		}
	}
	if a := r.peers[peer.ID()]; a.hr != (heightRound{5, 0}) || a.count != 3 || !a.grew.Equal(c.t) {
		t.Fatalf("announcement recorded as %+v", a)
	}
	// The same set again does not count as receiving.
	c.t = c.t.Add(time.Second)
	r.Receive(p2p.Envelope{Src: peer, ChannelID: PartChannel, Message: announcement(5, 0, cmtproto.ProposalType, []int{0, 3, 7}, 8)})
	if a := r.peers[peer.ID()]; a.grew.Equal(c.t) {
		t.Fatal("an unchanged announcement counted as growth")
	}
}

func TestReceiveBadAnnouncement(t *testing.T) {
	bad := map[string]p2p.Envelope{
		"not a bit set":  {ChannelID: PartChannel, Message: &cmtcons.HasVote{Height: 5, Type: cmtproto.ProposalType}},
		"prevote type":   {ChannelID: PartChannel, Message: announcement(5, 0, cmtproto.PrevoteType, []int{1}, 8)},
		"height 0":       {ChannelID: PartChannel, Message: announcement(0, 0, cmtproto.ProposalType, []int{1}, 8)},
		"negative round": {ChannelID: PartChannel, Message: announcement(5, -1, cmtproto.ProposalType, []int{1}, 8)},
		"too many parts": {ChannelID: PartChannel, Message: announcement(5, 0, cmtproto.ProposalType, []int{1}, int(types.MaxBlockPartsCount)+1)},
		"bits and elems disagree": {ChannelID: PartChannel, Message: &cmtcons.VoteSetBits{Height: 5, Type: cmtproto.ProposalType,
			Votes: cmtbits.BitArray{Bits: 200, Elems: []uint64{1}}}},
	}
	for name, e := range bad {
		t.Run(name, func(t *testing.T) {
			r, peer, ps := newTestReactor(t)
			e.Src = peer
			r.Receive(e)
			if peer.IsRunning() {
				t.Fatal("the peer was not stopped")
			}
			if n := ps.GetRoundState().ProposalBlockParts.Size(); n != 8 {
				t.Fatalf("peer state's parts resized to %d", n)
			}
			if ps.GetRoundState().ProposalBlockParts.GetIndex(1) {
				t.Fatal("a bad announcement marked a part")
			}
		})
	}
}

func TestHeldPeerSend(t *testing.T) {
	r, peer, _ := newTestReactor(t)
	hp := &heldPeer{Peer: peer, r: r}
	part := p2p.Envelope{ChannelID: cs.DataChannel, Message: &cmtcons.BlockPart{Height: 5, Round: 0}}
	if !hp.Send(part) {
		t.Fatal("a part of this node's own proposal was held")
	}
	r.noteReceived(heightRound{5, 0})
	if hp.Send(part) {
		t.Fatal("a part relayed at once")
	}
	vote := p2p.Envelope{ChannelID: cs.VoteChannel, Message: &cmtcons.Vote{}}
	if !hp.Send(vote) {
		t.Fatal("a vote was held")
	}
}
