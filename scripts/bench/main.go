// Command bench measures the notary chain side by side with its baselines on
// this machine (docs/performance.md):
//
//   - the notary: a localnet of notaryd processes (4 validators, or
//     --validators) on 127.0.0.1, driven through the gateways by K agency
//     clients (one SubmitStream each, batches of B digests, W transactions
//     in flight), over a steady window: committed digests/s,
//     submit-to-committed latency, receipt fetch latency and offline
//     verification of a 1 % sample, CPU seconds per 1,000 digests, state
//     bytes per digest, node RSS; under --single-window, the latency of one
//     document a second;
//   - CometBFT's kvstore example application on the same shape, one digest
//     per transaction;
//   - Tessera's POSIX log (v1.0.4) driven by its hammer;
//   - the machine's limits: SHA-256 Merkle node hashes/s and ed25519
//     verifications/s per core.
//
// Run it from the repository:
//
//	go run ./scripts/bench --quick          # under a minute once binaries are cached
//	go run ./scripts/bench --json out.json  # the full run (about 15 minutes)
//	go run ./scripts/bench --net wan --validators 7
//
// With --net (as root) each validator of both chains runs on a host of a
// testnet/netlab network, network namespaces where they can be made and
// 127.0.0.1 otherwise, its p2p links through proxies that add the
// profile's latency; the agency clients reach the gateways across the
// lab's bridge. The lab is removed at the end.
//
// It builds notaryd (and, once, cometbft and Tessera's binaries into
// ~/.cache/notary-bench), works in a temporary directory it removes at the
// end (--keep keeps it), and stops every process it started on exit or
// Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gobtechlab/notary/testnet/netlab"
)

// envFlag is a repeatable KEY=VALUE flag.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

func (e *envFlag) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, not %q", v)
	}
	*e = append(*e, v)
	return nil
}

type options struct {
	quick    bool
	jsonOut  string
	keep     bool
	workDir  string
	cacheDir string

	agencies  int
	procs     int
	codes     bool
	batch     int
	inFlight  int
	warmup    time.Duration
	duration  time.Duration
	half      time.Duration
	receipts  int
	sample    float64
	commit    time.Duration
	pprofOut  string
	selfProf  string
	nodeEnv   envFlag
	nodeProcs int
	logLevel  string
	gossip    bool
	noOE      bool
	memLimit  string
	baseWin   time.Duration
	skipKV    bool
	skipTess  bool
	skipLimit bool
	onlyLimit bool

	net        string        // netlab profile ("": 127.0.0.1, no proxies)
	validators int           // validators of both chains
	single     time.Duration // window of 1 document a second (<= 0: none)
	propose    time.Duration // timeout_propose of both chains (0: the chain's own)
	mempool    int           // mempool size of the notary nodes (0: the bench's default)
	blockMax   int64         // the notary chain's block.max_bytes (0: the chain's default)
}

