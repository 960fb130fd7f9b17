package testnet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// ack is a batch the chain acknowledged as committed.
type ack struct {
	digests []byte
	loc     ledger.Locator
}

// TestKillRestart runs a real notaryd process under a stream of anchoring
// transactions, kills it with SIGKILL several times and restarts it. The node
// must resume each time; at the end its blocks, replayed through a fresh
// application that was never killed, give the same app hash at every height,
// and every acknowledged batch is in the state.
func TestKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node process")
	}
	home := filepath.Join(t.TempDir(), "node")
	ports := harness.FreePorts(t, 4)
	net, err := app.GenerateNetwork(app.NetworkSpec{
		ChainID:       "restart-test",
		Ministries:    []app.MinistrySpec{{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10}},
		Nodes:         []app.NodeSpec{{Home: home, Host: "127.0.0.1", P2PPort: ports[0], RPCPort: ports[1], GatewayPort: ports[2], MetricsPort: ports[3]}},
		Agencies:      []app.AgencySpec{{ID: "aeat", Name: "Agencia Tributaria", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}}},
		TimeoutCommit: 100 * time.Millisecond,
		EmptyBlocks:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	agency, err := identity.Load(net.Agencies["aeat"])
	if err != nil {
		t.Fatal(err)
	}
	p := harness.NewProc(t, home, ports[1])
	p.Start()
	ctx := context.Background()
	if err := p.WaitHeight(ctx, 2, 60*time.Second); err != nil {
		t.Fatal(err)
	}

	var (
		mu   sync.Mutex
		acks []ack
	)
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		var n uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			ds := make([]byte, 0, 5*ledger.DigestSize)
			for i := 0; i < 5; i++ {
				n++
				var b [8]byte
				binary.BigEndian.PutUint64(b[:], n)
				d := sha256.Sum256(append([]byte("restart/"), b[:]...))
				ds = append(ds, d[:]...)
			}
			if a, ok := anchorOnce(p.RPC(), agency, ds); ok {
				mu.Lock()
				acks = append(acks, a)
				mu.Unlock()
			} else {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()

	r := rand.New(rand.NewPCG(2026, 11))
	const kills = 4
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(800+r.IntN(1500)) * time.Millisecond)
		h, _ := p.Height(ctx)
		p.Kill()
		p.Start()
		if err := p.WaitHeight(ctx, h+2, 60*time.Second); err != nil {
			t.Fatalf("after kill %d: %v", i+1, err)
		}
	}
	// The load goes on until it has landed minAcks batches: between kills
	// a busy machine may have acknowledged fewer.
	const minAcks = 5
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= minAcks || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	<-loadDone
	p.Stop()

	mu.Lock()
	defer mu.Unlock()
	if len(acks) < minAcks {
		t.Fatalf("only %d batches acknowledged", len(acks))
	}
	// The node's own state, reopened, against a replay that was never killed.
	replay := harness.Replay(t, home, t.TempDir())
	nodeApp, err := abci.NewApplication(abci.DefaultOptions(filepath.Join(home, "data", "app"), net.ChainID))
	if err != nil {
		t.Fatal(err)
	}
	defer closeApp(t, nodeApp)
	info, _ := nodeApp.Info(ctx, &abcitypes.RequestInfo{})
	if want := replay.Hashes[info.LastBlockHeight]; string(info.LastBlockAppHash) != string(want) {
		t.Fatalf("node state at %d: %X, replay %X", info.LastBlockHeight, info.LastBlockAppHash, want)
	}
	for _, a := range acks {
		for i := 0; i < len(a.digests)/ledger.DigestSize; i++ {
			d := a.digests[i*ledger.DigestSize : (i+1)*ledger.DigestSize]
			for _, x := range []*abci.Application{nodeApp, replay.App} {
				loc, ok, err := x.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, d)
				if err != nil || !ok || loc.Height != a.loc.Height || loc.TxIndex != a.loc.TxIndex || loc.Leaf != uint32(i) {
					t.Fatalf("acknowledged digest %x: %v %v %v, acknowledged at %v", d, loc, ok, err, a.loc)
				}
			}
		}
	}
	logb, _ := os.ReadFile(p.LogPath)
	for _, bad := range []string{"panic:", "CONSENSUS FAILURE"} {
		if strings.Contains(string(logb), bad) {
			t.Fatalf("node log contains %q", bad)
		}
	}
	t.Logf("%d kills survived, %d batches acknowledged and found, %d blocks replayed", kills, len(acks), replay.Height)
}

// anchorOnce anchors ds with the agency's current sequence through CometBFT's
// RPC and waits for the commit; ok means the chain acknowledged it.
func anchorOnce(c *rpchttp.HTTP, agency *identity.Identity, ds []byte) (ack, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := c.ABCIQuery(ctx, abci.QueryStore, ledger.AccountKey(agency.Public()))
	if err != nil || q.Response.Code != 0 {
		return ack{}, false
	}
	var acct notaryv1.Account
	if len(q.Response.Value) > 0 {
		if err := ledger.DecodeCanonical(q.Response.Value, &acct); err != nil {
			return ack{}, false
		}
	}
	tx := agency.SignTx(&notaryv1.TxBody{Sequence: acct.NextSequence, Msg: &notaryv1.TxBody_AnchorBatch{
		AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
	res, err := c.BroadcastTxCommit(ctx, tx)
	if err != nil || res.CheckTx.Code != 0 || res.TxResult.Code != 0 {
		return ack{}, false
	}
	var r notaryv1.TxResult
	if err := ledger.DecodeCanonical(res.TxResult.Data, &r); err != nil || r.GetBatch() == nil {
		return ack{}, false
	}
	return ack{digests: ds, loc: ledger.Locator{Height: r.GetBatch().Height, TxIndex: r.GetBatch().TxIndex}}, true
}

// closeApp closes an application state opened by the test.
func closeApp(t *testing.T, a *abci.Application) {
	t.Helper()
	if err := a.Close(); err != nil {
		t.Errorf("close the application state: %v", err)
	}
}
