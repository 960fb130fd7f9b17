package testnet

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// plan says which perturbations a consortium run goes through, in order.
type plan struct {
	seed       uint64
	agencies   int // anchoring agencies, one load worker each
	batch      int // digests per anchoring
	kills      int // SIGKILL and restart a random validator, this many times
	termEach   bool
	pause      time.Duration // SIGSTOP one validator this long, then SIGCONT
	oneDown    bool          // one validator stopped: the chain commits
	twoDown    bool          // two stopped: the chain halts, resumes when one returns
	governance bool          // vote a 5th validator in, let it sign, vote another out
	lateJoin   int64         // start a full node at this height or later (0: none)
	haltWatch  time.Duration // how long a halted chain is watched
}

// report is what a run measured.
type report struct {
	start           time.Time
	kills, restarts int
	killRecovery    harness.Durations // restart to caught up, after SIGKILL
	termRecovery    harness.Durations // restart to caught up, after SIGTERM
	pauseCatchUp    time.Duration
	haltResume      time.Duration
	govAdd, govRem  int64 // heights the validator set changed at
	lateJoinHeight  int64
	lateCatchUp     time.Duration
	proofsCompared  int
	blocks          int64
	tries, acks     int
	digests         int
	foundLive       int // acknowledged anchorings found through every node's RPC
	foundStored     int // ... and in every node's stored digest index
	replayed        int64
	loadErrors      string
	via             harness.Via
	recovered       int // acknowledged through AlreadyExists on a retry
	receipts        int // receipts fetched from the gateways that verified offline
	receiptNote     string
	fetched         int // referenced transactions a node asked its peers for
}

func (r *report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "consortium run: %v\n", time.Since(r.start).Round(time.Second))
	fmt.Fprintf(&b, "  kills survived            %d (SIGKILL and restart)\n", r.kills)
	fmt.Fprintf(&b, "  restarts                  %d (all causes)\n", r.restarts)
	fmt.Fprintf(&b, "  blocks committed          %d\n", r.blocks)
	fmt.Fprintf(&b, "  anchorings acknowledged   %d (%d digests) through the %s, %d submissions; %d acknowledged on a retry as AlreadyExists\n", r.acks, r.digests, r.via, r.tries, r.recovered)
	fmt.Fprintf(&b, "  found on every node       %d live (%s lookup on every node), %d in every stored index; lost %d\n", r.foundLive, r.via, r.foundStored, r.acks-min(r.foundLive, r.foundStored))
	fmt.Fprintf(&b, "  receipts verified         %d of %d offline against the original trust bundle%s\n", r.receipts, r.acks, r.receiptNote)
	fmt.Fprintf(&b, "  recovery after SIGKILL    %s\n", r.killRecovery)
	fmt.Fprintf(&b, "  recovery after SIGTERM    %s\n", r.termRecovery)
	if r.pauseCatchUp > 0 {
		fmt.Fprintf(&b, "  catch-up after SIGCONT    %v\n", r.pauseCatchUp.Round(10*time.Millisecond))
	}
	if r.haltResume > 0 {
		fmt.Fprintf(&b, "  halt (2 of 4 down) to resumed commits after one returned: %v\n", r.haltResume.Round(10*time.Millisecond))
	}
	if r.govAdd > 0 {
		fmt.Fprintf(&b, "  governance                5th validator in at height %d (signed), one out at height %d\n", r.govAdd, r.govRem)
	}
	if r.lateJoinHeight > 0 {
		fmt.Fprintf(&b, "  late full node            joined at height %d, caught up in %v, %d proofs identical\n", r.lateJoinHeight, r.lateCatchUp.Round(10*time.Millisecond), r.proofsCompared)
	}
	fmt.Fprintf(&b, "  replayed independently    %d blocks, app hash equal at every height\n", r.replayed)
	fmt.Fprintf(&b, "  fetched from peers        %d referenced transactions a node lacked when a block named them\n", r.fetched)
	if r.loadErrors != "" {
		fmt.Fprintf(&b, "  unacknowledged submissions (expected while nodes are down): %s\n", r.loadErrors)
	}
	return b.String()
}

