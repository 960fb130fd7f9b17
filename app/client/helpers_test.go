package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/gateway"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startNode starts a test node whose gateway serves receipts.
func startNode(t testing.TB, opts apptest.Options) *apptest.Node {
	t.Helper()
	opts.GatewayOptions.Receipts = gateway.Receipts
	return apptest.Start(t, opts)
}

// dial returns a client of n as the identity in dir, closed at cleanup.
func dial(t testing.TB, n *apptest.Node, dir string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(n.Addr, n.Identity(t, dir), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// digest returns a document digest derived from seed and i.
func digest(seed string, i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	s := sha256.Sum256(append([]byte(seed+"/"), b[:]...))
	return s[:]
}

func digests(seed string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = digest(seed, i)
	}
	return out
}

// sameRecord fails unless a and b name the same anchoring.
func sameRecord(t testing.TB, a, b *client.Anchored) {
	t.Helper()
	if a.Height != b.Height || a.TxIndex != b.TxIndex || a.Leaf != b.Leaf || !a.Time.Equal(b.Time) ||
		string(a.TxHash) != string(b.TxHash) || string(a.Anchored) != string(b.Anchored) {
		t.Fatalf("records differ:\n%+v\n%+v", a, b)
	}
}

// proxy forwards TCP connections to a gateway and can cut them all, to
// break the client's streams mid-flight.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	t.Cleanup(func() { _ = l.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) Addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
		go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
	}
}

// cut closes every connection open now.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
