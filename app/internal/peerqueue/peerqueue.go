package peerqueue

import (
	"fmt"
	"sync"

	"github.com/cometbft/cometbft/p2p"
)

// DefaultSize is how many of a peer's messages wait for the reactor before
// the peer's connection waits.
const DefaultSize = 1024

// Reactor is a p2p.Reactor whose Receive queues each message for the
// wrapped reactor, per peer.
type Reactor struct {
	p2p.Reactor
	size int

	mu     sync.Mutex
	sw     *p2p.Switch
	queues map[p2p.Peer]*queue
}

type queue struct {
	ch   chan p2p.Envelope
	quit chan struct{} // closed by RemovePeer
}

// Wrap returns r wrapped, with queues of size messages per peer (size < 1
// means DefaultSize).
func Wrap(r p2p.Reactor, size int) *Reactor {
	if size < 1 {
		size = DefaultSize
	}
	return &Reactor{Reactor: r, size: size, queues: map[p2p.Peer]*queue{}}
}

// SetSwitch implements p2p.Reactor.
func (r *Reactor) SetSwitch(sw *p2p.Switch) {
	r.mu.Lock()
	r.sw = sw
	r.mu.Unlock()
	r.Reactor.SetSwitch(sw)
}

// Receive implements p2p.Reactor: it queues e for the wrapped reactor and
// returns, or waits while the peer's queue is full.
func (r *Reactor) Receive(e p2p.Envelope) {
	q := r.queue(e.Src)
	if q == nil {
		return
	}
	select {
	case q.ch <- e:
	case <-q.quit:
	case <-e.Src.Quit():
	}
}

// RemovePeer implements p2p.Reactor: the peer's queue ends, then the
// wrapped reactor is told.
func (r *Reactor) RemovePeer(peer p2p.Peer, reason interface{}) {
	r.mu.Lock()
	if q, ok := r.queues[peer]; ok {
		close(q.quit)
		delete(r.queues, peer)
	}
	r.mu.Unlock()
	r.Reactor.RemovePeer(peer, reason)
}

// queue returns the peer's queue, starting its goroutine on first use; nil
// if the peer has stopped.
func (r *Reactor) queue(peer p2p.Peer) *queue {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q, ok := r.queues[peer]; ok {
		return q
	}
	select {
	case <-peer.Quit():
		return nil
	default:
	}
	q := &queue{ch: make(chan p2p.Envelope, r.size), quit: make(chan struct{})}
	r.queues[peer] = q
	go r.drain(peer, q)
	return q
}

// drain hands the peer's messages to the wrapped reactor until the peer
// stops or a Receive panics.
func (r *Reactor) drain(peer p2p.Peer, q *queue) {
	for {
		// A peer that has gone gets nothing more, even with messages
		// still queued.
		select {
		case <-q.quit:
			return
		case <-peer.Quit():
			return
		default:
		}
		select {
		case e := <-q.ch:
			if !r.deliver(e) {
				r.mu.Lock()
				if r.queues[peer] == q {
					close(q.quit)
					delete(r.queues, peer)
				}
				r.mu.Unlock()
				return
			}
		case <-q.quit:
			return
		case <-peer.Quit():
			return
		}
	}
}

// deliver hands e to the wrapped reactor. A panic there stops the peer with
// an error, as the connection's receive routine does; deliver then reports
// false.
func (r *Reactor) deliver(e p2p.Envelope) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			r.mu.Lock()
			sw := r.sw
			r.mu.Unlock()
			if sw != nil {
				sw.StopPeerForError(e.Src, fmt.Errorf("peerqueue: reactor panicked on a message of channel %#x: %v", e.ChannelID, v))
			}
		}
	}()
	r.Reactor.Receive(e)
	return true
}

// Queued returns how many messages wait in the queues of all peers.
func (r *Reactor) Queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.queues {
		n += len(q.ch)
	}
	return n
}
