package peerqueue_test

import (
	"sync"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"

	"github.com/gobtechlab/notary/app/internal/peerqueue"
)

const (
	slowChannel = byte(0x01)
	fastChannel = byte(0x02)
)

// recorder is a reactor on one channel that records what it receives; with
// gate set, each Receive waits for a value on gate first; with panicOn, a
// message whose first transaction equals it panics.
type recorder struct {
	p2p.BaseReactor
	ch      byte
	gate    chan struct{}
	panicOn string

	mu   sync.Mutex
	got  []string
	busy int // Receive calls running
	max  int // most Receive calls running at once
}

func newRecorder(ch byte) *recorder {
	r := &recorder{ch: ch}
	r.BaseReactor = *p2p.NewBaseReactor("recorder", r)
	r.SetLogger(cmtlog.NewNopLogger())
	return r
}

func (r *recorder) GetChannels() []*p2p.ChannelDescriptor {
	return []*p2p.ChannelDescriptor{{ID: r.ch, Priority: 1, SendQueueCapacity: 100, RecvMessageCapacity: 1 << 16, MessageType: &protomem.Message{}}}
}

func (r *recorder) Receive(e p2p.Envelope) {
	r.mu.Lock()
	r.busy++
	r.max = max(r.max, r.busy)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.busy--
		r.mu.Unlock()
	}()
	if r.gate != nil {
		<-r.gate
	}
	msg := string(e.Message.(*protomem.Txs).Txs[0])
	if r.panicOn != "" && msg == r.panicOn {
		panic("recorder: " + msg)
	}
	r.mu.Lock()
	r.got = append(r.got, msg)
	r.mu.Unlock()
}

func (r *recorder) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// pair starts two connected switches; the second has the reactors given
// (name -> reactor), the first one recorder per channel they use, so that
// it can send on those channels.
func pair(t *testing.T, reactors map[string]p2p.Reactor) (sender, receiver *p2p.Switch) {
	t.Helper()
	cfg := cmtcfg.DefaultP2PConfig()
	sws := make([]*p2p.Switch, 2)
	sws[0] = p2p.MakeSwitch(cfg, 0, func(_ int, sw *p2p.Switch) *p2p.Switch {
		sw.AddReactor("SLOW", newRecorder(slowChannel))
		sw.AddReactor("FAST", newRecorder(fastChannel))
		return sw
	})
	sws[1] = p2p.MakeSwitch(cfg, 1, func(_ int, sw *p2p.Switch) *p2p.Switch {
		for name, r := range reactors {
			sw.AddReactor(name, r)
		}
		return sw
	})
	for _, sw := range sws {
		sw.SetLogger(cmtlog.NewNopLogger())
	}
	if err := p2p.StartSwitches(sws); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, sw := range sws {
			_ = sw.Stop()
		}
	})
	p2p.Connect2Switches(sws, 0, 1)
	waitFor(t, "connected", func() bool { return sws[0].Peers().Size() == 1 && sws[1].Peers().Size() == 1 })
	return sws[0], sws[1]
}

