// Package txsync is a CometBFT p2p reactor through which a node asks its
// peers for the bytes of a transaction a block names by reference
// (abci.EncodeTxRef) and that it does not hold: a proposal whose
// transaction has not reached it, or a block it executes while catching
// up. A peer that holds the bytes sends them; the asker keeps them only if
// it asked for them and their hash is the one asked for (what they are
// worth is decided by the block).
//
// The asking happens while the node's consensus holds its lock (checking
// or executing the block); the answer can arrive then because the node's
// consensus messages wait in queues of their own rather than in the
// connections' receive routines (app/internal/peerqueue).
package txsync

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"

	"github.com/gobtechlab/notary/app/internal/channels"
)

const (
	// maxWant is the most hashes one request may carry.
	maxWant = 64
	// askedFor is how long an answer to a request is accepted.
	askedFor = time.Minute
)

// Store is where the transactions are: the node's application.
type Store interface {
	// StoredTx returns the bytes of the transaction whose hash is h.
	StoredTx(h [32]byte) ([]byte, bool, error)
	// StoreTx stores bytes a peer sent.
	StoreTx(raw []byte) (bool, error)
}

// Reactor asks peers for transactions and answers their requests.
type Reactor struct {
	p2p.BaseReactor

	store      Store
	maxTxBytes int

	mu    sync.Mutex
	asked map[[32]byte]time.Time // outstanding requests, and when they were made
	next  int                    // the peer a first request goes to, in turn

	fetched, failed atomic.Uint64 // see Stats
}

// Stats counts the transactions this node asked its peers for: fetched
// (received and stored) and failed (no answer within a minute of the
// last request, or bytes it could not store).
func (r *Reactor) Stats() (fetched, failed uint64) { return r.fetched.Load(), r.failed.Load() }

// New returns a reactor serving and storing transactions through store, whose
// transactions are at most maxTxBytes.
func New(store Store, maxTxBytes int, logger log.Logger) *Reactor {
	r := &Reactor{store: store, maxTxBytes: maxTxBytes, asked: map[[32]byte]time.Time{}}
	r.BaseReactor = *p2p.NewBaseReactor("TxSync", r)
	r.SetLogger(logger)
	return r
}

// GetChannels implements p2p.Reactor.
func (r *Reactor) GetChannels() []*p2p.ChannelDescriptor {
	hashes := make([][]byte, maxWant)
	for i := range hashes {
		hashes[i] = make([]byte, sha256.Size)
	}
	want := protomem.Message{Sum: &protomem.Message_Txs{Txs: &protomem.Txs{Txs: hashes}}}
	answer := protomem.Message{Sum: &protomem.Message_Txs{Txs: &protomem.Txs{Txs: [][]byte{make([]byte, r.maxTxBytes)}}}}
	return []*p2p.ChannelDescriptor{
		{ID: channels.TxWant, Priority: 5, SendQueueCapacity: 16, RecvMessageCapacity: want.Size(), MessageType: &protomem.Message{}},
		{ID: channels.Tx, Priority: 5, SendQueueCapacity: 16, RecvMessageCapacity: answer.Size(), MessageType: &protomem.Message{}},
	}
}

// Fetch asks a peer for the transaction whose hash is h, and every
// connected peer if it was asked for already (the caller asks again when
// no answer came); it never blocks. The answer is stored through
// Store.StoreTx.
func (r *Reactor) Fetch(h [32]byte) {
	if r.Switch == nil {
		return
	}
	now := time.Now()
	r.mu.Lock()
	_, again := r.asked[h]
	r.asked[h] = now
	for k, t := range r.asked {
		if now.Sub(t) > askedFor {
			delete(r.asked, k)
			r.failed.Add(1)
		}
	}
	r.next++
	next := r.next
	r.mu.Unlock()
	msg := &protomem.Txs{Txs: [][]byte{h[:]}}
	peers := r.Switch.Peers().List()
	if !again && len(peers) > 0 {
		peers = peers[next%len(peers) : next%len(peers)+1]
	}
	for _, peer := range peers {
		peer.TrySend(p2p.Envelope{ChannelID: channels.TxWant, Message: msg})
	}
}

// Receive implements p2p.Reactor.
func (r *Reactor) Receive(e p2p.Envelope) {
	msg, ok := e.Message.(*protomem.Txs)
	if !ok {
		r.Switch.StopPeerForError(e.Src, errUnexpected)
		return
	}
	switch e.ChannelID {
	case channels.TxWant:
		if len(msg.Txs) > maxWant {
			r.Switch.StopPeerForError(e.Src, errTooMany)
			return
		}
		for _, hb := range msg.Txs {
			if len(hb) != sha256.Size {
				r.Switch.StopPeerForError(e.Src, errBadHash)
				return
			}
			raw, ok, err := r.store.StoredTx([32]byte(hb))
			if err != nil {
				r.Logger.Error("reading a transaction a peer asked for", "peer", e.Src.ID(), "err", err)
				continue
			}
			if ok {
				e.Src.TrySend(p2p.Envelope{ChannelID: channels.Tx, Message: &protomem.Txs{Txs: [][]byte{raw}}})
			}
		}
	case channels.Tx:
		for _, raw := range msg.Txs {
			h := sha256.Sum256(raw)
			r.mu.Lock()
			_, wanted := r.asked[h]
			delete(r.asked, h)
			r.mu.Unlock()
			if !wanted {
				continue // an answer already taken from another peer, or never asked for
			}
			if _, err := r.store.StoreTx(raw); err != nil {
				r.Logger.Error("storing a transaction a peer sent", "peer", e.Src.ID(), "err", err)
				r.failed.Add(1)
				continue
			}
			r.fetched.Add(1)
		}
	}
}

type reactorError string

func (e reactorError) Error() string { return string(e) }

const (
	errUnexpected = reactorError("txsync: unexpected message")
	errTooMany    = reactorError("txsync: too many hashes in one request")
	errBadHash    = reactorError("txsync: a hash must be 32 bytes")
)
