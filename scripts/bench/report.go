package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

type report struct {
	Machine  machine        `json:"machine"`
	Quick    bool           `json:"quick"`
	Started  string         `json:"started"`
	Elapsed  string         `json:"elapsed"`
	LoadEnd  string         `json:"load_average_after"`
	Settings settings       `json:"settings"`
	Notary   *notaryResult  `json:"notary,omitempty"`
	KVStore  *kvResult      `json:"kvstore,omitempty"`
	Tessera  *tesseraResult `json:"tessera,omitempty"`
	Limits   *limitsResult  `json:"limits,omitempty"`
	// BaselineErrors says why a baseline has no figures (its system failed
	// in this run); the run's other figures are still reported.
	BaselineErrors map[string]string `json:"baseline_errors,omitempty"`
	Ratios         ratios            `json:"ratios"`
	Targets        []target          `json:"targets"`
}

type settings struct {
	Net                 string   `json:"net,omitempty"`
	NetHosts            string   `json:"net_hosts,omitempty"`
	Validators          int      `json:"validators"`
	SingleWindow        string   `json:"single_window,omitempty"`
	TimeoutPropose      string   `json:"timeout_propose,omitempty"`
	MempoolSize         int      `json:"mempool_size,omitempty"`
	BlockMaxBytes       int64    `json:"block_max_bytes,omitempty"`
	Agencies            int      `json:"agencies"`
	ProcsPerAgency      int      `json:"procs_per_agency"`
	Codes               bool     `json:"codes,omitempty"`
	BatchDigests        int      `json:"batch_digests"`
	InFlight            int      `json:"in_flight_per_agency"`
	TimeoutCommit       string   `json:"timeout_commit"`
	MempoolGossip       bool     `json:"mempool_gossip"`
	OptimisticExecution bool     `json:"optimistic_execution"`
	NodeMemoryLimit     string   `json:"node_memory_limit,omitempty"`
	NodeGOMAXPROCS      int      `json:"node_gomaxprocs,omitempty"`
	NodeEnv             []string `json:"node_env,omitempty"`
	Warmup              string   `json:"warmup"`
	Window              string   `json:"window"`
	HalfWindow          string   `json:"half_window"`
	BaselineWindow      string   `json:"baseline_window"`
	SampleFraction      float64  `json:"receipt_sample_fraction"`
	ReceiptCap          int      `json:"receipt_cap"`
}

type notaryResult struct {
	Peak                windowResult   `json:"peak"`
	Half                *windowResult  `json:"half,omitempty"`
	TotalDigests        int64          `json:"total_digests"`
	StateBytesPerDigest float64        `json:"state_bytes_per_digest"`
	DataBytesPerDigest  float64        `json:"data_bytes_per_digest"`
	Receipts            receiptResult  `json:"receipts"`
	Single              *singleResult  `json:"single_document,omitempty"`
	Errors              map[string]int `json:"errors,omitempty"`
}

type windowResult struct {
	// from and to bound the window, for the heights its transactions
	// waited (measured after the load).
	from, to         time.Time
	Name             string        `json:"name"`
	Seconds          float64       `json:"seconds"`
	TargetPerSec     float64       `json:"target_digests_per_sec,omitempty"`
	Digests          int           `json:"digests"`
	Txs              int           `json:"txs"`
	DigestsPerSec    float64       `json:"digests_per_sec"`
	Blocks           int64         `json:"blocks"`
	BlockSeconds     float64       `json:"seconds_per_block"`
	DigestsPerBlock  float64       `json:"digests_per_block"`
	LatencyMs        latency       `json:"submit_to_commit_ms"`
	NodeCPUSeconds   float64       `json:"node_cpu_seconds"`
	ClientCPUSeconds float64       `json:"client_cpu_seconds"`
	CPUSecPer1k      float64       `json:"node_cpu_seconds_per_1000_digests"`
	CPUUtilisation   float64       `json:"node_cpu_cores_busy"`
	DiskReadPer      float64       `json:"disk_read_bytes_per_digest_per_node"`
	DiskWrittenPer   float64       `json:"disk_written_bytes_per_digest_per_node"`
	RSSStartMiB      []float64     `json:"rss_start_mib"`
	RSSEndMiB        []float64     `json:"rss_end_mib"`
	RSSMaxMiB        []float64     `json:"rss_max_mib"`
	Series           []seriesPoint `json:"series"`
	Profile          string        `json:"cpu_profile,omitempty"`
	Waits            *heightWaits  `json:"heights,omitempty"`
}