// runConsortium runs four validators of a generated network under a steady
// anchoring load, applies the plan's perturbations, and checks at the end:
// every node holds the same blocks and app hashes (no fork), every
// acknowledged anchoring is found on every node, a replay of the blocks
// through a fresh application agrees, and no log has a panic or a consensus
// failure.
func runConsortium(t *testing.T, p plan) *report {
	ctx := context.Background()
	r := &report{start: time.Now()}
	full := 0
	if p.governance {
		full++
	}
	if p.lateJoin > 0 {
		full++
	}
	net := harness.NewNet(t, harness.NetOptions{ChainID: "e2e", Validators: 4, FullNodes: full, Agencies: p.agencies, BlockInterval: 300 * time.Millisecond})
	vals := net.Validators()
	net.StartValidators(ctx)
	via := harness.ViaGateway
	if v := os.Getenv("NOTARY_E2E_VIA"); v != "" {
		via = harness.Via(v)
	}
	load := harness.StartLoad(net, p.batch, via)
	waitAcks(t, load, 1, 60*time.Second, "the first anchoring")
	rng := rand.New(rand.NewPCG(p.seed, 6))

	// SIGKILL a random validator; the other three go on committing; restart
	// it and time how long it takes to be back at the tip.
	for i := 0; i < p.kills; i++ {
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		v := vals[rng.IntN(len(vals))]
		h0 := net.MaxHeight(ctx)
		v.Kill()
		waitChainHeight(t, net, h0+1, 60*time.Second, fmt.Sprintf("commit with %s killed", v.ID))
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		r.killRecovery = append(r.killRecovery, restart(t, net, v, "SIGKILL"))
		r.kills++
		r.restarts++
	}
	if p.kills > 0 {
		expectProgress(t, load, "after the kills")
	}

	// SIGTERM each validator in turn: a clean exit, then a restart.
	if p.termEach {
		for _, v := range vals {
			v.Stop()
			if err := v.ExitErr(); err != nil {
				t.Fatalf("%s did not exit cleanly on SIGTERM: %v", v.ID, err)
			}
			r.termRecovery = append(r.termRecovery, restart(t, net, v, "SIGTERM"))
			r.restarts++
		}
		expectProgress(t, load, "after the SIGTERM restarts")
	}

	// Freeze one validator: the others commit meanwhile; it catches up after.
	if p.pause > 0 {
		v := vals[rng.IntN(len(vals))]
		h0 := net.MaxHeight(ctx)
		if err := v.Pause(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(p.pause)
		// Frozen for at least the pause, and until the others have committed
		// three blocks without it, which a busy machine may take longer to do.
		waitChainHeight(t, net, h0+3, 60*time.Second, fmt.Sprintf("commit with %s frozen", v.ID))
		target := net.MaxHeight(ctx) + 1
		if err := v.Resume(); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if err := v.WaitHeight(ctx, target, 90*time.Second); err != nil {
			t.Fatalf("after SIGCONT: %v", err)
		}
		r.pauseCatchUp = time.Since(t0)
		expectProgress(t, load, "after SIGSTOP/SIGCONT")
	}

	// One validator down: three of four still hold more than 2/3.
	a, b := vals[1], vals[2]
	var pace time.Duration // a block's time with one validator down
	if p.oneDown || p.twoDown {
		a.Stop()
		h0 := net.MaxHeight(ctx)
		t0 := time.Now()
		waitChainHeight(t, net, h0+5, 60*time.Second, fmt.Sprintf("commit with %s down", a.ID))
		pace = time.Since(t0) / 5
		expectProgress(t, load, "with one validator down")
	}
	// Two of four down: half the power, no quorum. The chain must halt (and
	// not fork: the final comparison checks every block); it resumes when
	// one returns.
	if p.twoDown {
		b.Stop()
		// A block whose votes were already out may still commit: the halt
		// counts from a height unchanged for a few blocks' time, which a busy
		// machine makes longer, and is watched as long.
		h1 := settledHeight(ctx, net, max(2*time.Second, 4*pace))
		watch := max(p.haltWatch, 4*pace)
		time.Sleep(watch)
		if h2 := net.MaxHeight(ctx); h2 != h1 {
			t.Fatalf("with 2 of 4 validators down the chain went on from %d to %d in %v", h1, h2, watch)
		}
		t0 := time.Now()
		b.Start()
		r.restarts++
		waitChainHeight(t, net, h1+3, 120*time.Second, "resume after a second validator returned")
		r.haltResume = time.Since(t0)
	}
	if p.oneDown || p.twoDown {
		restart(t, net, a, "stop")
		r.restarts++
		expectProgress(t, load, "after the outage")
	}

	if p.governance {
		r.govAdd, r.govRem = governance(t, net)
		expectProgress(t, load, "after the validator changes")
	}
	if p.lateJoin > 0 {
		r.lateJoinHeight, r.lateCatchUp, r.proofsCompared = lateJoin(t, net, load, p.lateJoin)
	}

	// The end: stop the load, let every node reach a common height, compare.
	load.Stop()
	var running []*harness.Node
	for _, n := range net.Nodes {
		if n.Running() {
			running = append(running, n)
		}
	}
	target := net.MaxHeight(ctx) + 2
	for _, n := range running {
		if err := n.WaitHeight(ctx, target, 120*time.Second); err != nil {
			t.Fatalf("final catch-up: %v", err)
		}
	}
	r.blocks = compareToLowest(ctx, t, running)
	acks := load.Acks()
	r.acks, r.tries, r.loadErrors = len(acks), load.Tries(), load.Errors()
	for _, ak := range acks {
		r.digests += ak.Count()
	}
	if len(acks) < 10 {
		t.Fatalf("only %d anchorings acknowledged under load", len(acks))
	}
	r.via = load.Via()
	for _, ak := range acks {
		if ak.Recovered {
			r.recovered++
		}
	}
	r.foundLive = findLive(t, net, running, acks, load.Via())
	r.receipts, r.receiptNote = verifyReceipts(t, net, running, acks)

	for _, n := range running {
		n.Stop()
		if err := n.ExitErr(); err != nil {
			t.Errorf("%s did not exit cleanly on SIGTERM: %v", n.ID, err)
		}
	}
	r.foundStored = findStored(t, net.ChainID, running, acks)
	replay := harness.Replay(t, vals[0].Home, t.TempDir())
	r.replayed = replay.Height
	r.fetched = net.CountLogLines("asking peers for a referenced transaction")
	if problems := net.LogProblems(); len(problems) > 0 {
		t.Fatalf("node logs:\n%s", strings.Join(problems, "\n"))
	}
	if r.foundLive != r.acks || r.foundStored != r.acks {
		t.Fatalf("acknowledged %d anchorings, found %d through every node and %d in every stored index", r.acks, r.foundLive, r.foundStored)
	}
	t.Log(r)
	if path := os.Getenv("NOTARY_E2E_SUMMARY"); path != "" {
		if err := os.WriteFile(path, []byte(r.String()), 0o644); err != nil {
			t.Errorf("summary: %v", err)
		}
	}
	return r
}

// restart starts a stopped node and returns the time from its start until
// it has committed a block above the chain's height at that moment.
func restart(t *testing.T, net *harness.Net, n *harness.Node, after string) time.Duration {
	t.Helper()
	ctx := context.Background()
	target := net.MaxHeight(ctx) + 1
	t0 := time.Now()
	n.Start()
	if err := n.WaitHeight(ctx, target, 120*time.Second); err != nil {
		t.Fatalf("restart after %s: %v", after, err)
	}
	return time.Since(t0)
}

// waitChainHeight waits until some running node reports height h.
func waitChainHeight(t *testing.T, net *harness.Net, h int64, timeout time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if net.MaxHeight(context.Background()) >= h {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: height %d not reached in %v (at %d)", what, h, timeout, net.MaxHeight(context.Background()))
}

// settledHeight waits until the chain's height has not changed for quiet
// (for at most two minutes) and returns it.
func settledHeight(ctx context.Context, net *harness.Net, quiet time.Duration) int64 {
	h, since := net.MaxHeight(ctx), time.Now()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && time.Since(since) < quiet; {
		time.Sleep(100 * time.Millisecond)
		if x := net.MaxHeight(ctx); x != h {
			h, since = x, time.Now()
		}
	}
	return h
}

// waitAcks waits until the load has n acknowledged anchorings.
func waitAcks(t *testing.T, load *harness.Load, n int, timeout time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for load.AckCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d anchorings acknowledged in %v, want %d (failures: %s)", what, load.AckCount(), timeout, n, load.Errors())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectProgress checks that the load is being acknowledged again.
func expectProgress(t *testing.T, load *harness.Load, what string) {
	t.Helper()
	waitAcks(t, load, load.AckCount()+1, 60*time.Second, "anchoring "+what)
}

// findLive asks every node for one digest of every acknowledged anchoring
// (a different leaf each time), through its gateway (a public read, no
// client certificate) or its CometBFT RPC, and returns how many anchorings
// every node found where they were acknowledged.
func findLive(t *testing.T, net *harness.Net, nodes []*harness.Node, acks []harness.Ack, via harness.Via) int {
	t.Helper()
	ctx := context.Background()
	found := 0
	for i, ak := range acks {
		leaf := i % ak.Count()
		want := ak.Loc
		want.Leaf = uint32(leaf)
		ok := true
		for _, n := range nodes {
			var loc ledger.Locator
			var hit bool
			var err error
			if via == harness.ViaRPC {
				loc, hit, err = harness.Lookup(ctx, n.Proc, ak.Digest(leaf))
			} else {
				loc, hit, err = lookupGateway(ctx, net, n, ak.Digest(leaf))
			}
			if err != nil {
				t.Fatalf("%s: lookup: %v", n.ID, err)
			}
			if !hit || loc != want {
				t.Errorf("%s: digest %x acknowledged at %v by %s: found=%v at %v", n.ID, ak.Digest(leaf), want, ak.Node, hit, loc)
				ok = false
			}
		}
		if ok {
			found++
		}
	}
	return found
}

// lookupGateway looks a SHA2-256 digest up through a node's gateway.
func lookupGateway(ctx context.Context, net *harness.Net, n *harness.Node, digest []byte) (ledger.Locator, bool, error) {
	gw, err := net.Gateway(n, nil)
	if err != nil {
		return ledger.Locator{}, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := gw.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: digest})
	if status.Code(err) == codes.NotFound {
		return ledger.Locator{}, false, nil
	}
	if err != nil {
		return ledger.Locator{}, false, err
	}
	b := res.GetBatch()
	return ledger.Locator{Height: b.GetHeight(), TxIndex: b.GetTxIndex(), Leaf: res.GetLeafIndex()}, true, nil
}

// verifyReceipts fetches, for every acknowledged anchoring, the receipt of
// one of its digests from the nodes' gateways in turn, and verifies it
// offline with the document against the trust bundle the network was
// generated with. It returns how many verified, or 0 and a note when the
// gateways serve no receipts.
func verifyReceipts(t *testing.T, net *harness.Net, nodes []*harness.Node, acks []harness.Ack) (int, string) {
	t.Helper()
	tbBytes, err := os.ReadFile(net.TrustBundle)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tbBytes)
	if err != nil {
		t.Fatalf("trust bundle: %v", err)
	}
	ctx := context.Background()
	ok := 0
	for i, ak := range acks {
		n := nodes[i%len(nodes)]
		leaf := (i * 7) % ak.Count()
		gw, err := net.Gateway(n, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		res, err := gw.GetReceipt(c, &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: ak.Digest(leaf)})
		cancel()
		if status.Code(err) == codes.Unimplemented {
			return 0, " (the gateways serve no receipts yet: " + status.Convert(err).Message() + ")"
		}
		if err != nil {
			t.Errorf("%s: receipt of %x (batch %s, leaf %d): %v", n.ID, ak.Digest(leaf), ak.Loc.BatchID(), leaf, err)
			continue
		}
		v, err := verify.VerifyReceipt(res.GetReceipt(), trust, bytes.NewReader(ak.Docs[leaf]))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if v.Verdict != verify.Valid {
			t.Errorf("%s: receipt of batch %s leaf %d: %s (%s: %s)", n.ID, ak.Loc.BatchID(), leaf, v.Verdict, v.Reason, v.Detail)
			continue
		}
		ok++
	}
	return ok, ""
}

// findStored opens every stopped node's application state and looks up
// every digest of every acknowledged anchoring in its digest index, and the
// batch record in its state.
func findStored(t *testing.T, chainID string, nodes []*harness.Node, acks []harness.Ack) int {
	t.Helper()
	missing := make([]bool, len(acks))
	for _, n := range nodes {
		a, err := abci.NewApplication(abci.DefaultOptions(filepath.Join(n.Home, "data", "app"), chainID))
		if err != nil {
			t.Fatalf("%s: open state: %v", n.ID, err)
		}
		h, _, _ := a.LastCommit()
		view, err := a.StateAt(h)
		if err != nil {
			closeApp(t, a)
			t.Fatalf("%s: state at %d: %v", n.ID, h, err)
		}
		for i, ak := range acks {
			if v, err := view.Get(ledger.BatchKey(ak.Loc.Height, ak.Loc.TxIndex)); err != nil || v == nil {
				t.Errorf("%s: batch %s acknowledged by %s is not in the state: %v", n.ID, ak.Loc.BatchID(), ak.Node, err)
				missing[i] = true
				continue
			}
			for leaf := 0; leaf < ak.Count(); leaf++ {
				loc, ok, err := a.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, ak.Digest(leaf))
				want := ak.Loc
				want.Leaf = uint32(leaf)
				if err != nil || !ok || loc != want {
					t.Errorf("%s: digest %x acknowledged at %v: found=%v at %v (%v)", n.ID, ak.Digest(leaf), want, ok, loc, err)
					missing[i] = true
					break
				}
			}
		}
		closeApp(t, a)
	}
	found := 0
	for _, m := range missing {
		if !m {
			found++
		}
	}
	return found
}

