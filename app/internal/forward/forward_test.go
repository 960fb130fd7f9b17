package forward_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/internal/forward"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const agencyID = receipttest.NetworkAgency

var sha2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256

// network is a real 4-validator in-process network whose nodes do not
// gossip their mempools (mempool.broadcast = false), so that each node's
// forward reactor is wired (app.NewNode).
type network struct {
	rn     *receipttest.Network
	t      *testing.T
	nodes  []*app.Node
	vals   [][]byte // validator address of each node
	agency *identity.Identity
	seq    uint64 // the agency's next sequence
}

func startNetwork(t *testing.T, validators int) *network {
	t.Helper()
	rn := receipttest.StartNetworkWith(t, validators, func(c *app.Config) { c.Comet.Mempool.Broadcast = false })
	nw := &network{t: t, rn: rn, nodes: rn.Nodes, agency: rn.Agency}
	for _, n := range rn.Nodes {
		pub, err := n.Comet.PrivValidator().GetPubKey()
		if err != nil {
			t.Fatal(err)
		}
		nw.vals = append(nw.vals, pub.Address())
	}
	return nw
}

// height is the height node i has committed.
func (nw *network) height(i int) int64 {
	h, _, _ := nw.nodes[i].App.LastCommit()
	return h
}

// waitHeight waits until every node has committed height.
func (nw *network) waitHeight(height int64) {
	nw.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := range nw.nodes {
		for nw.height(i) < height {
			if time.Now().After(deadline) {
				nw.t.Fatalf("node %d: height %d not reached (at %d)", i, height, nw.height(i))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// anchorTx is a signed AnchorBatch of one fresh digest with the agency's
// next sequence.
func (nw *network) anchorTx(label string) (tx, digest []byte) {
	nw.t.Helper()
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		nw.t.Fatal(err)
	}
	d := sha256.Sum256(seed[:])
	tx = nw.agency.SignTx(&notaryv1.TxBody{Sequence: nw.seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: agencyID, HashAlgorithm: sha2, Digests: d[:], Label: label,
	}}})
	nw.seq++
	return tx, d[:]
}

// checkTx hands tx to node 0's mempool as the gateway does and waits for
// the application's answer; it fails the test unless the tx is accepted.
func (nw *network) checkTx(tx []byte) {
	nw.t.Helper()
	res := make(chan *abcitypes.ResponseCheckTx, 1)
	if err := nw.nodes[0].Comet.Mempool().CheckTx(cmttypes.Tx(tx), func(r *abcitypes.ResponseCheckTx) { res <- r }, mempool.TxInfo{}); err != nil {
		nw.t.Fatal(err)
	}
	select {
	case r := <-res:
		if r.Code != abcitypes.CodeTypeOK {
			nw.t.Fatalf("CheckTx: code %d: %s", r.Code, r.Log)
		}
	case <-time.After(10 * time.Second):
		nw.t.Fatal("CheckTx did not answer")
	}
}

// committed waits until node 1 has committed the digest and returns the
// height of its block, checking that the block store holds tx there.
func (nw *network) committed(tx, digest []byte) int64 {
	nw.t.Helper()
	n := nw.nodes[1]
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc, ok, err := n.App.LookupDigest(sha2, digest)
		if err != nil {
			nw.t.Fatal(err)
		}
		if ok {
			blk := n.Comet.BlockStore().LoadBlock(loc.Height)
			if blk == nil || int(loc.TxIndex) >= len(blk.Txs) || !bytes.Equal(blk.Txs[loc.TxIndex], tx) {
				nw.t.Fatalf("the block store of node 1 does not hold the transaction at %d-%d", loc.Height, loc.TxIndex)
			}
			return loc.Height
		}
		if time.Now().After(deadline) {
			nw.t.Fatalf("a transaction was not committed (node 1 at height %d)", nw.height(1))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proposer returns the index of the node that proposed block height (read
// from node 1's block store).
func (nw *network) proposer(height int64) int {
	nw.t.Helper()
	blk := nw.nodes[1].Comet.BlockStore().LoadBlock(height)
	if blk == nil {
		nw.t.Fatalf("block %d is not in node 1's block store", height)
	}
	for i, v := range nw.vals {
		if bytes.Equal(v, blk.ProposerAddress) {
			return i
		}
	}
	nw.t.Fatalf("block %d: unknown proposer %X", height, blk.ProposerAddress)
	return -1
}

// TestForwardReachesNextProposers runs four validators that do not gossip
// their mempools. Transactions that node 0 accepts and forwards are
// committed in blocks other validators propose, which only forwarding can
// bring about; transactions it accepts and does not forward wait for node
// 0's own turn.
func TestForwardReachesNextProposers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-validator network")
	}
	start := time.Now()
	nw := startNetwork(t, 4)
	nw.waitHeight(3)
	t.Logf("network up at height %d after %v", nw.height(0), time.Since(start).Round(time.Millisecond))
	nw.seq = nw.rn.NextSequence()

	// Forwarded: one transaction a height, each committed before the next,
	// so they are submitted at every point of the proposer rotation.
	const forwarded = 12
	byProposer := make([]int, len(nw.nodes))
	var slowest time.Duration
	for i := 0; i < forwarded; i++ {
		tx, d := nw.anchorTx(fmt.Sprintf("forwarded-%d", i))
		nw.checkTx(tx)
		t0 := time.Now()
		nw.nodes[0].Forward(tx)
		slowest = max(slowest, time.Since(t0))
		h := nw.committed(tx, d)
		byProposer[nw.proposer(h)]++
	}
	t.Logf("forwarded transactions by proposer of their block: %v (slowest Forward call %v)", byProposer, slowest)
	others := 0
	for i := 1; i < len(nw.nodes); i++ {
		if byProposer[i] > 0 {
			others++
		}
	}
	// Without gossip, a transaction in node 0's mempool only reaches a block
	// another validator proposes through Forward.
	if byProposer[0] == forwarded {
		t.Fatalf("every forwarded transaction was committed in a block node 0 proposed: %v", byProposer)
	}
	// The reactor learned every peer's validator address: with one
	// transaction a height, the rotation brings each other validator's
	// turn while a forwarded transaction waits.
	if others != len(nw.nodes)-1 {
		t.Errorf("forwarded transactions reached blocks of %d other proposer(s), want %d: %v", others, len(nw.nodes)-1, byProposer)
	}

	// Control: the same node, the same network, no Forward call. Each
	// transaction is submitted a height after the previous one; all of them
	// wait in node 0's mempool for node 0's turn.
	const control = 4
	type sent struct {
		tx, digest []byte
		at         int64 // node 0's committed height when CheckTx accepted it
	}
	var ctl []sent
	for i := 0; i < control; i++ {
		tx, d := nw.anchorTx(fmt.Sprintf("control-%d", i))
		nw.checkTx(tx)
		at := nw.height(0)
		ctl = append(ctl, sent{tx, d, at})
		if i < control-1 {
			nw.waitHeight(at + 1)
		}
	}
	skipped := 0 // blocks other validators proposed while a control tx waited
	for _, s := range ctl {
		h := nw.committed(s.tx, s.digest)
		if p := nw.proposer(h); p != 0 {
			t.Errorf("a transaction node 0 did not forward was committed at height %d, proposed by node %d", h, p)
		}
		// Block at+1 may have been proposed before CheckTx accepted it;
		// blocks at+2..h-1 were proposed after.
		for b := s.at + 2; b < h; b++ {
			if nw.proposer(b) != 0 {
				skipped++
			}
		}
	}
	if skipped == 0 {
		t.Errorf("no block of another proposer was made while a control transaction waited: the control shows nothing")
	}
	t.Logf("control: %d blocks of other proposers left out the unforwarded transactions; total %v", skipped, time.Since(start).Round(time.Millisecond))
}

// switches starts two p2p switches connected in memory, each with a forward
// reactor whose validator address is the given one.
func switches(t *testing.T, self0, self1 []byte) (*p2p.Switch, *p2p.Switch) {
	t.Helper()
	cfg := cmtcfg.DefaultP2PConfig()
	selves := [][]byte{self0, self1}
	var sws []*p2p.Switch
	for i := range 2 {
		sw := p2p.MakeSwitch(cfg, i, func(i int, sw *p2p.Switch) *p2p.Switch {
			sw.AddReactor("FORWARD", forward.New(selves[i], 1024, false, cmtlog.NewNopLogger()))
			return sw
		})
		sw.SetLogger(cmtlog.NewNopLogger())
		sws = append(sws, sw)
	}
	if err := p2p.StartSwitches(sws); err != nil {
		t.Fatal(err)
	}
	for _, sw := range sws {
		t.Cleanup(func() { sw.Stop() })
	}
	p2p.Connect2Switches(sws, 0, 1)
	return sws[0], sws[1]
}

// waitPeers waits until sw has n peers.
func waitPeers(t *testing.T, sw *p2p.Switch, n int, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for sw.Peers().Size() != n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestHelloValidation: a peer whose hello does not carry exactly one
// validator address is disconnected; a good hello keeps the connection.
func TestHelloValidation(t *testing.T) {
	good := cmtcrypto.CRandBytes(cmtcrypto.AddressSize)
	other := cmtcrypto.CRandBytes(cmtcrypto.AddressSize)

	t.Run("good hello", func(t *testing.T) {
		sw0, sw1 := switches(t, good, other)
		time.Sleep(300 * time.Millisecond) // both hellos are delivered
		if sw0.Peers().Size() != 1 || sw1.Peers().Size() != 1 {
			t.Fatalf("peers after good hellos: %d and %d, want 1 and 1", sw0.Peers().Size(), sw1.Peers().Size())
		}
	})
	for _, tc := range []struct {
		name string
		self []byte
	}{
		{"short address", good[:5]},
		{"long address", append(append([]byte{}, good...), 0)},
		{"empty address", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, sw1 := switches(t, tc.self, other)
			if !waitPeers(t, sw1, 0, 5*time.Second) {
				t.Fatalf("the receiver kept a peer whose hello carried a %d-byte address", len(tc.self))
			}
		})
	}
	t.Run("two addresses", func(t *testing.T) {
		sw0, sw1 := switches(t, good, other)
		time.Sleep(100 * time.Millisecond)
		if sw1.Peers().Size() != 1 {
			t.Fatal("the good hello was refused")
		}
		peer := sw0.Peers().List()[0]
		if !peer.Send(p2p.Envelope{ChannelID: forward.HelloChannel, Message: &protomem.Txs{Txs: [][]byte{good, other}}}) {
			t.Fatal("send failed")
		}
		if !waitPeers(t, sw1, 0, 5*time.Second) {
			t.Fatal("the receiver kept a peer whose hello carried two addresses")
		}
	})
}