type seriesPoint struct {
	T             float64   `json:"t"`
	DigestsPerSec float64   `json:"digests_per_sec"`
	RSSMiB        []float64 `json:"rss_mib"`
	ReadMBps      float64   `json:"disk_read_mb_per_sec"`
	WrittenMBps   float64   `json:"disk_written_mb_per_sec"`
}

type receiptResult struct {
	SampleOf    int64   `json:"committed_digests"`
	Candidates  int     `json:"sampled_candidates"`
	Wanted      int     `json:"wanted"`
	Checked     int     `json:"checked"`
	FetchErrors int     `json:"fetch_errors"`
	Invalid     int     `json:"verify_failures"`
	FirstError  string  `json:"first_error,omitempty"`
	FetchMs     latency `json:"fetch_ms"`
	LiveFetchMs latency `json:"fetch_under_load_ms"`
	VerifyMs    latency `json:"verify_ms"`
}

type kvResult struct {
	Seconds        float64 `json:"seconds"`
	Blocks         int64   `json:"blocks"`
	Txs            int64   `json:"txs"`
	TxsPerSec      float64 `json:"txs_per_sec"`
	Accepted       int64   `json:"accepted_by_mempool"`
	Refused        int64   `json:"refused_by_mempool"`
	NodeCPUSeconds float64 `json:"node_cpu_seconds"`
	CPUSecPer1k    float64 `json:"node_cpu_seconds_per_1000_txs"`
	FirstError     string  `json:"first_error,omitempty"`
}

type tesseraResult struct {
	Seconds        float64 `json:"seconds"`
	Writers        int     `json:"hammer_writers"`
	Leaves         int64   `json:"leaves"`
	LeavesPerSec   float64 `json:"leaves_per_sec"`
	TreeSize       int64   `json:"tree_size"`
	CPUSeconds     float64 `json:"cpu_seconds_log_and_hammer"`
	LogCPUSeconds  float64 `json:"cpu_seconds_log"`
	LogCPUSecPer1k float64 `json:"log_cpu_seconds_per_1000_leaves"`
	BytesPerLeaf   float64 `json:"bytes_per_leaf"`
}

type limitsResult struct {
	Cores                   int     `json:"cores"`
	SHA256NodesPerSecCore   float64 `json:"sha256_node_hashes_per_sec_core"`
	SHA256NodesPerSecAll    float64 `json:"sha256_node_hashes_per_sec_all_cores"`
	Ed25519VerifyPerSecCore float64 `json:"ed25519_verify_per_sec_core"`
	Ed25519VerifyPerSecAll  float64 `json:"ed25519_verify_per_sec_all_cores"`
	// HashCeiling is the digests/s at which the 4 validators' Merkle hashing
	// alone (a leaf and an interior node per digest, on each node) would use
	// every core.
	HashCeiling float64 `json:"hash_ceiling_digests_per_sec_4_validators"`
}

type ratios struct {
	OursOverKVStore     float64 `json:"ours_over_kvstore,omitempty"`
	OursOverTessera     float64 `json:"ours_over_tessera,omitempty"`
	OursOverHashCeiling float64 `json:"ours_over_hash_ceiling,omitempty"`
}

type target struct {
	Name     string `json:"name"`
	Measured string `json:"measured"`
	Met      string `json:"met"` // yes, no, not measured
}

type latency struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	ms := make([]float64, len(ds))
	var sum float64
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
		sum += ms[i]
	}
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	return latency{N: len(ms), Mean: sum / float64(len(ms)), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: ms[len(ms)-1]}
}

