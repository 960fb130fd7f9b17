package testnet

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/testnet/internal/harness"
	"github.com/gobtechlab/notary/testnet/netlab"
)

// partitionPlan says which network faults a partition run goes through, in
// order, on four validators each on a host of its own (testnet/netlab).
type partitionPlan struct {
	agencies int
	batch    int
	delay    netlab.Delay // on every link for the whole run

	isolate     time.Duration // one validator cut off at least this long ...
	isolateRuns int64         // ... and while the others commit this many blocks
	splitWatch  time.Duration // 2 | 2: how long the halted chain is watched
	flap        time.Duration // the only link between two halves: up 5 s, down 5 s
	muteBlocks  int64         // one validator heard by none, hearing all, for this many blocks
	pairCut     int64         // one directed link cut for this many blocks (0: skipped)
	slowBlocks  int64         // one validator 300 ms one way from the others, this many blocks
	receipts    int           // receipts sampled and verified offline
}

// partitionReport is what a partition run measured.
type partitionReport struct {
	start                   time.Time
	namespaces              string
	isolatedCatchUp         time.Duration
	splitHalt               int64 // the height the split chain stayed at
	splitResume             time.Duration
	flapBlocks              int64 // committed while the link flapped
	flapCycles              int
	muteCatchUp             time.Duration
	pairCutBlocks           int64
	pairCut                 string
	slowPace, fastPace      time.Duration
	blocks                  int64
	tries, acks, digests    int
	foundLive, foundStored  int
	receipts, receiptsTried int
	replayed                int64
	loadErrors              string
}

func (r *partitionReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "partition run: %v, %s\n", time.Since(r.start).Round(time.Second), r.namespaces)
	fmt.Fprintf(&b, "  isolated validator        back at the tip %v after the heal\n", r.isolatedCatchUp.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "  split 2 | 2               halted at height %d; resumed %v after the heal\n", r.splitHalt, r.splitResume.Round(10*time.Millisecond))
	if r.flapCycles > 0 {
		fmt.Fprintf(&b, "  flapping link             %d blocks in %d cycles of 5 s up, 5 s down\n", r.flapBlocks, r.flapCycles)
	}
	fmt.Fprintf(&b, "  validator heard by none   back at the tip %v after the heal\n", r.muteCatchUp.Round(10*time.Millisecond))
	if r.pairCut != "" {
		fmt.Fprintf(&b, "  one-way cut               %d blocks with %s\n", r.pairCutBlocks, r.pairCut)
	}
	fmt.Fprintf(&b, "  slow validator (300 ms)   %v a block, %v with every link fast\n", r.slowPace.Round(time.Millisecond), r.fastPace.Round(time.Millisecond))
	fmt.Fprintf(&b, "  blocks committed          %d, identical on every node\n", r.blocks)
	fmt.Fprintf(&b, "  anchorings acknowledged   %d (%d digests), %d submissions\n", r.acks, r.digests, r.tries)
	fmt.Fprintf(&b, "  found on every node       %d live, %d in every stored index; lost %d\n", r.foundLive, r.foundStored, r.acks-min(r.foundLive, r.foundStored))
	fmt.Fprintf(&b, "  receipts verified         %d of %d sampled, offline\n", r.receipts, r.receiptsTried)
	fmt.Fprintf(&b, "  replayed independently    %d blocks\n", r.replayed)
	if r.loadErrors != "" {
		fmt.Fprintf(&b, "  unacknowledged submissions (expected across cuts): %s\n", r.loadErrors)
	}
	return b.String()
}

// TestPartitionsShort is the short partition run of the default test
// command: four validators on hosts of their own under anchoring load, one
// validator isolated, a 2 | 2 split and its heal, a flapping link between
// the halves, a validator nobody hears, a slow validator. The long run
// (TestPartitionsLong, build tag e2e) adds WAN delays on every link, a
// minute of flapping and a one-way cut between two validators.
func TestPartitionsShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes (about two minutes)")
	}
	runPartitions(t, partitionPlan{
		agencies:    3,
		batch:       48,
		isolate:     3 * time.Second,
		isolateRuns: 3,
		splitWatch:  4 * time.Second,
		flap:        20 * time.Second,
		muteBlocks:  3,
		slowBlocks:  4,
		receipts:    60,
	})
}

