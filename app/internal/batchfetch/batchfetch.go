// Package batchfetch gets from a node's peers the bytes of a transaction
// that a block names by reference (abci.EncodeBatchRef) and that the node
// does not hold: a proposal whose transaction has not reached it, or a
// block it executes while catching up.
//
// It asks each peer's RPC (abci_query, path abci.QueryBatch), not its p2p
// connection. While CometBFT's consensus checks or executes a block it
// holds its lock, and its reactor's handling of a peer's step messages
// waits for that lock, which stalls every channel of that peer's
// connection, the channel an answer would arrive on included: asked over
// p2p, a node catching up waited for an answer that could not arrive until
// the connection timed out. The RPC is served beside consensus, and its
// queries reach the application on their own ABCI connection.
//
// A peer's RPC address is the one its node info announces, with the peer's
// own IP in place of an unspecified host (0.0.0.0). The answer is kept only
// if its SHA-256 is the hash asked for; what the bytes are worth is decided
// by the block that names them.
package batchfetch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// Fetcher fetches referenced transactions from peers.
type Fetcher struct {
	peers func() []p2p.Peer
	put   func(raw []byte) (bool, error)
	query string // the ABCI query path
	log   log.Logger
	http  *http.Client

	mu       sync.Mutex
	inFlight map[[32]byte]bool
}

// Timeout bounds each peer's answer.
const Timeout = 5 * time.Second

// New returns a fetcher asking the peers peers returns, with ABCI query
// path query, and storing answers with put.
func New(peers func() []p2p.Peer, query string, put func(raw []byte) (bool, error), logger log.Logger) *Fetcher {
	return &Fetcher{peers: peers, put: put, query: query, log: logger, http: &http.Client{Timeout: Timeout}, inFlight: map[[32]byte]bool{}}
}

// Fetch starts asking the peers, one after another, for the transaction
// whose hash is h, unless it is being asked for already; it does not wait.
func (f *Fetcher) Fetch(h [32]byte) {
	f.mu.Lock()
	if f.inFlight[h] {
		f.mu.Unlock()
		return
	}
	f.inFlight[h] = true
	f.mu.Unlock()
	go func() {
		defer func() {
			f.mu.Lock()
			delete(f.inFlight, h)
			f.mu.Unlock()
		}()
		if err := f.fetch(h); err != nil {
			f.log.Info("referenced transaction not fetched", "hash", fmt.Sprintf("%X", h), "err", err)
		}
	}()
}

func (f *Fetcher) fetch(h [32]byte) error {
	var tried []string
	for _, p := range f.peers() {
		addr := RPCAddress(p)
		if addr == "" {
			continue
		}
		raw, err := f.ask(addr, h)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", addr, err))
			continue
		}
		if _, err := f.put(raw); err != nil {
			return err
		}
		return nil
	}
	if len(tried) == 0 {
		return fmt.Errorf("no peer announces an RPC address")
	}
	return fmt.Errorf("no peer sent it (%s)", strings.Join(tried, "; "))
}

func (f *Fetcher) ask(addr string, h [32]byte) ([]byte, error) {
	c, err := rpchttp.NewWithClient(addr, "/websocket", f.http)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	res, err := c.ABCIQuery(ctx, f.query, h[:])
	if err != nil {
		return nil, err
	}
	if res.Response.Code != 0 {
		return nil, fmt.Errorf("code %d: %s", res.Response.Code, res.Response.Log)
	}
	if sha256.Sum256(res.Response.Value) != h {
		return nil, fmt.Errorf("the answer's hash is not the one asked for")
	}
	return res.Response.Value, nil
}

// RPCAddress returns the http address of a peer's RPC from its node info,
// or "" if it announces none reachable over TCP.
func RPCAddress(p p2p.Peer) string {
	ni, ok := p.NodeInfo().(p2p.DefaultNodeInfo)
	if !ok {
		return ""
	}
	a := ni.Other.RPCAddress
	if rest, ok := strings.CutPrefix(a, "tcp://"); ok {
		a = rest
	} else if strings.Contains(a, "://") {
		return "" // a unix socket, or another transport
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || port == "" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		rip := p.RemoteIP()
		if rip == nil {
			return ""
		}
		host = rip.String()
	}
	return "http://" + net.JoinHostPort(host, port)
}