// finish computes the ratios and the targets.
func (r *report) finish(elapsed time.Duration) {
	r.Elapsed = elapsed.Round(time.Second).String()
	r.LoadEnd = loadAverage()
	if r.Limits != nil {
		r.Limits.HashCeiling = r.Limits.SHA256NodesPerSecAll / (2 * 4)
	}
	if r.Notary == nil {
		return
	}
	ours := r.Notary.Peak.DigestsPerSec
	if r.KVStore != nil && r.KVStore.TxsPerSec > 0 {
		r.Ratios.OursOverKVStore = ours / r.KVStore.TxsPerSec
	}
	if r.Tessera != nil && r.Tessera.LeavesPerSec > 0 {
		r.Ratios.OursOverTessera = ours / r.Tessera.LeavesPerSec
	}
	if r.Limits != nil && r.Limits.HashCeiling > 0 {
		r.Ratios.OursOverHashCeiling = ours / r.Limits.HashCeiling
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	add := func(name, measured, met string) { r.Targets = append(r.Targets, target{name, measured, met}) }
	add(">= 100,000 digests/s on 4 validators", fmt.Sprintf("%.0f/s", ours), yes(ours >= 100_000))
	if r.Ratios.OursOverTessera > 0 {
		add(">= 10x Tessera POSIX", fmt.Sprintf("%.1fx", r.Ratios.OursOverTessera), yes(r.Ratios.OursOverTessera >= 10))
	} else {
		add(">= 10x Tessera POSIX", "-", r.notMeasured("tessera"))
	}
	if r.Ratios.OursOverKVStore > 0 {
		add(">= 30x kvstore", fmt.Sprintf("%.1fx", r.Ratios.OursOverKVStore), yes(r.Ratios.OursOverKVStore >= 30))
	} else {
		add(">= 30x kvstore", "-", r.notMeasured("kvstore"))
	}
	if h := r.Notary.Half; h != nil && h.LatencyMs.N > 0 {
		add("p99 submit-to-commit <= 2 s at half peak", fmt.Sprintf("%.0f ms at %.0f/s", h.LatencyMs.P99, h.DigestsPerSec), yes(h.LatencyMs.P99 <= 2000))
	} else {
		add("p99 submit-to-commit <= 2 s at half peak", "-", "not measured")
	}
	r.netTargets(add, yes)
	if v := r.Notary.Receipts.VerifyMs; v.N > 0 {
		add("offline verify <= 2 ms per receipt (mean)", fmt.Sprintf("%.2f ms mean, p99 %.2f ms", v.Mean, v.P99), yes(v.Mean <= 2))
	} else {
		add("offline verify <= 2 ms per receipt (mean)", "-", "not measured")
	}
	p := r.Notary.Peak
	growth := 0.0
	for i := range p.RSSStartMiB {
		if p.RSSStartMiB[i] > 0 {
			growth = max(growth, p.RSSEndMiB[i]/p.RSSStartMiB[i]-1)
		}
	}
	rss := fmt.Sprintf("max growth %+.0f%% over %.0f s", growth*100, p.Seconds)
	// The same from the first sample a minute or more into the window, once
	// caches, memtables and the Go heap have grown to their working size.
	var from []float64
	for _, pt := range p.Series {
		if pt.T >= 60 {
			from = pt.RSSMiB
			break
		}
	}
	if from != nil && len(p.Series) > 0 {
		last := p.Series[len(p.Series)-1].RSSMiB
		g := 0.0
		for i := range from {
			if from[i] > 0 && i < len(last) {
				g = max(g, last[i]/from[i]-1)
			}
		}
		rss += fmt.Sprintf(" (%+.0f%% after the first minute)", g*100)
	}
	if p.Seconds >= 600 {
		add("RSS flat within 20% over 10 min at peak", rss, yes(growth <= 0.20))
	} else {
		add("RSS flat within 20% over 10 min at peak", rss, "not measured (window < 10 min)")
	}
}

// print writes the report as text tables.
func (r *report) print(w io.Writer) error {
	mode := "full"
	if r.Quick {
		mode = "quick"
	}
	fmt.Fprintf(w, "\nGobTechLab Notary benchmark (%s run, %s): %d cores, %s; load average before %s, after %s\n",
		mode, r.Elapsed, r.Machine.Cores, r.Machine.CPU, r.Machine.LoadBefore, r.LoadEnd)
	s := r.Settings
	mempool := "transactions forwarded to every node, blocks naming them by hash"
	if s.MempoolGossip {
		mempool = "mempool gossip, blocks naming transactions by hash"
	}
	if !s.OptimisticExecution {
		mempool += ", no optimistic execution"
	}
	if s.NodeMemoryLimit != "" {
		mempool += ", GOMEMLIMIT " + s.NodeMemoryLimit + " with GOGC=off"
	}
	if s.NodeGOMAXPROCS > 0 {
		mempool += fmt.Sprintf(", GOMAXPROCS %d per node", s.NodeGOMAXPROCS)
	}
	if len(s.NodeEnv) > 0 {
		mempool += ", node environment " + strings.Join(s.NodeEnv, " ")
	}
	clients := fmt.Sprintf("%d agency clients", s.Agencies)
	if s.ProcsPerAgency > 1 {
		clients = fmt.Sprintf("%d agencies x %d clients (one key each agency, unordered transactions)", s.Agencies, s.ProcsPerAgency)
	}
	clients += " (" + spread(s.Agencies, max(s.ProcsPerAgency, 1), s.Validators) + ")"
	if s.Codes {
		clients += ", every document under a code key"
	}
	where := fmt.Sprintf("%d validators on 127.0.0.1", s.Validators)
	if s.Net != "" {
		where = fmt.Sprintf("net %s, %d validators (%s)", s.Net, s.Validators, s.NetHosts)
	}
	if s.TimeoutPropose != "" {
		mempool += ", timeout_propose " + s.TimeoutPropose
	}
	if s.MempoolSize > 0 {
		mempool += fmt.Sprintf(", mempool %d txs", s.MempoolSize)
	}
	if s.BlockMaxBytes > 0 {
		mempool += fmt.Sprintf(", block.max_bytes %d", s.BlockMaxBytes)
	}
	fmt.Fprintf(w, "%s, %s x %d in flight x %d digests per tx, timeout_commit %s, %s; windows: peak %s, half %s, baselines %s\n\n",
		where, clients, s.InFlight, s.BatchDigests, s.TimeoutCommit, mempool, s.Window, s.HalfWindow, s.BaselineWindow)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(cols ...string) { fmt.Fprintln(tw, strings.Join(cols, "\t")) }
	row("what", "value", "detail")
	row("----", "-----", "------")
	if n := r.Notary; n != nil {
		p := n.Peak
		row("notary: committed digests/s (peak)", num(p.DigestsPerSec), fmt.Sprintf("%d digests, %d txs, %d blocks in %.0f s (%.2f s/block, %s digests/block)", p.Digests, p.Txs, p.Blocks, p.Seconds, p.BlockSeconds, num(p.DigestsPerBlock)))
		row("  submit-to-committed at peak", fmtLat(p.LatencyMs), "")
		if h := n.Half; h != nil {
			row("  at half peak: digests/s", num(h.DigestsPerSec), fmt.Sprintf("target %s/s", num(h.TargetPerSec)))
			row("  submit-to-committed at half peak", fmtLat(h.LatencyMs), "")
			if hw := h.Waits; hw != nil {
				row("  at half peak: heights waited", fmtWaited(hw.Waited), fmt.Sprintf("slowest 1%%: %s; %d heights (%d above round 0), p50 %s p99 %s ms long", fmtWaited(hw.TailWaited), hw.Heights, hw.Rounds, fmtMs(hw.HeightMs.P50), fmtMs(hw.HeightMs.P99)))
				row("  at half peak: decided to answered", fmtLat(hw.AnswerMs), "slowest 1%: "+fmtLat(hw.TailAnsMs)+"; their heights "+fmtLat(hw.TailHeightMs))
			}
		}
		if sd := n.Single; sd != nil {
			row("  1 doc/s: submit-to-committed", fmtLat(sd.CommitMs), fmt.Sprintf("%d documents in %.0f s, one agency, after the load", sd.Documents, sd.Seconds))
			detail := "GetReceipt from the same gateway, polled every 10 ms"
			if sd.ReceiptErrors > 0 {
				detail += fmt.Sprintf("; %d failed: %s", sd.ReceiptErrors, truncate(sd.FirstError, 120))
			}
			row("  1 doc/s: submit-to-receipt", fmtLat(sd.ReceiptMs), detail)
			row("  1 doc/s: CPU", fmt.Sprintf("%.2f cores", sd.NodeCoresBusy), fmt.Sprintf("%d nodes; client %.2f cores", s.Validators, sd.ClientCoresBusy))
		}
		rc := n.Receipts
		row("  receipts checked (1% sample)", fmt.Sprintf("%d", rc.Checked), fmt.Sprintf("of %d wanted (%d sampled of %d committed digests); fetch errors %d, verify failures %d", rc.Wanted, rc.Candidates, rc.SampleOf, rc.FetchErrors, rc.Invalid))
		row("  receipt fetch (GetReceipt)", fmtLat(rc.FetchMs), "under load: "+fmtLat(rc.LiveFetchMs))
		row("  offline verify per receipt", fmtLat(rc.VerifyMs), fmt.Sprintf("cmd/verifier/verify, %d validators, %s, one at a time after the fetches", s.Validators, withDocument(s.Codes)))
		row("  node CPU s per 1,000 digests", fmt.Sprintf("%.4f", p.CPUSecPer1k), fmt.Sprintf("%d nodes, %.2f cores busy; client %.1f CPU s", s.Validators, p.CPUUtilisation, p.ClientCPUSeconds))
		row("  disk bytes written per digest", fmt.Sprintf("%.0f", p.DiskWrittenPer), fmt.Sprintf("per node (/proc/<pid>/io); read %.0f", p.DiskReadPer))
		row("  state bytes per digest", fmt.Sprintf("%.1f", n.StateBytesPerDigest), fmt.Sprintf("data/app per node; whole data dir (with block store) %.1f", n.DataBytesPerDigest))
		row("  node RSS MiB start -> end (max)", fmtRSS(p.RSSStartMiB, p.RSSEndMiB, p.RSSMaxMiB), "")
		if len(n.Errors) > 0 {
			var es []string
			for e, c := range n.Errors {
				es = append(es, fmt.Sprintf("%dx %s", c, truncate(e, 100)))
			}
			slices.Sort(es)
			row("  client errors", fmt.Sprintf("%d kinds", len(es)), strings.Join(es, "; "))
		}
		if rc.FirstError != "" {
			row("  first receipt error", "", truncate(rc.FirstError, 200))
		}
	}
	if k := r.KVStore; k != nil {
		row("kvstore: committed txs/s (1 digest/tx)", num(k.TxsPerSec), fmt.Sprintf("%d txs in %d blocks in %.0f s; %.3f node CPU s per 1,000 txs; mempool refused %d", k.Txs, k.Blocks, k.Seconds, k.CPUSecPer1k, k.Refused))
	}
	if t := r.Tessera; t != nil {
		row("tessera posix: integrated leaves/s", num(t.LeavesPerSec), fmt.Sprintf("hammer %d writers, %d leaves in %.0f s; log %.3f CPU s per 1,000 leaves; %.0f bytes/leaf", t.Writers, t.Leaves, t.Seconds, t.LogCPUSecPer1k, t.BytesPerLeaf))
	}
	if l := r.Limits; l != nil {
		row("limit: SHA-256 node hashes/s per core", num(l.SHA256NodesPerSecCore), fmt.Sprintf("%s/s on %d cores; 4-validator hashing ceiling %s digests/s", num(l.SHA256NodesPerSecAll), l.Cores, num(l.HashCeiling)))
		row("limit: ed25519 verifies/s per core", num(l.Ed25519VerifyPerSecCore), fmt.Sprintf("%s/s on %d cores", num(l.Ed25519VerifyPerSecAll), l.Cores))
	}
	for _, name := range []string{"kvstore", "tessera"} {
		if e, ok := r.BaselineErrors[name]; ok {
			row(name+": failed", "-", truncate(e, 200))
		}
	}
	ra := r.Ratios
	if ra.OursOverKVStore > 0 {
		row("ratio ours / kvstore", fmt.Sprintf("%.1fx", ra.OursOverKVStore), "")
	}
	if ra.OursOverTessera > 0 {
		row("ratio ours / tessera", fmt.Sprintf("%.1fx", ra.OursOverTessera), "")
	}
	if ra.OursOverHashCeiling > 0 {
		row("ratio ours / hashing ceiling", fmt.Sprintf("%.1f%%", 100*ra.OursOverHashCeiling), "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\ntargets:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range r.Targets {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.Measured, t.Met)
		}
		return tw.Flush()
	}
	return nil
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// num formats a number with thousands separators.
func num(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtLat(l latency) string {
	if l.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %s p99 %s ms (n=%d)", fmtMs(l.P50), fmtMs(l.P99), l.N)
}

func fmtMs(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtRSS(a, b, m []float64) string {
	var parts []string
	for i := range a {
		parts = append(parts, fmt.Sprintf("%.0f->%.0f(%.0f)", a[i], b[i], m[i]))
	}
	return strings.Join(parts, " ")
}

// notMeasured is the verdict of a ratio target whose baseline has no figures.
func (r *report) notMeasured(baseline string) string {
	if _, ok := r.BaselineErrors[baseline]; ok {
		return "not measured (the baseline failed)"
	}
	return "not measured"
}

// netTarget is a target of a network profile and validator count.
type netTarget struct {
	peak, halfP99, singleP99 float64 // digests/s, ms, ms
}

var netTargets = map[string]map[int]netTarget{
	"wan":     {4: {200_000, 1500, 1000}, 7: {120_000, 2000, 1200}, 10: {80_000, 2500, 1500}},
	"wan-far": {4: {150_000, 2000, 1500}},
}

// netTargets adds the targets of the run's profile and validator count,
// where there are some.
func (r *report) netTargets(add func(name, measured, met string), yes func(bool) string) {
	s := r.Settings
	t, ok := netTargets[s.Net][s.Validators]
	if !ok {
		return
	}
	label := fmt.Sprintf("%s, %d validators: ", s.Net, s.Validators)
	ours := r.Notary.Peak.DigestsPerSec
	add(label+">= "+num(t.peak)+" digests/s", fmt.Sprintf("%.0f/s", ours), yes(ours >= t.peak))
	if h := r.Notary.Half; h != nil && h.LatencyMs.N > 0 {
		add(label+fmt.Sprintf("half-peak p99 <= %.1f s", t.halfP99/1000), fmt.Sprintf("%.0f ms", h.LatencyMs.P99), yes(h.LatencyMs.P99 <= t.halfP99))
	} else {
		add(label+fmt.Sprintf("half-peak p99 <= %.1f s", t.halfP99/1000), "-", "not measured")
	}
	if sd := r.Notary.Single; sd != nil && sd.CommitMs.N > 0 {
		add(label+fmt.Sprintf("1 doc/s p99 to committed <= %.1f s", t.singleP99/1000), fmt.Sprintf("%.0f ms", sd.CommitMs.P99), yes(sd.CommitMs.P99 <= t.singleP99))
	} else {
		add(label+fmt.Sprintf("1 doc/s p99 to committed <= %.1f s", t.singleP99/1000), "-", "not measured")
	}
}

// spread says how many of the agency clients each node serves
// (clientNode): a node with more clients checks and forwards more
// transactions than the others, and falls behind them on a shared machine.
func spread(agencies, procs, nodes int) string {
	if nodes <= 0 {
		return fmt.Sprintf("%d clients", agencies*procs)
	}
	count := make([]int, nodes)
	for i := 0; i < agencies*procs; i++ {
		count[clientNode(i, procs, nodes)]++
	}
	if slices.Min(count) == slices.Max(count) {
		return fmt.Sprintf("%d on each node", count[0])
	}
	per := make([]string, nodes)
	for n, k := range count {
		per[n] = strconv.Itoa(k)
	}
	return "uneven: " + strings.Join(per, ", ") + " on nodes 0.." + strconv.Itoa(nodes-1)
}

// withDocument says how the bench's receipts are verified: with their
// documents, or for coded documents without (their code tags are not
// scrypt's).
func withDocument(codes bool) string {
	if codes {
		return "without the document (the bench's code tags are not scrypt's)"
	}
	return "with the document"
}