// runPartitions runs four validators on a lab network under a steady
// anchoring load through the plan's faults, then checks: every node holds
// the same blocks and app hashes, every acknowledged anchoring is found on
// every node (live and in its stored index), sampled receipts verify
// offline, a replay of the blocks agrees, and no log has a panic.
func runPartitions(t *testing.T, p partitionPlan) *partitionReport {
	ctx := context.Background()
	r := &partitionReport{start: time.Now()}
	net := harness.NewNet(t, harness.NetOptions{ChainID: "e2e", Validators: 4, Agencies: p.agencies,
		BlockInterval: 300 * time.Millisecond, Lab: true})
	lab := net.Lab
	if lab.Namespaces() {
		r.namespaces = "each validator in a network namespace of its own"
	} else {
		r.namespaces = "every validator on 127.0.0.1 (no namespaces: " + lab.Reason() + ")"
	}
	t.Log(r.namespaces)
	lab.SetDelayAll(p.delay)
	vals := net.Validators()
	net.StartValidators(ctx)
	load := harness.StartLoad(net, p.batch, harness.ViaGateway)
	waitAcks(t, load, 1, 90*time.Second, "the first anchoring")

	// One validator cut off: the other three commit without it; healed, it
	// catches up.
	var blockTime time.Duration // a block's time with three of four
	{
		v := vals[3]
		h0 := net.MaxHeight(ctx)
		t0 := time.Now()
		lab.Isolate(net.Index(v))
		t.Logf("%s isolated at height %d", v.ID, h0)
		waitChainHeight(t, net, h0+p.isolateRuns, 90*time.Second, "commit with "+v.ID+" isolated")
		blockTime = time.Since(t0) / time.Duration(p.isolateRuns)
		time.Sleep(max(0, p.isolate-time.Since(t0)))
		hv, err := v.Height(ctx)
		if err != nil {
			t.Fatalf("%s: %v", v.ID, err)
		}
		if tip := net.MaxHeight(ctx); hv >= tip {
			t.Fatalf("%s isolated is at height %d, the others at %d", v.ID, hv, tip)
		}
		lab.HealAll()
		t.Logf("%s healed at height %d, the others at %d", v.ID, hv, net.MaxHeight(ctx))
		r.isolatedCatchUp = catchUp(t, net, v, "after its isolation")
		expectProgress(t, load, "after the isolation")
	}

	// 2 | 2: no side holds more than 2/3 of the power; the chain halts
	// (the final comparison checks that nothing forked) and resumes when
	// the network heals.
	{
		lab.Partition([]int{0, 1}, []int{2, 3})
		// A cut holds the bytes in flight, so no vote crosses it; the
		// height counts once unchanged for a few blocks' time all the same
		// (a busy machine applies the last commit late), watched as long.
		h1 := settledHeight(ctx, net, max(3*time.Second, 4*blockTime))
		watch := max(p.splitWatch, 4*blockTime)
		time.Sleep(watch)
		if h2 := net.MaxHeight(ctx); h2 != h1 {
			t.Fatalf("split 2 | 2, the chain went on from %d to %d in %v", h1, h2, watch)
		}
		r.splitHalt = h1
		t.Logf("split 2 | 2: halted at height %d", h1)
		t0 := time.Now()
		lab.HealAll()
		waitChainHeight(t, net, h1+3, 120*time.Second, "resume after the split healed")
		r.splitResume = time.Since(t0)
		expectProgress(t, load, "after the split")
	}

	// A flapping link: the halves 0 1 | 2 3 are joined only by the link
	// between 1 and 2, up 5 s and down 5 s. Votes cross it while it is up.
	if p.flap > 0 {
		a, b := net.Index(vals[1]), net.Index(vals[2])
		lab.Partition([]int{0, 1}, []int{2, 3})
		h0 := net.MaxHeight(ctx)
		for t0 := time.Now(); time.Since(t0) < p.flap; r.flapCycles++ {
			lab.HealBoth(a, b)
			time.Sleep(5 * time.Second)
			lab.CutBoth(a, b)
			time.Sleep(5 * time.Second)
		}
		r.flapBlocks = net.MaxHeight(ctx) - h0
		t.Logf("flapping link: %d blocks from height %d in %d cycles", r.flapBlocks, h0, r.flapCycles)
		lab.HealAll()
		waitChainHeight(t, net, net.MaxHeight(ctx)+3, 120*time.Second, "commit after the flapping")
		for _, v := range vals {
			catchUp(t, net, v, "after the flapping")
		}
		expectProgress(t, load, "after the flapping")
	}

	// Asymmetric: one validator hears every other, none hears it. The
	// others commit; healed, it is back at the tip.
	if p.muteBlocks > 0 {
		v := vals[0]
		i := net.Index(v)
		for j := range net.Nodes {
			if j != i {
				lab.Cut(i, j)
			}
		}
		h0 := net.MaxHeight(ctx)
		t.Logf("nobody hears %s from height %d", v.ID, h0)
		waitChainHeight(t, net, h0+p.muteBlocks, 90*time.Second, "commit with nobody hearing "+v.ID)
		lab.HealAll()
		r.muteCatchUp = catchUp(t, net, v, "after nobody heard it")
		expectProgress(t, load, "after the one-way cuts")
	}

	// One directed link: A hears B, B does not hear A. Votes reach B
	// through the others; the chain commits.
	if p.pairCut > 0 {
		a, b := vals[1], vals[3]
		lab.Cut(net.Index(a), net.Index(b))
		h0 := net.MaxHeight(ctx)
		t.Logf("%s does not hear %s from height %d", b.ID, a.ID, h0)
		waitChainHeight(t, net, h0+p.pairCut, 120*time.Second, fmt.Sprintf("commit with %s not hearing %s", b.ID, a.ID))
		for _, v := range vals {
			catchUp(t, net, v, fmt.Sprintf("with %s not hearing %s", b.ID, a.ID))
		}
		r.pairCut = fmt.Sprintf("%s not hearing %s, every node at the tip", b.ID, a.ID)
		r.pairCutBlocks = net.MaxHeight(ctx) - h0
		lab.HealAll()
		expectProgress(t, load, "after the one-way cut")
	}

	// A slow validator: 300 ms one way to and from every other.
	if p.slowBlocks > 0 {
		v := vals[2]
		r.fastPace = pace(t, net, p.slowBlocks)
		lab.SetHostDelay(net.Index(v), netlab.Delay{Latency: 300 * time.Millisecond})
		r.slowPace = pace(t, net, p.slowBlocks)
		t.Logf("%s 300 ms from the others: %v a block, %v before", v.ID, r.slowPace, r.fastPace)
		catchUp(t, net, v, "with 300 ms to every other")
		lab.SetHostDelay(net.Index(v), p.delay)
		expectProgress(t, load, "after the slow validator")
	}

	// The end: stop the load, let every node reach a common height, compare.
	load.Stop()
	lab.HealAll()
	target := net.MaxHeight(ctx) + 2
	for _, n := range vals {
		if err := n.WaitHeight(ctx, target, 120*time.Second); err != nil {
			t.Fatalf("final catch-up: %v", err)
		}
	}
	r.blocks = compareToLowest(ctx, t, vals)
	acks := load.Acks()
	r.acks, r.tries, r.loadErrors = len(acks), load.Tries(), load.Errors()
	for _, ak := range acks {
		r.digests += ak.Count()
	}
	if len(acks) < 10 {
		t.Fatalf("only %d anchorings acknowledged under load", len(acks))
	}
	r.foundLive = findLive(t, net, vals, acks, load.Via())
	sample := sampleAcks(acks, p.receipts)
	r.receiptsTried = len(sample)
	var note string
	r.receipts, note = verifyReceipts(t, net, vals, sample)
	if note != "" {
		t.Fatalf("receipts: %s", note)
	}
	for _, n := range vals {
		n.Stop()
		if err := n.ExitErr(); err != nil {
			t.Errorf("%s did not exit cleanly on SIGTERM: %v", n.ID, err)
		}
	}
	r.foundStored = findStored(t, net.ChainID, vals, acks)
	r.replayed = harness.Replay(t, vals[0].Home, t.TempDir()).Height
	if problems := net.LogProblems(); len(problems) > 0 {
		t.Fatalf("node logs:\n%s", strings.Join(problems, "\n"))
	}
	if r.foundLive != r.acks || r.foundStored != r.acks || r.receipts != r.receiptsTried {
		t.Fatalf("acknowledged %d anchorings, found %d through every node and %d in every stored index; %d of %d receipts verified",
			r.acks, r.foundLive, r.foundStored, r.receipts, r.receiptsTried)
	}
	t.Log(r)
	if path := os.Getenv("NOTARY_E2E_SUMMARY"); path != "" {
		if err := os.WriteFile(path, []byte(r.String()), 0o644); err != nil {
			t.Errorf("summary: %v", err)
		}
	}
	return r
}

// catchUp waits until node n is at the height the chain had when called,
// plus one, and returns how long that took.
func catchUp(t *testing.T, net *harness.Net, n *harness.Node, what string) time.Duration {
	t.Helper()
	t0 := time.Now()
	if err := n.WaitHeight(context.Background(), net.MaxHeight(context.Background())+1, 120*time.Second); err != nil {
		t.Fatalf("%s %s: %v", n.ID, what, err)
	}
	return time.Since(t0)
}

// pace waits for blocks more blocks and returns the time a block took.
func pace(t *testing.T, net *harness.Net, blocks int64) time.Duration {
	t.Helper()
	h0, t0 := net.MaxHeight(context.Background()), time.Now()
	waitChainHeight(t, net, h0+blocks, 120*time.Second, fmt.Sprintf("%d blocks", blocks))
	return time.Since(t0) / time.Duration(blocks)
}

// sampleAcks returns at most n anchorings spread evenly over acks, the first
// and the last among them.
func sampleAcks(acks []harness.Ack, n int) []harness.Ack {
	if len(acks) <= n {
		return acks
	}
	out := make([]harness.Ack, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, acks[i*(len(acks)-1)/(n-1)])
	}
	return out
}
