package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// The upgrade the "upgradetest" build registers (app/upgrades), and the
// state key its migration writes.
const (
	testUpgradeName = "upgradetest.1"
	testUpgradeKey  = "upgradetest/marker"
)

// TestGovernedUpgrade runs four validators on the normal notaryd under an
// anchoring load, passes a schedule-upgrade proposal with every ministry's
// vote, and checks that every node stops before executing the upgrade's
// height with exit status 8, saying which upgrade it waits for, and stops
// there again when restarted on the same binary. Restarted on the binary
// built with the "upgradetest" tag, which knows the upgrade, the nodes
// run its migration at that height and go on: they agree on every app
// hash, the migration's key is in the state from that height on, and no
// acknowledged anchoring is lost.
func TestGovernedUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes on two notaryd builds (about a minute)")
	}
	runUpgrade(t, 4)
}

func runUpgrade(t *testing.T, validators int) {
	ctx := context.Background()
	// Build the second binary while the first network runs (a failed build
	// fails the test, which stops when it needs the binary).
	var (
		newBin  string
		buildWG sync.WaitGroup
	)
	buildWG.Add(1)
	go func() {
		defer buildWG.Done()
		newBin = harness.TaggedBinary(t, "upgradetest")
	}()

	net := harness.NewNet(t, harness.NetOptions{
		ChainID: "upgrade-test", Validators: validators, Agencies: 2, BlockInterval: 300 * time.Millisecond,
	})
	nodes := net.Validators()
	net.StartValidators(ctx)
	load := harness.StartLoad(net, 8, harness.ViaRPC)

	// Schedule the upgrade, every ministry voting yes.
	h, err := nodes[0].Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	target := h + ledger.UpgradeMinDelay + 15
	res, _, err := harness.Submit(ctx, nodes[0].Proc, nodes[0].GovKey, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: nodes[0].ID, Title: "Upgrade to " + testUpgradeName,
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ScheduleUpgrade{
			ScheduleUpgrade: &notaryv1.UpgradePlan{Name: testUpgradeName, Height: target, Info: "the test upgrade"}}},
	}}})
	if err != nil {
		t.Fatalf("propose: %v", err)
	}
	id := res.GetProposalId()
	// Every ministry votes at once, so that the votes land in one block,
	// before the proposal passes (a vote after it is refused).
	var votes sync.WaitGroup
	for _, n := range nodes {
		votes.Add(1)
		go func() {
			defer votes.Done()
			_, vh, err := harness.Submit(ctx, n.Proc, n.GovKey, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
				MinistryId: n.ID, ProposalId: id, Option: notaryv1.VoteOption_VOTE_OPTION_YES}}})
			t.Logf("%s voted yes on proposal %d: height %d, %v", n.ID, id, vh, err)
		}()
	}
	votes.Wait()
	prop := &notaryv1.Proposal{}
	if found, err := queryStore(ctx, nodes[0], ledger.ProposalKey(id), 0, prop); err != nil || !found ||
		prop.Status != notaryv1.ProposalStatus_PROPOSAL_STATUS_PASSED {
		t.Fatalf("proposal %d: %v %v %v", id, prop, found, err)
	}
	voted := 0
	for _, n := range nodes {
		if v, err := rawStore(ctx, nodes[0], ledger.VoteKey(id, n.ID), 0); err == nil && v != nil {
			voted++
		}
	}
	t.Logf("proposal %d passed at height %d with the votes of %d of %d ministries", id, prop.DecidedHeight, voted, len(nodes))
	plan := &notaryv1.UpgradePlan{}
	if found, err := queryStore(ctx, nodes[0], ledger.UpgradePlanKey(), 0, plan); err != nil || !found || plan.Name != testUpgradeName || plan.Height != target {
		t.Fatalf("scheduled plan: %v %v %v", plan, found, err)
	}
	t.Logf("upgrade %s scheduled at height %d", testUpgradeName, target)

	// Every node stops before executing the target height.
	halted := waitUpgradeHalts(ctx, t, nodes, target)
	acksBefore := load.AckCount()
	t.Logf("%d of %d nodes halted at %d; %d batches acknowledged", len(halted), len(nodes), target, acksBefore)
	for _, n := range halted {
		b, err := os.ReadFile(filepath.Join(n.Home, "data", app.UpgradeInfoFile))
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			Name   string `json:"name"`
			Height int64  `json:"height"`
		}
		if err := json.Unmarshal(b, &info); err != nil || info.Name != testUpgradeName || info.Height != target {
			t.Fatalf("%s: %s: %s %v", n.ID, app.UpgradeInfoFile, b, err)
		}
	}
	// The same binary stops there again: the block is in its block store.
	halted[0].Start()
	waitUpgradeHalt(t, halted[0], target, 90*time.Second)

	// The binary that knows the upgrade.
	buildWG.Wait()
	if newBin == "" || t.Failed() {
		t.FailNow()
	}
	for _, n := range nodes {
		n.Bin = newBin
		n.Start()
	}
	for _, n := range nodes {
		if err := n.WaitHeight(ctx, target+3, 120*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Anchorings after the upgrade too.
	deadline := time.Now().Add(60 * time.Second)
	for load.AckCount() < acksBefore+4 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	load.Stop()
	last := net.MaxHeight(ctx)
	for _, n := range nodes {
		if err := n.WaitHeight(ctx, last, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := harness.CompareChains(ctx, nodes, last); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		var none notaryv1.UpgradeDone
		if found, err := queryStore(ctx, n, []byte(testUpgradeKey), target-1, &none); err != nil || found {
			t.Fatalf("%s: migration key at %d, before the upgrade: %v %v", n.ID, target-1, found, err)
		}
		v, err := rawStore(ctx, n, []byte(testUpgradeKey), target)
		if err != nil || string(v) != testUpgradeName {
			t.Fatalf("%s: migration key at %d: %q %v", n.ID, target, v, err)
		}
		done := &notaryv1.UpgradeDone{}
		if found, err := queryStore(ctx, n, ledger.UpgradeDoneKey(testUpgradeName), 0, done); err != nil || !found || done.Height != target {
			t.Fatalf("%s: upgrade record %v %v %v", n.ID, done, found, err)
		}
		if found, err := queryStore(ctx, n, ledger.UpgradePlanKey(), 0, &notaryv1.UpgradePlan{}); err != nil || found {
			t.Fatalf("%s: a plan is still scheduled: %v %v", n.ID, found, err)
		}
	}
	acks := load.Acks()
	if len(acks) < acksBefore+4 || acksBefore == 0 {
		t.Fatalf("%d batches acknowledged, %d before the upgrade (errors: %s)", len(acks), acksBefore, load.Errors())
	}
	for _, a := range acks {
		for i := 0; i < a.Count(); i++ {
			for _, n := range nodes {
				loc, found, err := harness.Lookup(ctx, n.Proc, a.Digest(i))
				if err != nil || !found || loc.Height != a.Loc.Height || loc.TxIndex != a.Loc.TxIndex || loc.Leaf != uint32(i) {
					t.Fatalf("%s: acknowledged digest %x: %v %v %v, acknowledged at %v", n.ID, a.Digest(i), loc, found, err, a.Loc)
				}
			}
		}
	}
	if p := net.LogProblems(); len(p) > 0 {
		t.Fatalf("log problems: %v", p)
	}
	t.Logf("%d validators upgraded at height %d; %d batches acknowledged and found; chains agree through %d",
		len(nodes), target, len(acks), last)
}

// waitUpgradeHalts waits for every node to stop before the target height
// and returns those that stopped on their own. A node stops when it executes
// the decided block at the target height; one that had not received that
// block when the others stopped stays at target-1, waiting for peers, as it
// would in a network whose other nodes are being upgraded (it receives the
// block, and stops, when they come back). The test stops such a node.
func waitUpgradeHalts(ctx context.Context, t *testing.T, nodes []*harness.Node, target int64) []*harness.Node {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for running(nodes) == len(nodes) {
		if time.Now().After(deadline) {
			t.Fatalf("no node stopped for the upgrade at %d within 2 minutes", target)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var halted []*harness.Node
	for _, n := range nodes {
		if err := waitExit(n.Proc, 30*time.Second); err != nil {
			h, herr := n.Height(ctx)
			if herr != nil || h != target-1 {
				t.Fatalf("%s: %v (height %d, %v)", n.ID, err, h, herr)
			}
			t.Logf("%s: at height %d, waiting for the target's block; stopped", n.ID, h)
			n.Stop()
			continue
		}
		waitUpgradeHalt(t, n, target, time.Second)
		halted = append(halted, n)
	}
	return halted
}

// running counts the nodes whose process is alive.
func running(nodes []*harness.Node) int {
	k := 0
	for _, n := range nodes {
		if n.Running() {
			k++
		}
	}
	return k
}

// waitUpgradeHalt waits for node n to exit with app.ExitUpgradeNeeded, its
// log naming the upgrade and its height, and its chain at target-1.
func waitUpgradeHalt(t *testing.T, n *harness.Node, target int64, timeout time.Duration) {
	t.Helper()
	if err := waitExit(n.Proc, timeout); err != nil {
		t.Fatalf("%s: %v", n.ID, err)
	}
	var ee *exec.ExitError
	if err := n.ExitErr(); !errors.As(err, &ee) || ee.ExitCode() != app.ExitUpgradeNeeded {
		t.Fatalf("%s exited with %v, want status %d (log: %s)", n.ID, err, app.ExitUpgradeNeeded, n.LogPath)
	}
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("UPGRADE %q NEEDED at height %d", testUpgradeName, target)
	if !strings.Contains(string(b), want) {
		t.Fatalf("%s: the log does not say %q (log: %s)", n.ID, want, n.LogPath)
	}
	a, err := abci.NewApplication(abci.DefaultOptions(filepath.Join(n.Home, "data", "app"), "upgrade-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeApp(t, a)
	if h, _, _ := a.LastCommit(); h != target-1 {
		t.Fatalf("%s: the state is at height %d, want %d", n.ID, h, target-1)
	}
}

// rawStore reads a state key from a node at height (0: latest).
func rawStore(ctx context.Context, n *harness.Node, key []byte, height int64) ([]byte, error) {
	q, err := n.RPC().ABCIQueryWithOptions(ctx, abci.QueryStore, key, rpcclient.ABCIQueryOptions{Height: height})
	if err != nil {
		return nil, err
	}
	if q.Response.Code != 0 {
		return nil, fmt.Errorf("code %d: %s", q.Response.Code, q.Response.Log)
	}
	return q.Response.Value, nil
}

// queryStore decodes a state record from a node at height (0: latest).
func queryStore(ctx context.Context, n *harness.Node, key []byte, height int64, m proto.Message) (bool, error) {
	v, err := rawStore(ctx, n, key, height)
	if err != nil || v == nil {
		return false, err
	}
	if err := ledger.DecodeCanonical(v, m); err != nil {
		return false, err
	}
	return true, nil
}