func main() {
	o := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func parseFlags() options {
	var o options
	home, _ := os.UserHomeDir()
	defCache := filepath.Join(home, ".cache", "notary-bench")
	if d, err := os.UserCacheDir(); err == nil {
		defCache = filepath.Join(d, "notary-bench")
	}
	flag.BoolVar(&o.quick, "quick", false, "short windows (the whole run takes under a minute once the binaries are cached)")
	flag.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (homes, logs, data) instead of removing it")
	flag.StringVar(&o.workDir, "dir", "", "work directory (default: a new temporary directory)")
	flag.StringVar(&o.cacheDir, "cache", defCache, "where cometbft and Tessera binaries are cached between runs")
	flag.IntVar(&o.agencies, "agencies", 8, "concurrent agency clients (1..12), spread over the 4 nodes")
	flag.BoolVar(&o.codes, "codes", false, "anchor every document under a verification code: coded batches of 32-byte coded entries, a code key and a code tag each (made from the digest: the chain cannot tell them from entries derived from codes, whose stretching and scrypt are the agency's cost, not the chain's)")
	flag.IntVar(&o.procs, "procs-per-agency", 1, "independent clients per agency, in this process, each with its own connection and SubmitStream, spread over the nodes, all signing with the agency's one key: with more than 1 they sign unordered transactions (random nonce, valid_until_height), with 1 consecutive sequences")
	flag.IntVar(&o.batch, "batch", 10_000, "digests per AnchorBatch transaction (1..10000)")
	flag.IntVar(&o.inFlight, "inflight", 4, "transactions each agency keeps in flight on its stream")
	flag.DurationVar(&o.warmup, "warmup", 0, "load before the steady window starts (default 15s, quick 2s)")
	flag.DurationVar(&o.duration, "duration", 0, "steady window at the peak rate (default 10m, quick 6s)")
	flag.DurationVar(&o.half, "half", 0, "window at half the peak rate, for latency (default 60s, quick 4s; negative skips)")
	flag.IntVar(&o.receipts, "receipts", 0, "at most this many sampled receipts are fetched and verified (default 3000, quick 100)")
	flag.Float64Var(&o.sample, "sample", 0.01, "fraction of committed digests sampled for receipt verification")
	flag.DurationVar(&o.commit, "timeout-commit", 100*time.Millisecond, "CometBFT timeout_commit of both chains")
	flag.BoolVar(&o.noOE, "no-optimistic", false, "notary nodes execute each block only when it is decided (state.optimistic_execution = false); by default they execute a proposal while the validators vote on it (docs/performance.md)")
	flag.BoolVar(&o.gossip, "gossip", false, "notary nodes gossip their mempools (mempool.broadcast = true, CometBFT's default); by default they do not, and each node forwards the transactions its gateway accepts to every other node (app/internal/forward, docs/performance.md)")
	flag.StringVar(&o.logLevel, "node-log-level", "state:info,*:error", "CometBFT log_level of the notary nodes (their notaryd.log, kept with --keep); \"state:info,consensus:info,*:error\" adds each height's proposal, parts and votes")
	flag.StringVar(&o.memLimit, "node-memory-limit", "auto", "each notary node's Go memory budget: GOMEMLIMIT with GOGC=off, so the heap is collected when it reaches the budget instead of swinging with each collection (docs/performance.md); auto gives the nodes 4 GiB together, at most 1 GiB each (1 GiB on 4 validators, 409 MiB on 10); empty keeps Go's defaults, as --quick does unless this flag is given (a new node's heap first grows to the budget, a page fault per page, which costs a 6-second window half its rate)")
	flag.StringVar(&o.pprofOut, "pprof", "", "write a CPU profile of the first notary node, taken during the steady window, to this file")
	flag.StringVar(&o.selfProf, "bench-pprof", "", "write a CPU profile of the bench process itself (load generator, receipt fetches and, with --net, the link proxies), taken during the steady window, to this file")
	flag.IntVar(&o.nodeProcs, "node-gomaxprocs", 0, "GOMAXPROCS of every notary node; 0 keeps Go's default (every core). With many validators on netlab hosts sharing this machine's cores, 1 spares each node the threads it wakes for a core it would not get (docs/performance.md)")
	flag.Var(&o.nodeEnv, "node-env", "KEY=VALUE added to every notary node's environment (repeatable), e.g. GOMAXPROCS=1 or GODEBUG=gctrace=1 (written to each node's notaryd.log)")
	flag.DurationVar(&o.baseWin, "baseline-window", 0, "steady window of the kvstore and Tessera baselines (default 30s, quick 5s)")
	flag.BoolVar(&o.skipKV, "skip-kvstore", false, "skip the kvstore baseline")
	flag.BoolVar(&o.skipTess, "skip-tessera", false, "skip the Tessera baseline")
	flag.BoolVar(&o.skipLimit, "skip-limits", false, "skip the machine limits")
	flag.BoolVar(&o.onlyLimit, "limits-only", false, "measure only the machine limits")
	flag.StringVar(&o.net, "net", "", "network profile of the validators: lan, wan or wan-far (testnet/netlab): each validator of the notary and kvstore chains on a host of its own, every p2p link through a proxy that adds the profile's latency, the profile's bandwidth cap on each host; default: every node on 127.0.0.1 with no proxies")
	flag.IntVar(&o.validators, "validators", 4, "validators of the notary and kvstore chains (4..10)")
	flag.DurationVar(&o.single, "single-window", 0, "window of one document a second, after the load, for the single-document latency (submit to committed, submit to receipt); default 30s with --net, quick 5s, else none; negative skips")
	flag.DurationVar(&o.propose, "timeout-propose", 0, "CometBFT timeout_propose of both chains (default: the chains' 3s)")
	flag.IntVar(&o.mempool, "mempool-size", 0, "mempool size (transactions) of each notary node (default 50000)")
	flag.Int64Var(&o.blockMax, "block-max-bytes", 0, "the notary chain's consensus parameter block.max_bytes, in its genesis (default: the chain's 16 MiB); a proposer counts a transaction it names by hash at its full size, so this caps the digests a block carries (about 31,000 per MiB)")
	flag.Parse()
	def := func(d *time.Duration, full, quick time.Duration) {
		if *d == 0 {
			*d = full
			if o.quick {
				*d = quick
			}
		}
	}
	if o.quick {
		set := false
		flag.Visit(func(f *flag.Flag) { set = set || f.Name == "node-memory-limit" })
		if !set {
			o.memLimit = ""
		}
	}
	if o.memLimit == "auto" {
		o.memLimit = autoMemoryLimit(o.validators)
	}
	def(&o.warmup, 15*time.Second, 2*time.Second)
	def(&o.duration, 10*time.Minute, 6*time.Second)
	def(&o.half, time.Minute, 4*time.Second)
	def(&o.baseWin, 30*time.Second, 5*time.Second)
	if o.net != "" {
		def(&o.single, 30*time.Second, 5*time.Second)
	}
	if o.receipts == 0 {
		o.receipts = 3000
		if o.quick {
			o.receipts = 100
		}
	}
	return o
}

// autoMemoryLimit is --node-memory-limit auto: the validators share this
// machine's memory and its page faults, so they get 4 GiB of budget
// together, at most 1 GiB each. A node's heap first grows to its budget, a
// page fault per page; with a budget it reaches during the warm-up, the
// windows measure a node whose heap is collected and reused, as every node
// is after its first minutes (docs/performance.md, "Memory budget on many
// validators").
func autoMemoryLimit(validators int) string {
	return fmt.Sprintf("%dMiB", min(1024, 4096/max(validators, 1)))
}

func (o options) validate() error {
	switch {
	case o.agencies < 1 || o.agencies > 12:
		return fmt.Errorf("--agencies must be 1..12 (notaryd testnet registers at most 12), not %d", o.agencies)
	case o.procs < 1 || o.procs > 64:
		return fmt.Errorf("--procs-per-agency must be 1..64, not %d", o.procs)
	case o.batch < 1 || o.batch > 10_000:
		return fmt.Errorf("--batch must be 1..10000 (the chain's max_digests_per_batch), not %d", o.batch)
	case o.inFlight < 1:
		return fmt.Errorf("--inflight must be positive")
	case o.duration <= 0 || o.warmup < 0:
		return fmt.Errorf("--duration must be positive and --warmup not negative")
	case o.sample <= 0 || o.sample > 1:
		return fmt.Errorf("--sample must be in (0, 1]")
	case o.commit <= 0:
		return fmt.Errorf("--timeout-commit must be positive")
	case o.validators < 4 || o.validators > 10:
		return fmt.Errorf("--validators must be 4..10, not %d", o.validators)
	case o.nodeProcs < 0:
		return fmt.Errorf("--node-gomaxprocs must not be negative, not %d", o.nodeProcs)
	case o.propose < 0 || o.mempool < 0:
		return fmt.Errorf("--timeout-propose and --mempool-size must not be negative")
	case o.blockMax != 0 && (o.blockMax < 1<<20 || o.blockMax > 100<<20):
		return fmt.Errorf("--block-max-bytes must be 1 MiB to 100 MiB (a block must hold one 10,000-digest transaction; CometBFT allows at most 100 MiB), not %d", o.blockMax)
	}
	if _, ok := netlab.Profiles[o.net]; o.net != "" && !ok {
		return fmt.Errorf("--net must be lan, wan or wan-far, not %q", o.net)
	}
	return nil
}

func run(ctx context.Context, o options) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	started := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work := o.workDir
	if work == "" {
		work, err = os.MkdirTemp("", "notary-bench-")
		if err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	// The lab is closed after every process is stopped (defers run last
	// first).
	bnet, err := openNet(o)
	if err != nil {
		return err
	}
	defer bnet.close()
	procs := newProcs()
	defer func() {
		procs.stopAll(10 * time.Second)
		if o.keep || o.workDir != "" {
			logf("work directory kept: %s", work)
			return
		}
		if rmErr := os.RemoveAll(work); rmErr != nil && err == nil {
			err = rmErr
		}
	}()

	rep := &report{
		Machine: machineInfo(),
		Quick:   o.quick,
		Started: started.UTC().Format(time.RFC3339),
		Settings: settings{
			Net: o.net, Validators: o.validators, SingleWindow: durationSetting(o.single), TimeoutPropose: durationSetting(o.propose), MempoolSize: o.mempool, BlockMaxBytes: o.blockMax, Agencies: o.agencies, ProcsPerAgency: o.procs, Codes: o.codes, BatchDigests: o.batch, InFlight: o.inFlight,
			TimeoutCommit: o.commit.String(), MempoolGossip: o.gossip, OptimisticExecution: !o.noOE, NodeMemoryLimit: o.memLimit, NodeGOMAXPROCS: o.nodeProcs, NodeEnv: o.nodeEnv, Warmup: o.warmup.String(), Window: o.duration.String(),
			HalfWindow: o.half.String(), BaselineWindow: o.baseWin.String(), SampleFraction: o.sample, ReceiptCap: o.receipts,
		},
	}
	if bnet != nil {
		rep.Settings.NetHosts = bnet.describe()
	}
	logf("work directory %s; %d cores (GOMAXPROCS %d); load average %s", work, runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAverage())
	checkDiskSpace(work, o.warmup+o.duration+o.half, o.validators)

	if !o.onlyLimit {
		bins, err := buildAll(ctx, o, root, work)
		if err != nil {
			return err
		}
		rep.Notary, err = runNotary(ctx, o, bnet, bins, filepath.Join(work, "notary"), procs)
		if err != nil {
			return fmt.Errorf("notary: %w", err)
		}
		// A baseline that fails is reported as such: the figures measured
		// before it are kept, and the run still ends with an error.
		if !o.skipKV {
			rep.KVStore, err = runKVStore(ctx, o, bnet, bins, filepath.Join(work, "kvstore"), procs)
			if err != nil {
				rep.baselineFailed("kvstore", err)
			}
		}
		if !o.skipTess && ctx.Err() == nil {
			rep.Tessera, err = runTessera(ctx, o, bins, filepath.Join(work, "tessera"), procs)
			if err != nil {
				rep.baselineFailed("tessera", err)
			}
		}
	}
	if !o.skipLimit {
		d := time.Second
		if o.quick {
			d = 400 * time.Millisecond
		}
		rep.Limits = measureLimits(d)
	}
	rep.finish(time.Since(started))
	if err := rep.print(os.Stdout); err != nil {
		return err
	}
	if o.jsonOut != "" {
		if err := rep.writeJSON(o.jsonOut); err != nil {
			return err
		}
		logf("wrote %s", o.jsonOut)
	}
	if len(rep.BaselineErrors) > 0 {
		return fmt.Errorf("baselines failed: %v", rep.BaselineErrors)
	}
	return ctx.Err()
}

// diskBytesPerSecondNode is what a notary node keeps on disk per second of
// load at the rates of docs/performance.md: 81 bytes a digest (the
// transaction store and the digest index) at up to 250,000 digests/s.
const diskBytesPerSecondNode = 81 * 250_000

// checkDiskSpace warns when the work directory's file system may fill up
// during the load of the chain's nodes: a full disk halts the chain (every
// node's writes fail).
func checkDiskSpace(dir string, load time.Duration, nodes int) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		logf("cannot tell the free disk space of %s: %v", dir, err)
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	need := uint64(load.Seconds() * diskBytesPerSecondNode * float64(nodes))
	if free < need {
		logf("WARNING: %s has %.1f GB free; the notary's nodes may write up to %.1f GB in %s of load, and a full disk halts the chain", dir, float64(free)/1e9, float64(need)/1e9, load)
	}
}

// baselineFailed records why a baseline has no figures.
func (r *report) baselineFailed(name string, err error) {
	logf("%s baseline failed: %v", name, err)
	if r.BaselineErrors == nil {
		r.BaselineErrors = map[string]string{}
	}
	r.BaselineErrors[name] = err.Error()
}

// durationSetting is a duration for the report, "" when unset.
func durationSetting(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// logf prints a progress line on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