// governance votes the first full node's ministry in as a 5th validator
// while the load runs, waits until it signs a block, then votes a genesis
// validator out. It returns the heights at which each change took effect.
func governance(t *testing.T, net *harness.Net) (added, removed int64) {
	t.Helper()
	ctx := context.Background()
	vals := net.Validators()
	var cand *harness.Node
	for _, n := range net.Nodes {
		if !n.Validator {
			cand = n
			break
		}
	}
	pv := privval.LoadFilePVEmptyState(filepath.Join(cand.Home, "config", "priv_validator_key.json"), "")
	consPub, err := pv.GetPubKey()
	if err != nil {
		t.Fatal(err)
	}
	restart(t, net, cand, "joining as a full node")

	// The first proposal: add the candidate's ministry with the same power.
	propose := func(by *harness.Node, title string, action *notaryv1.ProposalAction) uint64 {
		t.Helper()
		res, err := submitGov(net, by, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
			MinistryId: by.ID, Title: title, Action: action}}})
		if err != nil {
			t.Fatalf("%s proposes %q: %v", by.ID, title, err)
		}
		t.Logf("%s proposed %q: proposal %d at height %d", by.ID, title, res.GetResult().GetProposalId(), res.GetHeight())
		return res.GetResult().GetProposalId()
	}
	vote := func(id uint64, voters []*harness.Node) {
		t.Helper()
		for _, v := range voters {
			res, err := submitGov(net, v, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
				MinistryId: v.ID, ProposalId: id, Option: notaryv1.VoteOption_VOTE_OPTION_YES}}})
			if err != nil {
				t.Fatalf("%s votes on %d: %v", v.ID, id, err)
			}
			t.Logf("%s voted yes on proposal %d at height %d", v.ID, id, res.GetHeight())
		}
	}
	inSet := func(addr []byte) (bool, int64) {
		h, err := vals[0].Height(ctx)
		if err != nil {
			return false, 0
		}
		vs, err := harness.Validators(ctx, vals[0].Proc, h)
		if err != nil {
			return false, 0
		}
		return slices.ContainsFunc(vs, func(v *cmttypes.Validator) bool { return bytes.Equal(v.Address, addr) }), h
	}
	waitSet := func(addr []byte, want bool, what string) int64 {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			if in, h := inSet(addr); in == want && h > 0 {
				return h
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s: the validator set did not change in 90 s", what)
		return 0
	}

	id := propose(vals[0], "Incorporar al "+cand.Name+" como validador", &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{
		AddValidator: &notaryv1.Ministry{Id: cand.ID, Name: cand.Name, GovPubKey: cand.GovKey.Public(), ConsensusPubKey: consPub.Bytes(), Power: 10}}})
	vote(id, vals[:3]) // 30 of 40: more than 2/3
	added = waitSet(consPub.Address(), true, "add "+cand.ID)

	// Let it sign: a commit after the change carries its signature.
	deadline := time.Now().Add(60 * time.Second)
	for signed := false; !signed; {
		if time.Now().After(deadline) {
			t.Fatalf("%s is a validator since height %d but signed no commit in 60 s", cand.ID, added)
		}
		h, err := vals[0].Height(ctx)
		if err == nil && h > added {
			signed, _ = harness.Signed(ctx, vals[0].Proc, h-1, consPub.Address())
		}
		if !signed {
			time.Sleep(300 * time.Millisecond)
		}
	}

	// The second: the new ministry proposes removing a genesis validator.
	gone := vals[3]
	gonePV := privval.LoadFilePVEmptyState(filepath.Join(gone.Home, "config", "priv_validator_key.json"), "")
	gonePub, err := gonePV.GetPubKey()
	if err != nil {
		t.Fatal(err)
	}
	id = propose(cand, "Retirar al "+gone.Name+" como validador", &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveValidator{RemoveValidator: gone.ID}})
	vote(id, []*harness.Node{vals[0], vals[1], vals[2], cand}) // 40 of 50
	removed = waitSet(gonePub.Address(), false, "remove "+gone.ID)
	// Its node follows the chain as a full node.
	h0 := net.MaxHeight(ctx)
	if err := gone.WaitHeight(ctx, h0+2, 60*time.Second); err != nil {
		t.Fatalf("%s after its removal: %v", gone.ID, err)
	}
	return added, removed
}

