package forward_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"
	"github.com/cometbft/cometbft/proxy"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/internal/channels"
	"github.com/gobtechlab/notary/app/internal/forward"
	"github.com/gobtechlab/notary/app/internal/peerqueue"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// kvMempool is CometBFT's mempool over its kvstore example application
// (which accepts "key=value" transactions).
func kvMempool(t *testing.T) *mempl.CListMempool {
	t.Helper()
	conns := proxy.NewAppConns(proxy.NewLocalClientCreator(kvstore.NewInMemoryApplication()), proxy.NopMetrics())
	if err := conns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conns.Stop() })
	return mempl.NewCListMempool(cmtcfg.TestMempoolConfig(), conns.Mempool(), 0)
}

// pair starts two connected p2p switches, each with a forward reactor
// (wrapped in its per-peer queue, as a node registers it) over its own
// mempool.
func pair(t *testing.T) (rs [2]*forward.Reactor, mps [2]*mempl.CListMempool, sws [2]*p2p.Switch) {
	t.Helper()
	cfg := cmtcfg.DefaultP2PConfig()
	for i := range 2 {
		mps[i] = kvMempool(t)
		rs[i] = forward.New(mps[i], 1<<16, cmtlog.NewNopLogger())
		sws[i] = p2p.MakeSwitch(cfg, i, func(_ int, sw *p2p.Switch) *p2p.Switch {
			sw.AddReactor("FORWARD", peerqueue.Wrap(rs[i], 0))
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
	waitFor(t, "connected", func() bool { return sws[0].Peers().Size() == 1 && sws[1].Peers().Size() == 1 })
	return rs, mps, sws
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestForward: a forwarded transaction reaches the peer's mempool, once,
// marked as the peer's; one the peer's application refuses does not, and
// the peer stays connected.
func TestForward(t *testing.T) {
	rs, mps, sws := pair(t)
	rs[0].Forward([]byte("document=anchored"))
	waitFor(t, "forwarded", func() bool { return mps[1].Size() == 1 })
	if got := mps[1].ReapMaxTxs(-1); len(got) != 1 || string(got[0]) != "document=anchored" {
		t.Fatalf("peer's mempool holds %q", got)
	}
	if mps[0].Size() != 0 {
		t.Fatal("forwarding put the transaction into the sender's own mempool")
	}
	// The kvstore refuses a transaction with two '='.
	rs[0].Forward([]byte("a=b=c"))
	rs[0].Forward([]byte("next=one"))
	waitFor(t, "second forwarded", func() bool { return mps[1].Size() == 2 })
	if sws[1].Peers().Size() != 1 {
		t.Fatal("a refused transaction disconnected its sender")
	}
}

// TestBadMessage: a peer that sends anything but one transaction is
// disconnected.
func TestBadMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		txs  [][]byte
	}{
		{"two transactions", [][]byte{[]byte("a=1"), []byte("b=2")}},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, mps, sws := pair(t)
			peer := sws[0].Peers().List()[0]
			if !peer.Send(p2p.Envelope{ChannelID: channels.Forward, Message: &protomem.Txs{Txs: tc.txs}}) {
				t.Fatal("send failed")
			}
			waitFor(t, "disconnected", func() bool { return sws[1].Peers().Size() == 0 })
			if mps[1].Size() != 0 {
				t.Fatal("a bad message reached the mempool")
			}
		})
	}
}

// TestForwardNetwork runs four validators that do not gossip their
// mempools. Transactions node 0 accepts are committed in blocks the other
// validators propose, which only forwarding brings about: a proposer puts
// only what its own mempool holds into its block.
func TestForwardNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-validator network")
	}
	rn := receipttest.StartNetworkWith(t, 4, func(c *app.Config) { c.Comet.Mempool.Broadcast = false })
	var vals [][]byte
	for _, n := range rn.Nodes {
		pv := privval.LoadFilePVEmptyState(n.Config.Comet.PrivValidatorKeyFile(), "")
		vals = append(vals, pv.Key.PubKey.Address())
	}
	rn.WaitHeight(3)
	seq := rn.NextSequence()
	chain := rn.Nodes[1].Chain()
	byProposer := make([]int, len(rn.Nodes))
	const txs = 12
	for i := range txs {
		// Forty digests: over 1 kB, so that blocks name it by hash.
		digests := make([]byte, 40*32)
		if _, err := rand.Read(digests); err != nil {
			t.Fatal(err)
		}
		tx := rn.Agency.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: receipttest.NetworkAgency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digests, Label: fmt.Sprint("forwarded-", i),
		}}})
		seq++
		rn.Submit(tx)
		h := sha256.Sum256(tx)
		// Every other node holds the bytes.
		for j, n := range rn.Nodes[1:] {
			waitFor(t, fmt.Sprintf("node %d holds transaction %d", j+1, i), func() bool {
				raw, ok, err := n.App.StoredTx(h)
				return err == nil && ok && bytes.Equal(raw, tx)
			})
		}
		var height int64
		waitFor(t, "committed", func() bool {
			loc, ok, err := rn.Nodes[1].App.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, digests[:32])
			height = loc.Height
			return err == nil && ok
		})
		header, err := chain.Header(height)
		if err != nil {
			t.Fatal(err)
		}
		for v, addr := range vals {
			if bytes.Equal(addr, header.ProposerAddress) {
				byProposer[v]++
			}
		}
	}
	t.Logf("transactions submitted to node 0, by proposer of their block: %v", byProposer)
	if byProposer[0] == txs {
		t.Fatalf("every transaction was committed in a block node 0 proposed: %v", byProposer)
	}
}
