package txsync_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/channels"
	"github.com/gobtechlab/notary/app/internal/txsync"
)

// pair starts two p2p switches connected in memory, each with a txsync
// reactor over a real application.
func pair(t *testing.T) (apps [2]*abci.Application, rs [2]*txsync.Reactor, sws [2]*p2p.Switch) {
	t.Helper()
	cfg := cmtcfg.DefaultP2PConfig()
	for i := range 2 {
		a, err := abci.NewApplication(abci.DefaultOptions(t.TempDir(), "txsync-test"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		apps[i] = a
		rs[i] = txsync.New(a, 1<<20, cmtlog.NewNopLogger())
		sws[i] = p2p.MakeSwitch(cfg, i, func(_ int, sw *p2p.Switch) *p2p.Switch {
			sw.AddReactor("TXSYNC", rs[i])
			return sw
		})
		sws[i].SetLogger(cmtlog.NewNopLogger())
	}
	if err := p2p.StartSwitches(sws[:]); err != nil {
		t.Fatal(err)
	}
	for _, sw := range sws {
		t.Cleanup(func() { _ = sw.Stop() })
	}
	p2p.Connect2Switches(sws[:], 0, 1)
	return apps, rs, sws
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFetch: a node gets a transaction it asked for from the peer that
// holds it; what it did not ask for, or what does not hash to what it
// asked for, it does not keep.
func TestFetch(t *testing.T) {
	apps, rs, sws := pair(t)
	waitFor(t, "connected", func() bool { return sws[0].Peers().Size() == 1 && sws[1].Peers().Size() == 1 })
	raw := bytes.Repeat([]byte("batch"), 1000)
	h := sha256.Sum256(raw)
	if _, err := apps[0].StoreTx(raw); err != nil {
		t.Fatal(err)
	}
	rs[1].Fetch(h)
	waitFor(t, "fetched", func() bool {
		got, ok, err := apps[1].StoredTx(h)
		return err == nil && ok && bytes.Equal(got, raw)
	})

	// Sent without being asked for: dropped.
	other := bytes.Repeat([]byte("other"), 1000)
	peer := sws[0].Peers().List()[0]
	if !peer.Send(p2p.Envelope{ChannelID: channels.Tx, Message: &protomem.Txs{Txs: [][]byte{other}}}) {
		t.Fatal("send failed")
	}
	// Asked for, answered by something else: dropped too (the peer here
	// answers with the unsolicited bytes once more after the request).
	asked := sha256.Sum256([]byte("never held"))
	rs[1].Fetch(asked)
	if !peer.Send(p2p.Envelope{ChannelID: channels.Tx, Message: &protomem.Txs{Txs: [][]byte{other}}}) {
		t.Fatal("send failed")
	}
	// A later fetch over the same connection shows the earlier messages were handled.
	second := bytes.Repeat([]byte("second"), 1000)
	if _, err := apps[0].StoreTx(second); err != nil {
		t.Fatal(err)
	}
	rs[1].Fetch(sha256.Sum256(second))
	waitFor(t, "second fetched", func() bool { _, ok, _ := apps[1].StoredTx(sha256.Sum256(second)); return ok })
	if _, ok, _ := apps[1].StoredTx(sha256.Sum256(other)); ok {
		t.Fatal("kept a transaction it did not ask for")
	}
	if _, ok, _ := apps[1].StoredTx(asked); ok {
		t.Fatal("holds a transaction no one has")
	}
}

// TestBadRequest: a request with a hash that is not 32 bytes disconnects
// the peer that sent it.
func TestBadRequest(t *testing.T) {
	_, _, sws := pair(t)
	waitFor(t, "connected", func() bool { return sws[0].Peers().Size() == 1 && sws[1].Peers().Size() == 1 })
	peer := sws[0].Peers().List()[0]
	peer.Send(p2p.Envelope{ChannelID: channels.TxWant, Message: &protomem.Txs{Txs: [][]byte{[]byte("short")}}})
	waitFor(t, "disconnected", func() bool { return sws[1].Peers().Size() == 0 })
}