// submitGov submits a ministry's governance transaction through its own
// node's gateway, authenticated with the ministry's client certificate, or
// through its CometBFT RPC when the load runs that way.
func submitGov(net *harness.Net, m *harness.Node, body *notaryv1.TxBody) (*notaryv1.SubmitResponse, error) {
	ctx := context.Background()
	if os.Getenv("NOTARY_E2E_VIA") == string(harness.ViaRPC) {
		r, h, err := harness.Submit(ctx, m.Proc, m.GovKey, body)
		if err != nil {
			return nil, err
		}
		return &notaryv1.SubmitResponse{Height: h, Result: r}, nil
	}
	gw, err := net.Gateway(m, m.GovKey)
	if err != nil {
		return nil, err
	}
	return harness.SubmitGateway(ctx, gw, m.GovKey, body)
}

// lateJoin starts the last full node once the chain is at height at least
// minHeight, waits until it has caught up (block sync), and checks that it
// serves the same values with the same ICS23 proofs as a validator, proofs
// that verify against the app hash in its own headers. It returns the height
// it joined at, the catch-up time and how many proofs it compared.
func lateJoin(t *testing.T, net *harness.Net, load *harness.Load, minHeight int64) (int64, time.Duration, int) {
	t.Helper()
	ctx := context.Background()
	late := net.Nodes[len(net.Nodes)-1]
	if late.Validator {
		t.Fatal("no full node for the late joiner")
	}
	waitChainHeight(t, net, minHeight, 10*time.Minute, "height for the late joiner")
	joined := net.MaxHeight(ctx)
	catchUp := restart(t, net, late, "joining late")
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := late.RPC().Status(ctx)
		if err == nil && !st.SyncInfo.CatchingUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still catching up after 60 s: %v", late.ID, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	ref := net.Validators()[0]
	acks := load.Acks()
	tip := min(net.MaxHeight(ctx), mustHeight(t, late))
	h := tip - 2
	keys := [][]byte{ledger.MetaKey(), ledger.ParamsKey(), ledger.AgencyKey(net.Agencies[0].ID)}
	for _, n := range net.Nodes {
		keys = append(keys, ledger.MinistryKey(n.ID))
	}
	heights := []int64{h}
	if len(acks) > 0 {
		first, last := acks[0], acks[len(acks)-1]
		keys = append(keys,
			ledger.BatchKey(first.Loc.Height, first.Loc.TxIndex),
			ledger.BatchKey(last.Loc.Height, last.Loc.TxIndex),
			ledger.RevocationKey(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, first.Digest(0))) // absent: non-membership
		heights = append(heights, first.Loc.Height)
	}
	compared := 0
	for _, qh := range heights {
		hdr, err := harness.Header(ctx, late.Proc, qh+1)
		if err != nil {
			t.Fatalf("%s: header %d: %v", late.ID, qh+1, err)
		}
		for _, k := range keys {
			mine, err := harness.Prove(ctx, late.Proc, k, qh)
			if err != nil {
				t.Fatalf("%s: %v", late.ID, err)
			}
			theirs, err := harness.Prove(ctx, ref.Proc, k, qh)
			if err != nil {
				t.Fatalf("%s: %v", ref.ID, err)
			}
			if mine.Height != theirs.Height || !bytes.Equal(mine.Value, theirs.Value) || !bytes.Equal(mine.Proof, theirs.Proof) {
				t.Fatalf("key %x at %d: %s and %s serve different values or proofs", k, qh, late.ID, ref.ID)
			}
			if err := mine.Verify(k, hdr.AppHash); err != nil {
				t.Fatalf("%s: %v", late.ID, err)
			}
			compared++
		}
	}
	return joined, catchUp, compared
}

// compareToLowest checks that nodes hold the same blocks and app hashes
// up to the lowest of their heights, and returns that height.
func compareToLowest(ctx context.Context, t *testing.T, nodes []*harness.Node) int64 {
	t.Helper()
	common := int64(-1)
	for _, n := range nodes {
		if h := mustHeight(t, n); common < 0 || h < common {
			common = h
		}
	}
	if err := harness.CompareChains(ctx, nodes, common); err != nil {
		t.Fatal(err)
	}
	return common
}

func mustHeight(t *testing.T, n *harness.Node) int64 {
	t.Helper()
	h, err := n.Height(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}