func send(t *testing.T, sw *p2p.Switch, ch byte, msg string) {
	t.Helper()
	peers := sw.Peers().List()
	if len(peers) != 1 {
		t.Fatalf("%d peers", len(peers))
	}
	if !peers[0].Send(p2p.Envelope{ChannelID: ch, Message: &protomem.Txs{Txs: [][]byte{[]byte(msg)}}}) {
		t.Fatalf("send %q on %#x failed", msg, ch)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOtherChannelsFlow: while a wrapped reactor's Receive waits, another
// reactor's channel on the same connection keeps receiving. Unwrapped, the
// waiting Receive holds up the connection.
func TestOtherChannelsFlow(t *testing.T) {
	for _, wrapped := range []bool{true, false} {
		t.Run(map[bool]string{true: "wrapped", false: "unwrapped"}[wrapped], func(t *testing.T) {
			slow, fast := newRecorder(slowChannel), newRecorder(fastChannel)
			slow.gate = make(chan struct{})
			var r p2p.Reactor = slow
			if wrapped {
				r = peerqueue.Wrap(slow, 0)
			}
			sender, _ := pair(t, map[string]p2p.Reactor{"SLOW": r, "FAST": fast})
			send(t, sender, slowChannel, "blocked")
			waitFor(t, "slow Receive running", func() bool {
				slow.mu.Lock()
				defer slow.mu.Unlock()
				return slow.busy == 1
			})
			send(t, sender, fastChannel, "through")
			if wrapped {
				waitFor(t, "fast channel", func() bool { return len(fast.received()) == 1 })
			} else {
				time.Sleep(300 * time.Millisecond)
				if got := fast.received(); len(got) != 0 {
					t.Fatalf("unwrapped: the fast channel received %q while the connection's routine waited", got)
				}
			}
			close(slow.gate)
			waitFor(t, "slow message", func() bool { return len(slow.received()) == 1 })
			waitFor(t, "fast message", func() bool { return len(fast.received()) == 1 })
		})
	}
}

// TestOrderAndBackPressure: a peer's messages reach the reactor in the
// order sent, one at a time; a full queue makes the connection wait rather
// than drop any.
func TestOrderAndBackPressure(t *testing.T) {
	slow := newRecorder(slowChannel)
	slow.gate = make(chan struct{}, 1000)
	q := peerqueue.Wrap(slow, 4)
	sender, _ := pair(t, map[string]p2p.Reactor{"SLOW": q})
	const n = 50
	var want []string
	for i := range n {
		msg := string(rune('A'+i%26)) + string(rune('a'+i/26))
		want = append(want, msg)
		send(t, sender, slowChannel, msg)
	}
	waitFor(t, "queue filled", func() bool { return q.Queued() == 4 })
	for range n {
		slow.gate <- struct{}{}
	}
	waitFor(t, "all delivered", func() bool { return len(slow.received()) == n })
	got := slow.received()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: got %q, want %q (order %q)", i, got[i], want[i], got)
		}
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if slow.max != 1 {
		t.Fatalf("%d Receive calls ran at once for one peer", slow.max)
	}
}

// TestPanicStopsPeer: a panic in the wrapped reactor's Receive stops the
// peer with an error, and the node keeps running.
func TestPanicStopsPeer(t *testing.T) {
	slow := newRecorder(slowChannel)
	slow.panicOn = "boom"
	sender, receiver := pair(t, map[string]p2p.Reactor{"SLOW": peerqueue.Wrap(slow, 0)})
	send(t, sender, slowChannel, "fine")
	waitFor(t, "first message", func() bool { return len(slow.received()) == 1 })
	send(t, sender, slowChannel, "boom")
	waitFor(t, "peer stopped", func() bool { return receiver.Peers().Size() == 0 })
	if !receiver.IsRunning() {
		t.Fatal("the switch stopped")
	}
}

// TestRemovePeerEndsQueue: when a peer goes, its queue and goroutine go,
// and messages still queued are not delivered.
func TestRemovePeerEndsQueue(t *testing.T) {
	slow := newRecorder(slowChannel)
	slow.gate = make(chan struct{})
	q := peerqueue.Wrap(slow, 0)
	sender, receiver := pair(t, map[string]p2p.Reactor{"SLOW": q})
	for _, m := range []string{"one", "two", "three"} {
		send(t, sender, slowChannel, m)
	}
	waitFor(t, "queued", func() bool { return q.Queued() == 2 })
	peer := receiver.Peers().List()[0]
	receiver.StopPeerGracefully(peer)
	waitFor(t, "queue gone", func() bool { return q.Queued() == 0 })
	close(slow.gate) // the Receive in progress ends
	time.Sleep(100 * time.Millisecond)
	if got := slow.received(); len(got) != 1 || got[0] != "one" {
		t.Fatalf("delivered %q after the peer left", got)
	}
}
